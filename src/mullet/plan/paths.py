"""Simulated paths of a plan: BTC price under the chosen measure, hashprice, power-price years, GPU prices.

Prices are read through the dispatch loader (:mod:`mullet.dispatch.inputs`), so any scenario that
dispatches also plans (hubs and load zones alike); the load pays its load point's price, PPAs settle at
the hub. A path-year resamples one whole price year (hourly means of the interval prices, UTC, interval
start; Feb 29 dropped).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.bitcoin.hashprice import mining_value_usd_per_mwh
from mullet.dispatch.coupled import plan_couplings
from mullet.dispatch.fast import greedy_dispatch
from mullet.dispatch.inputs import _point_series, load_price_series
from mullet.errors import ScenarioError
from mullet.finance.contracts import GpuCloud
from mullet.markets import get_market
from mullet.plan.config import PlanConfig
from mullet.scenarios import PriceModel, apply_price_measure, fit_price_model, simulate_gpu_prices
from mullet.site import Scenario

__all__ = ["PathSet", "btc_price_model", "price_years", "simulate_paths"]

FloatArray = npt.NDArray[np.float64]


def btc_price_model(cfg: PlanConfig) -> tuple[PriceModel, str]:
    """The BTC price model of the plan (:func:`mullet.scenarios.apply_price_measure` on the bundled fit) and a note stating it.

    Volatility and jumps are fitted on the bundled history under every measure; the note gives the
    measure, the drift, and the historical fit with its standard error.
    """
    model = apply_price_measure(fit_price_model(), cfg.price_measure)
    return model, "BTC price: " + model.describe()


def _year_hours(series: pd.Series, y: int) -> FloatArray:
    """Hourly means of ``series`` over UTC year ``y`` on the full 8760/8784-hour grid (NaN where absent), Feb 29 dropped."""
    n_full = 8784 if y % 4 == 0 else 8760
    full = pd.date_range(f"{y}-01-01", periods=n_full, freq="1h", tz="UTC")
    values = series.loc[f"{y}-01-01" : f"{y}-12-31"].resample("1h").mean().reindex(full).to_numpy(dtype=float)
    return np.delete(values, np.s_[59 * 24 : 60 * 24]) if n_full == 8784 else values


@lru_cache(maxsize=8)
def _hourly_years(scenario_json: str, years: tuple[int, ...]) -> tuple[FloatArray, FloatArray, tuple[int, ...], tuple[str, ...]]:
    sc = Scenario.model_validate_json(scenario_json)
    ps = sc.power
    hub = load_price_series(sc)  # where PPAs settle; the dispatch loader
    point = ps.load_settlement_point
    load = None if point is None or point == ps.settlement_point else _point_series(sc, get_market(ps.market), point, "load_settlement_point")
    loads, hubs, used, notes = [], [], [], []
    for y in years:
        h = _year_hours(hub, y)
        if np.isnan(h).mean() > 0.05:
            continue
        gaps = int(np.isnan(h).sum())
        if gaps:  # a price year is used only when at most 5% is missing; the planner fills those hours and says so
            notes.append(f"{y}: {gaps} h without {ps.settlement_point} prices filled from the previous hour (years with more than 5% missing are skipped)")
        h = pd.Series(h).ffill().bfill().to_numpy()
        if load is None:
            ld = h
        else:
            ld = _year_hours(load, y)
            missing = int(np.isnan(ld).sum())
            if missing > 0.05 * len(ld) and ps.load_zone_fallback == "error":
                notes.append(f"{y} skipped: {point} has no prices for {missing} h of it (load_zone_fallback = 'error')")
                continue
            if missing:
                notes.append(f"{y}: {missing} h without {point} prices settled at {ps.settlement_point}")
            ld = np.where(np.isnan(ld), h, ld)
        loads.append(ld)
        hubs.append(h)
        used.append(y)
    if not loads:
        have = sorted({int(t.year) for t in hub.dropna().index})
        whole = [y for y in have if np.isnan(_year_hours(hub, y)).mean() <= 0.05]
        where = ps.price_file or f"the bundled {ps.market} prices"
        if not whole:
            span = f"{hub.index[0]:%Y-%m-%d %H:%M}..{hub.index[-1]:%Y-%m-%d %H:%M} UTC"
            raise ScenarioError(
                f"price_years: got {list(years)}, but {ps.settlement_point} prices in {where} cover no whole year ({span}); "
                "a plan resamples whole price years (at most 5% of hours missing): give a price file of one or more whole UTC years"
            )
        if set(whole) & set(years):
            raise ScenarioError(
                f"price_years: {sorted(set(whole) & set(years))} have whole {ps.settlement_point} prices, but {point} (power.load_settlement_point) "
                "lacks more than 5% of their hours; set power.load_zone_fallback = 'hub' or give a price file with its prices"
            )
        raise ScenarioError(f"price_years: got {list(years)}, but {ps.settlement_point} prices in {where} cover whole years {whole} only; allowed: one of them")
    return np.stack(loads), np.stack(hubs), tuple(used), tuple(notes)


def price_years(scenario: Scenario, years: list[int]) -> tuple[FloatArray, FloatArray, tuple[int, ...], tuple[str, ...]]:
    """Hourly (load price, hub price) arrays (n_years, 8760) of the requested years the price series cover, those years, and notes.

    The load settles at ``power.load_settlement_point`` when set (the dispatch's rule: hours without its prices
    settle at the hub when ``load_zone_fallback = "hub"``; with ``"error"`` a year missing more than 5% is skipped);
    PPAs settle at ``settlement_point``. Both read through the dispatch price loader.
    """
    return _hourly_years(scenario.model_dump_json(), tuple(years))


@dataclass
class PathSet:
    """Per path (P) and plan year (Y): what every strategy's cash flows are built from. Money is nominal USD, year 1 = today's prices."""

    mining_margin_usd_per_mw: FloatArray
    """(P, Y) mining revenue minus energy of 1 MW of the fleet dispatched hourly (exact fast path) at escalated power prices."""
    mining_gross_usd_per_mw: FloatArray
    """(P, Y) mining revenue of 1 MW in the hours it runs."""
    mining_energy_usd_per_mw: FloatArray
    """(P, Y) energy cost of 1 MW of mining in the hours it runs (spot + adder)."""
    energy_usd_per_mw_firm: FloatArray
    """(P, Y) energy cost of 1 MW of firm load all year: (mean price + adder) x 8760 + 4CP."""
    ppa_settlement_usd: FloatArray
    """(P, Y) financial PPA settlement (strategy-independent)."""
    btc_ratio: FloatArray
    """(P, Y) BTC price at the end of each year over today's."""
    gpu_usd_per_hour: FloatArray
    """(P, Y) rental price of a GPU by its age in years (GPU cloud; zeros otherwise)."""
    mean_hashprice_usd_per_ph_day: FloatArray
    """(P,) mean simulated hashprice over the horizon."""
    hourly_value_usd_per_mwh: FloatArray | None = None
    """(P, Y, 8760) mining value per MWh, kept when the site couples intervals (see :func:`mullet.dispatch.coupled.plan_couplings`)."""
    hourly_cost_usd_per_mwh: FloatArray | None = None
    """(P, Y, 8760) energy cost (load price + adder), kept with ``hourly_value_usd_per_mwh``."""


