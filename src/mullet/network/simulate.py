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
Exogenous events remove capacity (AI exit), or online hashrate (storms, summer
curtailment). The default fleet mix and power-cost distribution are
**assumptions**, stated in :data:`DEFAULT_CLASSES` and :class:`SupplyModel`: set your own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
from mullet.scenarios import FeeModel, PriceModel, fit_fee_model, fit_price_model, rng_from, simulate_fees_btc_per_block, simulate_prices_usd

__all__ = [
    "DEFAULT_CLASSES",
    "HALVING_CLASSES",
    "EfficiencyClass",
    "Event",
    "NetworkSimResult",
    "SupplyModel",
    "bits_for_difficulty",
    "parse_event",
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


@dataclass(frozen=True)
class SupplyModel:
    """How hashrate responds to mining economics. All defaults are assumptions; override them."""

    classes: tuple[EfficiencyClass, ...] = DEFAULT_CLASSES
    power_cost_median_usd_per_mwh: float = 45.0
    power_cost_log_sd: float = 0.5
    must_run_share_fraction: float = 0.15
    """Share of capacity that runs whatever the hashprice (stranded or flared gas, hydro spill, hedged contracts)."""
    response_lag_days: int = 14
    response_time_constant_days: float = 14.0
    capacity_growth_per_year: float = 0.20
    """New machines of the most efficient class added each year, as a share of the starting capacity."""
    pool_fee_fraction: float = 0.02
    cooling_overhead_fraction: float = 0.05

    def online_fraction(self, hashprice_usd_per_ph_day: FloatArray) -> FloatArray:
        """(..., C) share of each class's installed capacity that pays its power at this hashprice."""
        eff = np.array([c.efficiency_j_per_th for c in self.classes])
        value = mining_value_usd_per_mwh(np.asarray(hashprice_usd_per_ph_day)[..., None], eff)
        value = value * (1 - self.pool_fee_fraction) / (1 + self.cooling_overhead_fraction)
        z = (np.log(np.maximum(value, 1e-9)) - np.log(self.power_cost_median_usd_per_mwh)) / self.power_cost_log_sd
        return np.asarray(self.must_run_share_fraction + (1 - self.must_run_share_fraction) * ndtr(z))


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
) -> NetworkSimResult:
    """Simulate the network forward from the last day of the history (default: bundled, 2025-12-29).

    Starts from that day's price, difficulty, hashrate and block height; prices
    follow ``price_model`` (fitted to 2018 onward by default), fees ``fee_model``
    (fitted to the last year), hashrate the ``supply`` model with ``events``.
    """
    if paths < 1 or not 0 < years <= 30:
        raise ScenarioError(f"paths/years: got {paths}/{years}, allowed: paths >= 1, 0 < years <= 30")
    net = load_network_daily() if network is None else network
    supply = supply or SupplyModel()
    if abs(sum(c.share_fraction for c in supply.classes) - 1) > 1e-6:
        raise ScenarioError("supply.classes: shares must add up to 1")
    price_model = price_model or fit_price_model(prices=net["price_usd"])
    fee_model = fee_model or fit_fee_model(network=net)
    events = events or []
    rng = rng_from(seed)
    last = net.index[-1]
    n_days = round(years * 365)
    days = pd.date_range(last + pd.Timedelta(days=1), periods=n_days, freq="D")
    start_diff = float(net["difficulty_mean"].iloc[-1])
    h0 = float(net["hashrate_ths"].iloc[-7:].mean())
    start_height = int(daily_heights(net)["last_height"].iloc[-1]) + 1
    epoch_start = (start_height // RETARGET_INTERVAL_BLOCKS) * RETARGET_INTERVAL_BLOCKS
    into_epoch = start_height - epoch_start
    first_time = -into_epoch * start_diff * _HASHES / (h0 * 1e12)  # blocks so far at the mean interval D x 2**32 / H

    prices = simulate_prices_usd(price_model, float(net["price_usd"].iloc[-1]), n_days, paths, rng)
    fees = simulate_fees_btc_per_block(fee_model, n_days, paths, rng)
    cap_mult, online_mult = _event_multipliers(events, days)
    eff = np.array([c.efficiency_j_per_th for c in supply.classes])
    shares = np.array([c.share_fraction for c in supply.classes])
    sub0 = block_subsidy(start_height) / 1e8
    hp0 = float(hashprice_usd_per_ph_day(float(net["price_usd"].iloc[-1]), start_diff, sub0, fee_model.median_btc_per_block))
    online0 = float((shares * supply.online_fraction(np.array(hp0))).sum())
    if online0 <= 0.01:
        raise ScenarioError("supply: under 1% of the fleet pays its power at today's hashprice; lower power_cost_median_usd_per_mwh")
    installed0 = h0 / online0  # TH/s installed so that today's hashrate is what today's economics support
    growth = supply.capacity_growth_per_year * np.arange(1, n_days + 1) / 365.0
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
        capacity = installed0 * cap_mult[d] * (shares + np.eye(len(shares))[-1] * growth[d])  # growth in the newest class
        target = (capacity * supply.online_fraction(lagged)).sum(axis=1)
        state["h"] = state["h"] + (target - state["h"]) / supply.response_time_constant_days
        h = state["h"] * online_mult[d]
        hashrate[:, d] = h
        switched[:, d] = 1 - h / capacity.sum()
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
