"""Grid impact: curtailment-enabled headroom and what a site adds to system peaks."""

from mullet.grid.headroom import DEFAULT_SEASONS, HeadroomResult, HeadroomRow, SeasonalLoad, curtailment_rate, headroom, prepare_load
from mullet.grid.impact import ImpactResult, load_emission_factors, site_impact, site_variants

__all__ = [
    "DEFAULT_SEASONS",
    "HeadroomResult",
    "HeadroomRow",
    "ImpactResult",
    "SeasonalLoad",
    "curtailment_rate",
    "headroom",
    "load_emission_factors",
    "prepare_load",
    "site_impact",
    "site_variants",
]
