"""Render result frames and records as a table, JSON or CSV (display only, no business logic)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

__all__ = ["OutputFormat", "emit_frame", "emit_records", "to_jsonable"]


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
    table = Table(title=title or None)
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for row in frame.itertuples(index=False):
        table.add_row(*[_fmt(v) for v in row])
    console.print(table)


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
        table.add_column("field")
        table.add_column("value", justify="right")
        for key, value in records.items():
            table.add_row(str(key), _fmt(value))
        console.print(table)
        return
    emit_frame(console, pd.DataFrame(list(records)), fmt, title)
