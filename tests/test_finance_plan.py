"""Finance math, contracts, the planner (reproducibility, Dask = local), the DuckDB store."""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mullet.errors import MulletError, ScenarioError
from mullet.finance import AiLease, ConvertibleNote, TermDebt, contract_examples, convertible_outcome, irr, npv, payback_years
from mullet.plan import PlanConfig, run_plan
from mullet.site import load_scenario
from mullet.store import compare_runs, export_run, list_runs, save_plan, show_run

ROOT = Path(__file__).parents[1]
SMALL = PlanConfig(paths=12, years=3, ai_shares=[0.0, 0.5, 1.0], conversion_years=[1, 2], chunk_paths=4, seed=5)


def test_npv_irr_hand_computed() -> None:
    assert npv(0.1, [-100, 110]) == pytest.approx(0.0, abs=1e-12)
    assert npv(0.0, [-100, 30, 30, 30]) == pytest.approx(-10)
    assert irr([-100, 110]) == pytest.approx(0.10, abs=1e-9)
    assert irr([-100, 0, 121]) == pytest.approx(0.10, abs=1e-9)
    assert payback_years([-100, 30, 40, 50]) == pytest.approx(2.6)
    assert np.isnan(payback_years([-100, 10, 10]))
    assert np.isnan(irr([100, 100]))


@given(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=2, max_size=12), st.floats(-0.5, 1.0))
def test_npv_matches_numpy_financial(cf: list[float], rate: float) -> None:
    assert npv(rate, cf) == pytest.approx(npf.npv(rate, cf), rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("cf", [[-100, 30, 40, 50, 20], [-500, 100, 200, 300], [-10, 2, 2, 2, 2, 2, 2]])
def test_irr_matches_numpy_financial(cf: list[float]) -> None:
    assert irr(cf) == pytest.approx(npf.irr(cf), abs=1e-8)


def test_public_deals_per_mw_year() -> None:
    iren, hut8 = contract_examples()
    np.testing.assert_allclose(iren.yearly_revenue_usd(5), 1.94e9)
    assert iren.usd_per_mw_year() == pytest.approx(9.7e6)
    assert iren.cash_usd(1)[0] == pytest.approx(0.2 * 9.7e9)  # 20% prepaid
    assert hut8.yearly_revenue_usd(15).sum() == pytest.approx(7e9)
    assert hut8.yearly_revenue_usd(2)[1] / hut8.yearly_revenue_usd(1)[0] == pytest.approx(1.03)
    assert hut8.usd_per_mw_year() == pytest.approx(7e9 / 15 / 245)


def test_lease_needs_one_price() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AiLease(contracted_it_mw=10, term_years=5)


def test_convertible_converted_or_repaid() -> None:
    note = ConvertibleNote(principal_usd=1e9, coupon_fraction=0.0, conversion_price_usd=20.0, maturity_years=5)
    shares, cash = convertible_outcome(note, np.array([10.0, 20.0, 25.0]))
    np.testing.assert_allclose(shares, [0, 0, 5e7])  # converted only above the conversion price
    np.testing.assert_allclose(cash, [1e9, 1e9, 0])


def test_term_debt_annuity() -> None:
    pay = TermDebt(principal_usd=1000, rate_fraction=0.1, years=2).service_usd(3)
    assert pay[0] == pytest.approx(1000 * 0.1 / (1 - 1.1**-2))
    assert pay[2] == 0


@pytest.fixture(scope="module")
def scenario():  # type: ignore[no-untyped-def]
    return load_scenario(ROOT / "scenarios/default.toml")


@pytest.fixture(scope="module")
def local_result(scenario):  # type: ignore[no-untyped-def]
    return run_plan(scenario, SMALL, workers=1)


def test_seed_reproducibility(scenario, local_result) -> None:  # type: ignore[no-untyped-def]
    again = run_plan(scenario, SMALL, workers=2)
    for key, v in local_result.npv_usd.items():
        np.testing.assert_array_equal(v, again.npv_usd[key])
    other = run_plan(scenario, SMALL.model_copy(update={"seed": 6}), workers=1)
    assert not np.array_equal(other.npv_usd[(0.0, 1)], local_result.npv_usd[(0.0, 1)])


def test_dask_cluster_equals_local(scenario, local_result) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True) as cluster:
            remote = run_plan(scenario, SMALL, scheduler=cluster.scheduler_address)
    assert remote.completed_paths == SMALL.paths
    for key, v in local_result.npv_usd.items():
        np.testing.assert_array_equal(v, remote.npv_usd[key])
        np.testing.assert_array_equal(local_result.irr[key], remote.irr[key])


def test_more_ai_share_never_lowers_contracted_revenue(local_result) -> None:  # type: ignore[no-untyped-def]
    for conv in SMALL.conversion_years:
        revs = [local_result.contracted_revenue_usd[(s, conv)] for s in sorted(SMALL.ai_shares)]
        for lo, hi in itertools.pairwise(revs):
            assert (hi >= lo).all()


def test_all_mining_revenue_follows_hashprice(local_result) -> None:  # type: ignore[no-untyped-def]
    rev = local_result.revenue_usd[(0.0, 1)]
    hp = local_result.mean_hashprice_usd_per_ph_day
    rank = lambda a: np.argsort(np.argsort(a))  # noqa: E731
    assert np.corrcoef(rank(rev), rank(hp))[0, 1] > 0.9


