"""Aligned numeric inputs of a dispatch: every series on the price data's own interval grid.

The model's interval follows the spot price data (15 minutes for the bundled
ERCOT hubs, hourly for the 2023 load zones). Slower series are spread over it
exactly: a day's hashprice applies to each of its intervals, an hour's
ancillary price and system load to each of its quarter hours. Timestamps are
tz-aware UTC interval starts throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.bitcoin.hashprice import mining_value_usd_per_mwh
from mullet.data import (
    ERCOT_HUBS,
    ERCOT_LOAD_ZONES,
    load_as_prices,
    load_ercot_hub_prices,
    load_ercot_loadzone_prices,
    load_system_load,
    read_table,
    read_timeseries,
)
from mullet.errors import DataError, ScenarioError
from mullet.network.history import daily_hashprice, utc_day
from mullet.site import Scenario

__all__ = ["SiteInputs", "build_inputs", "load_price_series"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
LOCAL_TZ = "America/Chicago"
"""Local time of ERCOT: PPA shapes and the June-September 4CP months are in Central Prevailing Time."""


@dataclass
class SiteInputs:
    """Everything a solver needs, as arrays over ``T`` intervals, ``F`` fleets, ``B`` flexible AI blocks, ``P`` products."""

    index: pd.DatetimeIndex
    """Interval starts, UTC."""
    dt_h: float
    """Interval length [h]."""
    price_usd_per_mwh: FloatArray
    """Spot price (T)."""
    adder_usd_per_mwh: float
    cp_hour: BoolArray
    """(T) True in the 4CP peak intervals (the actual monthly system peak hours)."""
    cp_usd_per_mwh: float
    """4CP charge per MWh consumed in a peak hour: rate [USD/kW-yr] x 1000 / 4."""
    cp_in_objective: bool
    """True in perfect-foresight mode: the optimiser sees the 4CP cost."""
    forced_curtail: BoolArray
    """(T) forecast-mode 4CP curtailment: mining held at its floor."""
    system_load_mw: FloatArray | None
    hashprice_usd_per_ph_day: FloatArray
    mining_value_usd_per_mwh: FloatArray
    """(T, F) mining revenue per MWh of fleet site power (after pool fee, per MWh incl. cooling)."""
    fleet_names: list[str]
    fleet_max_mw: FloatArray
    fleet_min_mw: FloatArray
    fleet_ramp_mw_per_h: FloatArray
    """(F) inf where unlimited."""
    fleet_on_min_mw: FloatArray
    """(F) least load while on, for fleets with minimum on/off times (their must-run floor is 0)."""
    fleet_min_on_h: FloatArray
    fleet_min_off_h: FloatArray
    fleet_hashrate_ths: FloatArray
    as_products: list[str]
    as_price_usd_per_mw_h: FloatArray
    """(T, P) capacity price."""
    as_max_offer_fraction: float
    as_deployment_fraction: float
    firm_ai_mw: float
    firm_ai_revenue_usd_per_h: float
    flex_names: list[str]
    flex_max_mw: FloatArray
    flex_min_mw: FloatArray
    flex_budget_mwh: FloatArray
    """(B) capped energy allowed over the horizon."""
    flex_revenue_lost_usd_per_mwh: FloatArray
    """(B) contract revenue lost per capped MWh (GPU cloud; 0 for colocation)."""
    flex_sla_usd_per_mwh: FloatArray
    """(B) SLA credit owed per capped MWh."""
    flex_revenue_usd_per_h: FloatArray
    import_limit_mw: float
    ppa_mw: FloatArray
    """(T) total PPA volume."""
    ppa_cost_usd_per_h: FloatArray
    """(T) sum of price x volume over PPAs [USD/h]."""
    month: npt.NDArray[np.int64]
    """(T) month number since year 0, for demand charges."""
    demand_charge_usd_per_mw_month: float
    notes: list[str] = field(default_factory=list)
    fleet_usd_per_mwh_per_hashprice: FloatArray | None = None
    """(F) mining value per MWh of fleet site power per USD/PH/day of hashprice; None for hand-built inputs."""
    hashprice_prev_day_usd_per_ph_day: FloatArray | None = None
    """(T) the previous UTC day's hashprice: what a controller knows when deciding (policies); None when unknown."""

    @property
    def n(self) -> int:
        """Number of intervals."""
        return len(self.index)

    @property
    def energy_cost_usd_per_mwh(self) -> FloatArray:
        """(T) marginal cost of consuming: spot + adders (+ 4CP in perfect mode) [USD/MWh]."""
        cost = self.price_usd_per_mwh + self.adder_usd_per_mwh
        if self.cp_in_objective:
            cost = cost + self.cp_hour * self.cp_usd_per_mwh
        return cost

    @property
    def separable(self) -> bool:
        """True when every interval can be solved on its own: no ramp, demand charge, flexible AI budget or commitment."""
        return (
            bool(np.isinf(self.fleet_ramp_mw_per_h).all())
            and self.demand_charge_usd_per_mw_month == 0
            and len(self.flex_names) == 0
            and not (self.fleet_min_on_h > 0).any()
            and not (self.fleet_min_off_h > 0).any()
        )


