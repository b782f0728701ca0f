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
from mullet.data import PRICE_RANGE_USD_PER_MWH, check_gaps, check_plausible, load_as_prices, load_system_load, read_table, read_timeseries
from mullet.data.gridstatus import is_gridstatus_file, read_gridstatus_price_file
from mullet.errors import DataError, ScenarioError
from mullet.markets import Market, get_market
from mullet.network.history import daily_hashprice, utc_day
from mullet.site import Scenario

__all__ = ["SiteInputs", "build_inputs", "load_price_series", "price_file_points"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class SiteInputs:
    """Everything a solver needs, as arrays over ``T`` intervals, ``F`` fleets, ``B`` flexible AI blocks, ``P`` products."""

    index: pd.DatetimeIndex
    """Interval starts, UTC."""
    dt_h: float
    """Interval length [h]."""
    price_usd_per_mwh: FloatArray
    """(T) real-time price where the site's load settles (its load zone in ERCOT) [USD/MWh]."""
    adder_usd_per_mwh: float
    cp_hour: BoolArray
    """(T) True in the coincident-peak hours (ERCOT 4CP: the actual monthly system peak hours; PJM 5CP: the five highest daily peaks)."""
    cp_usd_per_mwh: float
    """Coincident-peak charge per MWh consumed in a peak hour: rate [USD/kW-yr] x 1000 / peaks per year (ERCOT 4, PJM 5)."""
    cp_in_objective: bool
    """True in perfect-foresight mode: the optimiser sees the coincident-peak cost."""
    forced_curtail: BoolArray
    """(T) forecast-mode coincident-peak curtailment: mining held at its floor."""
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
    """Expected deployed share of offered MWh, for every product without its own figure in ``as_deployment_by_product``."""
    firm_ai_mw: float
    firm_ai_revenue_usd_per_h: float
    flex_names: list[str]
    flex_max_mw: FloatArray
    flex_min_mw: FloatArray
    flex_budget_mwh: FloatArray
    """(B) capped energy allowed per budget period (a local calendar year; see ``budget_period``)."""
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
    """(T) billing month number since year 0 (local time of the market), for demand charges."""
    demand_charge_usd_per_mw_month: float
    notes: list[str] = field(default_factory=list)
    fleet_usd_per_mwh_per_hashprice: FloatArray | None = None
    """(F) mining value per MWh of fleet site power per USD/PH/day of hashprice; None for hand-built inputs."""
    hashprice_prev_day_usd_per_ph_day: FloatArray | None = None
    """(T) the previous UTC day's hashprice: what a controller knows when deciding (policies); None when unknown."""
    ppa_price_usd_per_mwh: FloatArray | None = None
    """(T) price where PPAs settle (a hub) [USD/MWh]; None: the load's price (no basis)."""
    as_deployment_by_product: FloatArray | None = None
    """(P) expected deployed share of offered MWh per product; None: ``as_deployment_fraction`` for all."""
    as_award_intervals: int = 1
    """Model intervals per ancillary award (4 for hourly day-ahead awards on 15-minute intervals): the offer holds through them."""
    budget_period: npt.NDArray[np.int64] | None = None
    """(T) budget period of flexible-AI energy (local calendar year); None: the whole horizon is one period."""
    market: str = "ERCOT"
    """Name of the market module the inputs were built with."""
    ai_it_mw: float | None = None
    """Contracted IT load of all AI blocks [MW] (site load / PUE); None: not known (hand-built inputs)."""
    fleet_it_mw: FloatArray | None = None
    """(F) ASIC power of each fleet without cooling [MW]; None: not known."""
    firm_ai_pass_through_mw: float = 0.0
    """Firm AI site MW on triple-net leases: the tenant reimburses their energy (:mod:`mullet.finance.contracts`)."""
    flex_pass_through: BoolArray | None = None
    """(B) True for flexible blocks on triple-net leases (their served energy is reimbursed)."""
    peak_load_mw: pd.Series | None = None
    """The user's load series whose peaks set the coincident-peak charge [MW], hourly UTC interval starts
    (``power.four_cp.load_file``), for realisable peak calls; None: the market's bundled load."""

    @property
    def hub_price_usd_per_mwh(self) -> FloatArray:
        """(T) price where PPAs settle [USD/MWh] (the load's price when no separate point is set)."""
        return self.price_usd_per_mwh if self.ppa_price_usd_per_mwh is None else self.ppa_price_usd_per_mwh

    @property
    def deployment_by_product(self) -> FloatArray:
        """(P) expected deployed share of offered MWh of each product [-]."""
        if self.as_deployment_by_product is not None:
            return np.asarray(self.as_deployment_by_product, dtype=float)
        return np.full(len(self.as_products), self.as_deployment_fraction)

    @property
    def offers_ancillary(self) -> bool:
        """True when some product may be offered."""
        return bool(self.as_products) and self.as_max_offer_fraction > 0

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
        """True when the closed form is exact.

        No ramp, demand charge, flexible AI budget or commitment; multi-interval ancillary awards only where
        fleets do not compete for headroom (:func:`~mullet.dispatch.fast.block_award_dispatch`).
        """
        return (
            bool(np.isinf(self.fleet_ramp_mw_per_h).all())
            and self.demand_charge_usd_per_mw_month == 0
            and len(self.flex_names) == 0
            and not (self.fleet_min_on_h > 0).any()
            and not (self.fleet_min_off_h > 0).any()
            and not (self.as_award_intervals > 1 and self.offers_ancillary and not self.fleets_independent)
        )

    @property
    def fleets_independent(self) -> bool:
        """True when the fleets never compete for interconnect headroom (one fleet, or all fit at once)."""
        return len(self.fleet_names) <= 1 or float(self.fleet_max_mw.sum()) <= self.import_limit_mw - self.firm_ai_mw - float(self.flex_max_mw.sum()) + 1e-9


def _horizon(scenario: Scenario, start: str | None, end: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    lo_s, hi_s = start or scenario.start, end or scenario.end
    lo, hi = utc_day(lo_s, "start"), utc_day(hi_s, "end") + pd.Timedelta(days=1)
    if hi <= lo:
        raise ScenarioError(f"end: got {hi_s}, before start {lo_s}; allowed: end >= start")
    return lo, hi


def price_file_points(scenario: Scenario) -> list[str]:
    """Settlement points in the scenario's ``power.price_file``: columns of mullet's layout, or a gridstatus file's locations."""
    path = scenario.power.price_file
    if path is None:
        return []
    if is_gridstatus_file(path):
        return [str(c) for c in read_gridstatus_price_file(path, scenario.power.price_market).columns]
    return [str(c) for c in read_table(path).columns if c != "interval_start_utc"]


def _file_series(scenario: Scenario, point: str) -> pd.Series:
    """One point's prices from ``power.price_file`` [USD/MWh], UTC interval starts, intervals without a price absent.

    mullet's layout (``interval_start_utc`` + one column per point) or a gridstatus-shaped file
    (``Interval Start``, ``Interval End``, ``Location``, ``Market``, ``LMP``/``SPP``; :mod:`mullet.data.gridstatus`).
    """
    path = scenario.power.price_file
    assert path is not None
    if not is_gridstatus_file(path):
        return read_timeseries(path, {point: "finite"})[point]
    frame = read_gridstatus_price_file(path, scenario.power.price_market)
    interval = pd.Timedelta(frame.attrs["interval"])
    if interval < pd.Timedelta("15min"):
        raise DataError(
            path,
            f"interval {interval} (gridstatus {frame.attrs['market']}); allowed: 15 minutes or 1 hour: "
            f"average it first, e.g. `mullet data gridstatus {path} --freq 15min --out prices.csv`",
        )
    series = frame[point].dropna().rename(point)
    if series.empty:
        raise DataError(path, f"no prices for location {point!r}")
    return series


def _point_series(scenario: Scenario, market: Market, point: str, field_name: str) -> pd.Series:
    """Prices of one settlement point [USD/MWh], UTC interval start: from the scenario's price file or the market's bundled data.

    The one price loader of dispatch, plan, grid and web: a price file may be mullet's layout or gridstatus-shaped.
    """
    if scenario.power.price_file is not None:
        points = price_file_points(scenario)
        if point not in points and field_name == "load_settlement_point" and point in market.settlement_points:
            return market.prices(point)  # the load's zone from the market's bundled data (noted by the caller)
        if point not in points:
            raise ScenarioError(f"power.{field_name}: got {point!r}, not a column of {scenario.power.price_file}; allowed: {points}")
        series = _file_series(scenario, point)
        check_plausible(series, scenario.power.price_file, point, *PRICE_RANGE_USD_PER_MWH, "ERCOT floor -$250, cap $5,000/MWh; PJM offer cap $1,000-2,000/MWh")
        return series
    if point not in market.settlement_points:
        raise ScenarioError(f"power.{field_name}: got {point!r}; allowed with bundled {market.name} prices: {list(market.settlement_points)}")
    return market.prices(point)


def load_price_series(scenario: Scenario) -> pd.Series:
    """The spot price series of the scenario's ``settlement_point`` (where PPAs settle) [USD/MWh], UTC interval start."""
    return _point_series(scenario, get_market(scenario.power.market), scenario.power.settlement_point, "settlement_point")


def _step(prices: pd.Series, source: str) -> pd.Timedelta:
    steps = np.diff(prices.index.as_unit("ns").asi8)
    if len(steps) == 0:
        raise DataError(source, "fewer than two intervals")
    step = pd.Timedelta(int(np.min(steps)), unit="ns")
    if step not in (pd.Timedelta("15min"), pd.Timedelta("1h")):
        raise DataError(source, f"interval {step}; allowed: 15 minutes or 1 hour")
    return step


def _grid(prices: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp, scenario: Scenario, notes: list[str]) -> tuple[pd.DatetimeIndex, FloatArray, float]:
    step = _step(prices, scenario.power.price_file or "prices")
    index = pd.date_range(lo, hi, freq=step, inclusive="left")
    first, last = prices.index[0], prices.index[-1]
    if index[0] < first or index[-1] > last:
        raise ScenarioError(
            f"start/end: the horizon {lo.date()}..{(hi - pd.Timedelta(days=1)).date()} is outside the price data "
            f"({first}..{last}, settlement point {scenario.power.settlement_point})"
        )
    return index, _fill(prices.reindex(index), scenario, notes, scenario.power.settlement_point), step / pd.Timedelta("1h")


def _fill(aligned: pd.Series, scenario: Scenario, notes: list[str], point: str) -> FloatArray:
    missing = aligned.isna()
    if missing.any():
        n = int(missing.sum())
        where = aligned.index[missing.to_numpy()]
        if scenario.power.missing_intervals == "error":
            raise DataError(
                scenario.power.price_file or "bundled prices",
                f"{n} missing interval(s) in the horizon, first at {where[0]} (UTC interval start); "
                "pass --fill ffill (or set power.missing_intervals = 'ffill') to fill them from the previous interval",
                column=point,
            )
        aligned = aligned.ffill().bfill()
        notes.append(f"{n} missing price interval(s) filled from the previous interval at {point} (first {where[0]})")
    return aligned.to_numpy(dtype=float)


def _load_price(scenario: Scenario, market: Market, index: pd.DatetimeIndex, hub: FloatArray, notes: list[str]) -> tuple[FloatArray, FloatArray | None]:
    """(load price, PPA price or None) on ``index``: the load settles at its own point when one is set.

    A load point coarser than the model interval (ERCOT: hourly load zones, 15-minute hubs) is applied as
    its hourly basis to the hub: ``load = hub + (load_hourly - mean of hub over the hour)``, so each hour's mean
    equals the published load-zone price and the 15-minute shape is the hub's.
    """
    ps = scenario.power
    hub_point = ps.settlement_point
    if ps.load_settlement_point is None or ps.load_settlement_point == hub_point:
        if ps.load_settlement_point is None and market.point_kind_or_none(hub_point) == "hub":
            notes.append(
                f"load settles at {hub_point}, a hub: {market.name} loads settle at their load zone (basis not modelled); "
                "set power.load_settlement_point, e.g. LZ_WEST"
            )
        return hub, None
    point = ps.load_settlement_point
    series = _point_series(scenario, market, point, "load_settlement_point")
    if ps.price_file is not None and point not in price_file_points(scenario):
        notes.append(f"{point} prices from the bundled {market.name} data (not a column of {ps.price_file})")
    step = _step(series, ps.price_file or f"{market.name} {point} prices")
    model_step = index[1] - index[0] if len(index) > 1 else step
    if step < model_step:
        series = series.resample(model_step).mean()
        step = model_step
    bucket = index.floor(step)
    lz = series.reindex(bucket.unique())
    first, last = series.index[0], series.index[-1]
    absent = lz.isna()
    inside = (lz.index >= first) & (lz.index <= last)
    outside_hours = int((absent & ~inside).sum() * step / pd.Timedelta("1h"))
    if outside_hours:
        what = (
            f"power.load_settlement_point: {point} has prices for {first:%Y-%m-%d %H:%M}..{last:%Y-%m-%d %H:%M} UTC only "
            f"({'bundled ' + market.name if ps.price_file is None else ps.price_file}); {outside_hours} h of the horizon have none"
        )
        if ps.load_zone_fallback == "error":
            raise ScenarioError(
                f"{what}. Set power.price_file with {point} prices for the horizon, or power.load_zone_fallback = 'hub' "
                f"to settle the load at {hub_point} there (basis 0, noted)"
            )
        notes.append(f"{what}: load settled at {hub_point} there (load_zone_fallback = 'hub'; the basis is understated)")
    gaps = lz[inside].isna()
    if gaps.any():
        lz_inside = pd.Series(_fill(lz[inside], scenario, notes, point), index=lz.index[inside])
        lz = lz.where(~inside, lz_inside.reindex(lz.index))
    lz_t = lz.reindex(bucket).to_numpy(dtype=float)
    if step > model_step:
        hub_mean = pd.Series(hub, index=index).groupby(bucket).transform("mean").to_numpy()
        load = hub + (lz_t - hub_mean)
        notes.append(
            f"{point} is {step / pd.Timedelta('1h'):g}-hourly: applied as its basis to {hub_point}'s {model_step / pd.Timedelta('1min'):g}-minute shape"
        )
    else:
        load = lz_t
    load = np.where(np.isnan(load), hub, load)
    return load, hub


def _spread(series: pd.Series, index: pd.DatetimeIndex, what: str) -> FloatArray:
    """Spread a slower series (daily or hourly, interval start) onto ``index`` by the interval each point falls in."""
    pos = np.searchsorted(series.index.as_unit("ns").asi8, index.as_unit("ns").asi8, side="right") - 1
    if (pos < 0).any():
        raise ScenarioError(f"start: the horizon begins before the {what} data ({series.index[0]})")
    return series.to_numpy(dtype=float)[pos]


def build_inputs(scenario: Scenario, start: str | None = None, end: str | None = None) -> SiteInputs:
    """Load and align every series of ``scenario`` over ``start``..``end`` (inclusive UTC days)."""
    notes: list[str] = []
    market = get_market(scenario.power.market)
    lo, hi = _horizon(scenario, start, end)
    index, hub_price, dt_h = _grid(load_price_series(scenario), lo, hi, scenario, notes)
    price, ppa_price = _load_price(scenario, market, index, hub_price, notes)
    t = len(index)

    # hashprice
    if scenario.hashprice_file is not None:
        hp_file = read_timeseries(scenario.hashprice_file, {"hashprice_usd_per_ph_day": "nonneg"}, freq="1D", time_column="date")
        hp_daily = hp_file["hashprice_usd_per_ph_day"]
        check_plausible(hp_daily, scenario.hashprice_file, "hashprice_usd_per_ph_day", 0.0, 1e6, "2014-2025: $35 to $330,000 per PH/day")
        days = pd.date_range(lo, hi, freq="1D", inclusive="left")
        inside = days[(days >= hp_daily.index[0]) & (days <= hp_daily.index[-1])]
        check_gaps(hp_daily.index, inside, scenario.power.missing_intervals, scenario.hashprice_file, "hashprice_usd_per_ph_day", notes)
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

    # ancillary services: awarded per the market's award period (ERCOT: the day-ahead hour) at its clearing price
    products: list[str] = [str(p) for p in scenario.ancillary.products]
    specs = [market.product(p) for p in products]
    for spec in specs:
        if spec.direction != "up":
            raise ScenarioError(f"ancillary.products: got {spec.name!r}, a {spec.direction}-product; allowed: up-products (curtailable load)")
    as_price = np.zeros((t, len(products)))
    deployment = np.zeros(len(products))
    award_intervals = 1
    if products:
        as_frame = market.ancillary_prices() if scenario.ancillary.price_file is None else load_as_prices(scenario.ancillary.price_file)
        if scenario.ancillary.price_file is not None:
            for p in products:
                check_plausible(as_frame[p], scenario.ancillary.price_file, p, -100.0, 10_000.0, "ERCOT 2022-2024 day-ahead: $0 to $4,085 per MW-h")
        outside = (index < as_frame.index[0]) | (index >= as_frame.index[-1] + pd.Timedelta("1h"))
        if outside.all():
            raise ScenarioError(
                f"ancillary.products: the horizon is outside the ancillary price data ({as_frame.index[0]}..{as_frame.index[-1]}); "
                "set ancillary.price_file or offer no products"
            )
        if outside.any():
            notes.append(f"no ancillary prices for {outside.sum() * dt_h:g} h of the horizon (outside the data); nothing offered there")
        hours = index[~outside].floor("1h").unique()
        as_source = scenario.ancillary.price_file or "bundled ancillary prices"
        check_gaps(as_frame.index, hours, scenario.power.missing_intervals, as_source, "/".join(products), notes)
        as_frame = as_frame.reindex(as_frame.index.union(index[outside]).sort_values())
        for k, p in enumerate(products):
            col = as_frame[p]
            spread = _spread(col, index, f"ancillary {p}")
            if np.isnan(spread).any():
                first_nan = index[np.isnan(spread)][0]
                notes.append(f"{p} has no price before it existed (first such interval {first_nan}); no {p} offered there")
            as_price[:, k] = np.nan_to_num(spread, nan=0.0)
        missing_figure = []
        for k, spec in enumerate(specs):
            if spec.name in scenario.ancillary.deployment_fraction_by_product:
                deployment[k] = scenario.ancillary.deployment_fraction_by_product[spec.name]
            elif spec.deployment_fraction is not None:
                deployment[k] = spec.deployment_fraction
            else:
                deployment[k] = scenario.ancillary.deployment_fraction
                missing_figure.append(spec.name)
        if missing_figure:
            notes.append(
                f"deployment of {', '.join(missing_figure)}: no published per-product figure in the {market.name} module; "
                f"ancillary.deployment_fraction = {scenario.ancillary.deployment_fraction:g} used (set ancillary.deployment_fraction_by_product)"
            )
        if scenario.ancillary.award == "day_ahead_hourly":
            award_intervals = max(1, round(min(s.award_interval_h for s in specs) / dt_h))
        else:
            notes.append("ancillary offers chosen per model interval (award = 'per_interval'): a relaxation of hourly day-ahead awards")
    unknown = set(scenario.ancillary.deployment_fraction_by_product) - set(products)
    if unknown:
        raise ScenarioError(f"ancillary.deployment_fraction_by_product: got {sorted(unknown)}, not offered; allowed: {products}")

    # coincident peaks (ERCOT 4CP, PJM 5CP: the market's rule) and system load
    cp = scenario.power.four_cp
    local = market.local(index)
    summer = market.peak_months(index)
    cp_hour = np.zeros(t, dtype=bool)
    forced = np.zeros(t, dtype=bool)
    sys_load: FloatArray | None = None
    load_series: pd.Series | None = None
    try:
        load_series = market.system_load() if cp.load_file is None else load_system_load(cp.load_file)["load_mw"]
    except DataError:
        if cp.load_file is not None:
            raise
    peak_years = set(local.year[summer].tolist())
    if load_series is not None and cp.load_file is None and cp.rate_usd_per_kw_year > 0 and cp.mode != "none" and peak_years:
        missing_years = sorted(peak_years - market.peak_years(load_series))
        if missing_years:
            load_series = load_series.combine_first(market.system_load_history())
            notes.append(
                f"system load of {', '.join(map(str, missing_years))} from the {market.name} module's load history "
                "(the official system load is not bundled for those months)"
            )
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
        if market.coincident_peak_basis == "season":  # the season's top days may lie in any peak month: all are needed
            months = [(y, mo) for y in sorted({y for y, _ in months}) for mo in market.coincident_peak_months]
        local_load = load_series.copy()
        local_load.index = market.local(pd.DatetimeIndex(local_load.index))
        for year, month in months:
            m = local_load[(local_load.index.year == year) & (local_load.index.month == month)]
            if len(m) < 24 * 25:
                where = "the bundled" if cp.load_file is None else cp.load_file
                raise ScenarioError(
                    f"power.four_cp: no system load for {year}-{month:02d} ({where} {market.name} load spans "
                    f"{load_series.index[0]:%Y-%m-%d}..{load_series.index[-1]:%Y-%m-%d}); "
                    f"the {market.coincident_peak_name} hours need every peak month of the year; set four_cp.load_file, or rate 0, or mode 'none'"
                )
        for peak_start in market.peak_intervals(load_series):
            cp_hour |= (index >= peak_start) & (index < peak_start + pd.Timedelta("1h"))
        name, k = market.coincident_peak_name, market.coincident_peaks_per_year
        rule = f"{name}: the load in the {k} peak hours of {market.name}'s rule sets the obligation; {cp.rate_usd_per_kw_year:g} USD/kW-year"
        rule += f" = {cp.rate_usd_per_kw_year * 1000.0 / k:,.0f} USD per MWh in a peak hour"
        if cp.mode == "forecast":
            threshold = cp.threshold_mw if cp.threshold_mw is not None else _tuned_threshold(market, load_series, {y for y, _ in months})
            if sys_load is None or np.isnan(sys_load[summer]).any():
                raise ScenarioError(f"power.four_cp: forecast mode needs system load over every {market.name} peak-month interval of the horizon")
            forced = summer & (np.nan_to_num(sys_load, nan=0.0) > threshold)
            notes.append(f"{name} forecast threshold {threshold:,.0f} MW")
            notes.append(
                f"{rule}; forecast mode: mining curtails where the hour's actual system load exceeds the threshold "
                "(hindsight on the hour's load; the realtime_4cp policy calls peaks from a forecast, no hindsight)"
            )
        else:
            notes.append(
                f"{rule}; mode 'perfect': the optimiser knows the peak hours (perfect foresight, hindsight: an upper bound; "
                "the realtime_4cp policy calls them without hindsight)"
            )

    # AI
    firm = [b for b in scenario.ai if b.service == "firm"]
    flex = [b for b in scenario.ai if b.service == "flexible"]
    years = market.calendar_year(index)
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
    if flex and len(set(years.tolist())) > 1:
        notes.append("flexible-AI cap budgets apply per local calendar year (each year of the horizon gets the full annual budget)")

    return SiteInputs(
        index=index,
        dt_h=dt_h,
        price_usd_per_mwh=price,
        adder_usd_per_mwh=scenario.power.retail_adder_usd_per_mwh,
        cp_hour=cp_hour,
        cp_usd_per_mwh=cp.rate_usd_per_kw_year * 1000.0 / max(market.coincident_peaks_per_year, 1),
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
        as_deployment_by_product=deployment,
        as_award_intervals=award_intervals,
        firm_ai_mw=sum(b.site_load_mw for b in firm),
        firm_ai_revenue_usd_per_h=sum(b.revenue_usd_per_hour for b in firm),
        flex_names=[b.name for b in flex],
        flex_max_mw=np.array([b.site_load_mw for b in flex]),
        flex_min_mw=np.array([b.site_load_mw * (1 - b.flex_cap_fraction) for b in flex]),
        flex_budget_mwh=np.array([b.site_load_mw * b.flex_cap_fraction * b.flex_max_hours_per_year for b in flex]),
        flex_revenue_lost_usd_per_mwh=np.array([b.revenue_usd_per_mwh_served for b in flex]),
        flex_sla_usd_per_mwh=np.array([b.sla_credit_usd_per_mwh for b in flex]),
        flex_revenue_usd_per_h=np.array([b.revenue_usd_per_hour for b in flex]),
        import_limit_mw=scenario.interconnect.import_limit_mw,
        ppa_mw=ppa_mw,
        ppa_cost_usd_per_h=ppa_cost,
        month=market.billing_month(index),
        demand_charge_usd_per_mw_month=scenario.power.demand_charge_usd_per_kw_month * 1000.0,
        notes=notes,
        fleet_usd_per_mwh_per_hashprice=coef,
        hashprice_prev_day_usd_per_ph_day=hashprice_prev,
        ppa_price_usd_per_mwh=ppa_price,
        budget_period=years,
        market=market.name,
        ai_it_mw=float(sum(b.site_load_mw / b.pue for b in scenario.ai)),
        fleet_it_mw=np.array([f.site_power_mw / (1 + f.cooling_overhead_fraction) for f in fleets]),
        firm_ai_pass_through_mw=sum(b.site_load_mw for b in firm if not b.owner_pays_power),
        flex_pass_through=np.array([not b.owner_pays_power for b in flex], dtype=bool),
        peak_load_mw=load_series if cp.load_file is not None else None,
    )


def _tuned_threshold(market: Market, load: pd.Series, horizon_years: set[int]) -> float:
    """1% below the lowest coincident-peak load of the other years in ``load``.

    ERCOT: the lowest monthly peak of June-September; PJM: the lowest of each summer's five daily peaks.
    Curtailing above it would have caught every coincident-peak interval of those years.
    """
    local_year = market.calendar_year(pd.DatetimeIndex(load.index))
    others = load[~np.isin(local_year, sorted(horizon_years))]
    peaks = market.peak_intervals(others, min_hours_per_month=0)
    if len(peaks) == 0:
        raise ScenarioError("power.four_cp.threshold_mw: none set, and no other year's summer load to tune it on; set threshold_mw")
    return 0.99 * float(others.loc[peaks].min())