def test_strategy_table_and_recommendation(local_result) -> None:  # type: ignore[no-untyped-def]
    strategies = local_result.strategies()
    assert list(strategies.index) == ["pure mining", "pure AI", "hybrid", "exit"]
    assert strategies.loc["exit", "npv_p50_musd"] == pytest.approx(SMALL.exit_ev_usd_per_mw * 300 / 1e6)
    assert local_result.recommended() in local_result.npv_usd
    table = local_result.table()
    assert ((table["npv_p10_musd"] <= table["npv_p50_musd"]) & (table["npv_p50_musd"] <= table["npv_p90_musd"])).all()


def test_interrupt_keeps_finished_chunks(scenario) -> None:  # type: ignore[no-untyped-def]
    def stop(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    result = run_plan(scenario, SMALL, workers=1, progress=stop)
    assert result.interrupted
    assert result.completed_paths == SMALL.chunk_paths
    assert any("interrupted" in n for n in result.notes)


def test_bad_plan_config() -> None:
    with pytest.raises(ValueError, match="ai_shares"):
        PlanConfig(ai_shares=[1.5])
    with pytest.raises(ValueError, match="conversion_years"):
        PlanConfig(years=3, conversion_years=[5])


def _write(db: str, idx: int) -> str:
    from mullet.plan import input_hash

    sc = load_scenario(ROOT / "scenarios/default.toml")
    cfg = SMALL.model_copy(update={"paths": 4, "years": 2, "conversion_years": [1]})
    res = run_plan(sc, cfg, workers=1)
    import pandas as pd

    return save_plan(db, res, "default.toml", None, input_hash(sc, cfg), pd.Timestamp.now(tz="UTC"), {"i": idx})


def test_store_round_trip_and_two_writers(tmp_path: Path, local_result) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    db = tmp_path / "runs.duckdb"
    run_a = save_plan(db, local_result, "default.toml", "x", "h", pd.Timestamp.now(tz="UTC"), {"k": 1})
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        ids = pool.starmap(_write, [(str(db), 1), (str(db), 2)])
    runs = list_runs(db)
    assert set(runs["run_id"]) == {run_a, *ids}
    assert (runs["status"] == "complete").all()
    assert show_run(db, run_a)["summary"] == {"k": 1}
    cmp = compare_runs(db, run_a, ids[0])
    assert {"npv_mean_musd_a", "npv_mean_musd_b"} <= set(cmp.columns)
    out = export_run(db, run_a, tmp_path / "a.csv")
    assert len(pd.read_csv(out)) == SMALL.paths * len(local_result.npv_usd)
    with pytest.raises(MulletError, match="not in the store"):
        show_run(db, "nope")


def test_cli_plan_runs_contracts(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    cmd = [sys.executable, "-m", "mullet.cli"]
    out = subprocess.run(
        [*cmd, "plan", "scenarios/default.toml", "--paths", "8", "--years", "2", "--ai-shares", "0,1", "--conversion-years", "1",
         "--db", str(db), "--format", "json", "--workers", "1"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["paths_completed"] == 8 and [s["strategy"] for s in data["strategies"]] == ["pure mining", "pure AI", "exit"]
    listed = subprocess.run([*cmd, "runs", "list", "--db", str(db), "--format", "json"], capture_output=True, text=True, timeout=120)
    assert json.loads(listed.stdout)[0]["run_id"] == data["run_id"]
    deals = subprocess.run([*cmd, "contracts", "examples", "--dates", "2024-06-01", "--format", "csv", "--out", str(tmp_path / "c")], capture_output=True, text=True, timeout=120)
    deals_csv = (tmp_path / "c" / "deals.csv").read_text()
    assert deals.returncode == 0 and deals.stdout == "" and "IREN-Microsoft" in deals_csv and "9700000" in deals_csv
    bad_args = [*cmd, "plan", "scenarios/default.toml", "--ai-shares", "0,2", "--db", str(db)]
    bad = subprocess.run(bad_args, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad.returncode == 2 and "ai_shares" in bad.stderr


def test_gpu_price_paths_decline_on_average() -> None:
    from mullet.scenarios import simulate_gpu_prices

    paths = simulate_gpu_prices(2.0, 0.15, 0.2, 6, 20_000, seed=1)
    assert paths.shape == (20_000, 6)
    assert (paths[:, 0] == 2.0).all()
    np.testing.assert_allclose(paths.mean(axis=0), 2.0 * 0.85 ** np.arange(6), rtol=0.02)
    with pytest.raises(ScenarioError, match="gpu prices"):
        simulate_gpu_prices(2.0, 1.5, 0.2, 3, 2)


def test_gpu_cloud_plan_revenue_grows_with_share(scenario) -> None:  # type: ignore[no-untyped-def]
    cfg = SMALL.model_copy(update={"ai_contract": "gpu_cloud", "conversion_years": [1]})
    result = run_plan(scenario, cfg, workers=1)
    revs = [result.contracted_revenue_usd[(s, 1)] for s in sorted(cfg.ai_shares)]
    for lo, hi in itertools.pairwise(revs):
        assert (hi >= lo).all()
    assert any("GPU cloud" in n for n in result.notes)
    # a plan that never spends capex pays back at once
    assert np.nanmax(result.payback_years[(0.0, 1)]) == 0.0


def test_cli_plan_bad_option_is_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "plan", "scenarios/default.toml", "--ai-contract", "magic", "--db", str(tmp_path / "x.duckdb")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip() == "error: Invalid value for '--ai-contract': 'magic' is not one of 'lease', 'gpu_cloud'."
