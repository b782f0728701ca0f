"""``mullet runs``: stored runs (DuckDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import DbOpt, FormatOpt, OutDirOpt, app, console, err_console

runs_app = typer.Typer(help="Stored runs (DuckDB): list, show, compare, export.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


@runs_app.command("list")
def runs_list_cmd(db: DbOpt = Path("mullet.duckdb"), fmt: FormatOpt = OutputFormat.table) -> None:
    """All stored runs, newest first."""
    from mullet.store import list_runs

    emit_frame(console, list_runs(db), fmt, title=f"Runs in {db}")


@runs_app.command("show")
def runs_show_cmd(
    run_id: Annotated[str, typer.Argument(help="Run id from `mullet runs list`.")],
    db: DbOpt = Path("mullet.duckdb"),
    fmt: FormatOpt = OutputFormat.table,
    out: OutDirOpt = None,
) -> None:
    """One run's metadata, assumptions and results (P&L and metrics, or plan strategies)."""
    from mullet._output import emit_tables, require_out_for_csv
    from mullet.runs import show_run

    rec = show_run(db, run_id)
    tables = rec.tables()
    require_out_for_csv(fmt, out, list(tables))
    if fmt is OutputFormat.json:
        import json

        from mullet._output import to_jsonable

        console.file.write(json.dumps(to_jsonable({**rec.meta, "summary": rec.summary}), indent=1, default=str) + "\n")
        if out is not None:
            emit_tables(console, err_console, tables, fmt, out, print_tables=False)
    else:
        emit_tables(console, err_console, tables, fmt, out)
    for note in rec.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False)


@runs_app.command("compare")
def runs_compare_cmd(
    run_a: Annotated[str, typer.Argument(help="First plan run id.")],
    run_b: Annotated[str, typer.Argument(help="Second plan run id.")],
    db: DbOpt = Path("mullet.duckdb"),
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Two runs side by side: NPV per AI share and conversion year."""
    from mullet.store import compare_runs

    emit_frame(console, compare_runs(db, run_a, run_b), fmt, title=f"{run_a} (a) vs {run_b} (b), M USD")


@runs_app.command("export")
def runs_export_cmd(
    run_id: Annotated[str, typer.Argument(help="Plan run id.")],
    out: Annotated[Path, typer.Option("--out", help="FILE.csv or FILE.parquet")],
    db: DbOpt = Path("mullet.duckdb"),
) -> None:
    """Per-path results of a run to CSV or Parquet."""
    from mullet.store import export_run

    err_console.print(f"written {export_run(db, run_id, out)}")
