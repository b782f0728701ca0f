"""Curtailment-enabled headroom and site-versus-system impact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mullet.data import load_system_load
from mullet.errors import ScenarioError
from mullet.grid import curtailment_rate, headroom, prepare_load, site_impact

ROOT = Path(__file__).parents[1]
ALL_SUMMER = dict.fromkeys(range(1, 13), "summer")


def ramp_load(years: tuple[int, ...] = (2021, 2023), peak_mw: float = 80_000.0, step_mw: float = 10.0, n: int = 300) -> pd.Series:
    """Flat load with, in each year's July, n hours descending from the peak in steps of step_mw."""
    parts = []
    for y in years:
        idx = pd.date_range(f"{y}-01-01", f"{y + 1}-01-01", freq="1h", tz="America/Chicago", inclusive="left").tz_convert("UTC")
        load = np.full(len(idx), peak_mw - 100 * n * step_mw)
        july = np.flatnonzero(idx.tz_convert("America/Chicago").month == 7)[:n]
        load[july] = peak_mw - step_mw * np.arange(n)
        parts.append(pd.Series(load, index=idx))
    return pd.concat(parts)


def test_analytic_headroom_of_a_ramp() -> None:
    # with L = m x step, the curtailed MWh per year are step m(m+1)/2, so the rate is (m+1)/(2H)
    load = ramp_load()
    hours = 8760
    for m in (10, 87, 250):
        rate = (m + 1) / (2 * hours)
        assert curtailment_rate(prepare_load(load, seasons=ALL_SUMMER), m * 10.0) == pytest.approx(rate, rel=1e-12)
        res = headroom(load, [rate], seasons=ALL_SUMMER)
        assert res.rows[0].new_load_mw == pytest.approx(m * 10.0, abs=1.0)
        # hours with load > peak - L: m, or m + 1 when the root lands a hair above m x step
        assert res.rows[0].curtailment_hours_per_year in (m, m + 1)
        assert res.rows[0].mean_event_hours == res.rows[0].curtailment_hours_per_year  # one run per year
        assert res.years_used == (2021, 2023)


def test_root_finder_accuracy_against_brute_force() -> None:
    series = load_system_load()["load_mw"]
    prep = prepare_load(series)
    res = headroom(series, [0.005])
    found = res.rows[0].new_load_mw
    grid = np.arange(found - 20, found + 20, 0.25)
    rates = np.array([curtailment_rate(prep, x) for x in grid])
    brute = grid[np.argmin(np.abs(rates - 0.005))]
    assert abs(found - brute) <= 1.0
    assert res.rows[0].achieved_rate_fraction == pytest.approx(0.005, rel=1e-3)


@settings(max_examples=25, deadline=None)  # random again: each root brackets the next, so nearly equal rates cannot reorder them
@given(st.integers(0, 2**32 - 1), st.lists(st.floats(0.001, 0.2), min_size=2, max_size=4, unique=True))
@example(seed=0, rates=[0.01, 0.01 + 1e-12])  # nearly equal rates: the case that once ordered Brent roots by 2e-11 MW
def test_more_allowed_curtailment_never_lowers_headroom(seed: int, rates: list[float]) -> None:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2023-01-01", periods=8760, freq="1h", tz="UTC")
    t = np.arange(8760)
    load = 50_000 + 15_000 * np.sin(2 * np.pi * (t / 8760 - 0.3)) ** 2 + 5_000 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1_500, 8760)
    res = headroom(pd.Series(load, index=idx), rates)
    sizes = [r.new_load_mw for r in res.rows]
    assert sizes == sorted(sizes)  # by construction, not within a tolerance
    prep = prepare_load(pd.Series(load, index=idx))
    for row in res.rows:  # and each is still the root of its own rate (to the 1 MW tolerance)
        assert curtailment_rate(prep, row.new_load_mw - 1.0) <= row.rate_fraction + 1e-12
        assert curtailment_rate(prep, row.new_load_mw + 1.0) >= row.rate_fraction - 1e-12
    own = res.per_year[res.per_year["used"]].filter(like="headroom_gw_").iloc[0].to_numpy()
    assert (np.diff(own) >= 0).all()  # the year's own headroom too


