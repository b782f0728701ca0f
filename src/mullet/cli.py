"""The ``mullet`` command line. It only parses arguments, calls pipelines and renders results."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from pydantic import ValidationError
from rich.console import Console

from mullet._output import OutputFormat, emit_frame, emit_records
from mullet.errors import MulletError

__all__ = ["app", "main"]

app = typer.Typer(
    name="mullet",
    help="Economics of hybrid AI/HPC + Bitcoin-mining sites: hashprice, dispatch, planning, grid impact.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
network_app = typer.Typer(help="Bitcoin network history: price, difficulty, hashrate, fees, hashprice.", no_args_is_help=True)
app.add_typer(network_app, name="network")
runs_app = typer.Typer(help="Stored plan runs (DuckDB): list, show, compare, export.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
contracts_app = typer.Typer(help="Public AI/HPC deals modelled as contracts, against mining per MW.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")
grid_app = typer.Typer(help="Grid impact: curtailment-enabled headroom, and a site against system peaks.", no_args_is_help=True)
app.add_typer(grid_app, name="grid")

console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)

FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write a chart: FILE.png (static) or FILE.html (interactive).")]
EfficiencyOpt = Annotated[float, typer.Option("--efficiency-j-per-th", help="Fleet efficiency for mining value per MWh [J/TH].", min=0.001)]

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
    freq: Annotated[str, typer.Option("--freq", help="Aggregation: day, week (Monday start) or month.")] = "day",
    efficiency_j_per_th: EfficiencyOpt = 17.5,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """Price, difficulty, hashrate, fee share, hashprice [USD/PH/day] and mining value [USD/MWh]."""
    from mullet.network.history import network_history
    from mullet.plot import check_plot_path, plot_network_history

    if plot is not None:
        check_plot_path(plot)
    hist = network_history(start, end, freq, efficiency_j_per_th)  # type: ignore[arg-type]
    if fmt is OutputFormat.table:
        view = hist[list(_HISTORY_COLUMNS)].rename(columns=_HISTORY_COLUMNS)
        view["difficulty_t"] = view["difficulty_t"] / 1e12
        view["hashrate_ehs"] = view["hashrate_ehs"] / 1e6
        view.index = view.index.rename(f"{freq}_start_utc")
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
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """Simulate hashrate, difficulty and hashprice forward, with halvings and events (e.g. miners leaving for AI)."""
    import json

    from rich.progress import Progress

    from mullet._output import to_jsonable
    from mullet.network.simulate import SupplyModel, parse_event, simulate_network
    from mullet.plot import check_plot_path, plot_fan

    if plot is not None:
        check_plot_path(plot)
    events = [parse_event(e) for e in event or []]
    with Progress(console=err_console, transient=True) as progress:
        progress.add_task(f"simulating {paths} paths x {years:g} years", total=None)
        result = simulate_network(paths, years, events, seed, SupplyModel(power_cost_median_usd_per_mwh=power_cost_usd_per_mwh))
    summary = result.summary()
    if fmt is OutputFormat.json:
        payload = {
            "price_model": result.price_model.as_dict(),
            "fee_model": result.fee_model.__dict__,
            "events": [e.__dict__ for e in events],
            "by_year": summary.reset_index().to_dict(orient="records"),
        }
        console.file.write(json.dumps(to_jsonable(payload), indent=1) + "\n")
    else:
        pm = result.price_model
        console.print(
            f"BTC price model (fitted {pm.fitted_on}): drift {pm.drift_per_year:.1%}/yr, vol {pm.vol_per_year:.1%}/yr, "
            f"jumps {pm.jump_per_year:.1f}/yr of mean {pm.jump_mean:+.1%} sd {pm.jump_sd:.1%}; fees/block median "
            f"{result.fee_model.median_btc_per_block:.4f} BTC (fitted {result.fee_model.fitted_on})",
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
    paths: Annotated[int, typer.Option("--paths", min=1, max=10_000)] = 50,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    power_cost_usd_per_mwh: Annotated[float, typer.Option("--power-cost-usd-per-mwh", help="Power price for the halving table.")] = 45.0,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Simulated retargets against the real ones (driven by real hashrate), and the April 2024 halving."""
    import json

    from mullet._output import to_jsonable
    from mullet.network.backtest import backtest, halving_episode

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
    if fmt is OutputFormat.json:
        payload = {"backtest": rows, "halving_2024": halving.reset_index().to_dict(orient="records")}
        console.file.write(json.dumps(to_jsonable(payload), indent=1) + "\n")
        return
    emit_records(console, rows, fmt, title=f"Retarget backtest {start}..{end}")
    emit_frame(console, halving.T, fmt, title=f"April 2024 halving: 30 days before and after, power at ${power_cost_usd_per_mwh:g}/MWh", index_label="field")


