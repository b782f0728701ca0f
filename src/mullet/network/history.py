"""Network history: daily price, difficulty, hashrate, fees and hashprice from bundled data.

All frames are indexed by tz-aware UTC interval starts (a UTC day, an ISO week
starting Monday 00:00 UTC, or a calendar month).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mullet.bitcoin.consensus import COIN_SAT, HALVING_INTERVAL_BLOCKS, block_subsidy
from mullet.bitcoin.hashprice import hashprice_usd_per_ph_day, mining_value_usd_per_mwh
from mullet.data import load_network_daily
from mullet.errors import ScenarioError

__all__ = [
    "HEIGHT_ANCHOR",
    "NetworkPoint",
    "daily_hashprice",
    "daily_heights",
    "network_at",
    "network_history",
    "utc_day",
]

Freq = Literal["day", "week", "month"]
_RESAMPLE = {"day": "D", "week": "W-MON", "month": "MS"}

HEIGHT_ANCHOR = (pd.Timestamp("2024-04-19", tz="UTC"), 840_003)
"""(UTC day, last block height of that day): Coin Metrics' cumulative block count
reaches 840,003 at the end of 2024-04-19 (four post-halving blocks carry that
day's header timestamps; SOURCES.md). Heights of other days follow from the
daily block counts."""


def daily_heights(network: pd.DataFrame) -> pd.DataFrame:
    """First and last block height of each day, from daily block counts and :data:`HEIGHT_ANCHOR`.

    Blocks are placed in days by header timestamp, which is not monotonic in
    height, so a day's range is exact only in count, not block by block.
    """
    day, last_height = HEIGHT_ANCHOR
    if day not in network.index:
        raise ScenarioError(f"network: the history must include {day.date()} to anchor block heights")
    cum = network["block_count"].cumsum()
    last = cum - int(cum.loc[day]) + last_height
    first = last - network["block_count"] + 1
    return pd.DataFrame({"first_height": first.astype(np.int64), "last_height": last.astype(np.int64)})


def daily_hashprice(network: pd.DataFrame | None = None, efficiency_j_per_th: float = 17.5) -> pd.DataFrame:
    """Daily hashprice and its parts from network history.

    Returns columns ``price_usd``, ``difficulty``, ``hashrate_ths``, ``block_count``,
    ``subsidy_btc``, ``fees_btc`` (0 where unknown), ``fees_known``,
    ``revenue_usd`` [USD/day, network], ``hashprice_subsidy_usd_per_ph_day``,
    ``hashprice_fees_usd_per_ph_day``, ``hashprice_usd_per_ph_day``,
    ``fee_share_fraction`` and ``mining_value_usd_per_mwh`` (at ``efficiency_j_per_th``).

    Where fees are unknown (2014-01-23 to 2023-02-17 in the bundled data) the fee
    part is 0 and ``fees_known`` is False: hashprice there is a lower bound.
    """
    net = load_network_daily() if network is None else network
    if efficiency_j_per_th <= 0:
        raise ScenarioError(f"efficiency_j_per_th: got {efficiency_j_per_th}, allowed: > 0")
    blocks = net["block_count"].astype(float)
    fees_btc = net["fees_btc"].fillna(0.0)
    sub = hashprice_usd_per_ph_day(net["price_usd"], net["difficulty_mean"], net["issuance_btc"] / blocks)
    fee = hashprice_usd_per_ph_day(net["price_usd"], net["difficulty_mean"], 0.0, fees_btc / blocks)
    total = sub + fee
    out = pd.DataFrame(
        {
            "price_usd": net["price_usd"],
            "difficulty": net["difficulty_mean"],
            "hashrate_ths": net["hashrate_ths"],
            "block_count": net["block_count"],
            "subsidy_btc": net["issuance_btc"],
            "fees_btc": fees_btc,
            "fees_known": net["fees_known"],
            "revenue_usd": (net["issuance_btc"] + fees_btc) * net["price_usd"],
            "hashprice_subsidy_usd_per_ph_day": sub,
            "hashprice_fees_usd_per_ph_day": fee,
            "hashprice_usd_per_ph_day": total,
        }
    )
    out["fee_share_fraction"] = (fee / total).where(net["fees_known"])
    out["mining_value_usd_per_mwh"] = mining_value_usd_per_mwh(total, efficiency_j_per_th)
    return out


def network_history(
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    freq: Freq = "day",
    efficiency_j_per_th: float = 17.5,
    network: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Network history between ``start`` and ``end`` (inclusive UTC days) at ``freq``.

    Aggregates are honest averages: price, difficulty and hashrate are means over
    the days; hashprice is total miner revenue divided by total PH-days, i.e. the
    hashrate-weighted mean, so its subsidy and fee parts add up. Columns as in
    :func:`daily_hashprice` plus ``days`` and ``fees_known_fraction``.
    """
    if freq not in _RESAMPLE:
        raise ScenarioError(f"freq: got {freq!r}, allowed: {', '.join(_RESAMPLE)}")
    daily = daily_hashprice(network, efficiency_j_per_th)
    lo = utc_day(start, "start") if start is not None else daily.index[0]
    hi = utc_day(end, "end") if end is not None else daily.index[-1]
    if lo > hi:
        raise ScenarioError(f"start: got {lo.date()} after end {hi.date()}; allowed: start <= end")
    first, last = daily.index[0], daily.index[-1]
    if hi < first or lo > last:
        raise ScenarioError(f"start..end: got {lo.date()}..{hi.date()}; allowed: within the history, {first.date()}..{last.date()}")
    d = daily.loc[lo:hi]
    if freq == "day":
        out = d.drop(columns=["fees_known"]).assign(days=1, fees_known_fraction=d["fees_known"].astype(float))
        return out
    hash_ph_days = d["hashrate_ths"] / 1e3
    sub_usd = d["hashprice_subsidy_usd_per_ph_day"] * hash_ph_days
    fee_usd = d["hashprice_fees_usd_per_ph_day"] * hash_ph_days
    g = pd.DataFrame(
        {
            "price_usd": d["price_usd"],
            "difficulty": d["difficulty"],
            "hashrate_ths": d["hashrate_ths"],
            "block_count": d["block_count"],
            "subsidy_btc": d["subsidy_btc"],
            "fees_btc": d["fees_btc"],
            "revenue_usd": d["revenue_usd"],
            "_ph_days": hash_ph_days,
            "_sub_usd": sub_usd,
            "_fee_usd": fee_usd,
            "fees_known_fraction": d["fees_known"].astype(float),
            "days": 1,
        }
    ).resample(_RESAMPLE[freq], label="left", closed="left")
    out = g.agg(
        {
            "price_usd": "mean",
            "difficulty": "mean",
            "hashrate_ths": "mean",
            "block_count": "sum",
            "subsidy_btc": "sum",
            "fees_btc": "sum",
            "revenue_usd": "sum",
            "_ph_days": "sum",
            "_sub_usd": "sum",
            "_fee_usd": "sum",
            "fees_known_fraction": "mean",
            "days": "sum",
        }
    )
    out["hashprice_subsidy_usd_per_ph_day"] = out["_sub_usd"] / out["_ph_days"]
    out["hashprice_fees_usd_per_ph_day"] = out["_fee_usd"] / out["_ph_days"]
    out["hashprice_usd_per_ph_day"] = out["hashprice_subsidy_usd_per_ph_day"] + out["hashprice_fees_usd_per_ph_day"]
    out["fee_share_fraction"] = (out["hashprice_fees_usd_per_ph_day"] / out["hashprice_usd_per_ph_day"]).where(out["fees_known_fraction"] == 1.0)
    out["mining_value_usd_per_mwh"] = mining_value_usd_per_mwh(out["hashprice_usd_per_ph_day"], efficiency_j_per_th)
    return out.drop(columns=["_ph_days", "_sub_usd", "_fee_usd"])


@dataclass(frozen=True)
class NetworkPoint:
    """The network at one block height or one UTC day."""

    height: int | None
    """The height asked for, or None when a day was asked for."""
    day: pd.Timestamp | None
    """The UTC day with data covering the point, or None when the height is outside the history."""
    first_height: int | None
    last_height: int | None
    subsidy_sat: int
    """Subsidy at ``height`` (or at the day's first block) [satoshi]."""
    halving_epoch: int
    price_usd: float | None
    difficulty: float | None
    hashrate_ths: float | None
    fees_btc_per_block: float | None
    hashprice_usd_per_ph_day: float | None
    mining_value_usd_per_mwh: float | None
    efficiency_j_per_th: float

    def as_dict(self) -> dict[str, object]:
        """Plain dict for tables and JSON (timestamps as ISO strings)."""
        out: dict[str, object] = dict(self.__dict__)
        out["day"] = None if self.day is None else self.day.date().isoformat()
        out["subsidy_btc"] = self.subsidy_sat / COIN_SAT
        return out


def network_at(point: int | str | pd.Timestamp, efficiency_j_per_th: float = 17.5, network: pd.DataFrame | None = None) -> NetworkPoint:
    """Subsidy, difficulty and hashprice at a block height (int) or a UTC day (date string or Timestamp).

    The subsidy at a height is exact. Price, difficulty and hashprice come from
    the day whose block-height range (see :func:`daily_heights`) contains the
    height; they are None outside the bundled history (2014-01-01..2025-12-29).
    """
    net = load_network_daily() if network is None else network
    daily = daily_hashprice(net, efficiency_j_per_th)
    heights = daily_heights(net)
    if isinstance(point, int) or (isinstance(point, str) and point.isdigit()):
        height = int(point)
        if height < 0:
            raise ScenarioError(f"height: got {height}, allowed: >= 0")
        pos = int(np.searchsorted(heights["last_height"].to_numpy(), height))
        inside = pos < len(heights) and heights["first_height"].iloc[pos] <= height
        day = heights.index[pos] if inside else None
        subsidy = block_subsidy(height)
    else:
        day = utc_day(point, "date")
        height = None
        if day not in daily.index:
            first, last = daily.index[0].date(), daily.index[-1].date()
            raise ScenarioError(f"date: got {day.date()}, allowed: a day within the history, {first}..{last}")
        subsidy = block_subsidy(int(heights.loc[day, "first_height"]))
    epoch = (height if height is not None else int(heights.loc[day, "first_height"])) // HALVING_INTERVAL_BLOCKS
    if day is None:
        return NetworkPoint(height, None, None, None, subsidy, epoch, None, None, None, None, None, None, efficiency_j_per_th)
    row = daily.loc[day]
    fees = float(row["fees_btc"] / row["block_count"]) if bool(row["fees_known"]) else None
    return NetworkPoint(
        height=height,
        day=day,
        first_height=int(heights.loc[day, "first_height"]),
        last_height=int(heights.loc[day, "last_height"]),
        subsidy_sat=subsidy,
        halving_epoch=epoch,
        price_usd=float(row["price_usd"]),
        difficulty=float(row["difficulty"]),
        hashrate_ths=float(row["hashrate_ths"]),
        fees_btc_per_block=fees,
        hashprice_usd_per_ph_day=float(row["hashprice_usd_per_ph_day"]),
        mining_value_usd_per_mwh=float(row["mining_value_usd_per_mwh"]),
        efficiency_j_per_th=efficiency_j_per_th,
    )


def utc_day(value: str | pd.Timestamp, field: str) -> pd.Timestamp:
    """The UTC day (00:00) of a date string or Timestamp; naive values are taken as UTC. Bad input names ``field``."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"{field}: got {value!r}, allowed: a date like 2024-04-20") from exc
    if ts is pd.NaT:
        raise ScenarioError(f"{field}: got {value!r}, allowed: a date like 2024-04-20")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.normalize()
