"""Headroom on raw EIA-930 (the Duke study's data), screening after Ruggles et al. (2020), many BAs at once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mullet.data import load_system_load
from mullet.data.eia930 import load_eia930_demand
from mullet.errors import ScenarioError
from mullet.grid import FLAGS, headroom, headroom_by_ba, screen_load
from mullet.testing import run_cli

NORRIS_ERCOT_GW = {0.0025: 6.5, 0.005: 10.0, 0.01: 14.7}  # Norris et al. 2025, ERCOT, EIA-930 2016-2024


@pytest.fixture(scope="module")
def erco() -> pd.Series:
    return load_eia930_demand("ERCO")


@pytest.mark.parametrize("screen", [False, True])
def test_norris_ercot_figures_within_3pct_from_raw_eia930(erco: pd.Series, screen: bool) -> None:
    assert int(erco.isna().sum()) == 241  # blanks kept as gaps, the run does not stop on them
    series = screen_load(erco).load_mw if screen else erco
    res = headroom(series, list(NORRIS_ERCOT_GW), balancing_authority="ERCO")
    assert res.years_used == tuple(range(2016, 2025))
    for row in res.rows:
        published = NORRIS_ERCOT_GW[row.rate_fraction]
        assert row.new_load_mw / 1000 == pytest.approx(published, rel=0.03), row.rate_fraction
    assert res.summer_threshold_mw == 85_544.0  # 2024-08-20, EIA-930 ERCO


@pytest.mark.parametrize(("label", "tz"), [("start", "America/Chicago"), ("end", "America/Chicago"), ("start", "UTC")])
def test_reproduction_does_not_hinge_on_labels_or_time_zone(erco: pd.Series, label: str, tz: str) -> None:
    series = erco.copy()
    if label == "end":  # reading EIA's hour-ending stamps as if they were interval starts
        series.index = series.index + pd.Timedelta("1h")
    res = headroom(series, [0.005], tz=tz)
    assert res.rows[0].new_load_mw / 1000 == pytest.approx(10.0, rel=0.03)


def test_per_year_results_next_to_pooled(erco: pd.Series) -> None:
    res = headroom(erco, [0.005], balancing_authority="ERCO")
    py = res.per_year.loc[list(res.years_used)]
    rates = py["rate_at_pooled_pct_0.5pct"] / 100
    # the pooled rate is the mean of the per-year rates at the pooled headroom (independent recomputation)
    assert rates.mean() == pytest.approx(res.rows[0].achieved_rate_fraction, rel=1e-9)
    assert rates.loc[2016] == 0.0 and rates.loc[2023] > 0.02  # a growing system: early years never curtail
    own = py["headroom_gw_0.5pct"]
    assert own.loc[2023] < res.rows[0].new_load_mw / 1000 < own.loc[2016]
    assert int(res.per_year.loc[2018, "hours_missing"]) == 96
    assert any("2021" in w and "load shed" in w for w in res.warnings)
    assert headroom(erco, [0.005], balancing_authority="PJM").warnings == ()


def test_per_year_thresholds_equal_a_one_year_run(erco: pd.Series) -> None:
    res = headroom(erco, [0.01], thresholds="per_year")
    local_year = erco.index.tz_convert("America/Chicago").year
    alone = headroom(erco[local_year == 2022], [0.01], thresholds="per_year")
    assert res.per_year.loc[2022, "headroom_gw_1pct"] * 1000 == pytest.approx(alone.rows[0].new_load_mw, abs=1.0)
    assert res.per_year.loc[2022, "summer_threshold_mw"] == pytest.approx(79_830.0)


def test_root_finder_failure_in_domain_words(erco: pd.Series) -> None:
    spiked = erco.copy()
    spiked.loc[pd.Timestamp("2019-04-10 20:00", tz="UTC")] = 2.1e9  # a PJM-style impossible value, in a shoulder month
    with pytest.raises(ScenarioError, match=r"no new load is small enough for a 0.25% rate.*2019-04-10 20:00 UTC.*month 4"):
        headroom(spiked, [0.0025])
    screened = screen_load(spiked)
    assert screened.flag.loc[pd.Timestamp("2019-04-10 20:00", tz="UTC")] == "GLOBAL_DEM"
    assert headroom(screened.load_mw, [0.0025]).rows[0].new_load_mw / 1000 == pytest.approx(6.5, rel=0.03)


def _clean(n_days: int = 120, seed: int = 1) -> pd.Series:
    idx = pd.date_range("2023-01-01", periods=24 * n_days, freq="1h", tz="UTC")
    t = np.arange(len(idx))
    rng = np.random.default_rng(seed)
    load = 40_000 + 8_000 * np.sin(2 * np.pi * (t % 24 - 9) / 24) + 5_000 * np.sin(2 * np.pi * t / (24 * 365)) + rng.normal(0, 300, len(t))
    return pd.Series(np.round(load), index=idx)


def test_screening_flags_planted_values_exactly() -> None:
    clean = _clean()
    x = clean.to_numpy().copy()
    x[500] *= 1.4  # a spike against both neighbours
    x[900], x[901] = 0.0, -50.0
    x[1300:1306] = x[1300]  # six equal hours: the 3rd to 6th are flagged
    x[1700:1710] = np.nan
    x[2000] *= 20  # global: >= 10x the median, and the hour on each side
    x[2400] *= 0.6  # a dip
    res = screen_load(pd.Series(x, index=clean.index))
    got = res.flag[res.flag != "OKAY"]
    expected = {
        500: "DELTA",
        900: "NEG_OR_ZERO",
        901: "NEG_OR_ZERO",
        1999: "GLOBAL_DEM_PLUS_MINUS",
        2000: "GLOBAL_DEM",
        2001: "GLOBAL_DEM_PLUS_MINUS",
        2400: "DELTA",
    }
    expected |= dict.fromkeys(range(1302, 1306), "IDENTICAL_RUN") | dict.fromkeys(range(1700, 1710), "MISSING")
    assert dict(zip(clean.index.get_indexer(got.index), got, strict=True)) == expected
    rep = res.report()
    assert rep.loc[2023, "hours"] == len(clean) and rep.loc[2023, "left_as_gap"] == len(expected)
    assert set(rep.columns) >= set(FLAGS)
    filled = screen_load(pd.Series(x, index=clean.index), impute=True)
    assert filled.imputed.sum() == len(expected) and filled.load_mw.notna().all()
    # template estimates are near the true values they replace
    assert np.abs(filled.load_mw[filled.imputed] - clean[filled.imputed]).max() < 1_200  # noise sigma 300 MW


@settings(max_examples=4, deadline=None)
@given(st.integers(0, 2**16))
def test_screening_leaves_a_clean_series_untouched(seed: int) -> None:
    clean = _clean(n_days=60, seed=seed)
    res = screen_load(clean)
    assert (res.flag == "OKAY").all()
    pd.testing.assert_series_equal(res.load_mw, clean, check_names=False, check_freq=False)
    assert res.notes == ()


def test_many_bas_table_and_total(erco: pd.Series) -> None:
    native = load_system_load()["load_mw"]  # ERCOT's own native load: 2021, 2023, 2024-01..08
    table, results = headroom_by_ba({"ERCO": erco, "ERCOT": native}, [0.005])
    assert list(table.index) == ["ERCO", "ERCOT", "TOTAL"]
    assert table.loc["TOTAL", "headroom_gw_0.5pct"] == pytest.approx(table.loc["ERCO", "headroom_gw_0.5pct"] + table.loc["ERCOT", "headroom_gw_0.5pct"])
    assert results["ERCOT"].years_used == (2021, 2023)


def test_cli_headroom_on_raw_eia930_and_many_bas(tmp_path: Path, erco: pd.Series, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["grid", "headroom", "--rates", "0.5", "--format", "json", "--screening-report", str(tmp_path / "flags.csv")], capsys)
    assert code == 0, err
    doc = json.loads(out)["ERCO"]
    assert doc["pooled"][0]["headroom_gw"] == pytest.approx(10.0, rel=0.03)
    assert {r["year"] for r in doc["per_year"]} >= set(range(2016, 2025))
    assert any("Uri" in w for w in doc["warnings"])
    flags = pd.read_csv(tmp_path / "flags.csv")
    assert (flags["flag"] == "MISSING").sum() == 241
    # two BAs from one file (mullet layout, blanks as empty cells) -> a table per BA and a total
    native = load_system_load()["load_mw"]
    both = pd.DataFrame({"ERCO": erco, "ERCOT": native}).loc["2021":"2024-08"]
    both.index = both.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    both.rename_axis("interval_start_utc").to_csv(tmp_path / "two.csv")
    code, out, err = run_cli(["grid", "headroom", "--load", str(tmp_path / "two.csv"), "--column", "ERCO,ERCOT", "--rates", "0.5,1", "--format", "csv"], capsys)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("balancing_authority,headroom_gw_0.5pct,headroom_gw_1pct")
    assert [ln.split(",")[0] for ln in lines[1:]] == ["ERCO", "ERCOT", "TOTAL"]
    assert "ERCO: warning: 2021: Winter Storm Uri" in err
    code, out, err = run_cli(["grid", "headroom", "--load", str(tmp_path / "two.csv"), "--column", "PJM"], capsys)
    assert code == 2 and "no column 'PJM'" in err and "Traceback" not in err


