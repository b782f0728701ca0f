"""Block-level network simulation: statistics, retarget response, clamps, reproducibility, backtest."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mullet.bitcoin import bits_to_target, target_to_bits
from mullet.errors import ScenarioError
from mullet.network import backtest, halving_episode, parse_event, simulate_blocks, simulate_network
from mullet.network.simulate import bits_for_difficulty, subsidy_sat

D0 = 1e14
H_MATCH_THS = D0 * 2**32 / 600 / 1e12  # hashrate that finds a block every 600 s on average at D0


def run(hashrate_ths: np.ndarray, expected: bool = False, seed: int = 1):  # type: ignore[no-untyped-def]
    paths, days = hashrate_ths.shape
    return simulate_blocks(hashrate_ths, bits_for_difficulty(D0), 0, 0, 0.0, days, paths, seed=seed, expected=expected)


def test_constant_hashrate_gives_600s_blocks_and_flat_difficulty() -> None:
    sim = run(np.full((100, 365), H_MATCH_THS))
    # blocks per day: 144 on average (Core's 2015-interval timespan makes the equilibrium block time 600 x 2016/2015 s)
    mean_interval_s = 86_400 * 365 * 100 / sim.blocks.sum()
    se = 600 / np.sqrt(sim.blocks.sum())  # standard error of the mean interval
    assert abs(mean_interval_s - 600 * 2016 / 2015) < 6 * se + 1.0
    ratios = np.array([new / old for r in sim.retargets for _, old, new in r])
    assert abs(np.mean(np.log(ratios))) < 3 * np.std(np.log(ratios)) / np.sqrt(len(ratios)) + 5e-4
    assert np.median(sim.difficulty[:, -1]) / D0 == pytest.approx(2016 / 2015, abs=0.01)


def test_step_change_retarget_delay_and_size() -> None:
    sim = run(np.full((1, 30), 2 * H_MATCH_THS), expected=True)
    day, old, new = sim.retargets[0][0]
    assert day == 6  # 2016 blocks at 288 a day: the last one comes at the end of the seventh day (index 6)
    assert new / old == pytest.approx(2 * 2016 / 2015, rel=2e-3)
    stochastic = run(np.full((300, 30), 2 * H_MATCH_THS), seed=5)
    first = np.array([r[0][2] / r[0][1] for r in stochastic.retargets])
    assert first.mean() == pytest.approx(2 * 2016 / 2015, rel=3 * 2 / np.sqrt(2016) / np.sqrt(300))


def test_retarget_clamps_at_four_and_a_quarter() -> None:
    up = run(np.full((1, 10), 10 * H_MATCH_THS), expected=True)
    assert up.retargets[0][0][2] / up.retargets[0][0][1] == pytest.approx(4.0, rel=1e-4)
    down = run(np.full((1, 200), H_MATCH_THS / 10), expected=True)
    assert down.retargets[0][0][0] > 130  # 2016 blocks at 14.4 a day
    assert down.retargets[0][0][2] / down.retargets[0][0][1] == pytest.approx(0.25, rel=1e-4)


def test_retarget_uses_exact_integer_rule() -> None:
    sim = run(np.full((1, 20), H_MATCH_THS * 1.5), expected=True)
    _, old, new = sim.retargets[0][0]
    bits = bits_for_difficulty(D0)
    assert bits_to_target(target_to_bits(bits_to_target(bits))) == bits_to_target(bits)
    assert new == pytest.approx(old * 1.5 * 2016 / 2015, rel=1e-3)


def test_subsidy_vector_matches_consensus() -> None:
    from mullet.bitcoin import block_subsidy

    heights = np.array([0, 209_999, 210_000, 839_999, 840_000, 1_050_000, 6_929_999, 6_930_000, 64 * 210_000, 10**8])
    np.testing.assert_array_equal(subsidy_sat(heights), [block_subsidy(int(h)) for h in heights])


def test_halving_inside_the_simulation_halves_issuance() -> None:
    sim = simulate_blocks(np.full((1, 20), H_MATCH_THS), bits_for_difficulty(D0), 1_049_000, 1_048_320, 0.0, 20, 1, expected=True)
    per_block = sim.subsidy_btc[0] / sim.blocks[0]
    assert per_block[0] == 3.125 and per_block[-1] == 1.5625


def test_seed_reproducibility() -> None:
    a = simulate_network(paths=20, years=0.5, seed=11)
    b = simulate_network(paths=20, years=0.5, seed=11)
    c = simulate_network(paths=20, years=0.5, seed=12)
    np.testing.assert_array_equal(a.difficulty, b.difficulty)
    np.testing.assert_array_equal(a.hashprice_usd_per_ph_day, b.hashprice_usd_per_ph_day)
    assert not np.array_equal(a.difficulty, c.difficulty)


def test_ai_exit_lowers_difficulty_and_lifts_margins() -> None:
    base = simulate_network(paths=200, years=2, seed=3)
    exit20 = simulate_network(paths=200, years=2, seed=3, events=[parse_event("ai-exit:0.2:2026-01-01..2026-12-31")])
    y2027 = base.days.year == 2027
    assert np.median(exit20.difficulty[:, y2027]) < 0.9 * np.median(base.difficulty[:, y2027])
    for cls in ("S19-class", "S21-class"):
        assert np.median(exit20.margin_usd_per_mwh[cls][:, y2027]) > np.median(base.margin_usd_per_mwh[cls][:, y2027])
    # S21-class is always more profitable than S19-class
    assert (exit20.margin_usd_per_mwh["S21-class"] > exit20.margin_usd_per_mwh["S19-class"]).all()


def test_storm_removes_hashrate_for_its_days() -> None:
    sim = simulate_network(paths=5, years=0.3, seed=1, events=[parse_event("storm:0.4:2026-02-01:5")])
    i = int(np.flatnonzero(sim.days == "2026-02-01")[0])
    before, during = sim.hashrate_ths[:, i - 1], sim.hashrate_ths[:, i]
    np.testing.assert_allclose(during / before, 0.6, rtol=0.05)


@pytest.mark.parametrize("text", ["ai-exit:0.2", "storm:2:2026-01-01:3", "flood:0.1", "ai-exit:0.2:2026-12-01..2026-01-01", "storm:0.1:2026-01-01:0"])
def test_bad_events_are_clear_errors(text: str) -> None:
    with pytest.raises(ScenarioError, match="event"):
        parse_event(text)


def test_backtest_against_real_retargets() -> None:
    exact = backtest(paths=1, expected=True)
    assert len(exact.adjustments) > 200
    assert exact.mae_difficulty_fraction < 0.01
    assert exact.mae_adjustment_fraction < 0.01
    noisy = backtest(paths=10, seed=2)
    # daily block counts are as close to reality as Poisson noise allows
    assert noisy.mae_daily_blocks < 1.15 * noisy.poisson_floor_daily_blocks
    assert abs(noisy.bias_daily_blocks) < 0.5
    assert noisy.mae_adjustment_fraction < 0.04  # ~ sqrt(2/2016) per adjustment from Poisson noise


def test_halving_episode_2024() -> None:
    h = halving_episode()
    ratio = h.loc["before", "hashprice_subsidy_usd_per_ph_day"] / h.loc["after", "hashprice_subsidy_usd_per_ph_day"]
    assert ratio == pytest.approx(2.15, abs=0.2)
    assert bool(h.loc["after", "under_water__S9-class"]) and not bool(h.loc["before", "under_water__S9-class"])
    assert not bool(h.loc["after", "under_water__S21-class"])


def test_cli_simulate_json_and_plot(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "network", "simulate", "--paths", "20", "--years", "1", "--seed", "4", "--format", "json",
         "--event", "ai-exit:20%:2026-01-01..2026-12-31", "--plot", str(tmp_path / "fan.png")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["price_model"]["vol_per_year"] > 0
    assert [r["year"] for r in data["by_year"]] == [2025, 2026]
    assert (tmp_path / "fan.png").stat().st_size > 10_000


# --- hashrate supply that responds to margins ---


def test_fitted_defaults_are_the_fit_and_reproduce_history_growth() -> None:
    from mullet.network import SupplyModel, fit_supply_model

    fit = fit_supply_model()
    assert fit.supply == SupplyModel()  # the defaults are the grid fit, not hand-set
    assert fit.fitted_on == "2016-07-01..2025-12-29"
    # stated tolerance: a replay of the whole history from 2016-07 grows within 0.10/yr (log) of the real network
    # (0.69/yr, x2 a year), with a monthly root-mean-square log error under 0.45; the fit criterion, 6- and 12-month
    # forecasts from 34 anchors, errs by under 0.40 (RMS log)
    assert abs(fit.model_growth_per_year - fit.real_growth_per_year) < 0.10
    assert fit.real_growth_per_year == pytest.approx(0.69, abs=0.01)
    assert fit.rmse_log < 0.45
    assert fit.anchors == 34 and fit.forecast_rmse_log < 0.40


def _fleet(supply, capacity, eff, hp):  # type: ignore[no-untyped-def]
    from mullet.network import FleetState

    cap = np.array([capacity], dtype=float)
    return FleetState.start(supply, cap, np.array(eff), len(eff) - 1, np.array([hp]), np.array([hp]))


def test_entry_grows_capacity_at_the_hand_computed_rate() -> None:
    from mullet.network import SupplyModel, fleet_step

    sup = SupplyModel(entry_lag_days=0, retire_per_year=0.0, entry_per_year=2.0, payback_window_days=1200.0, new_asic_usd_per_th=17.5, entry_signal_days=1.0)
    # margin of an S21 (17.5 J/TH) at 50 USD/PH/day, 2% pool fee, 45 USD/MWh, 5% cooling:
    margin_usd_per_th_day = 50 / 1000 * 0.98 - 45 * 1.05 * 17.5 * 24e-6  # 0.029155
    payback_days = 17.5 / margin_usd_per_th_day  # 600.2 days
    assert float(sup.payback_days(np.array(50.0), 17.5)) == pytest.approx(payback_days)
    rate = 2.0 / 365 * (1 - payback_days / 1200)
    state = _fleet(sup, [1000.0], [17.5], 50.0)
    for d in range(365):
        fleet_step(state, sup, np.array([50.0]), np.array([17.5]), 0, d)
    assert state.capacity_ths[0, 0] == pytest.approx(1000 * (1 + rate) ** 365, rel=1e-9)
    # a machine that does not pay back within the window brings no orders
    assert float(SupplyModel(payback_window_days=600.0, new_asic_usd_per_th=17.5).order_rate_per_day(np.array(50.0), 17.5)) == 0.0


def test_classes_under_water_retire_at_the_stated_rate_and_others_stay() -> None:
    from mullet.network import SupplyModel, fleet_step

    sup = SupplyModel(entry_per_year=0.0, retire_per_year=0.5)
    eff = [100.0, 17.5]  # at 50 USD/PH/day: 19.4 USD/MWh after fees for the S9-class (< 45), 111 for the S21-class
    margins = sup.margin_usd_per_mwh(np.array(50.0), np.array(eff))
    assert margins[0] < 0 < margins[1]
    state = _fleet(sup, [600.0, 400.0], eff, 50.0)
    for d in range(200):
        fleet_step(state, sup, np.array([50.0]), np.array(eff), 1, d)
    np.testing.assert_allclose(state.capacity_ths[0], [600 * (1 - 0.5 / 365) ** 200, 400.0], rtol=1e-12)


def test_orders_arrive_after_the_lead_time() -> None:
    from mullet.network import SupplyModel, fleet_step

    sup = SupplyModel(entry_lag_days=30, retire_per_year=0.0, entry_signal_days=1.0)
    state = _fleet(sup, [1000.0], [17.5], 80.0)
    state.orders_ths[:] = 0.0  # an empty order book
    first_order = float(sup.order_rate_per_day(np.array(80.0), 17.5)) * 1000.0
    assert first_order > 0
    for d in range(30):
        fleet_step(state, sup, np.array([80.0]), np.array([17.5]), 0, d)
    assert state.capacity_ths[0, 0] == 1000.0
    fleet_step(state, sup, np.array([80.0]), np.array([17.5]), 0, 30)
    assert state.capacity_ths[0, 0] == pytest.approx(1000.0 + first_order)


def test_simulated_hashrate_follows_the_btc_price() -> None:
    from mullet.scenarios import PriceMeasure

    low = simulate_network(paths=40, years=2, seed=5, price_measure=PriceMeasure(kind="user", expected_growth_per_year=-0.5))
    high = simulate_network(paths=40, years=2, seed=5, price_measure=PriceMeasure(kind="user", expected_growth_per_year=0.5))
    y2027 = low.days.year == 2027
    assert np.median(high.hashrate_ths[:, y2027]) > 1.5 * np.median(low.hashrate_ths[:, y2027])
    # and entry pulls hashprice back: a higher BTC price lifts hashprice much less than in proportion
    price_ratio = np.median(high.price_usd[:, y2027]) / np.median(low.price_usd[:, y2027])
    ratio = np.median(high.hashprice_usd_per_ph_day[:, y2027]) / np.median(low.hashprice_usd_per_ph_day[:, y2027])
    assert 1.0 < ratio < 0.6 * price_ratio


def test_fleet_at_uses_only_the_past_and_the_catalog_classes() -> None:
    from mullet.data import load_network_daily
    from mullet.network import fleet_at

    net = load_network_daily()
    fleet = fleet_at("2020-01-01", net)
    assert [c.name for c in fleet] == ["S9-class", "M10-class", "S17-class"]  # S19 Pro arrives 2020-02 in the catalog
    assert sum(c.share_fraction for c in fleet) == pytest.approx(1.0)
    corrupt = net.copy()
    corrupt.loc["2020-01-02":, ["price_usd", "hashrate_ths"]] *= 3.0
    assert fleet_at("2020-01-01", corrupt) == fleet


@settings(max_examples=40, deadline=None)
@given(
    hp=st.floats(1.0, 2_000.0),
    window=st.floats(30.0, 3_000.0),
    eff=st.floats(10.0, 120.0),
)
def test_orders_only_within_the_payback_window_and_more_when_hashprice_is_higher(hp: float, window: float, eff: float) -> None:
    from mullet.network import SupplyModel

    sup = SupplyModel(payback_window_days=window)
    rate = float(sup.order_rate_per_day(np.array(hp), eff))
    payback = float(sup.payback_days(np.array(hp), eff))
    assert (rate > 0) == (payback < window)
    assert 0 <= rate <= sup.entry_per_year / 365
    assert float(sup.order_rate_per_day(np.array(hp * 1.1), eff)) >= rate
