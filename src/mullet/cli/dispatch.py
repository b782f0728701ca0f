"""``mullet dispatch``: one site, one horizon, schedule and P&L."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame, emit_records
from mullet.cli._common import FormatOpt, PlotOpt, app, console, err_console
from mullet.errors import MulletError
from mullet.runs import Fill, Policy, Solver

_PNL_LABELS = {
    "mining_revenue_usd": "mining revenue",
    "ai_revenue_usd": "AI/HPC revenue (contracts)",
    "ai_energy_reimbursement_usd": "AI energy repaid by triple-net tenants",
    "ancillary_revenue_usd": "ancillary / demand response",
    "ppa_settlement_usd": "PPA settlement (spot - fixed) x volume",
    "spot_energy_cost_usd": "- spot energy (at the PPA hub)",
    "load_zone_basis_cost_usd": "- load-zone basis (load zone - hub)",
    "retail_adder_cost_usd": "- retail adders",
    "demand_charge_usd": "- demand charges",
    "four_cp_charge_usd": "- coincident-peak transmission (4CP/5CP)",
    "sla_penalty_usd": "- SLA credits",
    "net_usd": "net",
}


@app.command("dispatch")
def dispatch_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file (see scenarios/).")],
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day, inclusive (default: the scenario's).")] = None,
    solver: Annotated[Solver, typer.Option("--solver", help="auto (fast if separable, coupled where exact, else LP), lp, fast or coupled.")] = Solver.auto,
    policy: Annotated[
        Policy,
        typer.Option(
            "--policy",
            help="perfect (every price known: an upper bound), realtime (price response), realtime_4cp (+ forecast 4CP calls), "
            "dayahead (+ day-ahead hourly ancillary commitment).",
        ),
    ] = Policy.perfect,
    fill: Annotated[
        Fill | None, typer.Option("--fill", help="Gaps in prices, hashprice or ancillary files: error, or ffill (fill from the previous interval, noted).")
    ] = None,
    foresight_table: Annotated[
        bool, typer.Option("--foresight-table", help="Value of foresight: every policy's net P&L per year against perfect foresight.")
    ] = False,
    years: Annotated[str, typer.Option("--years", help="Years of --foresight-table, comma-separated.")] = "2021,2022,2023,2024",
    fmt: FormatOpt = OutputFormat.table,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for schedule.parquet and summary.json.")] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Also store the run (schedule, inputs, assumptions) in this DuckDB store.")] = None,
    plot: PlotOpt = None,
) -> None:
    """Dispatch a hybrid site: when to mine, what to offer, what each MW earns."""
    import json

    from mullet._output import to_jsonable
    from mullet.plot import check_plot_path, plot_dispatch
    from mullet.runs import run_dispatch

    if plot is not None:
        check_plot_path(plot)
    if out is not None and out.exists() and not out.is_dir():
        raise MulletError(f"out: '{out}' is a file; allowed: a folder (created if missing)")
    if foresight_table:
        _foresight(scenario, years, fmt, fill)
        return
    run = run_dispatch(scenario, start, end, solver, fill, db, policy=policy)
    result = run.result
    summary = run.summary()
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(to_jsonable(summary), indent=1) + "\n")
    elif fmt is OutputFormat.csv:
        rows = [{"section": "pnl", "key": k, "value": v} for k, v in result.pnl.items()]
        rows += [{"section": "metrics", "key": k, "value": v} for k, v in result.metrics.items()]
        rows += [{"section": "assumptions", "key": k, "value": v} for k, v in run.assumptions.items()]
        emit_records(console, rows, fmt)
    else:
        a = run.assumptions
        head = f"{result.scenario}: {summary['start_utc'][:10]} .. {summary['end_utc'][:10]} UTC (end exclusive), {summary['interval_minutes']}-min intervals"
        pnl = {_PNL_LABELS[k]: v for k, v in result.pnl.items()}
        console.print(f"{head}, settlement point {a['settlement_point']}; solver {result.solver} ({result.status})", markup=False, highlight=False)
        emit_records(console, pnl, fmt, title="P&L [USD]")
        emit_records(console, result.metrics, fmt, title="Metrics")
        console.print(f"assumption: {a['foresight']}", markup=False, highlight=False)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)
    if run.run_id is not None:
        err_console.print(f"run {run.run_id} stored in {db}", markup=False, highlight=False)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        result.schedule.to_parquet(out / "schedule.parquet")
        (out / "summary.json").write_text(json.dumps(to_jsonable(summary), indent=1))
        err_console.print(f"schedule written to {out / 'schedule.parquet'}", markup=False, highlight=False)
    if plot is not None:
        err_console.print(f"chart written to {plot_dispatch(result, plot)}", markup=False, highlight=False)


def _foresight(scenario: Path, years_text: str, fmt: OutputFormat, fill: object = None) -> None:
    """Print the value-of-foresight table (pipeline: mullet.dispatch.foresight.foresight_table)."""
    from mullet.cli._common import floats
    from mullet.dispatch.foresight import foresight_table
    from mullet.site import load_scenario

    years = [int(y) for y in floats(years_text, "--years")]
    from mullet.site import with_fill

    table, notes = foresight_table(with_fill(load_scenario(scenario), None if fill is None else str(getattr(fill, "value", fill))), years)
    table = table.drop(columns=["seconds"])
    if fmt is OutputFormat.table:
        shown = table.copy()
        for col in ("net_usd", "gap_to_perfect_usd", "ancillary_revenue_usd", "four_cp_charge_usd", "load_zone_basis_cost_usd"):
            shown[col] = (shown[col] / 1e6).round(2)
        shown = shown.rename(columns={c: c.replace("_usd", "_musd") for c in shown.columns if c.endswith("_usd")})
        shown["share_of_perfect_fraction"] = shown["share_of_perfect_fraction"].round(3)
        emit_frame(console, shown.set_index(["year", "policy"]), fmt, title="Value of foresight: net P&L by policy [million USD]; perfect = upper bound")
        for note in notes:
            err_console.print(f"note: {note}", markup=False)
    else:
        emit_frame(console, table, fmt)
