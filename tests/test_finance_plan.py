"""Finance math, contracts, the planner (reproducibility, Dask = local), the DuckDB store."""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import numpy_financial as npf
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mullet.errors import MulletError, ScenarioError
from mullet.finance import AiLease, TermDebt, irr, npv, payback_years
from mullet.plan import PlanConfig, run_plan
from mullet.site import load_scenario
from mullet.store import compare_runs, export_run, list_runs, plan_paths, save_plan, show_run

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


def test_lease_needs_one_price() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AiLease(contracted_it_mw=10, term_years=5)


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
    pd.testing.assert_frame_equal(local_result.paths, again.paths)
    other = run_plan(scenario, SMALL.model_copy(update={"seed": 6}), workers=1)
    assert not np.array_equal(other.npv(0.0, 1), local_result.npv(0.0, 1))


def test_dask_cluster_equals_local(scenario, local_result) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True) as cluster:
            remote = run_plan(scenario, SMALL, scheduler=cluster.scheduler_address)
    assert remote.completed_paths == SMALL.paths
    pd.testing.assert_frame_equal(local_result.paths, remote.paths)


def test_more_ai_share_never_lowers_contracted_revenue(local_result) -> None:  # type: ignore[no-untyped-def]
    for conv in SMALL.conversion_years:
        revs = [local_result.column("contracted_revenue_usd", s, conv) for s in sorted(SMALL.ai_shares)]
        for lo, hi in itertools.pairwise(revs):
            assert (hi >= lo).all()


def test_all_mining_revenue_follows_hashprice(local_result) -> None:  # type: ignore[no-untyped-def]
    rev = local_result.column("revenue_usd", 0.0, 1)
    hp = local_result.column("mean_hashprice_usd_per_ph_day", 0.0, 1)
    rank = lambda a: np.argsort(np.argsort(a))  # noqa: E731
    assert np.corrcoef(rank(rev), rank(hp))[0, 1] > 0.9


def test_strategy_table_and_recommendation(local_result) -> None:  # type: ignore[no-untyped-def]
    strategies = local_result.strategies()
    assert list(strategies.index) == ["pure mining", "pure AI", "hybrid", "exit"]
    assert strategies.loc["exit", "npv_p50_musd"] == pytest.approx(SMALL.exit_ev_usd_per_mw * 300 / 1e6)
    assert strategies["recommended"].sum() == 1
    table = local_result.table()
    assert ((table["npv_p10_musd"] <= table["npv_p50_musd"]) & (table["npv_p50_musd"] <= table["npv_p90_musd"])).all()
    assert (table["npv_cvar10_musd"] <= table["npv_p10_musd"] + 1e-9).all()
    # the recommendation follows the stated criterion: the highest mean among strategies within the loss limit, else exit
    ok = table[table["loss_probability"] <= SMALL.max_loss_probability]
    rec = local_result.recommended()
    if rec is None:
        assert ok.empty or ok["npv_mean_musd"].max() <= strategies.loc["exit", "npv_mean_musd"]
    else:
        assert ok.set_index(["ai_share", "conversion_year"]).loc[rec, "npv_mean_musd"] == pytest.approx(ok["npv_mean_musd"].max())
    assert "highest mean NPV" in local_result.criterion_text()
    # the waterfall's components add up to the mean NPV
    for share in SMALL.ai_shares:
        assert local_result.waterfall(share, 1).sum() == pytest.approx(local_result.npv(share, 1).mean(), rel=1e-9)


