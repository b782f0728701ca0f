"""Named dispatch policies and the value-of-foresight table: what each policy earns next to perfect foresight.

Policies (``mullet dispatch --policy NAME``):

- ``perfect``: the optimiser with every price of the horizon known (the LP / closed form);
  an upper bound, named so. Ancillary awards are hourly and priced at the DAM
  clearing price like every other policy's, 4CP per the scenario's mode.
- ``realtime``: :class:`~mullet.dispatch.policy.RealtimePolicy` (strike from the known
  hashprice, hysteresis, one-interval lag); no ancillary offers, no 4CP calls.
- ``realtime_4cp``: ``realtime`` plus 4CP calls from
  :func:`~mullet.dispatch.fourcp.realisable_alerts` (a load forecast trained on earlier
  summers, a margin tuned on earlier summers).
- ``dayahead``: ``realtime_4cp`` plus day-ahead hourly ancillary commitment
  (:func:`~mullet.dispatch.policy.dayahead_awards`).

Every policy is priced by :func:`~mullet.dispatch.result.evaluate` on the same inputs,
so the differences are decisions only.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
import pandas as pd

from mullet.dispatch.fourcp import FourCPCallConfig, load_key, realisable_alerts
from mullet.dispatch.inputs import SiteInputs, build_inputs
from mullet.dispatch.policy import DayAheadConfig, RealtimePolicyConfig, dayahead_awards, run_policy
from mullet.dispatch.result import DispatchResult
from mullet.errors import ScenarioError
from mullet.markets import get_market
from mullet.site import Scenario

__all__ = ["POLICIES", "PolicyName", "foresight_table", "realisable_alert_series", "run_named_policy"]

PolicyName = Literal["perfect", "realtime", "realtime_4cp", "dayahead"]
POLICIES: tuple[str, ...] = ("perfect", "realtime", "realtime_4cp", "dayahead")


_ALERT_CACHE: dict[tuple[object, ...], tuple[pd.Series, Any, list[str]]] = {}


def realisable_alert_series(inputs: SiteInputs, config: FourCPCallConfig | None = None) -> tuple[np.ndarray, list[str]]:
    """(T) coincident-peak alerts (ERCOT 4CP, PJM 5CP) on the inputs' intervals for each local year of the horizon, and their notes.

    The load is the inputs' ``peak_load_mw`` (a scenario's ``four_cp.load_file``) or the market's history.
    A horizon year with peak months but no load history to call them from gets no alerts, and a note says so.
    """
    market = get_market(inputs.market)
    history = inputs.peak_load_mw if inputs.peak_load_mw is not None else market.system_load_history()
    covered = {int(y) for y in market.peak_years(history)}
    alert = np.zeros(inputs.n, dtype=bool)
    notes: list[str] = []
    hours = inputs.index.floor("1h")
    years_of = market.calendar_year(inputs.index)
    for year in sorted(set(years_of.tolist())):
        if not market.peak_months(inputs.index[years_of == year]).any():
            continue
        if year not in covered:
            notes.append(f"no {market.coincident_peak_name} calls for {year}: the system load does not cover its peak months (no alerts there)")
            continue
        key = (*load_key(history, market), year, (config or FourCPCallConfig()).model_dump_json())
        if key not in _ALERT_CACHE:
            _ALERT_CACHE[key] = realisable_alerts(market, year, config, inputs.peak_load_mw)
        series, _, year_notes = _ALERT_CACHE[key]
        alert |= series.reindex(hours, fill_value=False).to_numpy(dtype=bool) & (market.calendar_year(inputs.index) == year)
        notes += year_notes
    return alert, notes


def run_named_policy(
    inputs: SiteInputs,
    policy: str,
    realtime: RealtimePolicyConfig | None = None,
    dayahead: DayAheadConfig | None = None,
    four_cp: FourCPCallConfig | None = None,
) -> DispatchResult:
    """Dispatch ``inputs`` with one of :data:`POLICIES`."""
    from mullet.dispatch import dispatch_inputs

    if policy not in POLICIES:
        raise ScenarioError(f"policy: got {policy!r}; allowed: {', '.join(POLICIES)}")
    if policy == "perfect":
        result = dispatch_inputs(inputs)
        result.notes.append("perfect foresight: every price of the horizon known to the optimiser (an upper bound, not a realisable P&L)")
        return result
    alert, notes = (np.zeros(inputs.n, dtype=bool), []) if policy == "realtime" else realisable_alert_series(inputs, four_cp)
    awards = None
    if policy == "dayahead":
        cfg = dayahead or DayAheadConfig()
        awards = dayahead_awards(inputs, cfg)
        # no award where the day-ahead 4CP call (no same-day update: not known when the DAM closes) expects a peak
        day_ahead_cp = (four_cp or FourCPCallConfig()).model_copy(update={"same_day_update": False})
        da_alert, _ = realisable_alert_series(inputs, day_ahead_cp)
        awards[da_alert] = 0.0
        notes.append(cfg.describe() + "; none in hours of a day-ahead 4CP call")
    result = run_policy(inputs, realtime, four_cp_alert=alert, as_mw=awards, name=policy)
    result.notes.extend(notes)
    return result


def _year_inputs(scenario: Scenario, year: int, notes: list[str]) -> SiteInputs:
    """Inputs of one calendar year of ``scenario``; products and 4CP adapted to the bundled data, each change noted."""
    market = get_market(scenario.power.market)
    sc = scenario
    as_prices = market.ancillary_prices()
    if sc.ancillary.products and as_prices.index[0].year > year:
        sc = sc.model_copy(update={"ancillary": sc.ancillary.model_copy(update={"products": [], "deployment_fraction_by_product": {}})})
        notes.append(f"{year}: no bundled ancillary prices (they start {as_prices.index[0]:%Y-%m-%d}); no products offered")
    start = pd.Timestamp(f"{year}-01-01", tz="UTC")
    if sc.power.price_file is None:
        first = market.coverage(sc.power.settlement_point)[0]
        if first > start:
            start = first.ceil("1D")
            notes.append(f"{year}: bundled {sc.power.settlement_point} prices start {first}; the year is dispatched from {start:%Y-%m-%d}")
    return build_inputs(sc, f"{start:%Y-%m-%d}", f"{year}-12-31")


def foresight_table(
    scenario: Scenario,
    years: list[int],
    policies: tuple[str, ...] = POLICIES,
    realtime: RealtimePolicyConfig | None = None,
    dayahead: DayAheadConfig | None = None,
    four_cp: FourCPCallConfig | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Value of foresight: each policy's net P&L per year and its gap to perfect foresight.

    Returns a frame with one row per (year, policy): ``net_usd``, ``gap_to_perfect_usd``
    (perfect - policy, >= 0), ``share_of_perfect_fraction``, ``ancillary_revenue_usd``,
    ``four_cp_charge_usd``, ``load_zone_basis_cost_usd``, ``mining_curtailed_hours``,
    ``four_cp_peaks_missed``, ``seconds``; and the notes of every run (deduplicated).
    """
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    if "perfect" not in policies:
        policies = ("perfect", *policies)
    for year in years:
        x = _year_inputs(scenario, year, notes)  # gaps per the scenario's power.missing_intervals (--fill)
        perfect_net = float("nan")
        for name in policies:
            t0 = time.perf_counter()
            r = run_named_policy(x, name, realtime, dayahead, four_cp)
            seconds = time.perf_counter() - t0
            if name == "perfect":
                perfect_net = r.pnl["net_usd"]
            rows.append(
                {
                    "year": year,
                    "policy": name,
                    "net_usd": r.pnl["net_usd"],
                    "gap_to_perfect_usd": perfect_net - r.pnl["net_usd"],
                    "share_of_perfect_fraction": r.pnl["net_usd"] / perfect_net if perfect_net else float("nan"),
                    "ancillary_revenue_usd": r.pnl["ancillary_revenue_usd"],
                    "four_cp_charge_usd": r.pnl["four_cp_charge_usd"],
                    "load_zone_basis_cost_usd": r.pnl["load_zone_basis_cost_usd"],
                    "mining_curtailed_hours": r.metrics["mining_curtailed_hours"],
                    "four_cp_peaks_missed": r.metrics["four_cp_peaks_missed"],
                    "seconds": seconds,
                }
            )
            notes += [f"{year}: {n}" for n in x.notes]
            notes += [f"{year} {name}: {n}" for n in r.notes if n not in x.notes]
    seen: dict[str, None] = {}
    for n in notes:
        seen.setdefault(n, None)
    return pd.DataFrame(rows), list(seen)
