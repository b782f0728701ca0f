"""Coupled dispatch: analytic cases, equality with the LP (hypothesis, real prices), batch over paths, auto's choice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mullet.data import load_ercot_hub_prices
from mullet.dispatch import build_inputs, dispatch, dispatch_inputs
from mullet.dispatch.coupled import (
    _Arrays,
    _arrays,
    _partial,
    _pieces,
    _solve_range,
    coupled_objective_usd,
    coupled_unsupported,
    coupled_values,
    plan_couplings,
    plan_year_net_usd,
    planning_site_inputs,
    solve_coupled,
)
from mullet.dispatch.inputs import SiteInputs
from mullet.dispatch.lp import solve_lp
from mullet.errors import ScenarioError
from mullet.site import Scenario, load_scenario
from mullet.testing import make_inputs

ROOT = Path(__file__).parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


def _same_objective(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))


# --- analytic cases ------------------------------------------------------------------------------------


def test_ramp_limit_analytic() -> None:
    # hour 2 costs $1000/MWh: with a 5 MW/h ramp the fleet can run only 5 MW in hour 1
    s = solve_coupled(make_inputs([0, 1000], [100, 100], ramp_mw_per_h=[5]))
    np.testing.assert_allclose(s.mining_mw[:, 0], [5, 0], atol=1e-9)
    assert s.objective_usd == pytest.approx(500)
    assert s.certified


def test_demand_charge_analytic() -> None:
    # two free hours worth $100/MWh each: a $150/MW-month peak charge still pays, a $250 one does not
    on = solve_coupled(make_inputs([0, 0], [100, 100], demand_charge_usd_per_mw_month=150))
    assert on.objective_usd == pytest.approx(2 * 100 * 10 - 150 * 10)
    off = solve_coupled(make_inputs([0, 0], [100, 100], demand_charge_usd_per_mw_month=250))
    assert off.objective_usd == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(off.mining_mw, 0, atol=1e-6)


def test_demand_charge_shaves_the_peak_to_the_fleet_that_pays() -> None:
    # fleet A earns 100 + 60 + 20 = $180 per MW over the month, fleet B 50 + 10 = $60 (it idles in hour 3)
    x = make_inputs([0, 40, 80], [[100, 50]] * 3, [10, 10], demand_charge_usd_per_mw_month=130)
    s = solve_coupled(x)
    # a $130/MW-month charge: A's MW pay, B's do not, so the peak is A's 10 MW
    np.testing.assert_allclose(s.mining_mw, [[10, 0]] * 3, atol=1e-6)
    assert s.objective_usd == pytest.approx(10 * 180 - 10 * 130)
    # at $50/MW-month B's MW pay too (hours 1 and 2), and the peak is 20 MW
    s = solve_coupled(make_inputs([0, 40, 80], [[100, 50]] * 3, [10, 10], demand_charge_usd_per_mw_month=50))
    assert s.objective_usd == pytest.approx(10 * 180 + 10 * 60 - 20 * 50)


def test_flexible_ai_budget_analytic() -> None:
    # 10 MW AI that may shed 2 MW for at most 1 MWh; the $5,000 hour is where shedding pays
    x = make_inputs([50, 5000, 100], [0, 0, 0], flex_max_mw=[10], flex_min_mw=[8], flex_budget_mwh=[1.0], flex_sla_usd_per_mwh=[300])
    s = solve_coupled(x)
    np.testing.assert_allclose(s.flex_mw[:, 0], [10, 9, 10], atol=1e-9)
    assert s.multiplier_usd_per_mwh == pytest.approx(5000 - 300)


def test_ramp_across_a_month_boundary_with_a_demand_charge() -> None:
    # the valuable hours straddle midnight UTC on July 31 / August 1: each month's peak is set by the ramp into the other
    price = [200, 200, 200, 60, 0, 0, 60, 200, 200, 200]
    x = make_inputs(price, [100] * 10, ramp_mw_per_h=[3], demand_charge_usd_per_mw_month=90, start="2023-07-31 19:00")
    assert len(set(x.month)) == 2
    s = solve_coupled(x)
    lp = solve_lp(x)
    assert s.certified
    assert s.objective_usd == pytest.approx(lp.objective_usd, rel=1e-9, abs=1e-6)


# --- equality with the LP on generated inputs -----------------------------------------------------------

COUPLINGS = [("ramp",), ("demand",), ("flex",), ("ramp", "demand"), ("ramp", "flex"), ("demand", "flex"), ("ramp", "demand", "flex")]


@st.composite
def coupled_inputs(draw, couplings: tuple[str, ...]) -> SiteInputs:  # type: ignore[no-untyped-def]
    """Small sites with the given couplings, often across a month boundary, at 15-minute or hourly intervals."""
    t = draw(st.integers(2, 40))
    dt = draw(st.sampled_from([1.0, 0.25]))
    f = draw(st.integers(1, 3))
    p = draw(st.integers(0, 2))
    money = st.floats(-100, 3_000, allow_nan=False)
    price = draw(st.lists(money, min_size=t, max_size=t))
    value = draw(st.lists(st.lists(st.floats(0, 300), min_size=f, max_size=f), min_size=t, max_size=t))
    fmax = draw(st.lists(st.floats(1, 60), min_size=f, max_size=f))
    fmin = [m * draw(st.floats(0, 0.4)) for m in fmax]
    back_h = draw(st.integers(0, int(t * dt)))  # hours before the month boundary
    start = (pd.Timestamp("2023-08-01", tz="UTC") - pd.Timedelta(hours=back_h)).strftime("%Y-%m-%d %H:%M")
    kw: dict[str, object] = {}
    if "ramp" in couplings:
        ramp = [np.inf] * f
        ramp[draw(st.integers(0, f - 1))] = draw(st.floats(0.5, 80))
        kw["ramp_mw_per_h"] = ramp
    if "demand" in couplings:
        kw["demand_charge_usd_per_mw_month"] = draw(st.floats(1, 6_000))
    flex_mw = 0.0
    if "flex" in couplings:
        flex_mw = draw(st.floats(1, 30))
        kw.update(
            flex_max_mw=[flex_mw],
            flex_min_mw=[flex_mw * draw(st.floats(0, 0.9))],
            flex_budget_mwh=[draw(st.floats(0, flex_mw * t * dt))],
            flex_sla_usd_per_mwh=[draw(st.floats(0, 1_000))],
            flex_revenue_lost_usd_per_mwh=[draw(st.floats(0, 300))],
        )
    if p:
        kw.update(
            as_price_usd_per_mw_h=draw(st.lists(st.lists(st.floats(0, 300), min_size=p, max_size=p), min_size=t, max_size=t)),
            max_offer_fraction=draw(st.floats(0, 1)),
            deployment_fraction=draw(st.floats(0, 0.2)),
        )
    cp = draw(st.lists(st.booleans(), min_size=t, max_size=t))
    limit = 5.0 + sum(fmin) + flex_mw + draw(st.floats(0, sum(fmax) + 10))
    x = make_inputs(
        price,
        value,
        fmax,
        fmin,
        import_limit_mw=limit,
        firm_ai_mw=5.0,
        dt_h=dt,
        start=start,
        cp_hour=cp,
        cp_usd_per_mwh=draw(st.sampled_from([0.0, 15_000.0])),
        **kw,  # type: ignore[arg-type]
    )
    if draw(st.booleans()):
        x = replace(x, forced_curtail=np.asarray(draw(st.lists(st.booleans(), min_size=t, max_size=t))))
    return x


@pytest.mark.parametrize("couplings", COUPLINGS, ids=["+".join(c) for c in COUPLINGS])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_coupled_equals_lp(couplings: tuple[str, ...], data: st.DataObject) -> None:
    x = data.draw(coupled_inputs(couplings))
    lp = solve_lp(x)
    s = solve_coupled(x)
    assert s.certified
    assert _same_objective(s.objective_usd, lp.objective_usd), (s.objective_usd, lp.objective_usd)
    # the schedule is feasible: interconnect, ramp, budget
    imp = s.mining_mw.sum(axis=1) + s.flex_mw.sum(axis=1) + x.firm_ai_mw
    assert (imp <= x.import_limit_mw + 1e-6).all()
    for j in np.flatnonzero(np.isfinite(x.fleet_ramp_mw_per_h)):
        assert (np.abs(np.diff(s.mining_mw[:, j])) <= x.fleet_ramp_mw_per_h[j] * x.dt_h + 1e-6).all()
    if x.flex_names:
        assert ((x.flex_max_mw[0] - s.flex_mw[:, 0]) * x.dt_h).sum() <= x.flex_budget_mwh[0] + 1e-6
    # the reported objective is the LP's objective of this schedule
    assert s.objective_usd == pytest.approx(coupled_objective_usd(x, s.mining_mw, s.as_mw, s.flex_mw), rel=1e-12, abs=1e-9)


def test_schedule_equals_lp_where_unique() -> None:
    # continuous random data with every coupling: the optimum is unique almost surely, so schedules must match
    rng = np.random.default_rng(11)
    for _ in range(8):
        t = 48
        x = make_inputs(
            rng.normal(60, 120, t).tolist(),
            rng.uniform(40, 160, (t, 2)).tolist(),
            [30.0, 20.0],
            [0.0, 2.0],
            import_limit_mw=60.0,
            firm_ai_mw=5.0,
            ramp_mw_per_h=[7.0, np.inf],
            demand_charge_usd_per_mw_month=float(rng.uniform(500, 3000)),
            flex_max_mw=[10.0],
            flex_min_mw=[6.0],
            flex_budget_mwh=[20.0],
            flex_sla_usd_per_mwh=[150.0],
            start="2023-07-31 00:00",
        )
        lp, s = solve_lp(x), solve_coupled(x)
        assert s.objective_usd == pytest.approx(lp.objective_usd, rel=1e-9)
        np.testing.assert_allclose(s.mining_mw, lp.mining_mw, atol=1e-5)
        np.testing.assert_allclose(s.flex_mw, lp.flex_mw, atol=1e-5)


# --- real prices: every shipped scenario, and a coupled variant of each ---------------------------------

HORIZONS = [("2021-02-10", "2021-02-20"), ("2022-03-27", "2022-04-03"), ("2023-08-27", "2023-09-03"), ("2024-05-28", "2024-06-03")]


def _coupled_variant(sc: Scenario) -> Scenario:
    """The scenario with a ramp limit on its first fleet (half its power per hour) and a $2/kW-month demand charge."""
    fleets = [f.model_copy(update={"ramp_mw_per_h": f.site_power_mw / 2}) if i == 0 else f for i, f in enumerate(sc.mining)]
    power = sc.power.model_copy(update={"demand_charge_usd_per_kw_month": max(sc.power.demand_charge_usd_per_kw_month, 2.0)})
    return sc.model_copy(update={"mining": fleets, "power": power})


@pytest.fixture(scope="module")
def hourly_hub_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Hourly means of the bundled 15-minute ERCOT hub prices, one file per hub (hours without data left out)."""
    hub = load_ercot_hub_prices()
    folder = tmp_path_factory.mktemp("hourly")
    out = {}
    for col in hub.columns:
        path = folder / f"{col}.parquet"
        hub[col].resample("1h").mean().dropna().rename(col).rename_axis("interval_start_utc").reset_index().to_parquet(path)
        out[col] = path
    return out


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
@pytest.mark.parametrize("horizon", HORIZONS, ids=[h[0][:4] for h in HORIZONS])
def test_coupled_equals_lp_on_shipped_scenarios(path: Path, horizon: tuple[str, str], hourly_hub_files: dict[str, Path]) -> None:
    # hourly hub prices (hourly ancillary awards then hold for one model interval); the load settles at the hub;
    # no ancillary prices are bundled before 2022; Winter Storm Uri left gaps in the hub prices (filled forward)
    sc = load_scenario(path)
    power = {"price_file": str(hourly_hub_files[sc.power.settlement_point]), "missing_intervals": "ffill", "load_settlement_point": None}
    update: dict[str, object] = {"power": sc.power.model_copy(update=power)}
    if horizon[0] < "2022":
        update["ancillary"] = sc.ancillary.model_copy(update={"products": []})
    sc = sc.model_copy(update=update)
    for variant in (sc, _coupled_variant(sc)):
        x = build_inputs(variant, *horizon)
        assert x.dt_h == 1.0 and coupled_unsupported(x) is None
        lp, s = solve_lp(x), solve_coupled(x)
        assert s.certified
        assert s.objective_usd == pytest.approx(lp.objective_usd, rel=1e-6)


