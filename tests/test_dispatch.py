"""Site dispatch: analytic cases, LP vs closed form, properties, data edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from mullet.dispatch import build_inputs, dispatch, dispatch_inputs, greedy_dispatch, mining_margin_usd
from mullet.errors import DataError, ScenarioError
from mullet.site import load_scenario, parse_scenario
from mullet.testing import make_inputs, site_inputs

ROOT = Path(__file__).parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


# --- small cases with an analytic optimum -------------------------------------------------------


@pytest.mark.parametrize("solver", ["lp", "fast"])
def test_mine_only_when_value_beats_price(solver: str) -> None:
    x = make_inputs([50, 150, 80, 200], [100] * 4)
    r = dispatch_inputs(x, solver)  # type: ignore[arg-type]
    assert r.schedule["mining_mw"].tolist() == [10, 0, 10, 0]
    assert r.pnl["net_usd"] == pytest.approx((100 - 50) * 10 + (100 - 80) * 10)


def test_ramp_limit_analytic() -> None:
    # hour 2 costs $1000/MWh: with a 5 MW/h ramp the fleet can run only 5 MW in hour 1
    r = dispatch_inputs(make_inputs([0, 1000], [100, 100], ramp_mw_per_h=[5]), "lp")
    np.testing.assert_allclose(r.schedule["mining_mw"], [5, 0], atol=1e-9)
    assert r.pnl["net_usd"] == pytest.approx(500)


def test_demand_charge_analytic() -> None:
    # two free hours worth $100/MWh each; a $150/MW-month peak charge still pays, a $250 one does not
    on = dispatch_inputs(make_inputs([0, 0], [100, 100], demand_charge_usd_per_mw_month=150), "lp")
    assert on.pnl["net_usd"] == pytest.approx(2 * 100 * 10 - 150 * 10)
    off = dispatch_inputs(make_inputs([0, 0], [100, 100], demand_charge_usd_per_mw_month=250), "lp")
    assert off.pnl["net_usd"] == pytest.approx(0, abs=1e-6)


def test_min_off_time_analytic() -> None:
    x = make_inputs([0, 300, 0, 0], [100] * 4, min_off_h=[2], on_min_mw=[2])
    r = dispatch_inputs(x, "lp")
    # stopping in hour 2 would keep the fleet off in hour 3: better to idle at 2 MW through the spike
    np.testing.assert_allclose(r.schedule["mining_mw"], [10, 2, 10, 10], atol=1e-6)
    assert r.pnl["net_usd"] == pytest.approx(3 * 1000 - 2 * 200)


def test_min_on_time_analytic() -> None:
    x = make_inputs([300, 0, 200, 200, 200, 0], [100] * 6, min_on_h=[3], on_min_mw=[2])
    r = dispatch_inputs(x, "lp")
    np.testing.assert_allclose(r.schedule["mining_mw"], [0, 10, 2, 2, 0, 10], atol=1e-6)
    assert r.pnl["net_usd"] == pytest.approx(1600)
    assert dispatch_inputs(make_inputs([300, 0, 200, 200, 200, 0], [100] * 6), "lp").pnl["net_usd"] == pytest.approx(2000)


def test_flexible_ai_budget_analytic() -> None:
    # 10 MW AI that may shed 2 MW for at most 1 MWh; the $5,000 hour is where shedding pays
    x = make_inputs(
        [50, 5000, 100],
        [0, 0, 0],
        flex_max_mw=[10],
        flex_min_mw=[8],
        flex_budget_mwh=[1.0],
        flex_sla_usd_per_mwh=[300],
    )
    r = dispatch_inputs(x, "lp")
    np.testing.assert_allclose(r.schedule["ai_mw"], [10, 9, 10], atol=1e-9)
    assert r.metrics["ai_capped_mwh"] == pytest.approx(1.0)
    assert r.pnl["sla_penalty_usd"] == pytest.approx(300)


def test_ancillary_offer_analytic() -> None:
    # value 100 vs price 120: mining alone loses $20/MWh, but half the load sold as RRS at $60 pays
    x = make_inputs([120], [100], as_price_usd_per_mw_h=[[60.0]], max_offer_fraction=0.5)
    for solver in ("lp", "fast"):
        r = dispatch_inputs(x, solver)  # type: ignore[arg-type]
        assert r.schedule["mining_mw"].iloc[0] == pytest.approx(10)
        assert r.pnl["ancillary_revenue_usd"] == pytest.approx(300)
        assert r.pnl["net_usd"] == pytest.approx(-200 + 300)


def test_four_cp_hour_is_avoided_in_perfect_mode() -> None:
    x = make_inputs([30, 30], [100, 100], cp_hour=[False, True], cp_usd_per_mwh=15_000)
    r = dispatch_inputs(x, "fast")
    assert r.schedule["mining_mw"].tolist() == [10, 0]
    assert r.pnl["four_cp_charge_usd"] == 0


# --- two independent methods -----------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(site_inputs())
def test_lp_equals_fast_path_on_separable_inputs(x) -> None:  # type: ignore[no-untyped-def]
    lp = dispatch_inputs(x, "lp")
    fast = dispatch_inputs(x, "fast")
    scale = max(1.0, abs(fast.objective_usd))
    assert abs(lp.objective_usd - fast.objective_usd) <= 1e-9 * scale + 1e-6
    assert lp.pnl["net_usd"] == pytest.approx(fast.pnl["net_usd"], rel=1e-9, abs=1e-6)


@pytest.fixture(scope="module")
def default_august():  # type: ignore[no-untyped-def]
    return build_inputs(load_scenario(ROOT / "scenarios/default.toml"), "2023-08-01", "2023-08-31")


def test_lp_equals_fast_path_on_real_august_2023(default_august) -> None:  # type: ignore[no-untyped-def]
    lp = dispatch_inputs(default_august, "lp")
    fast = dispatch_inputs(default_august, "fast")
    assert lp.objective_usd == pytest.approx(fast.objective_usd, rel=1e-9)
    assert lp.pnl["net_usd"] == pytest.approx(fast.pnl["net_usd"], rel=1e-9)


def test_objective_matches_pnl_minus_constants(default_august) -> None:  # type: ignore[no-untyped-def]
    x = default_august
    r = dispatch_inputs(x, "lp")
    hours = x.n * x.dt_h
    firm_cost = np.sum(x.energy_cost_usd_per_mwh * x.firm_ai_mw) * x.dt_h
    reimbursed = np.sum(x.energy_cost_usd_per_mwh * x.firm_ai_pass_through_mw) * x.dt_h  # triple-net tenants pay their energy
    const = x.firm_ai_revenue_usd_per_h * hours + r.pnl["ppa_settlement_usd"] - firm_cost + reimbursed
    assert r.pnl["net_usd"] == pytest.approx(r.objective_usd + const, rel=1e-9)


def test_ai_revenue_is_the_rent_and_tenant_energy_is_its_own_line(default_august) -> None:  # type: ignore[no-untyped-def]
    """$130/kW-month on 100 IT MW is $1.56M per IT MW-year; the triple-net tenant's energy is repaid on its own line."""
    x = default_august
    r = dispatch_inputs(x, "fast")
    hours = x.n * x.dt_h
    assert r.pnl["ai_revenue_usd"] == pytest.approx(130 * 1000 * 12 * 100 * hours / 8760, rel=1e-12)
    assert r.metrics["ai_revenue_usd_per_it_mw_year"] == pytest.approx(1_560_000, rel=1e-12)
    tenant_energy = np.sum(x.energy_cost_usd_per_mwh * x.firm_ai_pass_through_mw) * x.dt_h
    assert tenant_energy > 0 and r.pnl["ai_energy_reimbursement_usd"] == pytest.approx(tenant_energy, rel=1e-9)


