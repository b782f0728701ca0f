"""``mullet runs``: stored runs (DuckDB)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame, emit_records
from mullet.cli._common import DbOpt, FormatOpt, app, console, err_console

runs_app = typer.Typer(help="Stored plan runs (DuckDB): list, show, compare, export.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


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
