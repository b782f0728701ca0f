"""``mullet data``: fetch what is new since the bundled history, and show what every command reads."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import FormatOpt, app, console, err_console, progress_bar

data_app = typer.Typer(help="Bundled data and updates: `update` fetches new rows, `status` shows coverage.", no_args_is_help=True)
app.add_typer(data_app, name="data")

StoreOpt = Annotated[Path | None, typer.Option("--dir", help="Update store (default: $MULLET_DATA_DIR or the user data directory).")]


@data_app.command("update")
def data_update_cmd(
    source: Annotated[str, typer.Option("--source", help="Sources, comma-separated: mempool, coinmetrics, ercot.")] = "mempool,coinmetrics,ercot",
    since: Annotated[str | None, typer.Option("--since", help="First UTC day to fetch (default: after the last row held).")] = None,
    store: StoreOpt = None,
) -> None:
    """Fetch new rows from public sources, validate them and merge them over the bundled files (with provenance)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from mullet.data.update import UpdateError, store_dir, update

    root = store or store_dir()
    sources = [s.strip() for s in source.split(",") if s.strip()]
    with progress_bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        tasks: dict[str, object] = {}

        def progress(step: str, done: int, total: int | None) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)  # type: ignore[arg-type]

        try:
            report = update(sources, since, root=root, progress=progress)
        except KeyboardInterrupt:
            err_console.print(f"interrupted: rows merged before the interrupt are kept in {root}; run again to continue", markup=False)
            raise typer.Exit(130) from None
        except UpdateError:
            raise
    for key, n in report.rows_changed.items():
        console.print(f"{key}: {n} row(s) added or revised", markup=False, highlight=False)
    for note in report.notes:
        err_console.print(f"note: {note}", markup=False)
    err_console.print(f"store: {root}", markup=False)


@data_app.command("status")
def data_status_cmd(store: StoreOpt = None, fmt: FormatOpt = OutputFormat.table) -> None:
    """Coverage of every dataset: bundled span, rows added by updates, the merged end, source and retrieval time."""
    from mullet.data.update import status, store_dir

    root = store or store_dir()
    emit_frame(console, status(root), fmt, title=f"Datasets (bundled + updates in {root})")


@data_app.command("gridstatus")
def data_gridstatus_cmd(
    source: Annotated[Path, typer.Argument(help="gridstatus-shaped CSV/Parquet (Interval Start, Interval End, Location, Market, SPP or LMP).")],
    out: Annotated[Path, typer.Option("--out", help="Price file to write (interval_start_utc + one column per location, USD/MWh).")],
    market: Annotated[str | None, typer.Option("--market", help="Market to keep when the file holds several (e.g. REAL_TIME_HOURLY).")] = None,
    locations: Annotated[str | None, typer.Option("--locations", help="Locations to keep, comma-separated (default all).")] = None,
    freq: Annotated[str | None, typer.Option("--freq", help="Average to this interval, e.g. 15min or 1h (default: the data's own).")] = None,
) -> None:
    """Turn gridstatus-shaped prices of any ISO into a mullet price file (a scenario's power.price_file)."""
    from mullet.data.gridstatus import load_gridstatus_prices, to_mullet_csv

    keep = [c.strip() for c in locations.split(",") if c.strip()] if locations else None
    prices = load_gridstatus_prices(source, market=market, locations=keep, freq=freq)
    path = to_mullet_csv(prices, out)
    span = f"{prices.index[0]:%Y-%m-%d %H:%M}..{prices.index[-1]:%Y-%m-%d %H:%M} UTC"
    what = f"{len(prices)} intervals of {prices.attrs['interval']} ({span}), market {prices.attrs['market']}, {len(prices.columns)} location(s)"
    console.print(f"{path}: {what}", markup=False)
    gaps = int(prices.isna().sum().sum())
    if gaps:
        err_console.print(f"note: {gaps} location-interval(s) have no price (left empty, never filled)", markup=False)