def test_batched_fast_path_equals_one_by_one() -> None:
    rng = np.random.default_rng(7)
    value = rng.uniform(20, 200, size=(5, 48, 1))
    price = rng.normal(60, 80, size=(5, 48))
    batch = greedy_dispatch(value, price, 100.0, np.zeros(1), np.array([80.0]))
    for i in range(5):
        one = greedy_dispatch(value[i], price[i], 100.0, np.zeros(1), np.array([80.0]))
        np.testing.assert_allclose(batch.value_usd[i], one.value_usd, rtol=1e-12)
    np.testing.assert_allclose(batch.value_usd, mining_margin_usd(value[..., 0], price, 80.0), rtol=1e-12)


# --- properties of the full pipeline ------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_example_scenarios_properties(path: Path) -> None:
    sc = load_scenario(path)
    r = dispatch(sc, "2023-08-01", "2023-08-14")
    s = r.schedule
    assert r.status == "optimal"
    firm = sum(b.site_load_mw for b in sc.ai if b.service == "firm")
    # energy balance every interval
    np.testing.assert_allclose(s["grid_import_mw"], s["mining_mw"] + s["ai_mw"], atol=1e-6)
    # the interconnect is never exceeded
    assert (s["grid_import_mw"] <= sc.interconnect.import_limit_mw + 1e-6).all()
    # firm AI never curtailed
    assert (s["ai_mw"] >= firm - 1e-9).all()
    # mining within its limits
    cap = sum(f.site_power_mw * f.max_load_fraction for f in sc.mining)
    assert (s["mining_mw"] <= cap + 1e-6).all() and (s["mining_mw"] >= -1e-9).all()
    assert str(s.index.tz) == "UTC"


