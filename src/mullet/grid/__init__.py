"""Grid impact: curtailment-enabled headroom and what a site adds to system peaks."""

from mullet.grid.headroom import (
    DEFAULT_SEASONS,
    KNOWN_LOAD_SHED,
    BaHeadroom,
    HeadroomResult,
    HeadroomRow,
    LoadShedEvent,
    SeasonalLoad,
    ba_table,
    curtailment_rate,
    headroom,
    headroom_by_ba,
    headroom_from_data,
    prepare_load,
)
from mullet.grid.impact import ImpactResult, load_emission_factors, site_impact, site_variants
from mullet.grid.screening import FLAGS, ScreeningParams, ScreeningResult, screen_load

__all__ = [
    "DEFAULT_SEASONS",
    "FLAGS",
    "KNOWN_LOAD_SHED",
    "BaHeadroom",
    "HeadroomResult",
    "HeadroomRow",
    "ImpactResult",
    "LoadShedEvent",
    "ScreeningParams",
    "ScreeningResult",
    "SeasonalLoad",
    "ba_table",
    "curtailment_rate",
    "headroom",
    "headroom_by_ba",
    "headroom_from_data",
    "load_emission_factors",
    "prepare_load",
    "screen_load",
    "site_impact",
    "site_variants",
]
