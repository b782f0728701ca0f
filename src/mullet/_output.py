"""Render result frames and records as a table, JSON or CSV (display only, no business logic).

Tables adapt to the terminal: one that would be wider than the console prints one record per block
(vertical mode) instead of cutting numbers. Numbers use one format everywhere (see ``_fmt``): integers
and magnitudes of a million or more with thousands separators and no decimals, 100 to a million with one
decimal, 10 to 100 with two, below 10 with three; NaN and missing values as ``-``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["OutputFormat", "emit_frame", "emit_records", "emit_tables", "require_out_for_csv", "to_jsonable"]


class OutputFormat(StrEnum):
    """Output formats of every CLI command."""

    table = "table"
    json = "json"
    csv = "csv"


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, NaN and timestamps to plain JSON values (NaN -> null)."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if math.isnan(f):
            return "-"
        if f == 0:
            return "0"
        if abs(f) >= 1e6:
            return f"{f:,.0f}"
        if abs(f) >= 100:
            return f"{f:,.1f}"
        return f"{f:,.3f}" if abs(f) < 10 else f"{f:,.2f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    return str(value)


def emit_frame(console: Console, df: pd.DataFrame, fmt: OutputFormat, title: str = "", index_label: str | None = None) -> None:
    """Print ``df``: a Rich table, JSON records (index as a field) or CSV."""
    if index_label is not None:
        df = df.rename_axis(index_label)
    frame = df.reset_index() if df.index.name else df
    if fmt is OutputFormat.csv:
        console.file.write(frame.to_csv(index=False))
        return
    records = [to_jsonable(dict(zip(frame.columns, row, strict=True))) for row in frame.itertuples(index=False)]
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(records, indent=1) + "\n")
        return
    cells = [[_fmt(v) for v in row] for row in frame.itertuples(index=False)]
    headers = [str(c) for c in frame.columns]
    if _table_width(headers, cells) > console.width and len(headers) > 2:
        _print_vertical(console, headers, cells, title)
        return
    table = Table(title=title or None)
    for column in headers:
        table.add_column(column, justify="right", no_wrap=True)
    for row_cells in cells:
        table.add_row(*row_cells)
    console.print(table)


def _table_width(headers: Sequence[str], cells: Sequence[Sequence[str]]) -> int:
    """Width of a Rich table with these cells, unwrapped: each column's widest text plus borders and padding."""
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    return sum(widths) + 3 * len(widths) + 1


def _print_vertical(console: Console, headers: Sequence[str], cells: Sequence[Sequence[str]], title: str) -> None:
    """A table too wide for the terminal, one record per block (``field  value`` lines), like ``psql``'s expanded mode.

    Numbers keep their full text: nothing is cut to fit.
    """
    if title:
        console.print(title, markup=False, highlight=False, style="italic")
    label = max(len(h) for h in headers)
    for i, row_cells in enumerate(cells):
        console.print(f"-[ {headers[0]} {row_cells[0]} ]-" if headers else f"-[ {i + 1} ]-", markup=False, highlight=False)
        for header, cell in zip(headers[1:], row_cells[1:], strict=True):
            console.print(f"{header.ljust(label)}  {cell}", markup=False, highlight=False, overflow="fold")


def emit_records(console: Console, records: Sequence[Mapping[str, Any]] | Mapping[str, Any], fmt: OutputFormat, title: str = "") -> None:
    """Print one mapping (as key/value rows) or a list of mappings."""
    if isinstance(records, Mapping):
        if fmt is OutputFormat.json:
            console.file.write(json.dumps(to_jsonable(records), indent=1) + "\n")
            return
        frame = pd.DataFrame({"field": list(records.keys()), "value": [_fmt(v) for v in records.values()]})
        if fmt is OutputFormat.csv:
            console.file.write(frame.to_csv(index=False))
            return
        table = Table(title=title or None)
        table.add_column("field", overflow="fold")
        table.add_column("value", justify="right", overflow="fold")
        for key, value in records.items():
            table.add_row(str(key), _fmt(value))
        console.print(table)
        return
    emit_frame(console, pd.DataFrame(list(records)), fmt, title)


def _as_frame(table: pd.DataFrame | Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        return table.reset_index() if table.index.name else table
    if isinstance(table, Mapping):
        return pd.DataFrame({"field": list(table.keys()), "value": list(table.values())})
    return pd.DataFrame(list(table))


def require_out_for_csv(fmt: OutputFormat, out: Path | None, names: Sequence[str]) -> None:
    """Fail before any work when ``--format csv`` would need several documents in one stream."""
    from mullet.errors import MulletError

    if fmt is OutputFormat.csv and out is None and len(names) > 1:
        raise MulletError(f"format: csv of {len(names)} tables ({', '.join(names)}) needs --out DIR (one file per table); or use --format json")


def emit_tables(
    console: Console,
    err_console: Console,
    tables: Mapping[str, tuple[str, pd.DataFrame | Mapping[str, Any] | Sequence[Mapping[str, Any]]]],
    fmt: OutputFormat,
    out: Path | None = None,
    extra: Mapping[str, Any] | None = None,
    print_tables: bool = True,
) -> list[Path]:
    """Print several named tables so that each stream stays one document.

    ``tables`` maps a file-safe name to (title, table). ``table`` prints each with its title; ``json``
    prints one object (``{name: records, **extra}``); ``csv`` prints the table itself when there is only
    one, and otherwise writes ``NAME.csv`` files into ``out`` (a folder) and lists them on stderr.
    With ``out`` given, every format also writes the CSV files. ``print_tables=False`` only writes
    the files (the caller printed its own view). Returns the files written.

    Raises
    ------
    MulletError
        ``csv`` of several tables without ``out``, or ``out`` that is a file.
    """
    from mullet.errors import MulletError

    written: list[Path] = []
    if out is not None:
        if out.exists() and not out.is_dir():
            raise MulletError(f"out: '{out}' is a file; allowed: a folder (created if missing) for one CSV file per table")
        out.mkdir(parents=True, exist_ok=True)
        for name, (_, table) in tables.items():
            path = out / f"{name}.csv"
            _as_frame(table).to_csv(path, index=False)
            written.append(path)
        err_console.print(f"written {', '.join(str(p) for p in written)}", markup=False, highlight=False)
    if not print_tables:
        return written
    if fmt is OutputFormat.csv:
        if len(tables) == 1:
            ((_, only),) = tables.values()
            console.file.write(_as_frame(only).to_csv(index=False))
        elif out is None:
            raise MulletError(f"format: csv of {len(tables)} tables ({', '.join(tables)}) needs --out DIR (one file per table); or use --format json")
        return written
    if fmt is OutputFormat.json:
        doc: dict[str, Any] = {name: to_jsonable(_as_frame(t).to_dict(orient="records")) for name, (_, t) in tables.items()}
        if extra:
            doc.update(to_jsonable(dict(extra)))
        console.file.write(json.dumps(doc, indent=1) + "\n")
        return written
    for _, (title, table) in tables.items():
        if isinstance(table, pd.DataFrame):
            emit_frame(console, table, fmt, title=title)
        else:
            emit_records(console, table, fmt, title=title)
    return written