def test_mining_runs_exactly_when_value_beats_spot_not_ppa(default_august) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    x = replace(default_august, as_award_intervals=1)  # offers per interval: the per-interval rule below
    r = dispatch_inputs(x, "fast")
    s = r.schedule
    margin = x.mining_value_usd_per_mwh[:, 0] - x.energy_cost_usd_per_mwh
    best_as = np.max(x.as_price_usd_per_mw_h - x.as_deployment_fraction * margin[:, None], axis=1).clip(0)
    worth = margin + x.as_max_offer_fraction * best_as
    on = s["mining_mw"].to_numpy() > 1e-9
    np.testing.assert_array_equal(on, worth > 0)
    # the PPA price changes the settlement, never the dispatch: the opportunity cost is spot
    cheap = make_like(x, ppa_price=0.0)
    dear = make_like(x, ppa_price=500.0)
    a, b = dispatch_inputs(cheap, "fast"), dispatch_inputs(dear, "fast")
    np.testing.assert_array_equal(a.schedule["mining_mw"], b.schedule["mining_mw"])
    assert a.pnl["ppa_settlement_usd"] - b.pnl["ppa_settlement_usd"] == pytest.approx(500.0 * x.ppa_mw.sum() * x.dt_h)


def make_like(x, ppa_price: float):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(x, ppa_cost_usd_per_h=x.ppa_mw * ppa_price)


def test_negative_prices_mean_mining_and_paid_consumption() -> None:
    x = make_inputs([-20, -5, 10], [0.0, 0.0, 0.0])
    r = dispatch_inputs(x, "fast")
    # worthless hashes still pay where power has a negative price
    assert r.schedule["mining_mw"].tolist() == [10, 10, 0]
    assert r.pnl["spot_energy_cost_usd"] == pytest.approx(-250)
    assert r.pnl["net_usd"] == pytest.approx(250)


def test_ppa_resale_credit_is_spot_times_unused_volume() -> None:
    x = make_inputs([30, 500], [100, 100], ppa_mw=10, ppa_price_usd_per_mwh=25)
    r = dispatch_inputs(x, "fast")
    assert r.schedule["mining_mw"].tolist() == [10, 0]
    assert r.metrics["ppa_resold_mwh"] == pytest.approx(10)
    assert r.metrics["ppa_resale_credit_usd"] == pytest.approx(5000)
    assert r.pnl["ppa_settlement_usd"] == pytest.approx((30 - 25) * 10 + (500 - 25) * 10)


# --- auto, errors and input data --------------------------------------------------------------------


def test_auto_picks_fast_when_separable_and_lp_otherwise() -> None:
    assert dispatch_inputs(make_inputs([1, 2], [5, 5]), "auto").solver == "fast"
    assert dispatch_inputs(make_inputs([1, 2], [5, 5], ramp_mw_per_h=[1]), "auto").solver == "coupled"
    assert dispatch_inputs(make_inputs([1, 2], [5, 5], min_on_h=[2], on_min_mw=[1]), "auto").solver == "lp"
    with pytest.raises(ScenarioError, match="solver: got 'fast'"):
        dispatch_inputs(make_inputs([1, 2], [5, 5], ramp_mw_per_h=[1]), "fast")


