"""Backtest of the block and retarget simulator against the real chain, and the April 2024 halving episode."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mullet.bitcoin.hashprice import mining_value_usd_per_mwh
from mullet.data import load_difficulty_adjustments, load_network_daily
from mullet.errors import ScenarioError
from mullet.network.history import daily_hashprice, utc_day
from mullet.network.simulate import HALVING_CLASSES, EfficiencyClass, bits_for_difficulty, simulate_blocks

__all__ = ["BacktestResult", "backtest", "halving_episode"]


@dataclass(frozen=True)
class BacktestResult:
    """Simulated against real retargets and daily block counts."""

    adjustments: pd.DataFrame
    """Per real adjustment: real and simulated difficulty (path median), their ratio errors."""
    mae_difficulty_fraction: float
    """Mean over adjustments of |simulated / real difficulty - 1| (path median)."""
    mae_adjustment_fraction: float
    """Mean over adjustments of |simulated adjustment ratio - real adjustment ratio|."""
    mae_daily_blocks: float
    """Mean over days and paths of |simulated - real blocks per day|."""
    bias_daily_blocks: float
    poisson_floor_daily_blocks: float
    """The MAE a perfect model would still show from Poisson noise alone: E|N - mean| for the real block counts."""
    mean_timing_error_h: float
    """Mean over adjustments of |simulated - real time of the retarget| [h] (path median)."""
    paths: int
    expected: bool


def backtest(start: str = "2016-01-01", end: str = "2025-03-09", paths: int = 50, seed: int | None = 0, expected: bool = False) -> BacktestResult:
    """Drive the block simulator with the real daily hashrate and compare its retargets with the real ones.

    The simulation starts at the first real adjustment on or after ``start`` with
    its real difficulty, and runs to ``end`` (the bundled adjustment list ends on
    2025-03-09). Daily hashrate is Coin Metrics' (implied from real blocks and
    difficulty), so a perfect retarget model reproduces the real difficulties up
    to the Poisson noise of block arrivals.
    """
    adj = load_difficulty_adjustments()
    net = load_network_daily()
    lo, hi = utc_day(start, "start"), utc_day(end, "end")
    inside = adj[(adj.index >= lo) & (adj.index <= hi)]
    if len(inside) < 3:
        raise ScenarioError(f"start/end: {start}..{end} holds {len(inside)} real adjustments; allowed: a range with at least 3")
    first = inside.iloc[0]
    t0 = inside.index[0]
    day0 = t0.normalize()
    days = pd.date_range(day0, min(hi, net.index[-1]), freq="D")
    hashrate = np.tile(net["hashrate_ths"].reindex(days).to_numpy(dtype=float), (paths, 1))
    if np.isnan(hashrate).any():
        raise ScenarioError("start/end: the network history has no hashrate for part of the range")
    h0 = int(first["height"])
    offset = (t0 - day0).total_seconds()
    sim = simulate_blocks(
        hashrate,
        bits_for_difficulty(float(first["difficulty"])),
        start_height=h0,
        epoch_start_height=h0,
        epoch_first_time_s=offset,
        days=len(days),
        paths=paths,
        seed=seed,
        expected=expected,
        start_offset_s=offset,
    )
    real = inside.iloc[1:]
    k_max = min(len(real), min(len(r) for r in sim.retargets))
    real = real.iloc[:k_max]
    sim_new = np.array([[r[k][2] for k in range(k_max)] for r in sim.retargets])
    sim_old = np.array([[r[k][1] for k in range(k_max)] for r in sim.retargets])
    sim_day = np.array([[r[k][0] for k in range(k_max)] for r in sim.retargets])
    real_ratio = real["adjustment_ratio"].to_numpy()
    table = pd.DataFrame(
        {
            "height": real["height"].to_numpy(),
            "real_difficulty": real["difficulty"].to_numpy(),
            "sim_difficulty_p50": np.median(sim_new, axis=0),
            "real_adjustment_ratio": real_ratio,
            "sim_adjustment_ratio_p50": np.median(sim_new / sim_old, axis=0),
        },
        index=real.index,
    )
    diff_err = np.abs(np.median(sim_new, axis=0) / real["difficulty"].to_numpy() - 1)
    ratio_err = np.abs(sim_new / sim_old - real_ratio[None, :]).mean(axis=0)
    sim_time = days[0] + pd.to_timedelta(np.median(sim_day, axis=0), unit="D") + pd.Timedelta(hours=12)
    timing = np.abs((sim_time - real.index).total_seconds().to_numpy()) / 3600
    real_blocks = net["block_count"].reindex(days).to_numpy(dtype=float)
    # day 0 starts at the first adjustment: compare from day 1
    err = sim.blocks[:, 1:] - real_blocks[None, 1:]
    mean_blocks = real_blocks[1:]
    rng = np.random.default_rng(0)
    floor = float(np.mean(np.abs(rng.poisson(mean_blocks, size=(20, len(mean_blocks))) - mean_blocks)))
    return BacktestResult(
        adjustments=table,
        mae_difficulty_fraction=float(diff_err.mean()),
        mae_adjustment_fraction=float(ratio_err.mean()),
        mae_daily_blocks=float(np.abs(err).mean()),
        bias_daily_blocks=float(err.mean()),
        poisson_floor_daily_blocks=floor,
        mean_timing_error_h=float(timing.mean()),
        paths=paths,
        expected=expected,
    )


def halving_episode(
    date: str = "2024-04-20",
    window_days: int = 30,
    power_price_usd_per_mwh: float = 45.0,
    classes: tuple[EfficiencyClass, ...] = HALVING_CLASSES,
    pool_fee_fraction: float = 0.02,
    cooling_overhead_fraction: float = 0.05,
) -> pd.DataFrame:
    """Hashprice, mining value per efficiency class and hashrate in the ``window_days`` before and after a halving day.

    Returns one row per period (``before``, ``after``) with mean hashprice, hashrate
    and, per class, mining value [USD/MWh after pool fee and cooling] and whether it
    was under ``power_price_usd_per_mwh``. Real data, no simulation.
    """
    daily = daily_hashprice()
    day = utc_day(date, "date")
    windows = {
        "before": daily.loc[day - pd.Timedelta(days=window_days) : day - pd.Timedelta(days=1)],
        "after": daily.loc[day + pd.Timedelta(days=1) : day + pd.Timedelta(days=window_days)],
    }
    rows = {}
    for name, w in windows.items():
        if len(w) < window_days:
            raise ScenarioError(f"date: {date} +/- {window_days} days is not inside the bundled history")
        hp = float(w["revenue_usd"].sum() / (w["hashrate_ths"].sum() / 1e3))
        row: dict[str, float | bool] = {
            "hashprice_usd_per_ph_day": hp,
            "hashprice_subsidy_usd_per_ph_day": float((w["hashprice_subsidy_usd_per_ph_day"] * w["hashrate_ths"]).sum() / w["hashrate_ths"].sum()),
            "price_usd": float(w["price_usd"].mean()),
            "hashrate_ehs": float(w["hashrate_ths"].mean() / 1e6),
        }
        for c in classes:
            value = float(mining_value_usd_per_mwh(hp, c.efficiency_j_per_th)) * (1 - pool_fee_fraction) / (1 + cooling_overhead_fraction)
            row[f"value_usd_per_mwh__{c.name}"] = value
            row[f"under_water__{c.name}"] = value < power_price_usd_per_mwh
        rows[name] = row
    out = pd.DataFrame(rows).T
    out.index.name = "period"
    return out