def test_quarter_hour_awards_keep_the_lp() -> None:
    # bundled 15-minute prices with hourly day-ahead ancillary awards: an award holds through 4 intervals, outside the structure
    r = dispatch(ROOT / "scenarios/cleanspark_measured_hybrid.toml", "2023-08-01", "2023-08-03")
    assert r.solver == "lp"
    assert any("ancillary awards hold through 4 intervals" in n for n in r.notes)


# --- batch over paths, auto's choice and errors -----------------------------------------------------------


def test_batch_over_paths_equals_one_by_one(hourly_hub_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mullet.dispatch.coupled._BATCH", 3)  # 4 paths: a batch of 3 and one of 1
    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    sc = sc.model_copy(update={"power": sc.power.model_copy(update={"price_file": str(hourly_hub_files["HB_NORTH"]), "missing_intervals": "ffill"})})
    x = build_inputs(sc, "2023-07-28", "2023-08-04")
    rng = np.random.default_rng(2)
    n = 4
    value = x.mining_value_usd_per_mwh[None] * rng.uniform(0.4, 1.6, (n, 1, 1))
    cost = x.energy_cost_usd_per_mwh[None] + rng.normal(0, 40, (n, x.n))
    obj, cert = coupled_values(x, value, cost)
    assert cert.all()
    for i in range(n):
        xi = replace(x, mining_value_usd_per_mwh=value[i], price_usd_per_mwh=x.price_usd_per_mwh + (cost[i] - x.energy_cost_usd_per_mwh))
        assert obj[i] == pytest.approx(solve_lp(xi).objective_usd, rel=1e-9)


def test_auto_says_which_solver_ran_and_why(hourly_hub_files: dict[str, Path]) -> None:
    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    sc = sc.model_copy(update={"power": sc.power.model_copy(update={"price_file": str(hourly_hub_files["HB_NORTH"]), "missing_intervals": "ffill"})})
    r = dispatch(sc, "2023-08-01", "2023-08-07")
    assert r.solver == "coupled"
    assert any(n.startswith("solver: coupled") and "ramp limit on s21" in n and "demand charge" in n and "ai-flex" in n for n in r.notes)
    lp = dispatch(sc, "2023-08-01", "2023-08-07", solver="lp")
    assert r.pnl["net_usd"] == pytest.approx(lp.pnl["net_usd"], rel=1e-9)
    # min on/off times: a MIP, outside the coupled structure -> the LP, with the reason
    x = make_inputs([0, 300, 0, 0], [100] * 4, min_off_h=[2], on_min_mw=[2], ramp_mw_per_h=[3])
    r = dispatch_inputs(x, "auto")
    assert r.solver == "lp"
    assert any("minimum on/off times" in n for n in r.notes)
    with pytest.raises(ScenarioError, match="solver: got 'coupled', but minimum on/off times"):
        dispatch_inputs(x, "coupled")
    two_ramps = make_inputs([0, 1000], [[100, 90], [100, 90]], [10, 10], ramp_mw_per_h=[3, 4])
    assert "2 fleets have separate ramp limits" in (coupled_unsupported(two_ramps) or "")
    assert dispatch_inputs(two_ramps, "auto").solver == "lp"


# --- the planner's coupled dispatch ----------------------------------------------------------------------


def test_plan_year_net_equals_the_lp(hourly_hub_files: dict[str, Path]) -> None:
    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    hours = 24 * 40  # January and February: two demand-charge months
    price = pd.read_parquet(hourly_hub_files["HB_NORTH"]).set_index("interval_start_utc")["HB_NORTH"].loc["2023-01-01":].to_numpy()[:hours]
    rng = np.random.default_rng(5)
    cost = price[None, :] + 4.0 + rng.normal(0, 30, (3, hours))
    value = rng.uniform(20, 90, (3, 1)) * np.ones((1, hours))
    net = plan_year_net_usd(sc, 150.0, 26.0, value, cost)
    x = planning_site_inputs(sc, 150.0, 26.0, hours)
    assert x.fleet_ramp_mw_per_h[0] == pytest.approx(90 / sc.mining[0].site_power_mw * 150)
    assert x.flex_budget_mwh[0] == pytest.approx(26 * 0.2 * 100 * hours / 8760)
    k = x.flex_sla_usd_per_mwh[0] + x.flex_revenue_lost_usd_per_mwh[0]
    for i in range(3):
        lp = solve_lp(replace(x, mining_value_usd_per_mwh=value[i][:, None], price_usd_per_mwh=cost[i])).objective_usd
        assert net[i] == pytest.approx(lp - float(((k - cost[i]) * 26.0).sum()), rel=1e-9, abs=1e-3)


def test_plan_of_a_coupled_site_says_which_solver_ran() -> None:
    from mullet.plan import PlanConfig, run_plan

    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    assert plan_couplings(sc) == ["ramp limit", "monthly demand charge", "flexible-AI energy budget"]
    result = run_plan(sc, PlanConfig(paths=2, years=1, ai_shares=[0.0, 0.5], conversion_years=[1], chunk_paths=2), workers=1)
    assert result.completed_paths == 2
    assert any(n.startswith("site dispatch: coupled solver, exact (ramp limit, monthly demand charge, flexible-AI energy budget") for n in result.notes)
    assert not plan_couplings(load_scenario(ROOT / "scenarios/iren_childress_ai_campus.toml"))


# --- the peak search's shortcuts, at the edge of their conditions ---------------------------------------------


def _kernel_arrays(x: SiteInputs) -> tuple[_Arrays, dict[str, np.ndarray]]:
    a = _arrays(x)
    t_n, m_n = x.n, a.wfree.shape[2]
    work = {
        "heap": np.empty((4, 64 + t_n * (2 * m_n + 8))),
        "arg": np.empty((2, t_n)),
        "order": np.empty(m_n + 1, dtype=np.int64),
        "xs": np.empty(t_n),
        "zs": np.empty((t_n, m_n)),
    }
    return a, work


@pytest.mark.parametrize(("aug_peak_mw", "extended"), [(6.0, False), (6.0 - 1e-6, True), (3.0, True), (10.0 - 1e-6, False)])
def test_partial_resolve_takes_in_pieces_where_the_join_breaks_the_ramp(aug_peak_mw: float, extended: bool) -> None:
    # a 10 MW fleet ramping 4 MW/h runs flat out over midnight July 31 / August 1 (every ramp constraint slack, every
    # interval its own piece); shaving August's peak re-solves August alone while the join at midnight meets the
    # ramp (down to 6 MW = 10 - 4); just below that the re-solved range must take in July's hours; either way the
    # result is the full DP's
    x = make_inputs(
        [0, 0, 0, 0], [100] * 4, [10.0], import_limit_mw=15.0, firm_ai_mw=5.0, ramp_mw_per_h=[4.0], demand_charge_usd_per_mw_month=1.0, start="2023-07-31 22:00"
    )
    a, w = _kernel_arrays(x)
    q = a.qmax[0].copy()
    xr, z = np.empty(4), np.empty((4, 0))
    _solve_range(a.wr[0], a.hr[0], a.wfree[0], a.wdth[0], a.rstep, True, a.month, q, a.cap_const, True, 0, 4, xr, z, w["heap"], w["arg"], w["order"])
    np.testing.assert_allclose(xr, 10.0)
    cuts = np.empty(6, dtype=np.int64)
    nc = _pieces(xr, a.rstep, True, 0.0, cuts)
    assert list(cuts[:nc]) == [0, 1, 2, 3, 4]
    qn = np.array([q[0], aug_peak_mw])
    ok, value, took_in = _partial(
        a.wr[0], a.hr[0], a.wfree[0], a.wdth[0], a.rstep, True, a.month, q, qn, cuts, nc, xr, z, w["xs"], w["zs"], w["heap"], w["arg"], w["order"]
    )
    assert ok
    assert (w["xs"][1] < 10.0 - 1e-9) == extended == took_in
    partial_x = w["xs"].copy()
    full = _solve_range(
        a.wr[0], a.hr[0], a.wfree[0], a.wdth[0], a.rstep, True, a.month, qn, a.cap_const, True, 0, 4, w["xs"], w["zs"], w["heap"], w["arg"], w["order"]
    )
    assert value == pytest.approx(full, rel=1e-12)
    assert (np.abs(np.diff(partial_x)) <= 4.0 + 1e-9).all()


def test_pieces_keep_a_ramp_constraint_slack_by_less_than_the_margin() -> None:
    # ramp 4 MW per interval: 0 -> 4 binds (never cut), 4 -> 4 is slack (cut), 4 -> 1e-7 is slack by only 1e-7 MW
    x = np.array([0.0, 4.0, 4.0, 1e-7])
    cuts = np.empty(6, dtype=np.int64)
    assert list(cuts[: _pieces(x, 4.0, True, 0.0, cuts)]) == [0, 2, 3, 4]
    assert list(cuts[: _pieces(x, 4.0, True, 1e-5, cuts)]) == [0, 2, 4]  # within the margin: kept
    assert list(cuts[: _pieces(x, 4.0, False, 1e-5, cuts)]) == [0, 1, 2, 3, 4]  # no ramp: every interval alone


def test_a_year_of_shaved_peaks_equals_the_lp(hourly_hub_files: dict[str, Path]) -> None:
    # a full hourly year at a low hashprice: the demand charge shaves most months' peaks, the ramp binds around
    # every price spike and the flexible budget binds, so the model step, the partial re-solves and the line
    # search all run; the objective must still be the LP's
    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    price = pd.read_parquet(hourly_hub_files["HB_NORTH"]).set_index("interval_start_utc")["HB_NORTH"].loc["2023-01-01":].to_numpy()[:8760]
    cost = price + 4.0
    # (all mining, $20/MWh): months whose best peak is one ramp step from a month shaved to nothing, where a
    # relaxation that forgets the ramp inside a month would certify a wrong peak (2.6% off)
    for mining_mw, scale in ((110.0, 20.0), (110.0, 25.0), (220.0, 20.0)):
        x = planning_site_inputs(sc, mining_mw, 220.0 - mining_mw)
        value = np.full((8760, 1), scale)
        xi = replace(x, mining_value_usd_per_mwh=value, price_usd_per_mwh=cost)
        s, lp = solve_coupled(xi), solve_lp(xi)
        assert s.certified
        assert s.objective_usd == pytest.approx(lp.objective_usd, rel=1e-7)
        peaks = pd.Series(s.mining_mw.sum(axis=1) + s.flex_mw.sum(axis=1)).groupby(xi.month).max()
        assert (peaks < xi.import_limit_mw - 1.0).sum() >= 3  # several months shaved
