"""Settlement as ERCOT does it: load-zone basis, hourly day-ahead awards, local billing, annual AI budgets, pure JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mullet.dispatch import build_inputs, dispatch_inputs
from mullet.dispatch.result import evaluate
from mullet.errors import ScenarioError
from mullet.site import load_scenario, parse_scenario
from mullet.testing import make_inputs

ROOT = Path(__file__).parents[1]


def test_load_zone_basis_changes_cost_by_exactly_basis_times_energy() -> None:
    hub = np.array([30.0, 80.0, -5.0, 200.0])
    basis = np.array([12.0, -3.0, 40.0, 7.5])
    x_hub = make_inputs(hub, [100.0] * 4, fleet_max_mw=[10], firm_ai_mw=5.0, ppa_mw=8.0, ppa_price_usd_per_mwh=35.0)
    x_lz = replace(x_hub, price_usd_per_mwh=hub + basis, ppa_price_usd_per_mwh=hub)
    mining = np.array([[10.0], [10.0], [0.0], [4.0]])
    a = evaluate(x_hub, mining, np.zeros((4, 1, 0)), np.zeros((4, 0)), "given", "hand")
    b = evaluate(x_lz, mining, np.zeros((4, 1, 0)), np.zeros((4, 0)), "given", "hand")
    energy = mining[:, 0] + 5.0  # MWh per 1-h interval
    assert b.pnl["load_zone_basis_cost_usd"] == pytest.approx(float(basis @ energy))
    assert a.pnl["net_usd"] - b.pnl["net_usd"] == pytest.approx(float(basis @ energy))
    # the PPA settles at the hub either way; the hub-priced energy line is unchanged
    assert a.pnl["ppa_settlement_usd"] == b.pnl["ppa_settlement_usd"]
    assert a.pnl["spot_energy_cost_usd"] == b.pnl["spot_energy_cost_usd"]


def test_hourly_award_holds_for_all_four_quarter_hours() -> None:
    # value 100; one $300 quarter-hour in an hour of $50s. RRS pays $60/MW-h; half the load may be offered.
    price = [50, 50, 300, 50]
    x = make_inputs(price, [100.0] * 4, dt_h=0.25, as_price_usd_per_mw_h=[[60.0]] * 4, max_offer_fraction=0.5)
    per_interval = dispatch_inputs(x, "lp")
    hourly_x = replace(x, as_award_intervals=4)
    lp, fast = dispatch_inputs(hourly_x, "lp"), dispatch_inputs(hourly_x, "fast")
    # per interval: stop in the $300 quarter and offer nothing there
    assert per_interval.schedule["as_offer_mw"].tolist() == [5, 5, 0, 5]
    # hourly: an award would keep >= 10 MW running through the spike, costing (300 - 100) x 0.25 x 10 = 500,
    # and earns only 60 x 5 MW x 1 h = 300: no award, and the fleet stops in the spike
    for r in (lp, fast):
        assert r.schedule["as_offer_mw"].tolist() == [0, 0, 0, 0]
        assert r.schedule["mining_mw"].tolist() == [10, 10, 0, 10]
    # a dearer product makes the hourly award pay: then it is held through all four quarters
    rich = replace(hourly_x, as_price_usd_per_mw_h=np.full((4, 1), 150.0))
    for solver in ("lp", "fast"):
        r = dispatch_inputs(rich, solver)  # type: ignore[arg-type]
        assert r.schedule["as_offer_mw"].tolist() == [5, 5, 5, 5]
        assert (r.schedule["mining_mw"] >= 10 - 1e-9).all()
        assert r.pnl["ancillary_revenue_usd"] == pytest.approx(150 * 5)


def test_real_quarter_hours_share_their_hour_award() -> None:
    x = build_inputs(load_scenario(ROOT / "scenarios/default.toml"), "2023-08-07", "2023-08-09")
    assert x.as_award_intervals == 4 and x.dt_h == 0.25
    r = dispatch_inputs(x)
    offers = r.schedule["as_offer_mw"].to_numpy().reshape(-1, 4)
    assert (offers > 0).any()
    np.testing.assert_allclose(offers, offers[:, :1].repeat(4, axis=1))
    # each quarter-hour consumes at least what it must be able to curtail
    assert (r.schedule["mining_mw"] * x.as_max_offer_fraction >= r.schedule["as_offer_mw"] - 1e-6).all()


def test_per_product_deployment_is_charged_per_product() -> None:
    x = make_inputs([50.0], [100.0], as_price_usd_per_mw_h=[[10.0, 10.0]], max_offer_fraction=1.0)
    x = replace(x, as_deployment_by_product=np.array([0.2, 0.0]))
    as_mw = np.array([[[3.0, 2.0]]])
    r = evaluate(x, np.array([[10.0]]), as_mw, np.zeros((1, 0)), "given", "hand")
    # 0.2 x 3 MW deployed: 0.6 MWh less mining and 0.6 MWh less energy bought
    assert r.pnl["mining_revenue_usd"] == pytest.approx(100 * (10 - 0.6))
    assert r.pnl["spot_energy_cost_usd"] == pytest.approx(50 * (10 - 0.6))


def _flex_scenario(**power: object) -> dict[str, object]:
    return {
        "start": "2023-07-31",
        "end": "2023-08-01",
        "interconnect": {"import_limit_mw": 200},
        "ai": [{"name": "flex", "it_load_mw": 40, "service": "flexible", "flex_cap_fraction": 0.5, "flex_max_hours_per_year": 100}],
        "mining": [{"model": "Antminer S21", "units": 10_000}],
        "power": {"settlement_point": "HB_WEST", "demand_charge_usd_per_kw_month": 5.0, **power},
    }


def test_billing_months_are_local_and_ai_budgets_are_annual() -> None:
    x = build_inputs(parse_scenario(_flex_scenario()))
    # 2023-08-01 05:00 UTC is midnight in Texas: the August bill starts there, not at 00:00 UTC
    change = x.index[np.flatnonzero(np.diff(x.month))[0] + 1]
    assert str(change) == "2023-08-01 05:00:00+00:00"
    # a 2-day horizon still has the whole annual cap budget: 40 x 1.25 x 0.5 x 100 h
    assert x.flex_budget_mwh.tolist() == pytest.approx([2500.0])
    assert set(x.budget_period.tolist()) == {2023}  # type: ignore[union-attr]


def test_missing_load_zone_years_are_named_or_settled_at_the_hub_with_a_note() -> None:
    with pytest.raises(ScenarioError, match=r"LZ_WEST has prices for 2023-01-01 06:00\.\.2024-01-01 05:00 UTC only.*load_zone_fallback"):
        build_inputs(parse_scenario(_flex_scenario(load_settlement_point="LZ_WEST")), "2022-08-01", "2022-08-02")
    x = build_inputs(parse_scenario(_flex_scenario(load_settlement_point="LZ_WEST", load_zone_fallback="hub")), "2022-08-01", "2022-08-02")
    assert any("48 h of the horizon have none: load settled at HB_WEST" in n for n in x.notes)
    np.testing.assert_array_equal(x.price_usd_per_mwh, x.hub_price_usd_per_mwh)


def test_load_zone_hour_means_equal_the_published_hourly_price() -> None:
    from mullet.markets import ERCOT

    x = build_inputs(load_scenario(ROOT / "scenarios/default.toml"), "2023-08-01", "2023-08-02")
    hourly = x.price_usd_per_mwh.reshape(-1, 4).mean(axis=1)
    lz = ERCOT.prices("LZ_WEST").reindex(x.index[::4]).to_numpy()
    np.testing.assert_allclose(hourly, lz, atol=1e-9)


def test_json_is_pure_on_stdout_with_the_lp_solver() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "mullet.cli",
            "dispatch",
            "scenarios/default.toml",
            "--start",
            "2023-08-01",
            "--end",
            "2023-08-02",
            "--solver",
            "lp",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["solver"] == "lp" and "HiGHS" not in out.stdout


def test_cli_unknown_policy_is_one_line() -> None:
    base = [sys.executable, "-m", "mullet.cli", "dispatch", "scenarios/default.toml"]
    bad = subprocess.run([*base, "--policy", "oracle"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert bad.returncode == 2 and "Invalid value for '--policy': 'oracle'" in bad.stderr


def test_foresight_table_rows_never_beat_perfect() -> None:
    from mullet.dispatch.foresight import foresight_table

    table, notes = foresight_table(load_scenario(ROOT / "scenarios/default.toml"), [2023])
    assert table["policy"].tolist() == ["perfect", "realtime", "realtime_4cp", "dayahead"]
    assert (table["gap_to_perfect_usd"] >= -1e-6).all()
    assert any("perfect foresight" in n for n in notes)