_PNL_LABELS = {
    "mining_revenue_usd": "mining revenue",
    "ai_revenue_usd": "AI/HPC revenue",
    "ancillary_revenue_usd": "ancillary / demand response",
    "ppa_settlement_usd": "PPA settlement (spot - fixed) x volume",
    "spot_energy_cost_usd": "- spot energy",
    "retail_adder_cost_usd": "- retail adders",
    "demand_charge_usd": "- demand charges",
    "four_cp_charge_usd": "- 4CP transmission",
    "sla_penalty_usd": "- SLA credits",
    "net_usd": "net",
}


@app.command("dispatch")
def dispatch_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (see scenarios/).")],
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day, inclusive (default: the scenario's).")] = None,
    solver: Annotated[str, typer.Option("--solver", help="auto (fast path when exact, else LP), lp or fast.")] = "auto",
    fmt: FormatOpt = OutputFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for schedule.parquet and summary.json.")] = None,
    plot: PlotOpt = None,
) -> None:
    """Dispatch a hybrid site: when to mine, what to offer, what each MW earns."""
    import json

    from mullet._output import to_jsonable
    from mullet.dispatch import dispatch
    from mullet.plot import check_plot_path, plot_dispatch

    if plot is not None:
        check_plot_path(plot)
    result = dispatch(scenario, start, end, solver)  # type: ignore[arg-type]
    summary = result.summary()
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(to_jsonable(summary), indent=1) + "\n")
    elif fmt is OutputFormat.csv:
        rows = [{"section": "pnl", "key": k, "value": v} for k, v in result.pnl.items()]
        rows += [{"section": "metrics", "key": k, "value": v} for k, v in result.metrics.items()]
        emit_records(console, rows, fmt)
    else:
        head = f"{result.scenario}: {summary['start_utc'][:10]} .. {summary['end_utc'][:10]} UTC, {summary['interval_minutes']}-min intervals"
        pnl = {_PNL_LABELS[k]: v for k, v in result.pnl.items()}
        console.print(f"{head}; solver {result.solver} ({result.status})", markup=False, highlight=False)
        emit_records(console, pnl, fmt, title="P&L [USD]")
        emit_records(console, result.metrics, fmt, title="Metrics")
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.schedule.to_parquet(out / "schedule.parquet")
        (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=1))
        err_console.print(f"schedule written to {out / 'schedule.parquet'}")
    if plot is not None:
        err_console.print(f"chart written to {plot_dispatch(result, plot)}")


def _rates(text: str) -> list[float]:
    try:
        values = [float(v) / 100 for v in text.split(",") if v.strip()]
    except ValueError:
        raise MulletError(f"rates: got {text!r}, allowed: comma-separated percentages like 0.25,0.5,1,5") from None
    if not values:
        raise MulletError(f"rates: got {text!r}, allowed: at least one percentage")
    return values


