"""The dispatch LP written independently with linopy (no unit commitment), for cross-checks and benchmarks.

This is a second implementation of the model in ``mullet.dispatch.lp``: the same
economics, formulated with labelled arrays. Its optimum must equal mullet's.
"""

from __future__ import annotations

import linopy
import numpy as np
import pandas as pd
import xarray as xr

from mullet.dispatch.inputs import SiteInputs


def solve_with_linopy(x: SiteInputs) -> float:
    """Build and solve the dispatch LP with linopy + HiGHS; return the optimal variable profit [USD]."""
    if (x.fleet_min_on_h > 0).any() or (x.fleet_min_off_h > 0).any():
        raise ValueError("linopy cross-check covers the LP without minimum on/off times")
    time = pd.RangeIndex(x.n, name="time")
    fleet = pd.Index(x.fleet_names, name="fleet")
    dt = x.dt_h
    cost = xr.DataArray(x.energy_cost_usd_per_mwh, coords=[time])
    value = xr.DataArray(x.mining_value_usd_per_mwh, coords=[time, fleet])
    m = linopy.Model()
    upper = np.where(x.forced_curtail[:, None], x.fleet_min_mw[None, :], x.fleet_max_mw[None, :])
    mine = m.add_variables(
        lower=xr.DataArray(np.broadcast_to(x.fleet_min_mw, (x.n, len(fleet))), coords=[time, fleet]),
        upper=xr.DataArray(upper, coords=[time, fleet]),
        name="mine",
    )
    margin = value - cost
    profit = (margin * mine).sum() * dt
    site_load = mine.sum("fleet")
    if x.as_products and x.as_max_offer_fraction > 0:
        # one offer per award block (e.g. the day-ahead hour), fleet and product, held through the block
        product = pd.Index(x.as_products, name="product")
        n_a = max(1, x.as_award_intervals)
        n_blk = (x.n + n_a - 1) // n_a
        award = pd.RangeIndex(n_blk, name="award")
        offer = m.add_variables(lower=0, coords=[award, fleet, product], name="offer")
        as_price = xr.DataArray(x.as_price_usd_per_mw_h, coords=[time, product])
        deploy = xr.DataArray(x.deployment_by_product, coords=[product])
        of_block = xr.DataArray(np.arange(x.n) // n_a, coords=[time])
        worth = ((as_price - deploy * margin) * dt).groupby(of_block.rename("award")).sum()  # (award, fleet, product)
        profit = profit + (worth * offer).sum()
        floor = xr.DataArray(x.fleet_min_mw, coords=[fleet])
        held = offer.sum("product").isel(award=of_block.values).assign_coords(award=time.values).rename(award="time")
        m.add_constraints(held <= x.as_max_offer_fraction * (mine - floor), name="offer_cap")
    if len(x.flex_names):
        block = pd.Index(x.flex_names, name="block")
        serve = m.add_variables(
            lower=xr.DataArray(np.broadcast_to(x.flex_min_mw, (x.n, len(block))), coords=[time, block]),
            upper=xr.DataArray(np.broadcast_to(x.flex_max_mw, (x.n, len(block))), coords=[time, block]),
            name="serve",
        )
        worth = xr.DataArray(x.flex_revenue_lost_usd_per_mwh + x.flex_sla_usd_per_mwh, coords=[block])
        profit = profit + ((worth - cost) * serve).sum() * dt
        site_load = site_load + serve.sum("block")
        periods = x.budget_period if x.budget_period is not None else np.zeros(x.n, dtype=np.int64)
        for k in np.unique(periods):
            sel = np.flatnonzero(periods == k)
            budget = xr.DataArray(x.flex_max_mw * len(sel) * dt - x.flex_budget_mwh, coords=[block])
            m.add_constraints(serve.isel(time=sel).sum("time") * dt >= budget, name=f"flex_budget_{k}")
    m.add_constraints(site_load <= x.import_limit_mw - x.firm_ai_mw, name="interconnect")
    ramp = x.fleet_ramp_mw_per_h
    if np.isfinite(ramp).any():
        step = xr.DataArray(np.where(np.isfinite(ramp), ramp * dt, 1e9), coords=[fleet])
        delta = mine - mine.roll(time=1)  # roll, not shift: no absent slots; interval 0 is dropped below
        m.add_constraints(delta.isel(time=slice(1, None)) <= step, name="ramp_up")
        m.add_constraints(delta.isel(time=slice(1, None)) >= -step, name="ramp_down")
    if x.demand_charge_usd_per_mw_month > 0:
        months = np.unique(x.month)
        month = pd.Index(months, name="month")
        peak = m.add_variables(lower=0, coords=[month], name="peak")
        profit = profit - peak.sum() * x.demand_charge_usd_per_mw_month
        for k in months:
            sel = np.flatnonzero(x.month == k)
            m.add_constraints(site_load.isel(time=sel) - peak.sel(month=k) <= -x.firm_ai_mw, name=f"peak_{k}")
    m.add_objective(-profit)
    status, _ = m.solve(solver_name="highs", progress=False, output_flag=False)
    if status != "ok":
        raise RuntimeError(f"linopy/HiGHS status {status}")
    return -float(m.objective.value)
