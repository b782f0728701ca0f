"""Shared pieces of the command line: the root app, consoles and common options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn

from mullet._output import OutputFormat
from mullet.errors import MulletError

__all__ = ["DbOpt", "EfficiencyOpt", "FormatOpt", "OutDirOpt", "PlotOpt", "app", "console", "err_console", "floats", "time_zone"]

app = typer.Typer(
    name="mullet",
    help="Economics of hybrid AI/HPC + Bitcoin-mining sites: hashprice, dispatch, planning, grid impact.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, soft_wrap=True)


def progress_bar(*columns: str | ProgressColumn) -> Progress:
    """A transient progress bar on stderr, shown only when stderr is a terminal (pipes and logs get no residue)."""
    return Progress(*columns, console=err_console, transient=True, disable=not err_console.is_terminal)


FormatOpt = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
PlotOpt = Annotated[Path | None, typer.Option("--plot", help="Write a chart: FILE.png (static) or FILE.html (interactive).")]
EfficiencyOpt = Annotated[float, typer.Option("--efficiency-j-per-th", help="Fleet efficiency for mining value per MWh [J/TH].", min=0.001)]
OutDirOpt = Annotated[Path | None, typer.Option("--out", help="Folder for one CSV file per table (needed by --format csv when there are several tables).")]
DbOpt = Annotated[Path, typer.Option("--db", help="DuckDB results store.")]


def floats(text: str, field: str) -> list[float]:
    """Parse comma-separated numbers of option ``field``; a bad value is a one-line error naming it."""
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise MulletError(f"{field}: got {text!r}, allowed: comma-separated numbers") from None


def time_zone(value: str) -> str:
    """Option callback: an IANA time zone name such as America/Chicago (one-line error otherwise)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"got {value!r}, allowed: an IANA time zone such as America/Chicago or UTC") from None
    return value


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        console.print(f"mullet {version('mullet')}", markup=False, highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print mullet's version and exit.", callback=_version, is_eager=True)] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an unexpected failure (also MULLET_DEBUG=1).")] = False,
) -> None:
    """Economics of hybrid AI/HPC + Bitcoin-mining sites: hashprice, dispatch, planning, grid impact, control."""
