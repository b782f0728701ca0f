"""Bitcoin network simulation: block arrivals, difficulty retargets, halvings and a hashrate-supply response.

Blocks arrive as a Poisson process at rate ``hashrate / (difficulty x 2**32)``.
The simulation steps one UTC day at a time, vectorised over paths, and is exact
for the Poisson process within a day: the day's block count is Poisson; when it
reaches the end of a 2016-block epoch, the time of that block is the order
statistic ``remaining x Beta(need, n - need + 1)``, the retarget is
:func:`mullet.bitcoin.next_bits` on integer targets (first block time to last
block time, as in Bitcoin Core), and the rest of the day runs at the new
difficulty. Heights carry the subsidy schedule across halvings.

Hashrate supply (daily): installed capacity in efficiency classes; a machine runs
when its mining value per MWh exceeds its power cost, power costs being
lognormal across the network; online hashrate moves toward that target with a
lag (price leads hashrate by ``response_lag_days``) and a time constant.
Installed capacity responds to margins (:func:`fleet_step`): new machines of the
newest class are ordered when a new ASIC pays back within ``payback_window_days``
at the recent hashprice, and arrive ``entry_lag_days`` later; a class whose margin
at the median power cost stays negative (its moving average over
``retire_window_days``) retires at ``retire_per_year``. The defaults of the entry
and retirement parameters are fitted to the bundled hashrate 2016-07..2025-12
(:func:`fit_supply_model`); there is no fixed growth rate.
Exogenous events remove capacity (AI exit), or online hashrate (storms, summer
curtailment). The default fleet mix and power-cost distribution are
**assumptions**, stated in :data:`DEFAULT_CLASSES` and :class:`SupplyModel`: set your own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr

from mullet.bitcoin.consensus import HALVING_INTERVAL_BLOCKS, MAX_TARGET, RETARGET_INTERVAL_BLOCKS, bits_to_target, block_subsidy, next_bits, target_to_bits
from mullet.bitcoin.hashprice import hashprice_usd_per_ph_day, mining_value_usd_per_mwh
from mullet.data import load_asic_catalog, load_network_daily
from mullet.errors import ScenarioError
from mullet.network.history import daily_heights
from mullet.scenarios import (
    FeeModel,
    PriceMeasure,
    PriceModel,
    apply_price_measure,
    fit_fee_model,
    fit_price_model,
    rng_from,
    simulate_fees_btc_per_block,
    simulate_prices_usd,
)

__all__ = [
    "DEFAULT_CLASSES",
    "FRONTIER",
    "HALVING_CLASSES",
    "EfficiencyClass",
    "Event",
    "FleetState",
    "NetworkSimResult",
    "SupplyFit",
    "SupplyModel",
    "bits_for_difficulty",
    "fit_supply_model",
    "fleet_at",
    "fleet_step",
    "parse_event",
    "real_hashprice",
    "replay_fleet",
    "simulate_blocks",
    "simulate_network",
    "subsidy_sat",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_HASHES = float(2**32)


def bits_for_difficulty(difficulty: float) -> int:
    """Compact bits whose difficulty is closest to ``difficulty`` (``0x1d00ffff`` target / difficulty, compacted)."""
    if difficulty < 1:
        raise ScenarioError(f"difficulty: got {difficulty}, allowed: >= 1")
    return target_to_bits(int(MAX_TARGET / difficulty))


def _difficulty(bits: int) -> float:
    return MAX_TARGET / bits_to_target(bits)


@dataclass(frozen=True)
class EfficiencyClass:
    """A generation of machines: efficiency and its share of installed hashrate at the start."""

    name: str
    efficiency_j_per_th: float
    share_fraction: float


def _catalog_efficiency(model: str) -> float:
    return float(load_asic_catalog().loc[model, "efficiency_j_per_th"])


DEFAULT_CLASSES: tuple[EfficiencyClass, ...] = (
    EfficiencyClass("S19-class", _catalog_efficiency("Antminer S19 Pro"), 0.25),
    EfficiencyClass("S19 XP-class", _catalog_efficiency("Antminer S19 XP"), 0.30),
    EfficiencyClass("S21-class", _catalog_efficiency("Antminer S21"), 0.35),
    EfficiencyClass("S21 Pro-class", _catalog_efficiency("Antminer S21 Pro"), 0.10),
)
"""Efficiencies from the bundled catalog; the shares are an assumption (no public census of the fleet is bundled)."""

HALVING_CLASSES: tuple[EfficiencyClass, ...] = (
    EfficiencyClass("S9-class", _catalog_efficiency("Antminer S9"), 0.0),
    EfficiencyClass("S17-class", _catalog_efficiency("Antminer S17"), 0.0),
    *DEFAULT_CLASSES,
)
"""Older generations too, for looking back at past halvings (shares unused)."""


FRONTIER: tuple[tuple[str, EfficiencyClass], ...] = (
    ("2016-07-01", EfficiencyClass("S9-class", 100.0, 0.0)),  # catalog (F2Pool snapshot): Antminer S9 13 TH/s, released 2016-07
    ("2018-08-01", EfficiencyClass("M10-class", 65.0, 0.0)),  # catalog: Whatsminer M10, 2018-08
    ("2019-04-01", EfficiencyClass("S17-class", _catalog_efficiency("Antminer S17 Pro"), 0.0)),  # catalog: 2019-04
    ("2020-02-01", EfficiencyClass("S19-class", _catalog_efficiency("Antminer S19 Pro"), 0.0)),  # catalog: 2020-02
    ("2022-07-01", EfficiencyClass("S19 XP-class", _catalog_efficiency("Antminer S19 XP"), 0.0)),  # date stated: no release date bundled
    ("2024-02-01", EfficiencyClass("S21-class", _catalog_efficiency("Antminer S21"), 0.0)),  # date stated
    ("2024-08-01", EfficiencyClass("S21 Pro-class", _catalog_efficiency("Antminer S21 Pro"), 0.0)),  # date stated
)
"""The most efficient machine class on sale from each date: new capacity in a replay of history enters this class.