def test_bundled_ercot_headroom_table() -> None:
    res = headroom(load_system_load()["load_mw"])
    table = res.table()
    assert list(table.index) == [0.25, 0.5, 1.0, 5.0]
    assert res.summer_threshold_mw == pytest.approx(85_464.116)  # 2023-08-10 HE18
    assert res.years_used == (2021, 2023)
    assert any("2024: only 5855 of 8784 hours" in n for n in res.notes)
    assert (np.diff(table["headroom_gw"]) > 0).all()
    # the 0.25% headroom is a few GW: curtailment hours concentrate in summer
    assert 1.0 < table.loc[0.25, "headroom_gw"] < 10.0
    assert table.loc[0.25, "summer_hours_fraction"] > 0.5


def test_missing_hours_are_reported_and_thin_years_left_out() -> None:
    load = ramp_load(years=(2021, 2022, 2023))
    # drop 100 hours of 2021 and most of 2022
    drop = load.index[1000:1100].append(load.index[9000:15000])
    res = headroom(load.drop(drop), [0.002], seasons=ALL_SUMMER)
    assert res.years_used == (2021, 2023)
    assert any("2021: 100 of 8760 hours missing" in n for n in res.notes)
    assert any("2022: only" in n and "left out" in n for n in res.notes)


def test_bad_rates_and_inputs() -> None:
    load = ramp_load()
    with pytest.raises(ScenarioError, match="rates: got 0%"):
        headroom(load, [0.0])
    with pytest.raises(ScenarioError, match="tz-aware"):
        headroom(pd.Series([1.0, 2.0]), [0.01])


@pytest.fixture(scope="module")
def summer_impact():  # type: ignore[no-untyped-def]
    idx = pd.date_range("2023-06-01", "2023-10-01", freq="1h", tz="UTC", inclusive="left")
    factors = pd.Series(0.4, index=idx)
    return site_impact(ROOT / "scenarios/default.toml", "2023-06-01", "2023-09-30", emission_factors=factors)


def test_firm_flexible_hybrid_at_the_system_peak(summer_impact) -> None:  # type: ignore[no-untyped-def]
    t = summer_impact.table
    assert list(t.index) == ["firm_ai", "flexible_mining", "hybrid"]
    site = summer_impact.site_mw
    assert t.loc["firm_ai", "load_at_system_peak_mw"] == pytest.approx(site, rel=1e-4)
    # perfect-foresight 4CP: the flexible variants shed all mining in the four peak hours
    assert t.loc["flexible_mining", "mean_load_4cp_mw"] == pytest.approx(0.0, abs=1e-6)
    assert t.loc["hybrid", "mean_load_4cp_mw"] == pytest.approx(125.0)  # only the firm AI block
    assert t.loc["firm_ai", "headroom_share_fraction"] > t.loc["hybrid", "headroom_share_fraction"] > t.loc["flexible_mining", "headroom_share_fraction"]
    assert t.loc["flexible_mining", "given_back_top100_mwh"] > t.loc["hybrid", "given_back_top100_mwh"] > t.loc["firm_ai", "given_back_top100_mwh"]


def test_emissions_with_a_constant_factor(summer_impact) -> None:  # type: ignore[no-untyped-def]
    t = summer_impact.table
    np.testing.assert_allclose(t["intensity_t_per_mwh"], 0.4)
    np.testing.assert_allclose(t["emissions_tco2"], 0.4 * t["energy_mwh"])


def test_cli_grid_commands(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "grid", "headroom", "--rates", "0.5,1", "--format", "json", "--plot", str(tmp_path / "h.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["ERCO"]["pooled"]  # default: bundled raw EIA-930 ERCO 2016-2024
    assert [r["rate_pct"] for r in rows] == [0.5, 1.0]
    assert (tmp_path / "h.png").stat().st_size > 10_000
    bad = subprocess.run([sys.executable, "-m", "mullet.cli", "grid", "headroom", "--rates", "abc"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "rates: got 'abc'" in bad.stderr