def _horizon(scenario: Scenario, start: str | None, end: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo_s, hi_s = start or scenario.start, end or scenario.end
    lo, hi = utc_day(lo_s, "start"), utc_day(hi_s, "end") + pd.Timedelta(days=1)
    if hi <= lo:
        raise ScenarioError(f"end: got {hi_s}, before start {lo_s}; allowed: end >= start")
    return lo, hi


def load_price_series(scenario: Scenario) -> pd.Series:
    """The spot price series of the scenario's settlement point [USD/MWh], UTC interval start."""
    sp = scenario.power.settlement_point
    if scenario.power.price_file is not None:
        raw = read_table(scenario.power.price_file)
        if sp not in raw.columns:
            cols = [c for c in raw.columns if c != "interval_start_utc"]
            raise ScenarioError(f"power.settlement_point: got {sp!r}, not a column of {scenario.power.price_file}; allowed: {cols}")
        return read_timeseries(scenario.power.price_file, {sp: "finite"})[sp]
    if sp in ERCOT_HUBS:
        return load_ercot_hub_prices()[sp]
    if sp in ERCOT_LOAD_ZONES:
        return load_ercot_loadzone_prices()[sp]
    raise ScenarioError(f"power.settlement_point: got {sp!r}; allowed with bundled prices: {list(ERCOT_HUBS) + list(ERCOT_LOAD_ZONES)}")


def _grid(prices: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp, scenario: Scenario, notes: list[str]) -> tuple[pd.DatetimeIndex, FloatArray, float]:
    steps = np.diff(prices.index.as_unit("ns").asi8)
    if len(steps) == 0:
        raise DataError(scenario.power.price_file or "prices", "fewer than two intervals")
    step_ns = int(np.min(steps))
    step = pd.Timedelta(step_ns, unit="ns")
    if step not in (pd.Timedelta("15min"), pd.Timedelta("1h")):
        raise DataError(scenario.power.price_file or "prices", f"interval {step}; allowed: 15 minutes or 1 hour")
    index = pd.date_range(lo, hi, freq=step, inclusive="left")
    first, last = prices.index[0], prices.index[-1]
    if index[0] < first or index[-1] > last:
        raise ScenarioError(
            f"start/end: the horizon {lo.date()}..{(hi - pd.Timedelta(days=1)).date()} is outside the price data "
            f"({first}..{last}, settlement point {scenario.power.settlement_point})"
        )
    aligned = prices.reindex(index)
    missing = aligned.isna()
    if missing.any():
        n = int(missing.sum())
        where = index[missing.to_numpy()]
        if scenario.power.missing_intervals == "error":
            raise DataError(
                scenario.power.price_file or "bundled prices",
                f"{n} missing interval(s) in the horizon, first at {where[0]} (UTC interval start); "
                "set power.missing_intervals = 'ffill' to fill them from the previous interval",
                column=scenario.power.settlement_point,
            )
        aligned = aligned.ffill().bfill()
        notes.append(f"{n} missing price interval(s) filled from the previous interval (first {where[0]})")
    return index, aligned.to_numpy(dtype=float), step / pd.Timedelta("1h")


def _spread(series: pd.Series, index: pd.DatetimeIndex, what: str) -> FloatArray:
    """Spread a slower series (daily or hourly, interval start) onto ``index`` by the interval each point falls in."""
    pos = np.searchsorted(series.index.as_unit("ns").asi8, index.as_unit("ns").asi8, side="right") - 1
    if (pos < 0).any():
        raise ScenarioError(f"start: the horizon begins before the {what} data ({series.index[0]})")
    return series.to_numpy(dtype=float)[pos]


def build_inputs(scenario: Scenario, start: str | None = None, end: str | None = None) -> SiteInputs:
    """Load and align every series of ``scenario`` over ``start``..``end`` (inclusive UTC days)."""
    notes: list[str] = []
    lo, hi = _horizon(scenario, start, end)
    index, price, dt_h = _grid(load_price_series(scenario), lo, hi, scenario, notes)
    t = len(index)

    # hashprice
    if scenario.hashprice_file is not None:
        hp_file = read_timeseries(scenario.hashprice_file, {"hashprice_usd_per_ph_day": "nonneg"}, freq="1D", time_column="date")
        hp_daily = hp_file["hashprice_usd_per_ph_day"]
        fees_missing = 0
    else:
        daily = daily_hashprice()
        hp_daily = daily["hashprice_usd_per_ph_day"]
        in_h = daily.loc[lo : hi - pd.Timedelta(days=1)]
        fees_missing = int((~in_h["fees_known"]).sum())
    if index[-1] >= hp_daily.index[-1] + pd.Timedelta(days=1):
        raise ScenarioError(f"end: the horizon runs past the hashprice data (last day {hp_daily.index[-1].date()}); set hashprice_file")
    hashprice = _spread(hp_daily, index, "hashprice")
    hp_prev = hp_daily.copy()
    hp_prev.index = hp_prev.index + pd.Timedelta(days=1)
    hashprice_prev = _spread(hp_prev, index, "hashprice") if index[0] >= hp_prev.index[0] else None
    if fees_missing:
        notes.append(f"fees missing in the bundled history for {fees_missing} day(s): hashprice there is subsidy only (a lower bound)")

    fleets = scenario.mining
    f_max = np.array([f.site_power_mw * f.max_load_fraction for f in fleets])
    f_min = np.array([0.0 if f.needs_commitment else f.site_power_mw * f.min_load_fraction for f in fleets])
    coef = np.array([mining_value_usd_per_mwh(1.0, f.efficiency_j_per_th) * (1 - f.pool_fee_fraction) / (1 + f.cooling_overhead_fraction) for f in fleets])
    value = hashprice[:, None] * coef[None, :]

    # ancillary services
    products: list[str] = [str(p) for p in scenario.ancillary.products]
    as_price = np.zeros((t, len(products)))
    if products:
        as_frame = load_as_prices(scenario.ancillary.price_file)
        outside = (index < as_frame.index[0]) | (index >= as_frame.index[-1] + pd.Timedelta("1h"))
        if outside.all():
            raise ScenarioError(
                f"ancillary.products: the horizon is outside the ancillary price data ({as_frame.index[0]}..{as_frame.index[-1]}); "
                "set ancillary.price_file or offer no products"
            )
        if outside.any():
            notes.append(f"no ancillary prices for {outside.sum() * dt_h:g} h of the horizon (outside the data); nothing offered there")
        as_frame = as_frame.reindex(as_frame.index.union(index[outside]).sort_values())
        for k, p in enumerate(products):
            col = as_frame[p]
            spread = _spread(col, index, f"ancillary {p}")
            if np.isnan(spread).any():
                first_nan = index[np.isnan(spread)][0]
                notes.append(f"{p} has no price before it existed (first such interval {first_nan}); no {p} offered there")
            as_price[:, k] = np.nan_to_num(spread, nan=0.0)

    # 4CP and system load
    cp = scenario.power.four_cp
    local = index.tz_convert(LOCAL_TZ)
    summer = np.isin(local.month, [6, 7, 8, 9])
    cp_hour = np.zeros(t, dtype=bool)
    forced = np.zeros(t, dtype=bool)
    sys_load: FloatArray | None = None
    load_series: pd.Series | None = None
    try:
        load_series = load_system_load(cp.load_file)["load_mw"]
    except DataError:
        if cp.load_file is not None:
            raise
    if load_series is not None:
        hourly = load_series.reindex(index.floor("1h")).to_numpy(dtype=float)
        if not np.isnan(hourly).all():
            sys_load = hourly
            gap = int(np.isnan(hourly).sum())
            if gap:
                notes.append(f"system load missing for {gap * dt_h:g} h of the horizon; system-peak metrics use the covered hours")
    if cp.rate_usd_per_kw_year > 0 and cp.mode != "none" and summer.any():
        if load_series is None:
            raise ScenarioError("power.four_cp.load_file: no system load; 4CP needs one (or set rate 0 or mode 'none')")
        months = sorted(set(zip(local.year[summer], local.month[summer], strict=True)))
        local_load = load_series.copy()
        local_load.index = local_load.index.tz_convert(LOCAL_TZ)
        for year, month in months:
            m = local_load[(local_load.index.year == year) & (local_load.index.month == month)]
            if len(m) < 24 * 25:
                raise ScenarioError(
                    f"power.four_cp: no system load for {year}-{month:02d} (bundled ERCOT load covers 2021, 2023 and 2024-01..08); "
                    "set four_cp.load_file, or rate 0, or mode 'none'"
                )
            peak_start = m.idxmax().tz_convert("UTC")
            cp_hour |= (index >= peak_start) & (index < peak_start + pd.Timedelta("1h"))
        if cp.mode == "forecast":
            threshold = cp.threshold_mw if cp.threshold_mw is not None else _tuned_threshold(load_series, {y for y, _ in months})
            if sys_load is None or np.isnan(sys_load[summer]).any():
                raise ScenarioError("power.four_cp: forecast mode needs system load over every June-September interval of the horizon")
            forced = summer & (np.nan_to_num(sys_load, nan=0.0) > threshold)
            notes.append(f"4CP forecast threshold {threshold:,.0f} MW")

    # AI
    firm = [b for b in scenario.ai if b.service == "firm"]
    flex = [b for b in scenario.ai if b.service == "flexible"]
    horizon_years = t * dt_h / 8760.0
    # PPAs
    ppa_mw = np.zeros(t)
    ppa_cost = np.zeros(t)
    hour = local.hour
    weekday = local.day_of_week < 5
    for ppa in scenario.power.ppas:
        on = np.ones(t, dtype=bool) if ppa.shape == "flat" else (hour >= 6) & (hour < 22)
        if ppa.shape == "5x16":
            on &= weekday
        ppa_mw += on * ppa.power_mw
        ppa_cost += on * ppa.power_mw * ppa.price_usd_per_mwh

    return SiteInputs(
        index=index,
        dt_h=dt_h,
        price_usd_per_mwh=price,
        adder_usd_per_mwh=scenario.power.retail_adder_usd_per_mwh,
        cp_hour=cp_hour,
        cp_usd_per_mwh=cp.rate_usd_per_kw_year * 1000.0 / 4.0,
        cp_in_objective=cp.mode == "perfect",
        forced_curtail=forced,
        system_load_mw=sys_load,
        hashprice_usd_per_ph_day=hashprice,
        mining_value_usd_per_mwh=value,
        fleet_names=[f.name for f in fleets],
        fleet_max_mw=f_max,
        fleet_min_mw=f_min,
        fleet_ramp_mw_per_h=np.array([f.ramp_mw_per_h if f.ramp_mw_per_h is not None else np.inf for f in fleets]),
        fleet_on_min_mw=np.array([f.site_power_mw * f.min_load_fraction if f.needs_commitment else 0.0 for f in fleets]),
        fleet_min_on_h=np.array([f.min_on_hours for f in fleets]),
        fleet_min_off_h=np.array([f.min_off_hours for f in fleets]),
        fleet_hashrate_ths=np.array([f.hashrate_ths for f in fleets]),
        as_products=products,
        as_price_usd_per_mw_h=as_price,
        as_max_offer_fraction=scenario.ancillary.max_offer_fraction,
        as_deployment_fraction=scenario.ancillary.deployment_fraction,
        firm_ai_mw=sum(b.site_load_mw for b in firm),
        firm_ai_revenue_usd_per_h=sum(b.revenue_usd_per_hour for b in firm),
        flex_names=[b.name for b in flex],
        flex_max_mw=np.array([b.site_load_mw for b in flex]),
        flex_min_mw=np.array([b.site_load_mw * (1 - b.flex_cap_fraction) for b in flex]),
        flex_budget_mwh=np.array([b.site_load_mw * b.flex_cap_fraction * b.flex_max_hours_per_year * horizon_years for b in flex]),
        flex_revenue_lost_usd_per_mwh=np.array([b.revenue_usd_per_mwh_served for b in flex]),
        flex_sla_usd_per_mwh=np.array([b.sla_credit_usd_per_mwh for b in flex]),
        flex_revenue_usd_per_h=np.array([b.revenue_usd_per_hour for b in flex]),
        import_limit_mw=scenario.interconnect.import_limit_mw,
        ppa_mw=ppa_mw,
        ppa_cost_usd_per_h=ppa_cost,
        month=(index.year * 12 + index.month - 1).to_numpy().astype(np.int64),
        demand_charge_usd_per_mw_month=scenario.power.demand_charge_usd_per_kw_month * 1000.0,
        notes=notes,
        fleet_usd_per_mwh_per_hashprice=coef,
        hashprice_prev_day_usd_per_ph_day=hashprice_prev,
    )


def _tuned_threshold(load: pd.Series, horizon_years: set[int]) -> float:
    """1% below the lowest June-September monthly peak of the other years in ``load``.

    Curtailing above it would have caught every 4CP interval of those years.
    """
    local = load.copy()
    local.index = local.index.tz_convert(LOCAL_TZ)
    summer = local[local.index.month.isin([6, 7, 8, 9]) & ~local.index.year.isin(sorted(horizon_years))]
    if summer.empty:
        raise ScenarioError("power.four_cp.threshold_mw: none set, and no other year's summer load to tune it on; set threshold_mw")
    peaks = summer.groupby([summer.index.year, summer.index.month]).max()
    return 0.99 * float(peaks.min())