def _scenario(**power: object) -> dict[str, object]:
    return {
        "start": "2023-03-01",
        "end": "2023-03-02",
        "interconnect": {"import_limit_mw": 50},
        "mining": [{"model": "Antminer S21", "units": 1000}],
        "power": power,
    }


def test_scenario_errors_name_field_value_and_rule() -> None:
    with pytest.raises(ScenarioError, match=r"interconnect.import_limit_mw: Input should be greater than 0 \(got -5\)"):
        parse_scenario({"interconnect": {"import_limit_mw": -5}, "mining": [{"model": "Antminer S21", "units": 1}]})
    with pytest.raises(ScenarioError, match="model: got 'Antminer S99', not in the bundled catalog"):
        parse_scenario({"interconnect": {"import_limit_mw": 5}, "mining": [{"model": "Antminer S99", "units": 1}]})
    with pytest.raises(ScenarioError, match="below the firm AI load"):
        parse_scenario({"interconnect": {"import_limit_mw": 5}, "ai": [{"it_load_mw": 10}]})
    with pytest.raises(ScenarioError, match="settlement_point"):
        dispatch(parse_scenario(_scenario(settlement_point="HB_MARS")))


def _price_file(tmp_path: Path, times: list[str], name: str = "p.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame({"interval_start_utc": times, "NODE": np.linspace(20, 40, len(times))}).to_csv(path, index=False)
    return path


def test_missing_hours_error_or_documented_fill(tmp_path: Path) -> None:
    times = [t.isoformat() for t in pd.date_range("2023-03-01", "2023-03-03", freq="1h", tz="UTC", inclusive="left")]
    del times[30]
    path = _price_file(tmp_path, times)
    with pytest.raises(DataError, match="1 missing interval"):
        dispatch(parse_scenario(_scenario(price_file=str(path), settlement_point="NODE")))
    r = dispatch(parse_scenario(_scenario(price_file=str(path), settlement_point="NODE", missing_intervals="ffill")))
    assert any("1 missing price interval(s) filled" in n for n in r.notes)
    assert len(r.schedule) == 48


def test_naive_local_timestamps_are_rejected(tmp_path: Path) -> None:
    times = [t.strftime("%Y-%m-%d %H:%M") for t in pd.date_range("2023-03-01", periods=48, freq="1h")]
    path = _price_file(tmp_path, times)
    with pytest.raises(DataError, match="has no UTC offset"):
        dispatch(parse_scenario(_scenario(price_file=str(path), settlement_point="NODE")))


def test_daylight_saving_offsets_convert_without_shift(tmp_path: Path) -> None:
    # US fall-back day in Central time: 25 local hours, with the 01:00 hour twice (-05:00 then -06:00)
    utc = pd.date_range("2023-11-05 05:00", periods=48, freq="1h", tz="UTC")
    times = [t.tz_convert("America/Chicago").isoformat() for t in utc]
    assert sum(s.startswith("2023-11-05T01:00:00") for s in times) == 2
    path = _price_file(tmp_path, times)
    sc = _scenario(price_file=str(path), settlement_point="NODE")
    sc["start"], sc["end"] = "2023-11-06", "2023-11-06"
    r = dispatch(parse_scenario(sc))
    assert len(r.schedule) == 24
    expected = pd.Series(np.linspace(20, 40, 48), index=utc)
    np.testing.assert_allclose(r.schedule["price_usd_per_mwh"], expected.loc["2023-11-06"].to_numpy())


def test_hourly_load_zone_prices_give_hourly_model() -> None:
    sc = load_scenario(ROOT / "scenarios/default.toml").model_copy(update={"power": parse_scenario(_scenario(settlement_point="LZ_WEST")).power})
    r = dispatch(sc, "2023-08-01", "2023-08-03")
    assert r.summary()["interval_minutes"] == 60
    assert len(r.schedule) == 72


def test_horizon_outside_data_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError, match="outside the price data"):
        dispatch(ROOT / "scenarios/default.toml", "2026-01-01", "2026-01-02")


