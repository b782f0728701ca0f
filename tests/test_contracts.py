"""Contracts and finance: hand-computed cases for every fixed item of issue 12, property tests, public deals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mullet.finance import (
    ColocationLease,
    ContractRisk,
    ConvertibleNote,
    GpuCloud,
    TerminalValue,
    contract_examples,
    convertible_outcome,
    cvar,
    irr_rows,
    npv,
    owner_energy_cost_usd,
    simulate_tenancy,
    straight_line_depreciation,
    tenant_energy_reimbursement_usd,
)
from mullet.plan import PlanConfig
from mullet.plan.paths import PathSet
from mullet.plan.run import RiskDraws, strategy_cash_flows
from mullet.site import AIBlock, Interconnect, Scenario

AI_ONLY = Scenario(interconnect=Interconnect(import_limit_mw=125), ai=[AIBlock(it_load_mw=100, pue=1.25)])
"""A 125 MW site whose 100 IT MW shell exists: pure AI needs no capex."""


def _paths(n: int, years: int, energy_usd_per_mw: float = 500_000.0) -> PathSet:
    z = np.zeros((n, years))
    return PathSet(z, z, z, np.full((n, years), energy_usd_per_mw), z, np.ones((n, years)), z, np.zeros(n))


def _no_risk(n: int, years: int) -> RiskDraws:
    return RiskDraws(np.ones((n, years)), np.ones((n, years)), np.zeros(n), np.ones(n))


def _cfg(years: int = 5, **kw: object) -> PlanConfig:
    base: dict[str, object] = {
        "years": years,
        "ai_shares": [1.0],
        "conversion_years": [1],
        "contract": {"kind": "colocation", "usd_per_kw_month": 100.0, "escalator_fraction": 0.03, "term_years": 30},
        "capex": {"tax_rate_fraction": 0.0, "ai_opex_usd_per_mw_year": 0.0},
        "mining": {"opex_usd_per_mw_year": 0.0},
        "terminal_value": {"method": "none"},
        "discount_rate_fraction": 0.1,
    }
    base.update(kw)
    return PlanConfig.model_validate(base)


def test_asic_refresh_is_fully_depreciated_over_its_life() -> None:
    capex = np.zeros(11)
    capex[4] = 400.0  # a refresh at the end of year 4, 4-year life
    dep = straight_line_depreciation(capex, 4)
    np.testing.assert_allclose(dep, [0, 0, 0, 0, 100, 100, 100, 100, 0, 0])  # before: a quarter (100) in year 4 only
    assert dep.sum() == pytest.approx(400.0)


def test_shell_depreciates_to_zero_and_stops() -> None:
    capex = np.zeros(21)
    capex[0] = 150.0
    dep = straight_line_depreciation(capex, 15)
    np.testing.assert_allclose(dep[:15], 10.0)
    np.testing.assert_allclose(dep[15:], 0.0)  # before: 10 a year until year 20 (200 on a 150 asset)
    half = straight_line_depreciation(np.array([[5.0, 0, 0, 0]]), 2.5)
    np.testing.assert_allclose(half, [[2.0, 2.0, 1.0]])  # a fractional life ends with a partial year


def test_convertibles_convert_at_their_own_maturity() -> None:
    path = np.array([[11.0, 14.0, 17.0, 20.0, 23.0, 26.0, 29.0, 32.0, 35.0, 38.0]])  # one path, year-end prices
    short = ConvertibleNote(principal_usd=1e9, coupon_fraction=0.0, conversion_price_usd=20.0, maturity_years=2)
    long = short.model_copy(update={"maturity_years": 10})
    s2, c2 = convertible_outcome(short, path)
    s10, c10 = convertible_outcome(long, path)
    assert (s2[0], c2[0]) == (0.0, 1e9)  # 14 < 20 at year 2: repaid
    assert (s10[0], c10[0]) == (5e7, 0.0)  # 38 > 20 at year 10: 1e9 / 20 new shares (before: both tested at year 10)


def test_convertible_settlement_modes_and_capped_call() -> None:
    note = ConvertibleNote(principal_usd=100.0, coupon_fraction=0.0, conversion_price_usd=10.0, maturity_years=1)
    price = np.array([8.0, 20.0])

    def outcome(n: ConvertibleNote) -> list[list[float]]:
        shares, cash = convertible_outcome(n, price)
        return [shares.tolist(), cash.tolist()]

    assert outcome(note) == [[0, 10], [100, 0]]
    assert outcome(note.model_copy(update={"settlement": "cash"})) == [[0, 0], [100, 200]]
    assert outcome(note.model_copy(update={"settlement": "net_share"})) == [[0, 5], [100, 100]]  # (200 - 100) / 20 shares
    capped = ConvertibleNote.model_validate({**note.model_dump(), "capped_call_cap_usd": 15.0})  # pays 10 x (15 - 10) = 50 at 20: 2.5 shares back
    shares, cash = convertible_outcome(capped, price)
    assert shares.tolist() == pytest.approx([0, 7.5]) and cash.tolist() == [100, 0]
    with pytest.raises(ValueError, match="capped_call_cap_usd"):
        ConvertibleNote.model_validate({**note.model_dump(), "capped_call_cap_usd": 9.0})


def test_nnn_and_gross_differ_by_exactly_the_tenants_energy() -> None:
    years = 3
    p, risk = _paths(2, years), _no_risk(2, years)
    nnn = _cfg(years)
    gross = _cfg(years, contract={**nnn.contract.model_dump(), "lease_type": "gross"})
    cf_n, comp_n, _ = strategy_cash_flows(AI_ONLY, nnn, p, risk, 1.0, 1)
    cf_g, comp_g, _ = strategy_cash_flows(AI_ONLY, gross, p, risk, 1.0, 1)
    energy = 500_000.0 * 125  # USD per site MW-year x site MW
    np.testing.assert_allclose(cf_n[:, 1:] - cf_g[:, 1:], energy)
    np.testing.assert_allclose(comp_g["ai_energy_owner_usd"][:, 1:], -energy)
    np.testing.assert_allclose(comp_n["ai_energy_owner_usd"], 0.0)
    # the same functions for dispatch: reimbursement + owner cost = the energy, whatever the lease type
    for owner_pays in (True, False):
        assert owner_energy_cost_usd(owner_pays, 7.0) + tenant_energy_reimbursement_usd(owner_pays, 7.0) == 7.0
    assert AIBlock(it_load_mw=10, lease_type="gross").owner_pays_power and not AIBlock(it_load_mw=10).owner_pays_power


@settings(max_examples=15, deadline=None)
@given(
    rate=st.floats(10.0, 400.0),
    escalator=st.floats(0.0, 0.1),
    years=st.integers(1, 12),
    discount=st.floats(0.05, 0.3),
    energy=st.floats(0.0, 2e6),
)
def test_zero_risk_zero_capex_nnn_lease_npv_is_the_discounted_rent(rate: float, escalator: float, years: int, discount: float, energy: float) -> None:
    contract = {"kind": "colocation", "usd_per_kw_month": rate, "escalator_fraction": escalator, "term_years": 30}
    cfg = _cfg(years, contract=contract, discount_rate_fraction=discount)
    cf, _, _ = strategy_cash_flows(AI_ONLY, cfg, _paths(1, years, energy), _no_risk(1, years), 1.0, 1)
    rent = rate * 12_000 * 100 * (1 + escalator) ** np.arange(years)  # $/kW-month x 12,000 x IT MW, escalated
    expected = float((rent / (1 + discount) ** np.arange(1, years + 1)).sum())
    assert float(np.asarray(npv(discount, cf))[0]) == pytest.approx(expected, rel=1e-10)  # the tenant's energy never enters


def test_terminal_value_is_discounted_once() -> None:
    years = 4
    p, risk = _paths(1, years), _no_risk(1, years)
    none, _, _ = strategy_cash_flows(AI_ONLY, _cfg(years), p, risk, 1.0, 1)
    ev = _cfg(years, terminal_value={"method": "ev_per_mw"}, exit_ev_usd_per_mw=1e6)
    with_tv, comp, _ = strategy_cash_flows(AI_ONLY, ev, p, risk, 1.0, 1)
    diff = float(np.asarray(npv(0.1, with_tv))[0] - np.asarray(npv(0.1, none))[0])
    assert diff == pytest.approx(1e6 * 125 / 1.1**4, rel=1e-12)
    assert comp["terminal_value_usd"][0, -1] == pytest.approx(1.25e8)
    assert TerminalValue(method="gordon", growth_fraction=0.02).method == "gordon"


def test_existing_fleet_and_shell_are_not_charged_again_but_new_mining_mw_are() -> None:
    from mullet.site import MiningFleet

    site = Scenario(interconnect=Interconnect(import_limit_mw=100), mining=[MiningFleet(model="Antminer S21", units=10_000)], ai=[AIBlock(it_load_mw=20)])
    years = 3
    p, risk = _paths(1, years, 0.0), _no_risk(1, years)
    _, comp, _ = strategy_cash_flows(site, _cfg(years), p, risk, 0.0, 1)
    fleet_mw = site.mining[0].site_power_mw  # 36.75 MW exist; 100 MW mine: 63.25 MW are bought
    th_per_mw = 1e6 / site.mining[0].efficiency_j_per_th / 1.05
    expected = (100 - fleet_mw) * (th_per_mw * 15.0 + 550_000.0)
    assert -comp["capex_usd"][0, 0] == pytest.approx(expected, rel=1e-12)
    _, comp_ai, _ = strategy_cash_flows(site, _cfg(years), p, risk, 0.2, 1)  # 16 IT MW <= the 20 built
    assert comp_ai["capex_usd"][0, 0] == pytest.approx(-(80 - fleet_mw) * (th_per_mw * 15.0 + 550_000.0))


def test_public_deals_reproduce() -> None:
    iren, hut8 = contract_examples()
    # Hut 8-Fluidstack: $7B over 15 years on 245 MW IT with a 3% escalator
    year1 = 7e9 / sum(1.03**k for k in range(15))
    assert hut8.yearly_revenue_usd(1)[0] == pytest.approx(year1)  # about $376M
    assert year1 == pytest.approx(376.37e6, rel=1e-4)
    assert hut8.usd_per_mw_year() == pytest.approx(7e9 / 15 / 245)  # $1.905M per IT MW-year
    assert hut8.year1_usd_per_kw_month() == pytest.approx(year1 / 245 / 12_000)
    # IREN-Microsoft: $9.7B over 5 years on 200 MW, 20% prepaid
    np.testing.assert_allclose(iren.yearly_revenue_usd(5), 1.94e9)
    assert iren.usd_per_mw_year() == pytest.approx(9.7e6)
    assert iren.cash_usd(5)[0] == pytest.approx(0.2 * 9.7e9)
    assert iren.cash_usd(5)[1:].sum() + iren.cash_usd(5)[0] == pytest.approx(9.7e9)


def test_contract_union_validates_and_discriminates() -> None:
    cfg = PlanConfig.model_validate({"contract": {"kind": "gpu_cloud", "usd_per_gpu_hour": 2.5}})
    assert isinstance(cfg.contract, GpuCloud) and cfg.contract.owner_pays_power
    with pytest.raises(ValueError, match="exactly one"):
        ColocationLease(contracted_it_mw=10)
    with pytest.raises(ValueError, match="lease_type"):
        ColocationLease.model_validate({"usd_per_kw_month": 100, "lease_type": "net"})


def test_irr_only_with_an_initial_outlay_and_cvar() -> None:
    rows = np.array([[-100.0, 110.0], [100.0, 10.0], [0.0, -50.0]])
    got = irr_rows(rows)
    assert got[0] == pytest.approx(0.10, abs=1e-9)
    assert np.isnan(got[1]) and np.isnan(got[2])
    assert cvar(np.arange(1.0, 21.0), 0.10) == pytest.approx(1.5)


@settings(max_examples=15, deadline=None)
@given(
    h=st.floats(0.0, 0.3),
    dh=st.floats(0.0, 0.3),
    relet=st.floats(0.0, 1.0),
    dark=st.floats(0.0, 24.0),
)
def test_raising_default_hazard_never_raises_mean_ai_npv(h: float, dh: float, relet: float, dark: float) -> None:
    years, n = 6, 200
    p = _paths(n, years)

    def mean_npv(hazard: float) -> float:
        risk = ContractRisk(default_hazard_per_year=hazard, relet_rate_fraction=relet, dark_months_after_default=dark)
        cfg = _cfg(years, contract={"kind": "colocation", "usd_per_kw_month": 100.0, "term_years": 30, "risk": risk.model_dump()})
        occ, mult = simulate_tenancy(risk, 30, n, years, np.random.default_rng(3))
        cf, _, _ = strategy_cash_flows(AI_ONLY, cfg, p, RiskDraws(occ, mult, np.zeros(n), np.ones(n)), 1.0, 1)
        return float(np.mean(npv(0.1, cf)))

    assert mean_npv(h + dh) <= mean_npv(h) + 1e-6


def test_tenancy_renewal_and_default_by_hand() -> None:
    rng = np.random.default_rng(0)
    never = ContractRisk(renewal_probability=0.0, relet_delay_months=6, relet_rate_fraction=0.5)
    occ, mult = simulate_tenancy(never, 2, 1, 5, rng)
    np.testing.assert_allclose(occ[0], [1, 1, 0.5, 1, 0.5])  # term ends after year 2 and year 4: 6 months dark each time
    np.testing.assert_allclose(mult[0], [1, 1, 0.5, 0.5, 0.25])
    sure = ContractRisk(default_hazard_per_year=1.0, dark_months_after_default=18, relet_rate_fraction=1.0)
    occ, _ = simulate_tenancy(sure, 30, 1, 3, rng)
    np.testing.assert_allclose(occ[0], [0, 0.5, 0])  # default, 18 months dark, let for half a year, default again


def test_new_gpus_rent_at_the_new_gpu_price_after_a_refresh() -> None:
    cloud = GpuCloud(gpus=1000, usd_per_gpu_hour=2.0, utilisation_fraction=0.5, price_decline_per_year=0.5, refresh_years=2)
    np.testing.assert_allclose(cloud.yearly_revenue_usd(4), 1000 * 0.5 * 8760 * np.array([2.0, 1.0, 2.0, 1.0]))  # before: 2, 1, 0.5, 0.25


def test_dscr_counts_unconverted_principal_and_dilution_is_new_over_total() -> None:
    from mullet.plan.run import _financing

    years = 3
    p = _paths(2, years)
    p.btc_ratio = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])  # share price 12 x ratio: 12 (repaid) or 36 (converted)
    note = {"principal_usd": 100.0, "coupon_fraction": 0.05, "conversion_price_usd": 20.0, "maturity_years": 2}
    cfg = _cfg(years, financing={"convertibles": [note], "shares_outstanding": 20.0, "share_price_usd": 12.0})
    min_dscr, dilution = _financing(cfg, p, np.full((2, years), 50.0))
    assert min_dscr[0] == pytest.approx(50.0 / 105.0)  # year 2: coupon 5 + principal 100 repaid
    assert min_dscr[1] == pytest.approx(50.0 / 5.0)  # converted: coupons only
    np.testing.assert_allclose(dilution, [0.0, 5.0 / 25.0])  # 100 / 20 = 5 new shares over 20 + 5
