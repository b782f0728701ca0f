"""``mullet network``: Bitcoin network history, simulation and backtest."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import pandas as pd
import typer

from mullet._output import OutputFormat, emit_frame, emit_records
from mullet.cli._common import EfficiencyOpt, FormatOpt, OutDirOpt, PlotOpt, app, console, err_console, progress_bar


class Freq(StrEnum):
    """Aggregation of ``network history``."""

    day = "day"
    week = "week"
    month = "month"


if TYPE_CHECKING:
    from mullet.scenarios import PriceMeasure

network_app = typer.Typer(help="Bitcoin network history: price, difficulty, hashrate, fees, hashprice.", no_args_is_help=True)
app.add_typer(network_app, name="network")


class BtcDrift(StrEnum):
    """Which BTC drift price paths use (see :class:`mullet.scenarios.PriceMeasure`)."""

    neutral = "neutral"
    user = "user"
    historical = "historical"


DriftOpt = Annotated[
    BtcDrift,
    typer.Option(
        "--btc-drift", help="BTC price measure: neutral (mean grows at the risk-free rate), user (--btc-growth) or historical (the 2018+ fit, opt-in)."
    ),
]
RiskFreeOpt = Annotated[float, typer.Option("--risk-free-rate", help="Risk-free rate for the neutral drift [1/yr, continuous].", min=-0.05, max=0.25)]
GrowthOpt = Annotated[float | None, typer.Option("--btc-growth", help="Expected BTC price growth for --btc-drift user [1/yr, continuous].", min=-1.0, max=2.0)]


def _measure(drift: BtcDrift, risk_free: float, growth: float | None) -> PriceMeasure:
    from mullet.errors import ScenarioError
    from mullet.scenarios import PriceMeasure

    if drift is BtcDrift.user and growth is None:
        raise ScenarioError("--btc-growth: got nothing with --btc-drift user; allowed: a growth rate per year in -1..2, e.g. 0.1")
    return PriceMeasure(kind=drift.value, risk_free_rate_per_year=risk_free, expected_growth_per_year=growth)


_HISTORY_COLUMNS = {
    "price_usd": "price_usd",
    "difficulty": "difficulty_t",
    "hashrate_ths": "hashrate_ehs",
    "fee_share_fraction": "fee_share_fraction",
    "hashprice_subsidy_usd_per_ph_day": "hp_subsidy_usd_per_ph_day",
    "hashprice_fees_usd_per_ph_day": "hp_fees_usd_per_ph_day",
    "hashprice_usd_per_ph_day": "hashprice_usd_per_ph_day",
    "mining_value_usd_per_mwh": "mining_value_usd_per_mwh",
}


@network_app.command("history")
def network_history_cmd(
    start: Annotated[str | None, typer.Option("--from", help="First UTC day, e.g. 2024-04-01.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last UTC day (inclusive).")] = None,
    freq: Annotated[Freq, typer.Option("--freq", help="Aggregation: day, week (Monday start) or month.")] = Freq.day,
    efficiency_j_per_th: EfficiencyOpt = 17.5,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """Price, difficulty, hashrate, fee share, hashprice [USD/PH/day] and mining value [USD/MWh]."""
    from mullet.network.history import network_history
    from mullet.plot import check_plot_path, plot_network_history

    if plot is not None:
        check_plot_path(plot)
    hist = network_history(start, end, freq.value, efficiency_j_per_th)
    if fmt is OutputFormat.table:
        view = hist[list(_HISTORY_COLUMNS)].rename(columns=_HISTORY_COLUMNS)
        view["difficulty_t"] = view["difficulty_t"] / 1e12
        view["hashrate_ehs"] = view["hashrate_ehs"] / 1e6
        view.index = view.index.rename(f"{freq.value}_start_utc")
        emit_frame(console, view, fmt, title=f"Bitcoin network, mining value at {efficiency_j_per_th:g} J/TH")
        missing = round(((1 - hist["fees_known_fraction"]) * hist["days"]).sum())
        if missing:
            err_console.print(f"note: fees are missing in the bundled data for {missing} of these days; hashprice there is subsidy only (a lower bound).")
    else:
        emit_frame(console, hist, fmt)
    if plot is not None:
        written = plot_network_history(hist, plot, efficiency_j_per_th)
        err_console.print(f"chart written to {written}")


@network_app.command("at")
def network_at_cmd(
    point: Annotated[str, typer.Argument(help="A block height (e.g. 840000) or a UTC day (e.g. 2024-04-20).")],
    efficiency_j_per_th: EfficiencyOpt = 17.5,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Subsidy, difficulty and hashprice at a block height or a day."""
    from mullet.network.history import network_at

    result = network_at(point, efficiency_j_per_th)
    emit_records(console, result.as_dict(), fmt, title=f"Bitcoin network at {point}")


