"""Terminal layout: tables adapt to the width, numbers are never cut, one number format."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from mullet._output import OutputFormat, _fmt, emit_frame


def _render(frame: pd.DataFrame, width: int) -> str:
    buf = io.StringIO()
    emit_frame(Console(file=buf, width=width, color_system=None), frame, OutputFormat.table, title="NPV [M USD]")
    return buf.getvalue()


WIDE = pd.DataFrame(
    {
        "ai_share": [0.0, 0.5],
        "npv_p10_musd": [-1234.5678, 12.25],
        "npv_p50_musd": [-987654.321, 5.5],
        "npv_p90_musd": [1234567.0, 7.0],
        "revenue_usd_per_mw_year": [1_940_000.0, np.nan],
        "payback_p50_years": [3.25, 4.5],
    }
)


def test_wide_table_turns_vertical_on_a_narrow_terminal_and_keeps_every_digit() -> None:
    narrow = _render(WIDE, 80)
    assert "…" not in narrow
    assert "-[ ai_share 0 ]-" in narrow and "-[ ai_share 0.500 ]-" in narrow
    assert "-987,654" in narrow and "1,234,567" in narrow and "1,940,000" in narrow
    assert max(len(line) for line in narrow.splitlines()) <= 80
    wide = _render(WIDE, 200)
    assert "-[" not in wide and "-987,654" in wide and "…" not in wide


@settings(max_examples=40, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_number_format_round_trips_to_its_stated_precision(value: float) -> None:
    text = _fmt(value)
    back = float(text.replace(",", ""))
    step = 1.0 if abs(value) >= 1e6 else 0.1 if abs(value) >= 100 else 0.01 if abs(value) >= 10 else 0.001
    assert abs(back - value) <= step / 2 + 1e-9 * abs(value)