@grid_app.command("headroom")
def grid_headroom_cmd(
    load: Annotated[Path | None, typer.Option("--load", help="Hourly system load CSV/Parquet (interval_start_utc + column); default: bundled ERCOT.")] = None,
    column: Annotated[str, typer.Option("--column", help="Load column of --load [MW].")] = "ERCOT",
    rates: Annotated[str, typer.Option("--rates", help="Target curtailment rates, percent, comma-separated.")] = "0.25,0.5,1,5",
    tz: Annotated[str, typer.Option("--tz", help="Time zone whose months define the seasons.")] = "America/Chicago",
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """How much constant new load the grid absorbs if it accepts some curtailment (Norris et al. 2025)."""
    from mullet.data import load_system_load
    from mullet.grid import headroom
    from mullet.plot import check_plot_path, plot_headroom

    if plot is not None:
        check_plot_path(plot)
    series = load_system_load(load, column)["load_mw"]
    result = headroom(series, _rates(rates), tz=tz)
    title = (
        f"Curtailment-enabled headroom; thresholds {result.summer_threshold_mw:,.0f} MW (summer), "
        f"{result.winter_threshold_mw:,.0f} MW (winter); years {', '.join(map(str, result.years_used))}"
    )
    emit_frame(console, result.table(), fmt, title=title)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
    if plot is not None:
        err_console.print(f"chart written to {plot_headroom(series, result, plot, tz)}")


@grid_app.command("impact")
def grid_impact_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day, inclusive.")] = None,
    rate: Annotated[float, typer.Option("--headroom-rate", help="Curtailment rate [%] of the headroom the site is compared with.")] = 0.5,
    emissions: Annotated[Path | None, typer.Option("--emissions", help="Hourly emission factors CSV/Parquet (emission_factor_t_per_mwh).")] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The site's MW as firm AI, as flexible mining and as its hybrid: load at system peaks, headroom used, emissions."""
    from mullet.grid import load_emission_factors, site_impact

    factors = load_emission_factors(emissions) if emissions is not None else None
    result = site_impact(scenario, start, end, rate / 100, factors)
    title = f"Site vs system over {result.hours_compared:,} h; site {result.site_mw:,.1f} MW; headroom at {rate:g}% curtailment {result.headroom_mw:,.0f} MW"
    emit_frame(console, result.table, fmt, title=title)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)


DbOpt = Annotated[Path, typer.Option("--db", help="DuckDB results store.")]


