"""``mullet dispatch``: one site, one horizon, schedule and P&L."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_records
from mullet.cli._common import FormatOpt, PlotOpt, app, console, err_console

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
    solver: Annotated[str, typer.Option("--solver", help="auto (fast path when separable, coupled solver where exact, else LP), lp, fast or coupled.")] = "auto",
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
