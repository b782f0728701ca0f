"""Dashboard inputs: the scenario overrides a user may set, the run request of the API, and the HTML form's fields.

Pure pydantic (no web framework), so that :mod:`mullet.runs` can apply overrides without the dashboard extra.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FORM_FIELDS", "Overrides", "RunRequest", "apply_overrides"]


def _catalog_enum(schema: dict[str, Any]) -> None:
    """Publish the bundled ASIC models as the field's allowed values, so the API's schema says what it accepts."""
    from mullet.data import load_asic_catalog

    models = sorted(str(m) for m in load_asic_catalog().index)
    for option in schema.get("anyOf", [schema]):
        if option.get("type") == "string":
            option["enum"] = models


class Overrides(BaseModel):
    """Key numbers of a scenario a user may change from the dashboard."""

    model_config = ConfigDict(extra="forbid")

    ai_it_mw: Annotated[float | None, Field(ge=0, le=2_000, description="AI IT load [MW]; 0 removes AI.")] = None
    mining_mw: Annotated[float | None, Field(ge=0, le=5_000, description="Mining site power [MW]; 0 removes mining.")] = None
    ppa_price_usd_per_mwh: Annotated[float | None, Field(ge=-100, le=1_000, description="Fixed PPA price [USD/MWh].")] = None
    ppa_mw: Annotated[float | None, Field(ge=0, le=5_000, description="PPA volume [MW]; 0 removes the PPA.")] = None
    fleet_model: Annotated[str | None, Field(description="ASIC model from the bundled catalog.", json_schema_extra=_catalog_enum)] = None
    year: Annotated[int | None, Field(ge=2022, le=2024, description="Year of ERCOT prices (UTC calendar year).")] = None

    @field_validator("fleet_model")
    @classmethod
    def _known_model(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from mullet.data import load_asic_catalog

        if v not in load_asic_catalog().index:
            raise ValueError(f"got {v!r}, not in the bundled ASIC catalog")
        return v


class RunRequest(BaseModel):
    """Body of ``POST /api/runs``."""

    model_config = ConfigDict(extra="forbid")

    scenario: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,80}\.toml$", description="Scenario file name in the scenario folder, e.g. default.toml.")]
    kind: Literal["dispatch", "plan"] = "dispatch"
    start: Annotated[datetime.date | None, Field(description="First UTC day (default: the scenario's).")] = None
    end: Annotated[datetime.date | None, Field(description="Last UTC day, inclusive (default: the scenario's).")] = None
    overrides: Overrides | None = None
    paths: Annotated[int, Field(ge=1, le=2_000)] = 50
    years: Annotated[int, Field(ge=1, le=20)] = 5


def apply_overrides(scenario: Any, ov: Overrides) -> tuple[Any, list[str]]:
    """A new scenario with the overrides applied (validated); notes say what else had to change."""
    import pandas as pd

    from mullet.data import load_asic_catalog
    from mullet.markets.ercot import ERCOT
    from mullet.site import parse_scenario

    data = scenario.model_dump(mode="json")
    notes: list[str] = []
    if ov.ai_it_mw is not None:
        if ov.ai_it_mw == 0:
            data["ai"] = []
        elif data["ai"]:
            data["ai"][0]["it_load_mw"] = ov.ai_it_mw
            if data["ai"][0].get("contract") == "gpu_cloud":
                data["ai"][0]["gpus"] = max(1, round(ov.ai_it_mw * 1e6 / data["ai"][0]["gpu_power_w"]))
                data["ai"][0]["it_load_mw"] = data["ai"][0]["gpus"] * data["ai"][0]["gpu_power_w"] / 1e6
        else:
            data["ai"] = [{"name": "ai", "it_load_mw": ov.ai_it_mw}]
    if ov.fleet_model is not None and data["mining"]:
        fleet = data["mining"][0]
        site_mw = scenario.mining[0].site_power_mw
        fleet.update({"model": ov.fleet_model, "hashrate_ths_per_unit": None, "power_w_per_unit": None})
        power_w = float(load_asic_catalog().loc[ov.fleet_model, "power_w"])
        fleet["units"] = max(1, round(site_mw * 1e6 / (power_w * (1 + fleet["cooling_overhead_fraction"]))))
    if ov.mining_mw is not None:
        if ov.mining_mw == 0:
            data["mining"] = []
        else:
            if not data["mining"]:
                data["mining"] = [{"name": "mining", "model": ov.fleet_model or "Antminer S21", "units": 1}]
            fleet = data["mining"][0]
            if fleet.get("model"):
                power_w = float(load_asic_catalog().loc[fleet["model"], "power_w"])
            else:
                power_w = float(fleet["power_w_per_unit"])
            fleet["units"] = max(1, round(ov.mining_mw * 1e6 / (power_w * (1 + fleet.get("cooling_overhead_fraction", 0.05)))))
    if ov.ppa_mw is not None or ov.ppa_price_usd_per_mwh is not None:
        ppas = data["power"]["ppas"]
        if ov.ppa_mw == 0:
            data["power"]["ppas"] = []
        else:
            if not ppas:
                ppas.append({"name": "ppa", "power_mw": ov.ppa_mw or 100.0, "price_usd_per_mwh": ov.ppa_price_usd_per_mwh or 40.0})
            if ov.ppa_mw is not None:
                ppas[0]["power_mw"] = ov.ppa_mw
            if ov.ppa_price_usd_per_mwh is not None:
                ppas[0]["price_usd_per_mwh"] = ov.ppa_price_usd_per_mwh
    if ov.year is not None:
        data["start"], data["end"] = f"{ov.year}-01-01", f"{ov.year}-12-31"
        if (
            ov.year not in ERCOT.peak_years(ERCOT.system_load())
            and data["power"]["four_cp"]["mode"] != "none"
            and data["power"]["four_cp"]["rate_usd_per_kw_year"] > 0
        ):
            data["power"]["four_cp"]["mode"] = "none"
            notes.append(f"4CP ignored: the bundled ERCOT load has no June-September {ov.year}")
        lz = data["power"].get("load_settlement_point")
        if lz in ERCOT.load_zones and not ERCOT.covers(lz, pd.Timestamp(f"{ov.year}-01-01", tz="UTC"), pd.Timestamp(f"{ov.year + 1}-01-01", tz="UTC")):
            data["power"]["load_zone_fallback"] = "hub"
            notes.append(f"load settled at {data['power'].get('settlement_point', 'HB_WEST')}: no bundled {lz} prices for {ov.year}")
    site = sum(b.get("it_load_mw", 0) * b.get("pue", 1.25) for b in data["ai"])
    if site > data["interconnect"]["import_limit_mw"]:
        data["interconnect"]["import_limit_mw"] = site
        notes.append(f"interconnect raised to the firm AI load, {site:.0f} MW")
    return parse_scenario(data, "overrides"), notes


FORM_FIELDS = [
    ("scenario", "Scenario"),
    ("ai_it_mw", "AI IT load [MW]"),
    ("mining_mw", "Mining site power [MW]"),
    ("fleet_model", "Fleet model"),
    ("ppa_mw", "PPA volume [MW]"),
    ("ppa_price_usd_per_mwh", "PPA price [USD/MWh]"),
    ("year", "Year of ERCOT prices"),
]
"""(name, label) of the new-run form's fields, in order."""