def _floats(text: str, field: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise MulletError(f"{field}: got {text!r}, allowed: comma-separated numbers") from None


@app.command("plan")
def plan_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file of the site.")],
    paths: Annotated[int, typer.Option("--paths", min=1, max=1_000_000)] = 200,
    years: Annotated[int, typer.Option("--years", min=1, max=30)] = 10,
    ai_shares: Annotated[str, typer.Option("--ai-shares", help="Shares of the site's MW turned into AI.")] = "0,0.25,0.5,0.75,1",
    conversion_years: Annotated[str, typer.Option("--conversion-years", help="Years the AI load is energised (1 = first).")] = "1,3",
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    ai_usd_per_kw_month: Annotated[float, typer.Option("--ai-usd-per-kw-month", help="AI lease rate [USD/kW-month of IT].")] = 130.0,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Discount rate [-/year].")] = 0.12,
    exit_ev_usd_per_mw: Annotated[float, typer.Option("--exit-ev-usd-per-mw", help="Sale price of the site per MW.")] = 1_500_000.0,
    ai_contract: Annotated[str, typer.Option("--ai-contract", help="lease ($/kW-month) or gpu_cloud (sell GPU-hours at a declining price).")] = "lease",
    gpu_usd_per_hour: Annotated[float, typer.Option("--gpu-usd-per-hour", help="GPU rental price in the first AI year (gpu_cloud).")] = 2.0,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT (or MULLET_SCHEDULER).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Local processes (default: all cores).", min=1)] = None,
    db: DbOpt = Path("mullet.duckdb"),
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """NPV distributions of turning a site's MW into AI, by share and year, with pure mining, pure AI, hybrid and exit."""
    import json

    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mullet._output import to_jsonable
    from mullet.plan import PlanConfig, input_hash, run_plan
    from mullet.site import load_scenario
    from mullet.store import save_plan

    sc = load_scenario(scenario)
    cfg = PlanConfig(
        paths=paths,
        years=years,
        ai_shares=_floats(ai_shares, "ai_shares"),
        conversion_years=[int(v) for v in _floats(conversion_years, "conversion_years")],
        seed=seed,
        ai_usd_per_kw_month=ai_usd_per_kw_month,
        discount_rate_fraction=discount_rate,
        exit_ev_usd_per_mw=exit_ev_usd_per_mw,
        ai_contract=ai_contract,
        gpu_usd_per_hour=gpu_usd_per_hour,
    )
    started = pd.Timestamp.now(tz="UTC")
    with Progress(TextColumn("plan"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("chunks", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_plan(sc, cfg, scheduler=scheduler, workers=workers, progress=progress)
    table = result.table()
    strategies = result.strategies()
    share, conv = result.recommended()
    summary = {
        "scenario": sc.name,
        "paths_completed": result.completed_paths,
        "interrupted": result.interrupted,
        "recommended": {"ai_share": share, "conversion_year": conv},
        "strategies": strategies.reset_index().to_dict(orient="records"),
        "table": table.to_dict(orient="records"),
        "notes": result.notes,
    }
    run_id = save_plan(db, result, str(scenario), scenario.read_text(), input_hash(sc, cfg), started, to_jsonable(summary))
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(to_jsonable({"run_id": run_id, **summary}), indent=1) + "\n")
    else:
        cols = ["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "loss_probability"]
        cols += ["revenue_usd_per_mw_year", "irr_p50", "payback_p50_years", "peak_funding_p50_musd", "npv_p50_usd_per_mw"]
        emit_frame(console, table[cols], fmt, title=f"{sc.name}: {result.completed_paths} paths x {years} years, NPV at {discount_rate:.0%} [M USD]")
        emit_frame(
            console, strategies[["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "loss_probability"]], fmt, title="Strategies"
        )
        console.print(f"recommended: {share:.0%} of the site's MW as AI from year {conv}; run {run_id} stored in {db}", markup=False)
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
    if result.interrupted:
        raise typer.Exit(130)


@runs_app.command("list")
def runs_list_cmd(db: DbOpt = Path("mullet.duckdb"), fmt: FormatOpt = OutputFormat.table) -> None:
    """All stored runs, newest first."""
    from mullet.store import list_runs

    emit_frame(console, list_runs(db), fmt, title=f"Runs in {db}")


@runs_app.command("show")
def runs_show_cmd(run_id: Annotated[str, typer.Argument()], db: DbOpt = Path("mullet.duckdb"), fmt: FormatOpt = OutputFormat.table) -> None:
    """One run's metadata and strategy summary."""
    import json

    from mullet._output import to_jsonable
    from mullet.store import show_run

    rec = show_run(db, run_id)
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(to_jsonable(rec), indent=1, default=str) + "\n")
        return
    summary = rec.pop("summary")
    rec.pop("scenario_toml", None)
    emit_records(console, rec, fmt, title=f"Run {run_id}")
    emit_records(console, summary["strategies"], fmt, title="Strategies")


@runs_app.command("compare")
def runs_compare_cmd(run_a: str, run_b: str, db: DbOpt = Path("mullet.duckdb"), fmt: FormatOpt = OutputFormat.table) -> None:
    """Two runs side by side: NPV per AI share and conversion year."""
    from mullet.store import compare_runs

    emit_frame(console, compare_runs(db, run_a, run_b), fmt, title=f"{run_a} (a) vs {run_b} (b), M USD")


@runs_app.command("export")
def runs_export_cmd(run_id: str, out: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet")], db: DbOpt = Path("mullet.duckdb")) -> None:
    """Per-path results of a run to CSV or Parquet."""
    from mullet.store import export_run

    err_console.print(f"written {export_run(db, run_id, out)}")


@contracts_app.command("examples")
def contracts_examples_cmd(
    dates: Annotated[str, typer.Option("--dates", help="Days of the hashprice history to compare mining at.")] = "2023-06-01,2024-06-01,2025-06-01",
    efficiency_j_per_th: EfficiencyOpt = 17.5,
    power_usd_per_mwh: Annotated[float, typer.Option("--power-usd-per-mwh", help="Power price for mining margins.")] = 45.0,
    gpu_usd_per_hour: Annotated[float, typer.Option("--gpu-usd-per-hour", help="H100 rental price for the 10 MW claim.")] = 2.0,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """IREN-Microsoft and Hut 8-Fluidstack per MW-year next to mining; and '10 MW of H100s earn what 100 MW of mining earns'."""
    from mullet.contracts import compare_contracts

    deals, claim = compare_contracts([d.strip() for d in dates.split(",") if d.strip()], efficiency_j_per_th, power_usd_per_mwh, gpu_usd_per_hour)
    emit_frame(console, deals, fmt, title="Contracted AI revenue per IT MW-year vs mining per MW-year (USD)")
    emit_frame(
        console, claim, fmt, title=f"10 MW of H100 GPU cloud at ${gpu_usd_per_hour:g}/GPU-h vs 100 MW of mining at {efficiency_j_per_th:g} J/TH (USD/year)"
    )


@app.command("industry")
def industry_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Facts known on this day (default: all).")] = None,
    company: Annotated[str | None, typer.Option("--company", help="One company.")] = None,
    facts: Annotated[Path | None, typer.Option("--facts", help="Your own facts file (same columns), merged in.")] = None,
    ev: Annotated[Path | None, typer.Option("--ev", help="CSV of company, as_of, enterprise_value_usd for EV per MW.")] = None,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """The public miners' pivot to AI: MW, contracts, revenue per MW-year, with sources."""
    from mullet.data import read_table
    from mullet.industry import deals, load_facts, peer_table, plot_ai_vs_power
    from mullet.plot import check_plot_path

    if plot is not None:
        check_plot_path(plot)
    data = load_facts(facts)
    evs = read_table(ev) if ev is not None else None
    table = peer_table(data, as_of, company, evs)
    d = deals(data, as_of)
    if company is not None and len(d):
        d = d[d["company"] == company]
    emit_frame(console, table, fmt, title=f"Peers{' as of ' + as_of if as_of else ''}: MW, contracted AI revenue [USD/year and USD/IT MW-year]")
    if fmt is OutputFormat.table and len(d):
        emit_frame(console, d, fmt, title="AI/HPC contracts (per MW-year from the finance lease model)")
    if plot is not None:
        err_console.print(f"chart written to {plot_ai_vs_power(table, plot)}")


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but loopback needs MULLET_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    db: DbOpt = Path("mullet.duckdb"),
    scenarios: Annotated[Path, typer.Option("--scenarios", help="Folder of scenario files the dashboard may run.")] = Path("scenarios"),
) -> None:
    """Run the dashboard (FastAPI + uvicorn): runs, reports, comparison, a scenario form, the industry tracker."""
    import os

    token = os.environ.get("MULLET_TOKEN") or None
    if host not in _LOOPBACK and not token:
        raise MulletError(f"host: got {host!r}, a non-loopback address; allowed: 127.0.0.1, or set MULLET_TOKEN to require a token on every request")
    try:
        import uvicorn

        from mullet.web import create_app
    except ImportError:
        raise MulletError("serve: the dashboard needs its extra; install it with: pip install 'mullet[web]'") from None
    app_ = create_app(db, scenarios, token=token)
    err_console.print(f"mullet dashboard on http://{host}:{port}/ (store {db}, scenarios {scenarios}){'; token required' if token else ''}")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@app.command("report")
def report_cmd(
    target: Annotated[str, typer.Argument(help="A stored RUN_ID or a SCENARIO.toml file.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (self-contained, works offline).")] = Path("report.html"),
    db: DbOpt = Path("mullet.duckdb"),
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (scenario reports).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day (scenario reports).")] = None,
) -> None:
    """Write one self-contained HTML report of a stored run or a scenario."""
    from mullet.report import report_for_run, report_for_scenario

    if out.suffix.lower() != ".html":
        raise MulletError(f"out: got '{out.name}', allowed: a file ending in .html")
    if target.endswith(".toml"):
        written = report_for_scenario(target, out, start, end)
    else:
        written = report_for_run(db, target, out)
    err_console.print(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB)")


def main() -> None:
    """Entry point: run the app, turning domain errors into one line and exit code 2."""
    try:
        app(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or exc.title
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        err_console.print(f"error: {field}: {first['msg']} (got {first.get('input')!r}){more}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except (MulletError, ValueError, OSError) as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