Efficiencies are the bundled catalog's; the release dates up to 2020 are the catalog's (F2Pool 2020 snapshot),
those after are **stated** (the third-party rows carry no release date): S19 XP 2022-07, S21 2024-02, S21 Pro 2024-08.
Machines older than the S9 (S7 and before, about 250 J/TH) are not in the catalog, so replays start on 2016-07-01
with the whole fleet in the S9 class: the 2016 fleet is drawn more efficient than it was."""


@dataclass(frozen=True)
class SupplyModel:
    """How hashrate responds to mining economics. Stated assumptions, and entry/retirement parameters fitted to history.

    The entry and retirement defaults (``payback_window_days``, ``entry_per_year``, ``entry_lag_days``,
    ``entry_signal_days``, ``retire_per_year``) are the best grid point of :func:`fit_supply_model` on the bundled
    daily hashrate 2016-07-01..2025-12-29 (6- and 12-month forecasts from 34 anchors, driven by the real price and
    fees in closed loop); the others are stated assumptions. The fit finds ``retire_per_year = 0``: over the whole
    history, switching unprofitable machines off (the online fraction) explains the data better than retiring them;
    fits on 2020-2023 windows pick 1/yr (see the out-of-sample backtest's ``retire_per_year`` column).
    """

    classes: tuple[EfficiencyClass, ...] = DEFAULT_CLASSES
    """Installed fleet at the start; new capacity enters the last (newest) class."""
    power_cost_median_usd_per_mwh: float = 45.0
    power_cost_log_sd: float = 0.5
    must_run_share_fraction: float = 0.15
    """Share of capacity that runs whatever the hashprice (stranded or flared gas, hydro spill, hedged contracts)."""
    response_lag_days: int = 14
    response_time_constant_days: float = 14.0
    pool_fee_fraction: float = 0.02
    cooling_overhead_fraction: float = 0.05
    new_asic_usd_per_th: float | None = None
    """Price of a new machine of the entering class [USD/TH]. None: ``asic_usd_per_w x`` its efficiency (the bundled
    catalog has no prices)."""
    asic_usd_per_w: float = 1.0
    """Stated: new ASICs cost about 1 USD per watt of rated power (e.g. an S21, 200 TH/s at 3.5 kW, for about
    USD 3,500 = 17.5 USD/TH). Real ASIC prices swing with hashprice; this is a through-the-cycle figure."""
    asic_price_elasticity: float = 0.0
    """ASIC prices follow mining value: the price is scaled by ``(value / asic_reference_value_usd_per_mwh) ^
    elasticity``, value being the new machine's gross mining value per MWh at the hashprice signal (0: fixed price)."""
    asic_reference_value_usd_per_mwh: float = 175.0
    """Mining value per MWh of the newest class at which ASICs cost ``asic_usd_per_w``: the median of the
    :data:`FRONTIER` class's value over 2016-07..2025-12 (174 USD/MWh)."""
    payback_window_days: float = 365.0
    """New machines are bought while they pay back (at the median power cost) within this window. Fitted."""
    entry_per_year: float = 3.0
    """Orders per year, as a share of installed capacity, when payback is immediate; scaled by
    ``1 - payback / window`` and 0 beyond the window. Fitted."""
    entry_lag_days: int = 60
    """Days from order to hashing (manufacture, shipping, install). Fitted (grid 60/120)."""
    entry_signal_days: float = 90.0
    """Time constant [days] of the moving average of hashprice that orders respond to. Fitted (grid 90/180/365)."""
    retire_per_year: float = 0.0
    """Share of a class retired per year while its margin's moving average is negative. Fitted (grid 0/0.5/1)."""
    retire_window_days: float = 90.0
    """Time constant [days] of the moving average of a class's margin that retirement looks at (stated)."""

    def online_fraction(self, hashprice_usd_per_ph_day: FloatArray, efficiency_j_per_th: FloatArray | None = None) -> FloatArray:
        """(..., C) share of each class's installed capacity that pays its power at this hashprice."""
        eff = np.array([c.efficiency_j_per_th for c in self.classes]) if efficiency_j_per_th is None else efficiency_j_per_th
        value = mining_value_usd_per_mwh(np.asarray(hashprice_usd_per_ph_day)[..., None], eff)
        value = value * (1 - self.pool_fee_fraction) / (1 + self.cooling_overhead_fraction)
        z = (np.log(np.maximum(value, 1e-9)) - np.log(self.power_cost_median_usd_per_mwh)) / self.power_cost_log_sd
        return np.asarray(self.must_run_share_fraction + (1 - self.must_run_share_fraction) * ndtr(z))

    def margin_usd_per_mwh(self, hashprice_usd_per_ph_day: FloatArray, efficiency_j_per_th: FloatArray) -> FloatArray:
        """(..., C) mining value after pool fee and cooling minus the median power cost [USD/MWh]."""
        value = mining_value_usd_per_mwh(np.asarray(hashprice_usd_per_ph_day)[..., None], efficiency_j_per_th)
        return np.asarray(value * (1 - self.pool_fee_fraction) / (1 + self.cooling_overhead_fraction) - self.power_cost_median_usd_per_mwh)

    def asic_usd_per_th(self, efficiency_j_per_th: float | FloatArray) -> float | FloatArray:
        """Price of a new machine [USD/TH]: ``new_asic_usd_per_th`` or ``asic_usd_per_w x efficiency``."""
        return self.new_asic_usd_per_th if self.new_asic_usd_per_th is not None else self.asic_usd_per_w * efficiency_j_per_th

    def payback_days(self, hashprice_usd_per_ph_day: FloatArray, efficiency_j_per_th: float | FloatArray) -> FloatArray:
        """Days for a new machine to earn its price back at this hashprice and the median power cost (inf if never)."""
        margin_per_th_day = np.asarray(hashprice_usd_per_ph_day) / 1e3 * (1 - self.pool_fee_fraction) - (
            self.power_cost_median_usd_per_mwh * (1 + self.cooling_overhead_fraction) * efficiency_j_per_th * 24e-6
        )
        price = self.asic_usd_per_th(efficiency_j_per_th)
        if self.asic_price_elasticity:
            value = np.maximum(mining_value_usd_per_mwh(np.asarray(hashprice_usd_per_ph_day), efficiency_j_per_th), 1e-9)
            price = price * (value / self.asic_reference_value_usd_per_mwh) ** self.asic_price_elasticity
        with np.errstate(divide="ignore"):
            return np.where(margin_per_th_day > 0, price / np.maximum(margin_per_th_day, 1e-300), np.inf)

    def order_rate_per_day(
        self,
        hashprice_usd_per_ph_day: FloatArray,
        efficiency_j_per_th: float | FloatArray,
        entry_per_year: FloatArray | float | None = None,
        payback_window_days: FloatArray | float | None = None,
    ) -> FloatArray:
        """Orders per day as a share of installed capacity: ``entry_per_year / 365 x max(0, 1 - payback / window)``.

        ``entry_per_year`` and ``payback_window_days`` override the model's (scalars or arrays that broadcast).
        """
        entry = self.entry_per_year if entry_per_year is None else entry_per_year
        window = self.payback_window_days if payback_window_days is None else payback_window_days
        pb = self.payback_days(hashprice_usd_per_ph_day, efficiency_j_per_th)
        return np.asarray(np.asarray(entry) / 365.0 * np.clip(1 - pb / np.asarray(window), 0.0, 1.0))


@dataclass
class FleetState:
    """Installed capacity per class and the order book, for a batch of paths (or of parameter sets).

    ``capacity_ths`` (P, C) is installed [TH/s]; ``orders_ths`` (P, L) holds orders arriving in the coming
    ``entry_lag_days`` days (slot ``d % L`` arrives on day ``d``); ``hashprice_signal`` (P,) is the moving average
    of hashprice orders respond to; ``margin_avg_usd_per_mwh`` (P, C) the moving average of each class's margin.
    """

    capacity_ths: FloatArray
    orders_ths: FloatArray
    hashprice_signal: FloatArray
    margin_avg_usd_per_mwh: FloatArray

    @classmethod
    def start(
        cls,
        supply: SupplyModel,
        capacity_ths: FloatArray,
        efficiency_j_per_th: FloatArray,
        entry_class: int,
        hashprice_signal: FloatArray,
        margin_hashprice: FloatArray,
        entry_per_year: FloatArray | float | None = None,
        payback_window_days: FloatArray | float | None = None,
    ) -> FleetState:
        """A state at steady orders: the order book holds ``entry_lag_days`` days of orders at today's signal.

        ``capacity_ths`` (P, C); ``hashprice_signal`` and ``margin_hashprice`` (P,) are the recent mean hashprices
        (over ``entry_signal_days`` and ``retire_window_days``) that start the two moving averages.
        """
        cap = np.array(capacity_ths, dtype=float)
        rate = supply.order_rate_per_day(hashprice_signal, float(efficiency_j_per_th[entry_class]), entry_per_year, payback_window_days)
        lag = max(supply.entry_lag_days, 1)
        orders = np.repeat((rate * cap.sum(axis=1))[:, None], lag, axis=1) if supply.entry_lag_days > 0 else np.zeros((cap.shape[0], 1))
        margins = supply.margin_usd_per_mwh(margin_hashprice, efficiency_j_per_th)
        return cls(cap, orders, np.array(hashprice_signal, dtype=float), np.array(margins, dtype=float))


def fleet_step(
    state: FleetState,
    supply: SupplyModel,
    hashprice_usd_per_ph_day: FloatArray,
    efficiency_j_per_th: FloatArray,
    entry_class: int | IntArray,
    day: int,
    entry_per_year: FloatArray | float | None = None,
    payback_window_days: FloatArray | float | None = None,
    retire_per_year: FloatArray | float | None = None,
    entry_signal_days: FloatArray | float | None = None,
) -> None:
    """Advance installed capacity by one day in place: retire, receive orders, place orders.

    1. The margin's moving average of each class (time constant ``retire_window_days``) moves toward today's margin;
       where it is negative the class loses ``retire_per_year / 365`` of its capacity.
    2. Orders placed ``entry_lag_days`` ago arrive in class ``entry_class``.
    3. The hashprice signal (time constant ``entry_signal_days``) sets today's orders:
       ``installed x entry_per_year / 365 x max(0, 1 - payback / payback_window_days)``.

    ``entry_per_year``, ``payback_window_days``, ``retire_per_year`` and ``entry_signal_days`` override the
    model's, as scalars or (P,) arrays (one parameter set per path, as :func:`fit_supply_model` uses);
    ``entry_class`` may differ per path too.
    """
    retire = supply.retire_per_year if retire_per_year is None else retire_per_year
    signal_days = supply.entry_signal_days if entry_signal_days is None else entry_signal_days
    rows: slice | IntArray = slice(None) if np.ndim(entry_class) == 0 else np.arange(state.capacity_ths.shape[0])
    hp = np.asarray(hashprice_usd_per_ph_day)
    state.margin_avg_usd_per_mwh += (supply.margin_usd_per_mwh(hp, efficiency_j_per_th) - state.margin_avg_usd_per_mwh) / supply.retire_window_days
    keep = 1.0 - np.asarray(retire, dtype=float).reshape(-1, 1) / 365.0
    state.capacity_ths *= np.where(state.margin_avg_usd_per_mwh < 0, keep, 1.0)
    slot = day % state.orders_ths.shape[1]
    if supply.entry_lag_days > 0:
        state.capacity_ths[rows, entry_class] += state.orders_ths[:, slot]
    state.hashprice_signal += (hp - state.hashprice_signal) / np.asarray(signal_days)
    rate = supply.order_rate_per_day(state.hashprice_signal, efficiency_j_per_th[entry_class], entry_per_year, payback_window_days)
    orders = rate * state.capacity_ths.sum(axis=1)
    if supply.entry_lag_days > 0:
        state.orders_ths[:, slot] = orders
    else:
        state.capacity_ths[rows, entry_class] += orders


def real_hashprice(network: pd.DataFrame) -> pd.Series:
    """Daily network hashprice [USD/PH/day] from history (fees 0 where unknown: a lower bound there)."""
    fees = network["fees_btc"].fillna(0.0) / network["block_count"]
    hp = hashprice_usd_per_ph_day(network["price_usd"], network["difficulty_mean"], network["issuance_btc"] / network["block_count"], fees)
    return pd.Series(np.asarray(hp, dtype=float), index=network.index)


@dataclass
class Replay:
    """A replay of the fleet through real history: (P, T) online and installed hashrate, the final state."""

    days: pd.DatetimeIndex
    online_ths: FloatArray
    installed_ths: FloatArray
    classes: tuple[EfficiencyClass, ...]
    state: FleetState
    snapshots: dict[int, FleetState] = field(default_factory=dict)
    """Copies of the state after the given day indices (``snapshots`` argument of :func:`replay_fleet`)."""
    hashprice: FloatArray = field(default_factory=lambda: np.zeros(0))
    """(T,) real hashprice that drove the replay [USD/PH/day]."""
    online_fraction: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    """(T, C) online fraction of each class at the lagged hashprice."""
    entry_class: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """(T,) index of the class new capacity enters each day."""
    real_hashrate_ths: FloatArray = field(default_factory=lambda: np.zeros(0))
    """(T,) real hashrate, trailing 7-day mean [TH/s]."""


_MEAN_DAYS = 7


def replay_fleet(
    network: pd.DataFrame,
    start: str = "2016-07-01",
    end: str | pd.Timestamp | None = None,
    supply: SupplyModel | None = None,
    entry_per_year: FloatArray | float | None = None,
    payback_window_days: FloatArray | float | None = None,
    retire_per_year: FloatArray | float | None = None,
    entry_signal_days: FloatArray | float | None = None,
    snapshots: tuple[int, ...] = (),
    closed_loop: bool = True,
) -> Replay:
    """Drive the fleet model with the real daily hashprice from ``start`` to ``end`` (inclusive UTC days).

    New capacity enters the :data:`FRONTIER` class on sale that day; the fleet starts in the frontier class of
    ``start`` with installed capacity = real hashrate (7-day mean) / online fraction. Online hashrate is installed
    capacity times :meth:`SupplyModel.online_fraction` at the hashprice ``response_lag_days`` earlier (no
    first-order lag: the fit compares weekly means). Parameters may be (P,) arrays. Uses only rows up to ``end``.

    ``closed_loop`` (default): the fleet sees the hashprice its own network would have paid, the real hashprice
    times real / model hashrate (hashprice is inversely proportional to difficulty, which follows hashrate; the
    model's hashrate of the day before stands in for the retarget lag). Without it, the real hashprice drives the
    fleet open loop, and a fit would mistake the market's own damping (entry lowers hashprice) for a weak response.
    """
    supply = supply or SupplyModel()
    lo = pd.Timestamp(start, tz="UTC")
    hi = network.index[-1] if end is None else pd.Timestamp(end).tz_convert("UTC") if pd.Timestamp(end).tzinfo else pd.Timestamp(end, tz="UTC")
    net = network.loc[:hi]
    hp_all = real_hashprice(net)
    hp = hp_all.loc[lo:]
    if len(hp) < 30:
        raise ScenarioError(f"start/end: {lo.date()}..{hi.date()} holds {len(hp)} days; allowed: at least 30 days of history")
    released = [(pd.Timestamp(d, tz="UTC"), c) for d, c in FRONTIER if pd.Timestamp(d, tz="UTC") <= hi]
    if not released or released[0][0] > lo:
        raise ScenarioError(f"start: got {lo.date()}, allowed: on or after {FRONTIER[0][0]} (the first machine class in the catalog)")
    classes = tuple(c for _, c in released)
    eff = np.array([c.efficiency_j_per_th for c in classes])
    entry_idx = np.searchsorted(np.array([d.value for d, _ in released]), hp.index.asi8, side="right") - 1
    params = (entry_per_year, payback_window_days, retire_per_year, entry_signal_days)
    p = int(np.broadcast(*(np.asarray(0.0 if v is None else v) for v in params)).size)
    cls0 = int(entry_idx[0])
    hp0 = float(hp.iloc[0])
    h0 = float(net["hashrate_ths"].loc[:lo].iloc[-7:].mean())
    installed0 = h0 / float(supply.online_fraction(np.array(hp0), eff)[cls0])
    cap = np.zeros((p, len(classes)))
    cap[:, cls0] = installed0
    sig0 = float(hp_all.loc[:lo].iloc[-int(supply.entry_signal_days) :].mean())
    mar0 = float(hp_all.loc[:lo].iloc[-int(supply.retire_window_days) :].mean())
    state = FleetState.start(supply, cap, eff, cls0, np.full(p, sig0), np.full(p, mar0), entry_per_year, payback_window_days)
    n = len(hp)
    online = np.zeros((p, n))
    installed = np.zeros((p, n))
    hp_values = hp.to_numpy()
    real_h = net["hashrate_ths"].rolling(_MEAN_DAYS, min_periods=1).mean().loc[lo:].to_numpy()
    lagged_hp = hp_all.shift(supply.response_lag_days).loc[lo:].bfill().to_numpy()
    frac = supply.online_fraction(lagged_hp, eff)  # (T, C)
    saved: dict[int, FleetState] = {}
    want = set(snapshots)
    model_h = np.full(p, real_h[0])
    for d in range(n):
        hp_d = hp_values[d] * real_h[d] / model_h if closed_loop else np.full(p, hp_values[d])
        fleet_step(state, supply, hp_d, eff, int(entry_idx[d]), d, *params)
        online[:, d] = state.capacity_ths @ frac[d]
        model_h = online[:, d]
        installed[:, d] = state.capacity_ths.sum(axis=1)
        if d in want:
            saved[d] = FleetState(state.capacity_ths.copy(), state.orders_ths.copy(), state.hashprice_signal.copy(), state.margin_avg_usd_per_mwh.copy())
    return Replay(hp.index, online, installed, classes, state, saved, hp_values, frac, entry_idx.astype(np.int64), real_h)


@dataclass(frozen=True)
class SupplyFit:
    """The result of :func:`fit_supply_model`: the best grid point, its errors, and the in-sample growth check."""

    supply: SupplyModel
    forecast_rmse_log: float
    """The fit criterion: root mean square over anchors and horizons of log(forecast / real) of hashrate."""
    anchors: int
    """Anchor days (every 91 days) from which 6- and 12-month forecasts were scored."""
    rmse_log: float
    """Open-loop check: root mean square of log(model / real) of monthly mean hashrate over the whole window."""
    real_growth_per_year: float
    """Real hashrate growth over the window, log per year (first to last 30-day mean)."""
    model_growth_per_year: float
    """Growth of the open-loop replay (started once, at the start of the window), log per year."""
    fitted_on: str
    grid_points: int


FIT_GRID: dict[str, tuple[float, ...]] = {
    "entry_per_year": (1.0, 2.0, 3.0, 4.0, 6.0),
    "payback_window_days": (180.0, 365.0, 730.0),
    "retire_per_year": (0.0, 0.5, 1.0),
    "entry_signal_days": (90.0, 180.0, 365.0),
    "entry_lag_days": (60.0, 120.0),
}
"""The grid :func:`fit_supply_model` searches (every combination)."""

_HORIZONS_DAYS = (182, 365)


def fit_supply_model(
    network: pd.DataFrame | None = None, start: str = "2016-07-01", end: str | pd.Timestamp | None = None, supply: SupplyModel | None = None
) -> SupplyFit:
    """Fit the entry and retirement parameters to the real hashrate between ``start`` and ``end`` by grid search.

    The criterion is forecasting skill, as the model is used: every 91 days (an anchor, from 91 days after
    ``start`` to a year before ``end``) the replay's fleet is rescaled to the real hashrate of that day (7-day
    mean) and driven on by the real hashprice; the score is the root mean square, over anchors and the 6- and
    12-month horizons, of log(forecast / real) hashrate (7-day means). Each grid point's fleet mix at an anchor
    comes from one replay of history (:func:`replay_fleet`). Uses no data after ``end``: the out-of-sample
    backtest refits with ``end`` = its start date, so its anchors end a year before that. Stated parameters
    (power cost, ASIC price, retirement window) are taken from ``supply``. The open-loop replay of the best grid
    point is reported too (``rmse_log``, ``model_growth_per_year``).
    """
    net = load_network_daily() if network is None else network
    base = supply or SupplyModel()
    keys = ("entry_per_year", "payback_window_days", "retire_per_year", "entry_signal_days")
    grid = np.array(np.meshgrid(*(FIT_GRID[k] for k in keys), indexing="ij")).reshape(len(keys), -1)
    g = grid.shape[1]
    real_all = net["hashrate_ths"]
    best: tuple[float, SupplyModel, int] | None = None
    n_anchors = 0
    for lag in FIT_GRID["entry_lag_days"]:
        sup = dc_replace(base, entry_lag_days=int(lag))
        lo = pd.Timestamp(start, tz="UTC")
        hi_day = net.index[-1] if end is None else pd.Timestamp(end, tz="UTC") if pd.Timestamp(end).tzinfo is None else pd.Timestamp(end)
        n_days = (hi_day - lo).days + 1
        anchors = tuple(range(91, n_days - max(_HORIZONS_DAYS), 91))
        if not anchors:
            raise ScenarioError(f"start/end: {lo.date()}..{hi_day.date()} is too short to fit; allowed: at least 16 months")
        n_anchors = len(anchors)
        rep = replay_fleet(net, start, end, sup, grid[0], grid[1], grid[2], grid[3], snapshots=anchors)
        real = real_all.reindex(rep.days).to_numpy()
        real_mean = pd.Series(real).rolling(_MEAN_DAYS).mean().to_numpy()
        model_mean = pd.DataFrame(rep.online_ths.T).rolling(_MEAN_DAYS).mean().to_numpy().T  # (G, T)
        k_a = len(anchors)
        scale = np.concatenate([real_mean[a] / model_mean[:, a] for a in anchors])  # (G*K,)
        snaps = [rep.snapshots[a] for a in anchors]
        state = FleetState(
            np.concatenate([s.capacity_ths for s in snaps]) * scale[:, None],
            np.concatenate([np.roll(s.orders_ths, -a, axis=1) for s, a in zip(snaps, anchors, strict=True)]) * scale[:, None],  # slot of day a+d -> d
            np.concatenate([s.hashprice_signal for s in snaps]),
            np.concatenate([s.margin_avg_usd_per_mwh for s in snaps]),
        )
        params = [np.tile(row, k_a) for row in grid]
        start_idx = np.repeat(np.array(anchors), g)
        eff = np.array([c.efficiency_j_per_th for c in rep.classes])
        horizon_online: dict[int, FloatArray] = {h: np.zeros(g * k_a) for h in _HORIZONS_DAYS}
        online = rep.real_hashrate_ths[start_idx]
        for d in range(1, max(_HORIZONS_DAYS) + 1):
            day = start_idx + d
            hp_d = rep.hashprice[day] * rep.real_hashrate_ths[day] / online  # closed loop, as in replay_fleet
            fleet_step(state, sup, hp_d, eff, rep.entry_class[day], d, *params)
            online = (state.capacity_ths * rep.online_fraction[day]).sum(axis=1)
            for h in _HORIZONS_DAYS:
                if h - _MEAN_DAYS < d <= h:
                    horizon_online[h] += online / _MEAN_DAYS
        errs = [np.log(horizon_online[h] / real_mean[start_idx + h]).reshape(k_a, g) for h in _HORIZONS_DAYS]
        score = np.sqrt(np.mean(np.concatenate(errs) ** 2, axis=0))  # (G,)
        k = int(np.argmin(score))
        if best is None or score[k] < best[0]:
            fitted = dc_replace(
                sup,
                entry_per_year=float(grid[0, k]),
                payback_window_days=float(grid[1, k]),
                retire_per_year=float(grid[2, k]),
                entry_signal_days=float(grid[3, k]),
            )
            best = (float(score[k]), fitted, k)
    assert best is not None
    score_k, fitted, _ = best
    rep = replay_fleet(net, start, end, fitted)
    days = rep.days
    online = rep.online_ths[0]
    real = real_all.reindex(days).to_numpy()
    monthly = pd.DataFrame({"m": online, "r": real}, index=days).resample("MS").mean()
    years = (days[-1] - days[0]).days / 365.0
    return SupplyFit(
        supply=fitted,
        forecast_rmse_log=score_k,
        anchors=n_anchors,
        rmse_log=float(np.sqrt((np.log(monthly["m"] / monthly["r"]) ** 2).mean())),
        real_growth_per_year=float(np.log(real[-30:].mean() / real[:30].mean()) / years),
        model_growth_per_year=float(np.log(online[-30:].mean() / online[:30].mean()) / years),
        fitted_on=f"{days[0].date()}..{days[-1].date()}",
        grid_points=g * len(FIT_GRID["entry_lag_days"]),
    )


def fleet_at(
    date: str | pd.Timestamp, network: pd.DataFrame | None = None, supply: SupplyModel | None = None, start: str = "2016-07-01"
) -> tuple[EfficiencyClass, ...]:
    """The fleet mix on ``date``: shares of installed capacity per class from a replay of history up to that day.

    Uses only rows of ``network`` up to ``date``; the classes are the :data:`FRONTIER` classes on sale by then.
    """
    net = load_network_daily() if network is None else network
    rep = replay_fleet(net, start, date, supply)
    cap = rep.state.capacity_ths[0]
    shares = cap / cap.sum()
    return tuple(EfficiencyClass(c.name, c.efficiency_j_per_th, float(s)) for c, s in zip(rep.classes, shares, strict=True))


@dataclass(frozen=True)
class Event:
    """An exogenous change: ``ai-exit`` removes capacity over a window; ``storm`` and ``summer`` curtail online hashrate."""

    kind: Literal["ai-exit", "storm", "summer"]
    share_fraction: float
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


def parse_event(text: str) -> Event:
    """Parse ``ai-exit:SHARE:START..END``, ``storm:SHARE:DATE:DAYS`` or ``summer:SHARE`` (share as 0.2 or 20%)."""
    parts = text.split(":")
    allowed = "ai-exit:SHARE:START..END, storm:SHARE:DATE:DAYS or summer:SHARE"

    def share(s: str) -> float:
        v = float(s.rstrip("%")) / (100 if s.endswith("%") else 1)
        if not 0 <= v <= 1:
            raise ScenarioError(f"event: share {s!r} in {text!r}; allowed: 0..1 or 0%..100%")
        return v

    try:
        if parts[0] == "ai-exit" and len(parts) == 3 and re.fullmatch(r"[\d-]+\.\.[\d-]+", parts[2]):
            a, b = parts[2].split("..")
            start, end = pd.Timestamp(a, tz="UTC"), pd.Timestamp(b, tz="UTC")
            if end < start:
                raise ScenarioError(f"event: {text!r} ends before it starts")
            return Event("ai-exit", share(parts[1]), start, end)
        if parts[0] == "storm" and len(parts) == 4:
            start = pd.Timestamp(parts[2], tz="UTC")
            days = int(parts[3])
            if days <= 0:
                raise ScenarioError(f"event: {text!r} has {days} days; allowed: >= 1")
            return Event("storm", share(parts[1]), start, start + pd.Timedelta(days=days - 1))
        if parts[0] == "summer" and len(parts) == 2:
            return Event("summer", share(parts[1]))
    except ValueError as exc:
        raise ScenarioError(f"event: got {text!r}, allowed: {allowed}") from exc
    raise ScenarioError(f"event: got {text!r}, allowed: {allowed}")


@dataclass
class BlockSim:
    """Daily outcome of :func:`simulate_blocks` over (paths, days)."""

    blocks: IntArray
    difficulty: FloatArray
    """Difficulty at the start of each day."""
    subsidy_btc: FloatArray
    """Total subsidy of each day's blocks [BTC]."""
    height_end: IntArray
    retargets: list[list[tuple[int, float, float]]] = field(default_factory=list)
    """Per path: (day, old difficulty, new difficulty) of each retarget."""


def simulate_blocks(
    hashrate_ths: FloatArray | None,
    start_bits: int,
    start_height: int,
    epoch_start_height: int,
    epoch_first_time_s: float,
    days: int,
    paths: int,
    seed: int | np.random.Generator | None = None,
    hashrate_fn: object = None,
    expected: bool = False,
    start_offset_s: float = 0.0,
) -> BlockSim:
    """Poisson block arrivals with exact retargets, one UTC day at a time.

    ``hashrate_ths`` (paths, days) drives the arrivals, or ``hashrate_fn(day,
    difficulty, next_height) -> (paths,)`` when hashrate responds to the simulation (the supply
    model; ``next_height`` is each path's next block height). Time is seconds since the start of day 0. ``epoch_first_time_s`` is the
    time (may be negative) of the first block of the current epoch, whose first
    height is ``epoch_start_height``. ``expected=True`` replaces the random counts
    by their expectation (a deterministic backtest of the retarget rule).
    ``start_offset_s`` starts the simulation that many seconds into day 0.
    """
    rng = rng_from(seed)
    bits = [start_bits] * paths
    diff = np.full(paths, _difficulty(start_bits))
    height = np.full(paths, start_height, dtype=np.int64)  # next height to be found
    epoch_start = np.full(paths, epoch_start_height, dtype=np.int64)
    first_time = np.full(paths, float(epoch_first_time_s))
    out_blocks = np.zeros((paths, days), dtype=np.int64)
    out_diff = np.zeros((paths, days))
    out_sub = np.zeros((paths, days))
    retargets: list[list[tuple[int, float, float]]] = [[] for _ in range(paths)]
    for d in range(days):
        out_diff[:, d] = diff
        h_ths = hashrate_ths[:, d] if hashrate_ths is not None else np.asarray(hashrate_fn(d, diff.copy(), height.copy()))  # type: ignore[operator]
        t = np.full(paths, start_offset_s if d == 0 else 0.0)  # seconds into the day
        active = np.ones(paths, dtype=bool)
        day_start_height = height.copy()
        while active.any():
            idx = np.flatnonzero(active)
            rate = h_ths[idx] * 1e12 / (diff[idx] * _HASHES)  # blocks per second
            remaining = 86_400.0 - t[idx]
            mean = rate * remaining
            n = np.rint(mean).astype(np.int64) if expected else rng.poisson(mean)
            need = epoch_start[idx] + RETARGET_INTERVAL_BLOCKS - height[idx]
            cross = n >= need
            done = idx[~cross]
            height[done] += n[~cross]
            active[done] = False
            ks = np.flatnonzero(cross)
            if len(ks):
                nk, needk = n[ks], need[ks]
                fracs = needk / np.maximum(nk, 1) if expected else rng.beta(needk, nk - needk + 1)
                t_cross = t[idx[ks]] + remaining[ks] * fracs
                for k, i, tc in zip(ks, idx[ks], t_cross, strict=True):
                    last_time = d * 86_400.0 + tc
                    new_bits = next_bits(bits[i], round(first_time[i]), round(last_time))
                    new_diff = _difficulty(new_bits)
                    retargets[i].append((d, float(diff[i]), new_diff))
                    bits[i] = new_bits
                    diff[i] = new_diff
                    height[i] += need[k]
                    epoch_start[i] = height[i]
                    t[i] = tc
                gaps = diff[idx[ks]] * _HASHES / (h_ths[idx[ks]] * 1e12)
                first_time[idx[ks]] = d * 86_400.0 + t_cross + (gaps if expected else rng.exponential(gaps))
        out_blocks[:, d] = height - day_start_height
        out_sub[:, d] = _subsidy_between(day_start_height, height)
    return BlockSim(out_blocks, out_diff, out_sub, height, retargets)


def subsidy_sat(height: IntArray) -> IntArray:
    """Vectorised :func:`mullet.bitcoin.block_subsidy` [satoshi] (integer shifts, zero after 64 halvings)."""
    halvings = np.asarray(height, dtype=np.int64) // HALVING_INTERVAL_BLOCKS
    return np.where(halvings < 64, np.right_shift(np.int64(5_000_000_000), np.minimum(halvings, 63)), 0).astype(np.int64)


def _subsidy_between(first: IntArray, end: IntArray) -> FloatArray:
    """Total subsidy [BTC] of heights first..end-1 (vectorised; at most one halving inside a day)."""
    boundary = (first // HALVING_INTERVAL_BLOCKS + 1) * HALVING_INTERVAL_BLOCKS
    before = np.minimum(end, boundary) - first
    after = np.maximum(end - boundary, 0)
    return np.asarray((before * subsidy_sat(first) + after * subsidy_sat(boundary)) / 1e8)


@dataclass
class NetworkSimResult:
    """Daily paths of a network simulation, shape (paths, days), and their summaries."""

    days: pd.DatetimeIndex
    hashrate_ths: FloatArray
    difficulty: FloatArray
    blocks: IntArray
    price_usd: FloatArray
    fees_btc_per_block: FloatArray
    hashprice_usd_per_ph_day: FloatArray
    switched_off_fraction: FloatArray
    margin_usd_per_mwh: dict[str, FloatArray]
    """Per efficiency class: mining value (after pool fee and cooling) minus the median power cost."""
    price_model: PriceModel
    fee_model: FeeModel
    supply: SupplyModel
    events: list[Event]
    retarget_count: IntArray

    @property
    def block_time_deviation_s(self) -> FloatArray:
        """Mean block interval of each day minus 600 s (NaN on a day without blocks)."""
        with np.errstate(divide="ignore"):
            return np.where(self.blocks > 0, 86_400.0 / np.maximum(self.blocks, 1) - 600.0, np.nan)

    def fan(self, name: str, freq: str = "MS", quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)) -> pd.DataFrame:
        """Quantiles across paths of a daily series (averaged per ``freq`` period first), indexed by period start."""
        arrays = {
            "hashrate_ths": self.hashrate_ths,
            "difficulty": self.difficulty,
            "hashprice_usd_per_ph_day": self.hashprice_usd_per_ph_day,
            "price_usd": self.price_usd,
            "switched_off_fraction": self.switched_off_fraction,
            "block_time_deviation_s": self.block_time_deviation_s,
            **{f"margin_usd_per_mwh__{k}": v for k, v in self.margin_usd_per_mwh.items()},
        }
        if name not in arrays:
            raise ScenarioError(f"series: got {name!r}, allowed: {sorted(arrays)}")
        frame = pd.DataFrame(arrays[name].T, index=self.days).resample(freq).mean()
        return pd.DataFrame({f"p{int(q * 100)}": frame.quantile(q, axis=1) for q in quantiles})

    def hashprice_paths(self) -> pd.DataFrame:
        """Daily hashprice [USD/PH/day], one column per path: a hashprice source for planning."""
        return pd.DataFrame(self.hashprice_usd_per_ph_day.T, index=self.days.rename("interval_start_utc"))

    def summary(self) -> pd.DataFrame:
        """Per year: P10/P50/P90 of mean hashrate, difficulty, hashprice, switched-off share and class margins."""
        rows = []
        years = self.days.year
        series = {
            "hashrate_ehs": self.hashrate_ths / 1e6,
            "difficulty_t": self.difficulty / 1e12,
            "hashprice_usd_per_ph_day": self.hashprice_usd_per_ph_day,
            "switched_off_fraction": self.switched_off_fraction,
            **{f"margin_usd_per_mwh__{k}": v for k, v in self.margin_usd_per_mwh.items()},
        }
        for y in np.unique(years):
            sel = years == y
            row: dict[str, float | int] = {"year": int(y)}
            for name, arr in series.items():
                per_path = arr[:, sel].mean(axis=1)
                for q in (10, 50, 90):
                    row[f"{name}_p{q}"] = float(np.percentile(per_path, q))
            rows.append(row)
        return pd.DataFrame(rows).set_index("year")


def _event_multipliers(events: list[Event], days: pd.DatetimeIndex) -> tuple[FloatArray, FloatArray]:
    capacity = np.ones(len(days))
    online = np.ones(len(days))
    for e in events:
        if e.kind == "ai-exit":
            assert e.start is not None and e.end is not None
            span = max((e.end - e.start).days, 1)
            progress = np.clip((days - e.start).days / span, 0.0, 1.0)
            capacity *= 1 - e.share_fraction * progress
        elif e.kind == "storm":
            assert e.start is not None and e.end is not None
            online *= np.where((days >= e.start) & (days <= e.end), 1 - e.share_fraction, 1.0)
        else:
            online *= np.where(days.month.isin([7, 8]), 1 - e.share_fraction, 1.0)
    return capacity, online


def simulate_network(
    paths: int = 100,
    years: float = 4.0,
    events: list[Event] | None = None,
    seed: int | np.random.Generator | None = 0,
    supply: SupplyModel | None = None,
    price_model: PriceModel | None = None,
    fee_model: FeeModel | None = None,
    network: pd.DataFrame | None = None,
    price_measure: PriceMeasure | None = None,
    prices_usd: FloatArray | None = None,
    start_height: int | None = None,
) -> NetworkSimResult:
    """Simulate the network forward from the last day of the history (default: bundled, 2025-12-29).

    Starts from that day's price, difficulty, hashrate and block height; prices
    follow ``price_model`` (default: fitted to 2018 onward, its drift set by
    ``price_measure``, default neutral: see :class:`mullet.scenarios.PriceMeasure`),
    fees ``fee_model`` (fitted to the last year, with spikes), hashrate the
    ``supply`` model (margin-driven entry and retirement) with ``events``.
    ``prices_usd`` (paths, days) or (days,) replaces the simulated prices by a
    given path (e.g. the realised one in a backtest). ``start_height`` is the next
    block's height (default: from the history's daily block counts). Only rows of
    ``network`` are used: pass a history cut at a date to start there.
    """
    if paths < 1 or not 0 < years <= 30:
        raise ScenarioError(f"paths/years: got {paths}/{years}, allowed: paths >= 1, 0 < years <= 30")
    net = load_network_daily() if network is None else network
    supply = supply or SupplyModel()
    if abs(sum(c.share_fraction for c in supply.classes) - 1) > 1e-6:
        raise ScenarioError("supply.classes: shares must add up to 1")
    if price_model is None:
        price_model = apply_price_measure(fit_price_model(prices=net["price_usd"]), price_measure)
    elif price_measure is not None:
        price_model = apply_price_measure(price_model, price_measure)
    fee_model = fee_model or fit_fee_model(network=net)
    events = events or []
    rng = rng_from(seed)
    last = net.index[-1]
    n_days = round(years * 365)
    days = pd.date_range(last + pd.Timedelta(days=1), periods=n_days, freq="D")
    start_diff = float(net["difficulty_mean"].iloc[-1])
    h0 = float(net["hashrate_ths"].iloc[-7:].mean())
    if start_height is None:
        start_height = int(daily_heights(net)["last_height"].iloc[-1]) + 1
    epoch_start = (start_height // RETARGET_INTERVAL_BLOCKS) * RETARGET_INTERVAL_BLOCKS
    into_epoch = start_height - epoch_start
    first_time = -into_epoch * start_diff * _HASHES / (h0 * 1e12)  # blocks so far at the mean interval D x 2**32 / H

    if prices_usd is not None:
        given = np.asarray(prices_usd, dtype=float)
        prices = np.broadcast_to(given if given.ndim == 2 else given[None, :], (paths, given.shape[-1]))
        if prices.shape[1] < n_days or not (prices[:, :n_days] > 0).all():
            raise ScenarioError(f"prices_usd: got {prices.shape[1]} days, allowed: >= {n_days} days of positive prices")
        prices = np.ascontiguousarray(prices[:, :n_days])
    else:
        prices = simulate_prices_usd(price_model, float(net["price_usd"].iloc[-1]), n_days, paths, rng)
    fees = simulate_fees_btc_per_block(fee_model, n_days, paths, rng)
    cap_mult, online_mult = _event_multipliers(events, days)
    cap_step = cap_mult / np.concatenate([[1.0], cap_mult[:-1]])
    eff = np.array([c.efficiency_j_per_th for c in supply.classes])
    shares = np.array([c.share_fraction for c in supply.classes])
    sub0 = block_subsidy(start_height) / 1e8
    hp0 = float(hashprice_usd_per_ph_day(float(net["price_usd"].iloc[-1]), start_diff, sub0, fee_model.median_btc_per_block))
    online0 = float((shares * supply.online_fraction(np.array(hp0))).sum())
    if online0 <= 0.01:
        raise ScenarioError("supply: under 1% of the fleet pays its power at today's hashprice; lower power_cost_median_usd_per_mwh")
    installed0 = h0 / online0  # TH/s installed so that today's hashrate is what today's economics support
    real_hp = real_hashprice(net)
    signal0 = float(real_hp.iloc[-int(supply.entry_signal_days) :].mean())
    margin0 = float(real_hp.iloc[-int(supply.retire_window_days) :].mean())
    fleet = FleetState.start(supply, np.tile(installed0 * shares, (paths, 1)), eff, len(eff) - 1, np.full(paths, signal0), np.full(paths, margin0))
    hashrate = np.zeros((paths, n_days))
    hashprice = np.zeros((paths, n_days))
    switched = np.zeros((paths, n_days))
    state = {"h": np.full(paths, h0)}
    history = np.full((paths, supply.response_lag_days + 1), hp0)

    def hashrate_fn(d: int, diff: FloatArray, next_height: IntArray) -> FloatArray:
        subsidy = subsidy_sat(next_height) / 1e8
        hp = hashprice_usd_per_ph_day(prices[:, d], diff, subsidy, fees[:, d])
        hashprice[:, d] = hp
        lagged = history[:, d % history.shape[1]].copy()
        history[:, d % history.shape[1]] = hp
        if cap_step[d] != 1.0:
            fleet.capacity_ths *= cap_step[d]
            fleet.orders_ths *= cap_step[d]
        fleet_step(fleet, supply, hp, eff, len(eff) - 1, d)
        capacity = fleet.capacity_ths
        target = (capacity * supply.online_fraction(lagged, eff)).sum(axis=1)
        state["h"] = state["h"] + (target - state["h"]) / supply.response_time_constant_days
        h = state["h"] * online_mult[d]
        hashrate[:, d] = h
        switched[:, d] = 1 - h / capacity.sum(axis=1)
        return h

    sim = simulate_blocks(None, bits_for_difficulty(start_diff), start_height, epoch_start, first_time, n_days, paths, rng, hashrate_fn=hashrate_fn)
    value = mining_value_usd_per_mwh(hashprice[..., None], eff) * (1 - supply.pool_fee_fraction) / (1 + supply.cooling_overhead_fraction)
    margins = {c.name: value[..., j] - supply.power_cost_median_usd_per_mwh for j, c in enumerate(supply.classes)}
    return NetworkSimResult(
        days=days,
        hashrate_ths=hashrate,
        difficulty=sim.difficulty,
        blocks=sim.blocks,
        price_usd=prices,
        fees_btc_per_block=fees,
        hashprice_usd_per_ph_day=hashprice,
        switched_off_fraction=switched,
        margin_usd_per_mwh=margins,
        price_model=price_model,
        fee_model=fee_model,
        supply=supply,
        events=events,
        retarget_count=np.array([len(r) for r in sim.retargets]),
    )
