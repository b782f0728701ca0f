"""Every gallery example runs on bundled data, prints its result and writes its chart."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted(p for p in (Path(__file__).parents[1] / "examples").glob("*.py") if not p.name.startswith("_"))


def test_gallery_has_the_six_cases() -> None:
    assert {p.stem for p in EXAMPLES} == {"riot_august_2023", "ai_vs_mining_per_mw", "halving_2024", "mullet_site", "ercot_headroom", "hashrate_leaves_for_ai"}


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=script.parent)
    assert out.returncode == 0, out.stderr
    charts = re.findall(r"chart: (\S+)", out.stdout)
    assert charts, out.stdout
    for chart in charts:
        assert Path(chart).stat().st_size > 10_000


def test_known_results_hold() -> None:
    """Numbers the gallery quotes against published figures must not drift silently."""
    from mullet.contracts import compare_contracts
    from mullet.network import halving_episode

    deals, _ = compare_contracts(["2024-06-01"])
    assert deals.iloc[0]["usd_per_mw_year"] == pytest.approx(9.7e6)  # IREN-Microsoft: $9.7B / 5 years / 200 MW
    h = halving_episode()
    assert h.loc["before", "hashprice_usd_per_ph_day"] == pytest.approx(106.7, abs=0.1)
    assert h.loc["after", "hashprice_usd_per_ph_day"] == pytest.approx(55.1, abs=0.1)