@network_app.command("simulate")
def network_simulate_cmd(
    paths: Annotated[int, typer.Option("--paths", help="Number of simulated paths.", min=1, max=100_000)] = 200,
    years: Annotated[float, typer.Option("--years", help="Years simulated from the end of the history.", min=0.1, max=30)] = 4.0,
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="ai-exit:SHARE:START..END, storm:SHARE:DATE:DAYS or summer:SHARE (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.", min=0)] = 0,
    power_cost_usd_per_mwh: Annotated[float, typer.Option("--power-cost-usd-per-mwh", help="Median power cost of the network (assumption).")] = 45.0,
    btc_drift: DriftOpt = BtcDrift.neutral,
    risk_free_rate: RiskFreeOpt = 0.04,
    btc_growth: GrowthOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """Simulate hashrate, difficulty and hashprice forward, with halvings and events (e.g. miners leaving for AI).

    Hashrate responds to margins: new ASICs are ordered when they pay back within the fitted window, classes with
    negative margins retire. BTC drift is neutral by default (printed with the historical fit and its error).
    """
    import json

    import numpy as np
    from rich.progress import Progress

    from mullet._output import to_jsonable
    from mullet.network.simulate import SupplyModel, parse_event, simulate_network
    from mullet.plot import check_plot_path, plot_fan

    if plot is not None:
        check_plot_path(plot)
    events = [parse_event(e) for e in event or []]
    measure = _measure(btc_drift, risk_free_rate, btc_growth)
    with progress_bar(*Progress.get_default_columns()) as progress:
        progress.add_task(f"simulating {paths} paths x {years:g} years", total=None)
        result = simulate_network(paths, years, events, seed, SupplyModel(power_cost_median_usd_per_mwh=power_cost_usd_per_mwh), price_measure=measure)
    summary = result.summary()
    if fmt is OutputFormat.json:
        payload = {
            "price_model": result.price_model.as_dict(),
            "price_measure": measure.model_dump(),
            "supply": {k: v for k, v in result.supply.__dict__.items() if k != "classes"},
            "fee_model": result.fee_model.__dict__,
            "events": [e.__dict__ for e in events],
            "by_year": summary.reset_index().to_dict(orient="records"),
        }
        console.file.write(json.dumps(to_jsonable(payload), indent=1) + "\n")
    else:
        pm, fm, sup = result.price_model, result.fee_model, result.supply
        (console if fmt is OutputFormat.table else err_console).print(  # CSV stays pure: assumptions go to stderr
            f"{pm.describe()}; fees/block median {fm.median_btc_per_block:.4f} BTC (fitted {fm.fitted_on}), spikes x"
            f"{np.exp(fm.spike_log_mean):.1f} on {fm.spike_share_of_days:.1%} of days ({fm.spikes_fitted_on}); "
            f"supply: ASICs ordered while payback < {sup.payback_window_days:g} days (at most {sup.entry_per_year:g}x installed/yr, "
            f"{sup.entry_lag_days} days to hash, ASIC {sup.asic_usd_per_w:g} USD/W), classes retire {sup.retire_per_year:g}/yr "
            f"while their margin is negative",
            markup=False,
            highlight=False,
        )
        cols = ["hashrate_ehs_p50", "difficulty_t_p10", "difficulty_t_p50", "difficulty_t_p90"]
        cols += ["hashprice_usd_per_ph_day_p10", "hashprice_usd_per_ph_day_p50", "hashprice_usd_per_ph_day_p90", "switched_off_fraction_p50"]
        cols += [c for c in summary.columns if c.startswith("margin") and c.endswith("_p50") and ("S19-class" in c or "S21-class" in c)]
        short = {"hashprice_usd_per_ph_day": "hashprice", "switched_off_fraction": "off_fraction", "margin_usd_per_mwh__": "margin_"}

        def rename(c: str) -> str:
            for long, brief in short.items():
                c = c.replace(long, brief)
            return c.replace("-class", "")

        view = summary[cols].rename(columns=rename)
        view.index = view.index.astype(str)
        title = f"Network simulation, {paths} paths: quantiles across paths of yearly means; hashprice [USD/PH/day], margin [USD/MWh]"
        emit_frame(console, view, fmt, title=title)
    if plot is not None:
        fans = {
            "difficulty": result.fan("difficulty"),
            "hashprice [USD/PH/day]": result.fan("hashprice_usd_per_ph_day"),
            "margin S19-class [USD/MWh]": result.fan("margin_usd_per_mwh__S19-class"),
            "margin S21-class [USD/MWh]": result.fan("margin_usd_per_mwh__S21-class"),
        }
        err_console.print(f"chart written to {plot_fan(fans, plot, 'Network simulation: P10 / P50 / P90 across paths, monthly means')}")


