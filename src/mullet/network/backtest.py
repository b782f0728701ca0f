"""Backtests of the network model against the real chain.

The retarget simulator with real hashrate in, the April 2024 halving episode, and an out-of-sample backtest of the
whole network model (supply, prices, fees) from real states, next to a naive benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import replace as dc_replace

import numpy as np
import pandas as pd

from mullet.bitcoin.hashprice import hashprice_usd_per_ph_day, mining_value_usd_per_mwh
from mullet.data import load_difficulty_adjustments, load_network_daily
from mullet.errors import ScenarioError
from mullet.network.history import daily_hashprice, utc_day
from mullet.network.simulate import HALVING_CLASSES, EfficiencyClass, SupplyModel, bits_for_difficulty, real_hashprice, simulate_blocks, subsidy_sat
from mullet.scenarios import FeeModel, PriceMeasure, apply_price_measure, fit_fee_model, fit_price_model

__all__ = ["BacktestResult", "OutOfSampleResult", "backtest", "backtest_out_of_sample", "halving_episode"]


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


@dataclass(frozen=True)
class OutOfSampleResult:
    """Out-of-sample forecasts of difficulty and hashprice from real network states, against what happened.

    ``forecasts``: one row per (start, horizon_months, price_mode) with the real value, the model's path median and
    the naive benchmark's forecast of difficulty and hashprice (7-day means ending on the horizon day), and the
    log errors ``log(forecast / real)``. ``summary``: per (horizon_months, price_mode) the mean absolute log error
    and mean log error (bias) of model and naive, and the share of starts where the model is closer.
    """

    forecasts: pd.DataFrame
    summary: pd.DataFrame
    notes: list[str]


_EVAL_DAYS = 7


def _start_height(adjustments: pd.DataFrame, network: pd.DataFrame, day: pd.Timestamp) -> int:
    """Next block height after UTC day ``day``: the last adjustment before its end plus the day-counted blocks since.

    Uses adjustments and block counts up to ``day`` only (the adjustment day's blocks are split pro rata by time).
    """
    end = day + pd.Timedelta(days=1)
    before = adjustments[adjustments.index < end]
    if before.empty:
        raise ScenarioError(f"start: {day.date()} is before the first bundled difficulty adjustment")
    t_e = before.index[-1]
    h_e = int(before["height"].iloc[-1])
    d_e = t_e.normalize()
    counts = network["block_count"].loc[d_e:day].astype(float)
    frac_left = 1 - (t_e - d_e).total_seconds() / 86_400.0
    blocks = counts.iloc[1:].sum() + counts.iloc[0] * frac_left if len(counts) else 0.0
    return round(h_e + blocks)


def backtest_out_of_sample(
    starts: list[str] | None = None,
    horizons_months: tuple[int, ...] = (6, 12),
    price_modes: tuple[str, ...] = ("realised", "simulated"),
    paths: int = 100,
    seed: int = 0,
    network: pd.DataFrame | None = None,
    adjustments: pd.DataFrame | None = None,
    price_measure: PriceMeasure | None = None,
    refit: bool = True,
    supply: SupplyModel | None = None,
) -> OutOfSampleResult:
    """Forecast difficulty and hashprice 6 and 12 months ahead from real network states, using only what was known.

    For each start day (default: the first day of each quarter 2019-2023) the history is cut at the end of that day.
    From what is left: the supply model's entry and retirement parameters are refitted (``refit``; else ``supply``
    as given), the fleet mix is a replay of history up to the start (:func:`mullet.network.simulate.fleet_at`),
    the price model is fitted on the 4 years before the start with its drift set by ``price_measure`` (default
    neutral), fees on the known fee history before the start (zero where none is known: before 2023-02-18 the
    bundled data has no fees, so model and real hashprice are both subsidy-only there), and the block height from
    the difficulty adjustments and block counts up to the start. ``price_mode`` ``realised`` feeds the real BTC
    price path (what the network model gets right given the price), ``simulated`` the price model's paths.

    Naive benchmark: difficulty grows at its trailing 12-month rate (``D0 x (D0 / D_-365)^(h / 12 months)``);
    its hashprice uses that difficulty, the same price input as the model (the realised price, or the median of the
    simulated prices) and the same subsidy and median fees. Real outcomes and all forecasts are 7-day means ending
    on the horizon day.
    """
    from mullet.network.simulate import fit_supply_model, fleet_at, simulate_network

    net_all = load_network_daily() if network is None else network
    adj_all = load_difficulty_adjustments() if adjustments is None else adjustments
    if starts is None:
        starts = [f"{y}-{m:02d}-01" for y in range(2019, 2024) for m in (1, 4, 7, 10)]
    for mode in price_modes:
        if mode not in ("realised", "simulated"):
            raise ScenarioError(f"price_modes: got {mode!r}, allowed: realised, simulated")
    max_days = round(max(horizons_months) * 365 / 12)
    real_hp = real_hashprice(net_all)
    rows = []
    for i, start in enumerate(starts):
        t0 = utc_day(start, "starts")
        if t0 + pd.Timedelta(days=max_days) > net_all.index[-1] or t0 - pd.Timedelta(days=365) < net_all.index[0]:
            raise ScenarioError(f"starts: {start} needs a year of history before and {max(horizons_months)} months after it in the data")
        known = net_all.loc[:t0]
        adj_known = adj_all[adj_all.index < t0 + pd.Timedelta(days=1)]
        sup = fit_supply_model(known, end=t0, supply=supply).supply if refit else supply or SupplyModel()
        sup = dc_replace(sup, classes=fleet_at(t0, known, sup))
        price_fit = fit_price_model(start=str((t0 - pd.DateOffset(years=4)).date()), prices=known["price_usd"])
        pm = apply_price_measure(price_fit, price_measure)
        try:
            fm = fit_fee_model(network=known)
        except ScenarioError:
            fm = FeeModel(0.0, 0.0, 0.0, "no fee data before the start: fees 0")
        height = _start_height(adj_known, known, t0)
        d0 = float(known["difficulty_mean"].iloc[-1])
        d_year = float(known["difficulty_mean"].loc[: t0 - pd.Timedelta(days=365)].iloc[-1])
        blocks_per_day = float(known["block_count"].iloc[-365:].mean())
        for mode in price_modes:
            given = net_all["price_usd"].loc[t0 + pd.Timedelta(days=1) :].iloc[:max_days].to_numpy() if mode == "realised" else None
            sim = simulate_network(
                paths, max_days / 365, None, seed + i, sup, pm, fm, known, prices_usd=given, start_height=height
            )  # fmt: skip
            for h in horizons_months:
                n = round(h * 365 / 12)
                window = slice(n - _EVAL_DAYS, n)
                day_end = sim.days[n - 1]
                real_days = pd.date_range(day_end - pd.Timedelta(days=_EVAL_DAYS - 1), day_end, freq="D")
                real_d = float(net_all["difficulty_mean"].reindex(real_days).mean())
                real_h = float(real_hp.reindex(real_days).mean())
                model_d = float(np.median(sim.difficulty[:, window].mean(axis=1)))
                model_h = float(np.median(sim.hashprice_usd_per_ph_day[:, window].mean(axis=1)))
                naive_d = d0 * (d0 / d_year) ** (h / 12)
                heights = height + blocks_per_day * np.arange(n - _EVAL_DAYS, n)
                sub = subsidy_sat(heights.astype(np.int64)) / 1e8
                price_in = sim.price_usd[0, window] if mode == "realised" else np.median(sim.price_usd[:, window], axis=0)
                naive_h = float(np.mean(hashprice_usd_per_ph_day(price_in, naive_d, sub, fm.median_btc_per_block)))
                rows.append(
                    {
                        "start": t0,
                        "horizon_months": h,
                        "price_mode": mode,
                        "real_difficulty_t": real_d / 1e12,
                        "model_difficulty_t": model_d / 1e12,
                        "naive_difficulty_t": naive_d / 1e12,
                        "real_hashprice_usd_per_ph_day": real_h,
                        "model_hashprice_usd_per_ph_day": model_h,
                        "naive_hashprice_usd_per_ph_day": naive_h,
                        "model_log_error_difficulty": np.log(model_d / real_d),
                        "naive_log_error_difficulty": np.log(naive_d / real_d),
                        "model_log_error_hashprice": np.log(model_h / real_h),
                        "naive_log_error_hashprice": np.log(naive_h / real_h),
                        "fees_known_at_start": fm.median_btc_per_block > 0,
                        "entry_per_year": sup.entry_per_year,
                        "payback_window_days": sup.payback_window_days,
                        "entry_lag_days": sup.entry_lag_days,
                        "retire_per_year": sup.retire_per_year,
                    }
                )
    fc = pd.DataFrame(rows)
    summary_rows = []
    for (h, mode), g in fc.groupby(["horizon_months", "price_mode"], sort=True):
        row: dict[str, float | int | str] = {"horizon_months": int(h), "price_mode": str(mode), "starts": len(g)}
        for what in ("difficulty", "hashprice"):
            m, nv = g[f"model_log_error_{what}"], g[f"naive_log_error_{what}"]
            row[f"model_mae_{what}_pct"] = float(np.abs(m).mean() * 100)
            row[f"naive_mae_{what}_pct"] = float(np.abs(nv).mean() * 100)
            row[f"model_bias_{what}_pct"] = float(m.mean() * 100)
            row[f"naive_bias_{what}_pct"] = float(nv.mean() * 100)
            row[f"model_wins_{what}_fraction"] = float((np.abs(m) < np.abs(nv)).mean())
        summary_rows.append(row)
    notes = [
        "errors are log(forecast / real) of 7-day means ending on the horizon day; MAE in percent is 100 x mean |log error|",
        "fees are unknown in the bundled data before 2023-02-18: there both real and forecast hashprice are subsidy only",
        "the China mining ban (2021-05..07) and other non-economic shocks are unknown to every model",
        f"price measure for simulated prices: {pm.measure}" if price_modes and "simulated" in price_modes else "",
    ]
    return OutOfSampleResult(fc, pd.DataFrame(summary_rows), [n for n in notes if n])