def simulate_paths(scenario: Scenario, cfg: PlanConfig, n_paths: int, rng: np.random.Generator) -> PathSet:
    """Simulate ``n_paths`` paths: network (BTC price under the plan's measure, difficulty, hashprice), price years, GPU prices.

    The network and the other draws use two streams spawned from ``rng``, so changing the BTC measure
    leaves the power-price years and GPU prices of every path unchanged (common random numbers).
    """
    from mullet.network.simulate import SupplyModel, simulate_network

    model, _ = btc_price_model(cfg)
    years = cfg.years
    net_rng, draw_rng = rng.spawn(2)  # separate streams: price-year and GPU draws do not move with the BTC measure
    net = simulate_network(paths=n_paths, years=years, seed=net_rng, supply=SupplyModel(), price_model=model)
    fleet = scenario.mining[0] if scenario.mining else None
    eff = fleet.efficiency_j_per_th if fleet else 17.5
    pool = fleet.pool_fee_fraction if fleet else 0.02
    cool = fleet.cooling_overhead_fraction if fleet else 0.05
    adder = scenario.power.retail_adder_usd_per_mwh
    cp_rate = scenario.power.four_cp.rate_usd_per_kw_year
    ppa_mw = sum(p.power_mw for p in scenario.power.ppas if p.shape == "flat")
    ppa_cost = sum(p.power_mw * p.price_usd_per_mwh for p in scenario.power.ppas if p.shape == "flat")
    load_prices, hub_prices, _, _ = price_years(scenario, cfg.price_years)
    which = draw_rng.integers(0, len(load_prices), size=(n_paths, years))
    day_of_year = (np.arange(8760) // 24).clip(max=364)
    margin = np.zeros((n_paths, years))
    gross = np.zeros((n_paths, years))
    energy = np.zeros((n_paths, years))
    firm = np.zeros((n_paths, years))
    ppa = np.zeros((n_paths, years))
    coupled = bool(plan_couplings(scenario))
    hourly_value = np.zeros((n_paths, years, 8760)) if coupled else None
    hourly_cost = np.zeros((n_paths, years, 8760)) if coupled else None
    for y in range(years):
        hp = net.hashprice_usd_per_ph_day[:, y * 365 : (y + 1) * 365]
        value = mining_value_usd_per_mwh(hp[:, day_of_year], eff) * (1 - pool) / (1 + cool)  # (P, 8760)
        esc = (1 + cfg.escalation.power_fraction) ** y  # power, adders and 4CP escalate; the PPA's fixed price does not
        price = load_prices[which[:, y]] * esc
        hub = hub_prices[which[:, y]] * esc
        cost = price + adder * esc
        # exact fast path for 1 MW: with one fleet and no floors the margin scales with the MW
        margin[:, y] = greedy_dispatch(value[..., None], cost, 1.0, np.zeros(1), np.array([1.0]), value_only=True).value_usd
        runs = value > cost
        gross[:, y] = (value * runs).sum(axis=1)
        energy[:, y] = (cost * runs).sum(axis=1)
        firm[:, y] = cost.sum(axis=1) + cp_rate * 1000 * esc
        ppa[:, y] = (hub * ppa_mw).sum(axis=1) - ppa_cost * 8760
        if hourly_value is not None and hourly_cost is not None:
            hourly_value[:, y] = value
            hourly_cost[:, y] = cost
    year_end = np.minimum(np.arange(1, years + 1) * 365, net.price_usd.shape[1]) - 1
    btc_ratio = net.price_usd[:, year_end] / net.price_usd[:, [0]]
    if isinstance(cfg.contract, GpuCloud):
        c = cfg.contract
        gpu = simulate_gpu_prices(c.usd_per_gpu_hour, c.price_decline_per_year, c.price_vol_per_year, years, n_paths, draw_rng)
    else:
        gpu = np.zeros((n_paths, years))
    return PathSet(
        mining_margin_usd_per_mw=margin,
        mining_gross_usd_per_mw=gross,
        mining_energy_usd_per_mw=energy,
        energy_usd_per_mw_firm=firm,
        ppa_settlement_usd=ppa,
        btc_ratio=btc_ratio,
        gpu_usd_per_hour=gpu,
        mean_hashprice_usd_per_ph_day=net.hashprice_usd_per_ph_day[:, : years * 365].mean(axis=1),
        hourly_value_usd_per_mwh=hourly_value,
        hourly_cost_usd_per_mwh=hourly_cost,
    )