def test_chunked_value_only_equals_per_path() -> None:
    rng = np.random.default_rng(3)
    value = rng.uniform(20, 200, size=(40, 24, 1))
    price = rng.normal(60, 80, size=(40, 24))
    as_price = rng.uniform(0, 40, size=(40, 24, 2))
    kw = dict(as_price_usd_per_mw_h=as_price, max_offer_fraction=0.5, deployment_fraction=0.02)
    batch = greedy_dispatch(value, price, 120.0, np.array([10.0]), np.array([100.0]), value_only=True, **kw)  # type: ignore[arg-type]
    for i in (0, 17, 39):
        one = greedy_dispatch(
            value[i], price[i], 120.0, np.array([10.0]), np.array([100.0]), as_price_usd_per_mw_h=as_price[i], max_offer_fraction=0.5, deployment_fraction=0.02
        )
        assert batch.value_usd[i] == pytest.approx(float(one.value_usd), rel=1e-12)


def test_four_cp_forecast_mode_reports_curtailment_and_misses() -> None:
    sc = load_scenario(ROOT / "scenarios/iren_childress_ai_campus.toml")
    r = dispatch(sc, "2023-08-01", "2023-08-31")
    assert any("4CP forecast threshold" in n for n in r.notes)
    assert r.metrics["four_cp_forced_curtailment_hours"] > 0
    assert r.metrics["four_cp_peaks_missed"] == 0  # the August 2023 peak is above a threshold tuned on 2021 and 2024
    assert r.metrics["four_cp_intervals"] == 4  # one peak hour at 15-minute intervals
    s = r.schedule
    peak = s[s["four_cp_interval"]]
    assert (peak["mining_mw"] == 0).all()
    # the charge is on the firm AI load in the peak hour: rate x 1000 / 4 x MW
    assert r.pnl["four_cp_charge_usd"] == pytest.approx(60 * 1000 / 4 * peak["expected_import_mw"].mean())


def test_user_hashprice_file_drives_mining_value(tmp_path: Path) -> None:
    days = pd.date_range("2023-03-01", "2023-03-03", freq="D")
    path = tmp_path / "hp.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "hashprice_usd_per_ph_day": [42.0, 84.0, 42.0]}).to_csv(path, index=False)
    sc = _scenario()
    sc["hashprice_file"] = str(path)
    r = dispatch(parse_scenario(sc))
    hp = r.schedule["hashprice_usd_per_ph_day"]
    assert set(hp.loc["2023-03-01"]) == {42.0} and set(hp.loc["2023-03-02"]) == {84.0}
    value = r.schedule["mining_value_usd_per_mwh__mining"]
    # S21: 17.5 J/TH, 2% pool fee, 5% cooling: $42/PH/day is 42 / 0.42 x 0.98 / 1.05 USD per site MWh
    assert value.iloc[0] == pytest.approx(42 / 0.42 * 0.98 / 1.05)
    assert not any("fees missing" in n for n in r.notes)


@pytest.mark.parametrize("n_products", [0, 1, 3])
def test_one_fleet_value_only_kernel_equals_full_greedy(n_products: int) -> None:
    rng = np.random.default_rng(n_products)
    value = rng.uniform(20, 200, size=(37, 48, 1))
    price = rng.normal(60, 80, size=(37, 48))
    as_price = rng.uniform(0, 60, size=(37, 48, n_products)) if n_products else None
    kw = dict(as_price_usd_per_mw_h=as_price, max_offer_fraction=0.4, deployment_fraction=0.05, dt_h=0.25)
    fast = greedy_dispatch(value, price, 70.0, np.zeros(1), np.array([100.0]), value_only=True, **kw)  # type: ignore[arg-type]
    full = greedy_dispatch(value, price, 70.0, np.zeros(1), np.array([100.0]), **kw)  # type: ignore[arg-type]
    np.testing.assert_allclose(fast.value_usd, full.value_usd, rtol=1e-12)
