"""Typed dispatch result: status, interval schedule and P&L attribution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.dispatch.inputs import SiteInputs
from mullet.finance.contracts import tenant_energy_reimbursement_usd

__all__ = ["PNL_KEYS", "DispatchResult", "evaluate"]

FloatArray = npt.NDArray[np.float64]

PNL_KEYS = (
    "mining_revenue_usd",
    "ai_revenue_usd",
    "ai_energy_reimbursement_usd",
    "ancillary_revenue_usd",
    "ppa_settlement_usd",
    "spot_energy_cost_usd",
    "load_zone_basis_cost_usd",
    "retail_adder_cost_usd",
    "demand_charge_usd",
    "four_cp_charge_usd",
    "sla_penalty_usd",
    "net_usd",
)
"""P&L lines, revenue positive and costs positive numbers subtracted: ``net = revenues + ppa_settlement - costs``.

Energy is split as ERCOT settles it: ``spot_energy_cost_usd`` prices the load at the PPA's
point (the hub), ``load_zone_basis_cost_usd`` adds (load-zone price - hub price) x the
load's energy; their sum is what the load pays at its own settlement point.
``ai_revenue_usd`` is what the AI contracts pay for capacity (rent, flexible blocks net of capped
energy); ``ai_energy_reimbursement_usd`` is what triple-net tenants pay back for the energy the
site bought for them (the energy itself is in the cost lines), so it nets out and is never AI margin.
"""


@dataclass
class DispatchResult:
    """Outcome of :func:`mullet.dispatch.dispatch`.

    ``schedule`` is indexed by UTC interval start at the model's interval; its
    power columns are MW averaged over the interval, energy columns MWh.
    ``pnl`` holds the lines of :data:`PNL_KEYS` in USD over the horizon.
    """

    status: str
    solver: str
    schedule: pd.DataFrame
    pnl: dict[str, float]
    metrics: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    objective_usd: float = float("nan")
    """The solver's own objective (variable profit above constants); a cross-check of ``pnl``."""
    timings_s: dict[str, float] = field(default_factory=dict)
    scenario: str = ""
    """Name of the scenario dispatched."""

    def summary(self) -> dict[str, Any]:
        """Stable, documented keys for JSON output (see README: dispatch summary keys)."""
        return {
            "scenario": self.scenario,
            "status": self.status,
            "solver": self.solver,
            "start_utc": self.schedule.index[0].isoformat(),
            "end_utc": (self.schedule.index[-1] + (self.schedule.index[1] - self.schedule.index[0])).isoformat(),
            "interval_minutes": int((self.schedule.index[1] - self.schedule.index[0]).total_seconds() // 60),
            "pnl": dict(self.pnl),
            "metrics": dict(self.metrics),
            "notes": list(self.notes),
        }


def evaluate(
    inputs: SiteInputs,
    mining_mw: FloatArray,
    as_mw: FloatArray,
    flex_mw: FloatArray,
    status: str,
    solver: str,
    objective_usd: float = float("nan"),
) -> DispatchResult:
    """P&L, metrics and schedule of a dispatch decision, the same for every solver.

    ``mining_mw`` (T, F), ``as_mw`` (T, F, P) offered capacity, ``flex_mw`` (T, B)
    served flexible AI load. Expected consumption deducts deployed offers:
    ``deployment fraction of the product x offered MW``.
    """
    x = inputs
    dt = x.dt_h
    price = x.price_usd_per_mwh
    hub = x.hub_price_usd_per_mwh
    as_total = as_mw.sum(axis=2) if as_mw.size else np.zeros_like(mining_mw)
    deployed = (as_mw * x.deployment_by_product).sum(axis=2) if as_mw.size else np.zeros_like(mining_mw)  # (T, F)
    mining_expected = mining_mw - deployed
    import_mw = mining_mw.sum(axis=1) + x.firm_ai_mw + flex_mw.sum(axis=1)
    expected_mw = import_mw - deployed.sum(axis=1)

    mining_rev = float(np.sum(x.mining_value_usd_per_mwh * mining_expected) * dt)
    capped_mwh = (x.flex_max_mw[None, :] - flex_mw) * dt  # (T, B)
    hours = x.n * dt
    ai_rev = x.firm_ai_revenue_usd_per_h * hours + float(np.sum(x.flex_revenue_usd_per_h) * hours)
    ai_rev -= float(np.sum(capped_mwh * x.flex_revenue_lost_usd_per_mwh[None, :]))
    # triple-net leases: the tenant pays back the energy bought for it (spot, adders, 4CP on its MW)
    nnn_mw = x.firm_ai_pass_through_mw + (flex_mw[:, x.flex_pass_through].sum(axis=1) if x.flex_pass_through is not None and flex_mw.size else 0.0)
    nnn_energy = float(np.sum((price + x.adder_usd_per_mwh) * nnn_mw) * dt) + float(
        x.cp_usd_per_mwh * np.sum(np.broadcast_to(nnn_mw, price.shape)[x.cp_hour]) * dt
    )
    reimbursed = float(tenant_energy_reimbursement_usd(False, nnn_energy))
    anc = float(np.sum(x.as_price_usd_per_mw_h[:, None, :] * as_mw) * dt) if as_mw.size else 0.0
    ppa = float(np.sum(hub * x.ppa_mw - x.ppa_cost_usd_per_h) * dt)
    spot = float(np.sum(hub * expected_mw) * dt)
    basis = float(np.sum((price - hub) * expected_mw) * dt)
    adder = float(x.adder_usd_per_mwh * np.sum(expected_mw) * dt)
    demand = 0.0
    if x.demand_charge_usd_per_mw_month:
        peaks = pd.Series(import_mw).groupby(x.month).max()
        demand = float(peaks.sum() * x.demand_charge_usd_per_mw_month)
    cp = float(x.cp_usd_per_mwh * np.sum(expected_mw[x.cp_hour]) * dt)
    sla = float(np.sum(capped_mwh * x.flex_sla_usd_per_mwh[None, :]))
    net = mining_rev + ai_rev + reimbursed + anc + ppa - spot - basis - adder - demand - cp - sla
    pnl = {
        "mining_revenue_usd": mining_rev,
        "ai_revenue_usd": ai_rev,
        "ai_energy_reimbursement_usd": reimbursed,
        "ancillary_revenue_usd": anc,
        "ppa_settlement_usd": ppa,
        "spot_energy_cost_usd": spot,
        "load_zone_basis_cost_usd": basis,
        "retail_adder_cost_usd": adder,
        "demand_charge_usd": demand,
        "four_cp_charge_usd": cp,
        "sla_penalty_usd": sla,
        "net_usd": net,
    }

    years = hours / 8760.0
    fleet_max = x.fleet_max_mw.sum()
    mining_mwh = float(mining_expected.sum() * dt)
    curtailed = mining_mw.sum(axis=1) < fleet_max - 1e-6
    ai_mw = x.firm_ai_mw + float(x.flex_max_mw.sum())
    ai_it_mw = x.ai_it_mw if x.ai_it_mw is not None else ai_mw
    fleet_it = float(np.sum(x.fleet_it_mw)) if x.fleet_it_mw is not None else float(fleet_max)
    resale_mwh = np.maximum(x.ppa_mw - expected_mw, 0.0) * dt
    mining_margin = mining_rev + anc - float(np.sum(price * mining_expected.sum(axis=1)) * dt)
    metrics: dict[str, Any] = {
        "hours": hours,
        "ai_mw": ai_mw,
        "mining_mw": float(fleet_max),
        "mining_energy_mwh": mining_mwh,
        "mining_uptime_fraction": mining_mwh / (fleet_max * hours) if fleet_max > 0 else None,
        "mining_curtailed_hours": float(curtailed.sum() * dt) if fleet_max > 0 else 0.0,
        "mining_revenue_usd_per_site_mw_year": mining_rev / fleet_max / years if fleet_max > 0 else None,
        "mining_revenue_usd_per_it_mw_year": mining_rev / fleet_it / years if fleet_it > 0 else None,
        "mining_margin_usd_per_site_mw_year": mining_margin / fleet_max / years if fleet_max > 0 else None,
        "mining_margin_usd_per_it_mw_year": mining_margin / fleet_it / years if fleet_it > 0 else None,
        "ai_it_mw": ai_it_mw,
        "ai_revenue_usd_per_site_mw_year": ai_rev / ai_mw / years if ai_mw > 0 else None,
        "ai_revenue_usd_per_it_mw_year": ai_rev / ai_it_mw / years if ai_it_mw > 0 else None,
        "ppa_energy_mwh": float(x.ppa_mw.sum() * dt),
        "ppa_resold_mwh": float(resale_mwh.sum()),
        "ppa_resale_credit_usd": float(np.sum(hub * resale_mwh)),
        "load_zone_basis_mean_usd_per_mwh": float(np.mean(price - hub)),
        "import_energy_mwh": float(expected_mw.sum() * dt),
        "peak_import_mw": float(import_mw.max()),
        "four_cp_intervals": int(x.cp_hour.sum()),
        "four_cp_forced_curtailment_hours": float(x.forced_curtail.sum() * dt),
        "four_cp_peaks_missed": _peaks_missed(x, mining_mw),
        "ai_capped_mwh": float(capped_mwh.sum()),
        "hashprice_mean_usd_per_ph_day": float(np.mean(x.hashprice_usd_per_ph_day)),
        "spot_price_mean_usd_per_mwh": float(np.mean(price)),
    }
    metrics.update(_given_back(x, mining_mw))
    metrics = {k: (float(v) if isinstance(v, np.floating) else v) for k, v in metrics.items()}

    sched = pd.DataFrame(index=x.index.rename("interval_start_utc"))
    sched["price_usd_per_mwh"] = price
    sched["hashprice_usd_per_ph_day"] = x.hashprice_usd_per_ph_day
    for j, name in enumerate(x.fleet_names):
        sched[f"mining_mw__{name}"] = mining_mw[:, j]
        sched[f"mining_value_usd_per_mwh__{name}"] = x.mining_value_usd_per_mwh[:, j]
    sched["mining_mw"] = mining_mw.sum(axis=1)
    sched["ai_mw"] = x.firm_ai_mw + flex_mw.sum(axis=1)
    for k, p in enumerate(x.as_products):
        sched[f"as_offer_mw__{p}"] = as_mw[:, :, k].sum(axis=1)
    sched["as_offer_mw"] = as_total.sum(axis=1)
    sched["grid_import_mw"] = import_mw
    sched["expected_import_mw"] = expected_mw
    sched["ppa_mw"] = x.ppa_mw
    sched["ppa_settlement_mwh"] = x.ppa_mw * dt
    sched["ppa_settlement_usd"] = (hub * x.ppa_mw - x.ppa_cost_usd_per_h) * dt
    sched["hub_price_usd_per_mwh"] = hub
    sched["four_cp_interval"] = x.cp_hour
    if x.system_load_mw is not None:
        sched["system_load_mw"] = x.system_load_mw
    return DispatchResult(status=status, solver=solver, schedule=sched, pnl=pnl, metrics=metrics, notes=list(x.notes), objective_usd=objective_usd)


def _peaks_missed(x: SiteInputs, mining_mw: FloatArray) -> int | None:
    """4CP peak hours in which mining was not curtailed to its floor."""
    if not x.cp_hour.any() or mining_mw.shape[1] == 0:
        return None
    floor = x.fleet_min_mw.sum()
    return int(np.sum(mining_mw.sum(axis=1)[x.cp_hour] > floor + 1e-6) * x.dt_h)


def _given_back(x: SiteInputs, mining_mw: FloatArray) -> dict[str, Any]:
    """Mining MWh not consumed (left to the grid) in the top 1% and 5% system-load hours of the horizon."""
    out: dict[str, Any] = {"given_back_top1pct_mwh": None, "given_back_top5pct_mwh": None}
    if x.system_load_mw is None or mining_mw.shape[1] == 0:
        return out
    curtailed = (x.fleet_max_mw.sum() - mining_mw.sum(axis=1)) * x.dt_h
    covered = ~np.isnan(x.system_load_mw)
    for share, key in ((0.01, "given_back_top1pct_mwh"), (0.05, "given_back_top5pct_mwh")):
        cut = np.quantile(x.system_load_mw[covered], 1 - share)
        out[key] = float(curtailed[covered & (np.nan_to_num(x.system_load_mw, nan=-np.inf) >= cut)].sum())
    return out
