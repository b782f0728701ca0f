"""What a site adds to system peaks: the same MW as firm AI, as flexible mining, and as the scenario's hybrid.

For each variant the site is dispatched over the horizon (firm AI is a flat load),
its load is averaged to hours and set against the system load: load in the
system's top 1, 10 and 100 hours and in the 4CP peak hours, MWh left to the grid
in the top 100 hours, MWh the site would push above the seasonal peak thresholds
of :mod:`mullet.grid.headroom`, and the share of the system's curtailment-enabled
headroom its peak-hour load takes. With hourly emission factors it also reports
tCO2 and intensity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from mullet.data import check_plausible, load_system_load, read_timeseries
from mullet.dispatch import dispatch
from mullet.errors import ScenarioError
from mullet.grid.headroom import headroom, prepare_load
from mullet.markets import get_market
from mullet.site import MiningFleet, Scenario, load_scenario, with_fill

__all__ = ["ImpactResult", "load_emission_factors", "site_impact", "site_variants"]


@dataclass(frozen=True)
class ImpactResult:
    """Site-versus-system comparison; ``table`` has one row per variant."""

    table: pd.DataFrame
    site_mw: float
    headroom_rate_fraction: float
    headroom_mw: float
    hours_compared: int
    notes: list[str] = field(default_factory=list)
    hourly_load_mw: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Hourly site load of each variant, with the system load, UTC interval start."""


def load_emission_factors(path: str | Path) -> pd.Series:
    """Hourly emission factors [t CO2/MWh] from a CSV/Parquet with ``interval_start_utc`` and ``emission_factor_t_per_mwh``.

    Average factors (the grid's mean intensity) and marginal factors (the
    intensity of the unit that follows load) answer different questions; see the README.
    """
    frame = read_timeseries(path, {"emission_factor_t_per_mwh": "nonneg"}, freq="1h")
    check_plausible(frame["emission_factor_t_per_mwh"], str(path), "emission_factor_t_per_mwh", 0.0, 2.0, "lignite plants emit about 1.1 t/MWh")
    return frame["emission_factor_t_per_mwh"]


def site_variants(sc: Scenario) -> dict[str, Scenario]:
    """The scenario's site MW as firm AI, as flexible mining (its miners, scaled), and as itself (hybrid).

    The firm-AI variant leases the whole site MW as IT load at the first AI block's PUE and colocation rate
    (or PUE 1.25 and $130/kW-month when the scenario has no colocation block).
    """
    ai_mw = sum(b.site_load_mw for b in sc.ai)
    mining_mw = sum(f.site_power_mw for f in sc.mining)
    site_mw = ai_mw + mining_mw
    if sc.mining:
        fleet = sc.mining[0]
        per_unit_mw = fleet.site_power_mw / fleet.units
        mining = [fleet.model_copy(update={"units": max(1, round(site_mw / per_unit_mw)), "ramp_mw_per_h": None, "name": "all-mining"})]
    else:
        unit = MiningFleet(model="Antminer S21", units=1)
        mining = [MiningFleet(name="all-mining", model="Antminer S21", units=max(1, round(site_mw / unit.site_power_mw)))]
    template = sc.ai[0] if sc.ai else None
    pue = template.pue if template else 1.25
    rate = template.colocation_usd_per_kw_month if template and template.contract == "colocation" else 130.0
    firm = Scenario.model_validate(
        {
            **sc.model_dump(),
            "name": f"{sc.name} as firm AI",
            "ai": [{"name": "firm-ai", "it_load_mw": site_mw / pue, "pue": pue, "service": "firm", "colocation_usd_per_kw_month": rate}],
            "mining": [],
            "interconnect": {"import_limit_mw": max(sc.interconnect.import_limit_mw, site_mw)},
        }
    )
    flexible = Scenario.model_validate({**sc.model_dump(), "name": f"{sc.name} as flexible mining", "ai": [], "mining": [m.model_dump() for m in mining]})
    return {"firm_ai": firm, "flexible_mining": flexible, "hybrid": sc}