def test_interrupt_keeps_finished_chunks_in_the_store(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def stop(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    db = tmp_path / "i.duckdb"
    result = run_plan(scenario, SMALL, workers=1, progress=stop, db=db)
    assert result.interrupted
    assert result.completed_paths == SMALL.chunk_paths
    assert any("interrupted" in n for n in result.notes)
    run = show_run(db, str(result.run_id))
    assert run["status"] == "interrupted" and run["summary"]["assumptions"]["lease_type"] == "triple_net"
    assert len(plan_paths(db, str(result.run_id))) == SMALL.chunk_paths * len(SMALL.ai_shares) * len(SMALL.conversion_years)


def test_interrupt_before_the_first_chunk_and_bad_db(scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import mullet.plan.run as plan_run

    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(plan_run, "_chunk", interrupted)
    db = tmp_path / "k.duckdb"
    result = run_plan(scenario, SMALL, workers=1, db=db)
    assert result.interrupted and result.completed_paths == 0 and result.table().empty
    assert result.recommended() is None and list(result.summary().index) == ["exit"]
    assert show_run(db, str(result.run_id))["status"] == "interrupted"
    (tmp_path / "not_a_db").write_text("hello")
    for bad, why in ((tmp_path / "nope" / "x.duckdb", "does not exist"), (tmp_path, "is a directory"), (tmp_path / "not_a_db", "not a DuckDB")):
        with pytest.raises(MulletError, match=why):
            run_plan(scenario, SMALL, workers=1, db=bad)


def test_every_shipped_scenario_plans_including_a_load_zone() -> None:
    cfg = SMALL.model_copy(update={"paths": 4, "years": 2, "chunk_paths": 4, "conversion_years": [1]})
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        sc = load_scenario(path)
        result = run_plan(sc, cfg, workers=1)
        assert result.completed_paths == 4 and np.isfinite(result.paths["npv_usd"]).all(), path.name
    lz = load_scenario(ROOT / "scenarios/default.toml").model_copy(deep=True)
    lz = lz.model_validate({**lz.model_dump(), "power": {**lz.power.model_dump(), "settlement_point": "LZ_WEST"}})
    result = run_plan(lz, cfg, workers=1)
    assert any("LZ_WEST, years [2023]" in n for n in result.notes)  # the load zones cover 2023 only
    default = run_plan(load_scenario(ROOT / "scenarios/default.toml"), cfg, workers=1)
    note = next(n for n in default.notes if n.startswith("power prices"))
    assert "load at LZ_WEST, PPAs at HB_WEST, years [2022, 2023, 2024]" in note and "2022: 8760 h without LZ_WEST prices settled at HB_WEST" in note
    with pytest.raises(ScenarioError, match="price_years"):
        run_plan(lz, cfg.model_copy(update={"price_years": [2021]}), workers=1)


def test_bad_plan_config() -> None:
    with pytest.raises(ValueError, match="ai_shares"):
        PlanConfig(ai_shares=[1.5])
    with pytest.raises(ValueError, match="conversion_years"):
        PlanConfig(years=3, conversion_years=[5])
    with pytest.raises(ValueError, match="expected_growth_per_year"):
        PlanConfig.model_validate({"price_measure": {"kind": "user"}})
    with pytest.raises(ValueError, match="risk_free_rate_per_year"):
        PlanConfig.model_validate({"discount_rate_fraction": 0.03})
    with pytest.raises(ValueError, match="growth_fraction"):
        PlanConfig.model_validate({"terminal_value": {"method": "gordon", "growth_fraction": 0.15}})


def test_btc_measure_sets_the_expected_growth() -> None:
    from mullet.plan.paths import btc_price_model

    neutral, note = btc_price_model(PlanConfig())
    assert neutral.expected_growth_per_year == pytest.approx(0.04, abs=1e-12)  # the risk-free part of the discount rate
    assert "s.e." in note and "neutral" in note
    user, _ = btc_price_model(PlanConfig.model_validate({"price_measure": {"kind": "user", "expected_growth_per_year": 0.1}}))
    assert user.expected_growth_per_year == pytest.approx(0.1, abs=1e-12)
    hist, note = btc_price_model(PlanConfig.model_validate({"price_measure": {"kind": "historical"}}))
    assert "historical" in note and hist.drift_per_year > neutral.drift_per_year


def _write(db: str, idx: int) -> str:
    from mullet.plan import input_hash

    sc = load_scenario(ROOT / "scenarios/default.toml")
    cfg = SMALL.model_copy(update={"paths": 4, "years": 2, "conversion_years": [1]})
    res = run_plan(sc, cfg, workers=1)

    return save_plan(db, res, "default.toml", None, input_hash(sc, cfg), pd.Timestamp.now(tz="UTC"), {"i": idx})


def test_store_round_trip_and_two_writers(tmp_path: Path, local_result) -> None:  # type: ignore[no-untyped-def]

    db = tmp_path / "runs.duckdb"
    run_a = save_plan(db, local_result, "default.toml", "x", "h", pd.Timestamp.now(tz="UTC"), {"k": 1})
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        ids = pool.starmap(_write, [(str(db), 1), (str(db), 2)])
    runs = list_runs(db)
    assert set(runs["run_id"]) == {run_a, *ids}
    assert (runs["status"] == "complete").all()
    stored = show_run(db, run_a)["summary"]
    assert stored["k"] == 1 and stored["assumptions"]["lease_type"] == "triple_net"  # every stored plan records its assumptions
    cmp = compare_runs(db, run_a, ids[0])
    assert {"npv_mean_musd_a", "npv_mean_musd_b"} <= set(cmp.columns)
    out = export_run(db, run_a, tmp_path / "a.csv")
    assert len(pd.read_csv(out)) == len(local_result.paths)
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
    assert data["assumptions"]["lease_type"] == "triple_net" and data["assumptions"]["default_hazard_per_year"] == 0.02
    assert "criterion" in data and show_run(db, data["run_id"])["status"] == "complete"
    listed = subprocess.run([*cmd, "runs", "list", "--db", str(db), "--format", "json"], capture_output=True, text=True, timeout=120)
    assert json.loads(listed.stdout)[0]["run_id"] == data["run_id"]
    deals = subprocess.run([*cmd, "contracts", "examples", "--dates", "2024-06-01", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert deals.returncode == 0, deals.stderr
    iren, hut8 = json.loads(deals.stdout)["deals"][:2]
    assert iren["usd_per_mw_year"] == 9.7e6 and hut8["year1_usd_per_kw_month"] == pytest.approx(128.0157, rel=1e-6)
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
    cfg = PlanConfig.model_validate({**SMALL.model_dump(), "contract": {"kind": "gpu_cloud"}, "conversion_years": [1]})
    result = run_plan(scenario, cfg, workers=1)
    revs = [result.column("contracted_revenue_usd", s, 1) for s in sorted(cfg.ai_shares)]
    for lo, hi in itertools.pairwise(revs):
        assert (hi >= lo).all()
    assert any("GPU cloud" in n for n in result.notes)
    assert result.waterfall(1.0, 1)["ai_energy_owner_usd"] < 0  # the GPU-cloud owner pays the power


def test_cli_plan_bad_option_is_one_line(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "plan", "scenarios/default.toml", "--ai-contract", "magic", "--db", str(tmp_path / "x.duckdb")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip() == "error: ai_contract: got 'magic', allowed: 'lease' or 'gpu_cloud'"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_plan_signal_stops_workers_and_exits_130(tmp_path: Path, sig: signal.Signals) -> None:
    db = tmp_path / "s.duckdb"
    args = [sys.executable, "-m", "mullet.cli", "plan", "scenarios/default.toml", "--paths", "400", "--years", "10", "--workers", "2", "--db", str(db)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    children = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted: kept" in err and "of 400 paths" in err
    time.sleep(0.5)
    assert not [c for c in children if Path(f"/proc/{c}").exists() and "Z" not in Path(f"/proc/{c}/stat").read_text().split()[2]]
    assert list_runs(db)["status"].tolist() == ["interrupted"]


def test_tornado_waterfall_chart_and_report(scenario, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mullet.plan.sensitivity import tornado
    from mullet.plot import plot_plan
    from mullet.report import report_for_run

    cfg = SMALL.model_copy(update={"paths": 8, "chunk_paths": 8, "conversion_years": [1]})
    db = tmp_path / "t.duckdb"
    result = run_plan(scenario, cfg, workers=1, db=db)
    t = tornado(scenario, cfg, result, paths=8)
    assert len(t) == 8 and (t["swing_musd"].diff().dropna() <= 1e-9).all()
    hazard = t.loc[next(i for i in t.index if i.startswith("tenant default"))]
    assert hazard["npv_low_musd"] <= hazard["npv_base_musd"] <= hazard["npv_high_musd"]  # more defaults never help
    png = plot_plan(result, tmp_path / "plan.png", t)
    assert png.stat().st_size > 10_000
    html = report_for_run(db, str(result.run_id), tmp_path / "r.html").read_text()
    assert "Cash-flow waterfall" in html and "Assumptions that decide the answer" in html and "triple_net" in html
