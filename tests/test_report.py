"""The HTML report: a site-year at most half the 10.6 MB it used to be, still offline, with its assumptions."""

from __future__ import annotations

from pathlib import Path

from mullet.runs import write_report

ROOT = Path(__file__).parents[1]


def test_site_year_report_is_small_offline_and_states_its_assumptions(tmp_path: Path) -> None:
    out = write_report(ROOT / "scenarios" / "default.toml", tmp_path / "year.html")
    size = out.stat().st_size
    text = out.read_text()
    assert size <= 5.3e6, size  # 10.6 MB before display-resolution series
    assert "<script src=" not in text  # Plotly inlined; the offline browser test in test_browser.py opens it without a network
    assert text.count('class="plotly-graph-div"') == 6
    for must in ("HB_WEST", "2023-01-01..2023-12-31 UTC", "perfect foresight", "lines show hourly means", "of intervals at or below $0"):
        assert must in text, must
