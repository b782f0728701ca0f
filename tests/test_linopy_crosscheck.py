"""Two independent LP formulations (mullet's sparse build and linopy's) must reach the same optimum."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mullet.dispatch import build_inputs, solve_lp
from mullet.site import load_scenario

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
linopy_model = pytest.importorskip("linopy_model")

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("name", ["cleanspark_measured_hybrid", "default", "riot_rockdale_2023"])
def test_mullet_lp_equals_linopy_lp(name: str) -> None:
    x = build_inputs(load_scenario(ROOT / "scenarios" / f"{name}.toml"), "2023-08-20", "2023-08-26")
    ours = solve_lp(x).objective_usd
    theirs = linopy_model.solve_with_linopy(x)
    assert ours == pytest.approx(theirs, rel=1e-7)