@network_app.command("backtest")
def network_backtest_cmd(
    start: Annotated[str, typer.Option("--from", help="Start at the first real adjustment on or after this day.")] = "2016-01-01",
    end: Annotated[str, typer.Option("--to", help="Last day (the bundled adjustment list ends 2025-03-09).")] = "2025-03-09",
    paths: Annotated[int, typer.Option("--paths", help="Simulated paths of the Poisson mode.", min=1, max=10_000)] = 50,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.", min=0)] = 0,
    power_cost_usd_per_mwh: Annotated[float, typer.Option("--power-cost-usd-per-mwh", help="Power price for the halving table.")] = 45.0,
    out_of_sample: Annotated[
        bool,
        typer.Option("--out-of-sample", help="Forecast difficulty and hashprice 6 and 12 months ahead from real states, next to a naive benchmark."),
    ] = False,
    starts: Annotated[str | None, typer.Option("--starts", help="Out-of-sample start days, comma-separated (default: each quarter 2019-2023).")] = None,
    btc_drift: DriftOpt = BtcDrift.neutral,
    risk_free_rate: RiskFreeOpt = 0.04,
    btc_growth: GrowthOpt = None,
    fmt: FormatOpt = OutputFormat.table,
    out: OutDirOpt = None,
) -> None:
    """Simulated retargets against the real ones (driven by real hashrate), and the April 2024 halving.

    With --out-of-sample: the whole network model (supply fitted only on data before each start, fleet, fees, prices)
    forecasts difficulty and hashprice 6 and 12 months ahead from real states, given the realised BTC price and with
    simulated prices, next to a naive benchmark (difficulty grows at its trailing 12-month rate). JSON holds the
    summary and every forecast; CSV the forecasts.
    """
    import json

    from mullet._output import to_jsonable

    if out_of_sample:
        from rich.progress import Progress

        from mullet.network.backtest import backtest_out_of_sample

        measure = _measure(btc_drift, risk_free_rate, btc_growth)
        start_list = [s.strip() for s in starts.split(",") if s.strip()] if starts else None
        with progress_bar(*Progress.get_default_columns()) as progress:
            progress.add_task(f"refitting and simulating from {len(start_list) if start_list else 20} starts", total=None)
            oos = backtest_out_of_sample(start_list, paths=paths, seed=seed, price_measure=measure)
        if fmt is OutputFormat.json:
            payload = {
                "price_measure": measure.model_dump(),
                "summary": oos.summary.to_dict(orient="records"),
                "forecasts": oos.forecasts.to_dict(orient="records"),
                "notes": oos.notes,
            }
            console.file.write(json.dumps(to_jsonable(payload), indent=1) + "\n")
            return
        if fmt is OutputFormat.csv:
            emit_frame(console, oos.forecasts, fmt)
            return
        view = oos.summary.set_index(["horizon_months", "price_mode"])
        view.index = [f"{h} months, {m} price" for h, m in view.index]
        cols = [c for c in view.columns if c != "starts"]
        emit_frame(
            console,
            view[cols].T.round(3),
            fmt,
            title=f"Out-of-sample network backtest, {int(oos.summary['starts'].iloc[0])} starts, {paths} paths: model vs naive (trailing 12-month growth)",
            index_label="metric",
        )
        for note in oos.notes:
            err_console.print(f"note: {note}", markup=False, highlight=False)
        return

    from mullet._output import emit_tables, require_out_for_csv
    from mullet.network.backtest import backtest, halving_episode

    require_out_for_csv(fmt, out, ["backtest", "halving_2024"])
    rows = []
    for expected in (True, False):
        r = backtest(start, end, paths, seed, expected)
        rows.append(
            {
                "mode": "expected counts" if expected else f"Poisson, {paths} paths",
                "adjustments": len(r.adjustments),
                "mae_difficulty_pct": r.mae_difficulty_fraction * 100,
                "mae_adjustment_pct": r.mae_adjustment_fraction * 100,
                "mae_daily_blocks": r.mae_daily_blocks,
                "poisson_floor_daily_blocks": r.poisson_floor_daily_blocks,
                "mean_timing_error_h": r.mean_timing_error_h,
            }
        )
    halving = halving_episode(power_price_usd_per_mwh=power_cost_usd_per_mwh)
    tables = {
        "backtest": (f"Retarget backtest {start}..{end}", pd.DataFrame(rows)),
        "halving_2024": (f"April 2024 halving: 30 days before and after, power at ${power_cost_usd_per_mwh:g}/MWh", halving.reset_index()),
    }
    if fmt is OutputFormat.table:  # the halving table reads best transposed on a terminal
        emit_records(console, rows, fmt, title=tables["backtest"][0])
        emit_frame(console, halving.T, fmt, title=tables["halving_2024"][0], index_label="field")
        tables_only_to_files = True
    else:
        tables_only_to_files = False
    emit_tables(console, err_console, tables, fmt, out, print_tables=not tables_only_to_files)