def site_impact(
    scenario: Scenario | str | Path,
    start: str | None = None,
    end: str | None = None,
    headroom_rate_fraction: float = 0.005,
    emission_factors: pd.Series | None = None,
    fill: str | None = None,
) -> ImpactResult:
    """Compare the scenario's site MW as firm AI, flexible mining and its own hybrid against system load.

    The system load is the scenario's ``power.four_cp.load_file`` or the bundled
    ERCOT native load; hours without it are left out (and said so). ``fill`` overrides the scenario's
    ``power.missing_intervals`` (``"error"`` refuses gaps in its input series, ``"ffill"`` fills them from the
    previous interval with a note); ``None`` keeps the scenario's choice.
    """
    sc = with_fill(scenario if isinstance(scenario, Scenario) else load_scenario(scenario), fill)
    system = load_system_load(sc.power.four_cp.load_file)["load_mw"]
    room = headroom(system, [headroom_rate_fraction])
    prep = prepare_load(system)
    thresholds = pd.Series(prep.threshold_mw, index=system.dropna().sort_index().index)
    notes = list(room.notes)
    rows = {}
    hourly: dict[str, pd.Series] = {}
    sizes: dict[str, float] = {}
    for name, variant in site_variants(sc).items():
        result = dispatch(variant, start, end)
        load = result.schedule["expected_import_mw"].resample("1h").mean()
        hourly[name] = load
        if name == "hybrid":
            notes += [n for n in result.notes if n not in notes]
        sizes[name] = float(sum(b.site_load_mw for b in variant.ai) + sum(f.site_power_mw for f in variant.mining))
    frame = pd.DataFrame(hourly)
    frame["system_load_mw"] = system.reindex(frame.index)
    missing = int(frame["system_load_mw"].isna().sum())
    if missing == len(frame):
        raise ScenarioError("start/end: no system load in the horizon (bundled ERCOT load covers 2021, 2023, 2024-01..08); set four_cp.load_file")
    if missing:
        notes.append(f"{missing} hour(s) of the horizon have no system load and are left out of the comparison")
    covered = frame.dropna(subset=["system_load_mw"])
    order = covered["system_load_mw"].sort_values(ascending=False).index
    thr = thresholds.reindex(covered.index).to_numpy()
    cp_hours = list(get_market(sc.power.market).peak_intervals(covered["system_load_mw"]))
    for name in hourly:
        load = covered[name]
        top100 = load.loc[order[:100]]
        site_mw = sizes[name]
        row = {
            "site_mw": site_mw,
            "energy_mwh": float(load.sum()),
            "load_at_system_peak_mw": float(load.loc[order[0]]),
            "mean_load_top10_mw": float(load.loc[order[:10]].mean()),
            "mean_load_top100_mw": float(top100.mean()),
            "mean_load_4cp_mw": float(load.loc[cp_hours].mean()) if cp_hours else float("nan"),
            "given_back_top100_mwh": float((site_mw - top100).clip(lower=0).sum()),
            "above_peak_threshold_mwh": float(np.maximum(covered["system_load_mw"].to_numpy() + load.to_numpy() - thr, 0.0).sum()),
            "headroom_share_fraction": float(load.loc[order[:10]].mean() / room.rows[0].new_load_mw),
        }
        if emission_factors is not None:
            ef = emission_factors.reindex(covered.index)
            if ef.isna().any():
                raise ScenarioError(f"emissions: {int(ef.isna().sum())} hour(s) of the horizon have no emission factor; allowed: a factor for every hour")
            tco2 = float((load * ef).sum())
            row["emissions_tco2"] = tco2
            row["intensity_t_per_mwh"] = tco2 / row["energy_mwh"] if row["energy_mwh"] > 0 else float("nan")
        rows[name] = row
    table = pd.DataFrame(rows).T.rename_axis("variant")
    return ImpactResult(table, sizes["hybrid"], headroom_rate_fraction, room.rows[0].new_load_mw, len(covered), notes, frame)
