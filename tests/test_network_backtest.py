"""Out-of-sample network backtest: no data after the start, the naive benchmark by hand, the CLI's pure output."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mullet.data import load_difficulty_adjustments, load_network_daily
from mullet.errors import ScenarioError
from mullet.network import HEIGHT_ANCHOR, backtest_out_of_sample

FORECAST_COLUMNS = [
    "model_difficulty_t",
    "naive_difficulty_t",
    "model_hashprice_usd_per_ph_day",
    "naive_hashprice_usd_per_ph_day",
    "entry_per_year",
    "payback_window_days",
    "entry_lag_days",
    "retire_per_year",
]
START = pd.Timestamp("2021-01-01", tz="UTC")


def _corrupt(net: pd.DataFrame, adj: pd.DataFrame, columns: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scramble every value after the end of the start day (what the backtest must not see)."""
    rng = np.random.default_rng(7)
    bad = net.copy()
    after = bad.index > START
    for c in columns:
        scaled = bad.loc[after, c].to_numpy() * rng.uniform(0.3, 3.0, after.sum())
        bad.loc[after, c] = np.rint(scaled).astype(bad[c].dtype) if bad[c].dtype.kind == "i" else scaled
    bad_adj = adj.copy()
    later = bad_adj.index >= START + pd.Timedelta(days=1)
    bad_adj.loc[later, "difficulty"] *= 5.0
    bad_adj.loc[later, "height"] += 1000
    return bad, bad_adj


@pytest.mark.parametrize(
    ("mode", "columns"),
    [
        ("simulated", ["price_usd", "difficulty_mean", "hashrate_ths", "block_count", "fees_btc", "issuance_btc"]),
        # the realised price path is an input by design in this mode: everything else is scrambled
        ("realised", ["difficulty_mean", "hashrate_ths", "block_count", "fees_btc", "issuance_btc"]),
    ],
)
def test_forecasts_use_no_data_after_the_start(mode: str, columns: list[str]) -> None:
    net, adj = load_network_daily(), load_difficulty_adjustments()
    bad_net, bad_adj = _corrupt(net, adj, columns)
    kw = dict(starts=["2021-01-01"], horizons_months=(6,), price_modes=(mode,), paths=6, seed=3)
    clean = backtest_out_of_sample(network=net, adjustments=adj, **kw).forecasts  # type: ignore[arg-type]
    dirty = backtest_out_of_sample(network=bad_net, adjustments=bad_adj, **kw).forecasts  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(clean[FORECAST_COLUMNS], dirty[FORECAST_COLUMNS])
    assert not np.isclose(clean["real_difficulty_t"], dirty["real_difficulty_t"]).all()  # the corruption did bite


def test_naive_benchmark_and_real_values_by_hand() -> None:
    out = backtest_out_of_sample(starts=["2022-07-01"], horizons_months=(6, 12), price_modes=("realised",), paths=4, seed=0)
    net = load_network_daily()
    d0 = net.loc["2022-07-01", "difficulty_mean"]
    d_year = net.loc["2021-07-01", "difficulty_mean"]
    for h, n in ((6, 182), (12, 365)):
        row = out.forecasts[out.forecasts["horizon_months"] == h].iloc[0]
        assert row["naive_difficulty_t"] * 1e12 == pytest.approx(d0 * (d0 / d_year) ** (h / 12), rel=1e-12)
        last = START.replace(year=2022, month=7) + pd.Timedelta(days=n)  # day n after the start is the horizon day
        real = net["difficulty_mean"].loc[last - pd.Timedelta(days=6) : last].mean()
        assert row["real_difficulty_t"] * 1e12 == pytest.approx(real, rel=1e-12)
        assert row["model_log_error_difficulty"] == pytest.approx(np.log(row["model_difficulty_t"] / row["real_difficulty_t"]))
    s = out.summary.set_index("horizon_months")
    assert s.loc[6, "naive_mae_difficulty_pct"] == pytest.approx(100 * abs(out.forecasts["naive_log_error_difficulty"].iloc[0]))


def test_start_height_from_adjustments_matches_the_anchor() -> None:
    from mullet.network.backtest import _start_height

    day, last_height = HEIGHT_ANCHOR
    h = _start_height(load_difficulty_adjustments(), load_network_daily(), day)
    assert abs(h - (last_height + 1)) <= 80  # pro-rata split of the adjustment day's blocks; 840,004 exactly known


def test_start_without_a_year_after_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match="starts: 2025-06-01"):
        backtest_out_of_sample(starts=["2025-06-01"], paths=2)


def test_cli_out_of_sample_json_and_csv_are_pure() -> None:
    base = [sys.executable, "-m", "mullet.cli", "network", "backtest", "--out-of-sample", "--starts", "2022-01-01", "--paths", "4"]
    js = subprocess.run([*base, "--format", "json"], capture_output=True, text=True, timeout=300)
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["price_measure"]["kind"] == "neutral"
    assert {r["price_mode"] for r in data["summary"]} == {"realised", "simulated"}
    assert len(data["forecasts"]) == 4
    csv = subprocess.run([*base, "--format", "csv", "--btc-drift", "historical"], capture_output=True, text=True, timeout=300)
    assert csv.returncode == 0, csv.stderr
    lines = csv.stdout.splitlines()
    assert lines[0].startswith("start,horizon_months,price_mode,real_difficulty_t") and len(lines) == 5


def test_cli_simulate_csv_is_pure_and_states_the_measure_on_stderr() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "network", "simulate", "--paths", "5", "--years", "1", "--format", "csv", "--btc-drift", "historical"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0].startswith("year,")
    assert "BTC price measure historical" in out.stderr and "+/-" in out.stderr
