"""Site dispatch: co-optimise firm AI load and interruptible mining against spot, PPAs, tariffs and ancillary prices.

:func:`dispatch` is the pipeline: scenario -> aligned inputs -> solver -> typed
result. ``solver="auto"`` uses the closed-form path when the problem is
separable (exact there), the coupled solver of :mod:`mullet.dispatch.coupled`
where its structure holds and it certifies its optimum, and the HiGHS LP
otherwise; the result's notes say which solver ran and why.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np

from mullet.dispatch.coupled import CoupledSolution, coupled_unsupported, solve_coupled
from mullet.dispatch.fast import FastSolution, block_award_dispatch, greedy_dispatch, mining_margin_usd
from mullet.dispatch.inputs import SiteInputs, build_inputs
from mullet.dispatch.lp import LpSolution, build_lp, solve_lp
from mullet.dispatch.result import PNL_KEYS, DispatchResult, evaluate
from mullet.errors import ScenarioError
from mullet.site import Scenario, load_scenario

__all__ = [
    "PNL_KEYS",
    "CoupledSolution",
    "DispatchResult",
    "FastSolution",
    "LpSolution",
    "SiteInputs",
    "block_award_dispatch",
    "build_inputs",
    "build_lp",
    "coupled_unsupported",
    "dispatch",
    "dispatch_inputs",
    "greedy_dispatch",
    "mining_margin_usd",
    "solve_coupled",
    "solve_lp",
]

Solver = Literal["auto", "lp", "fast", "coupled"]


def _couplings(inputs: SiteInputs) -> str:
    """The coupling constraints of ``inputs`` in words, for the run notes."""
    width = inputs.fleet_max_mw - inputs.fleet_min_mw
    ramp = np.isfinite(inputs.fleet_ramp_mw_per_h) & (inputs.fleet_ramp_mw_per_h * inputs.dt_h < width)
    parts = [f"ramp limit on {inputs.fleet_names[j]}" for j in np.flatnonzero(ramp)]
    if inputs.demand_charge_usd_per_mw_month > 0:
        parts.append("monthly demand charge")
    parts += [f"energy budget of {name}" for name in inputs.flex_names]
    return ", ".join(parts) or "no binding coupling"


def _coupled_result(inputs: SiteInputs, sol: CoupledSolution) -> DispatchResult:
    return evaluate(inputs, sol.mining_mw, sol.as_mw, sol.flex_mw, "optimal", "coupled", sol.objective_usd)


def _closed_form_result(inputs: SiteInputs, sol: FastSolution, t0: float) -> DispatchResult:
    """Price a closed-form schedule (no flexible AI) and record its solve time since ``t0``."""
    result = evaluate(inputs, sol.mining_mw, sol.as_mw, np.zeros((inputs.n, 0)), "optimal", "fast", float(sol.value_usd))
    result.timings_s["solve"] = time.perf_counter() - t0
    return result


def dispatch_inputs(inputs: SiteInputs, solver: Solver = "auto") -> DispatchResult:
    """Solve already-aligned inputs with the chosen solver.

    ``"coupled"`` runs :func:`~mullet.dispatch.coupled.solve_coupled` and raises
    :class:`ScenarioError` where its structure does not hold; ``"auto"`` falls
    back to the LP there and where the coupled solver cannot certify its optimum.
    """
    if solver not in ("auto", "lp", "fast", "coupled"):
        raise ScenarioError(f"solver: got {solver!r}, allowed: auto, lp, fast, coupled")
    use_fast = solver == "fast" or (solver == "auto" and inputs.separable)
    if solver == "fast" and not inputs.separable:
        raise ScenarioError(
            "solver: got 'fast', but the scenario couples intervals (ramp limit, demand charge, flexible AI or min on/off time); allowed: 'lp' or 'auto'"
        )
    t0 = time.perf_counter()
    if use_fast and inputs.as_award_intervals > 1 and inputs.offers_ancillary:
        fmin_total = float(inputs.fleet_min_mw.sum())
        width = inputs.fleet_max_mw - inputs.fleet_min_mw
        cap = inputs.import_limit_mw - inputs.firm_ai_mw - fmin_total
        if cap < -1e-9:
            raise ScenarioError(f"interconnect.import_limit_mw: below the firm AI load plus mining floors ({inputs.firm_ai_mw + fmin_total:.3f} MW)")
        room = np.broadcast_to(width if inputs.fleets_independent else np.minimum(width, max(cap, 0.0)), (inputs.n, len(width))).copy()
        room[inputs.forced_curtail] = 0.0
        sol = block_award_dispatch(
            inputs.mining_value_usd_per_mwh,
            inputs.energy_cost_usd_per_mwh,
            room,
            inputs.fleet_min_mw,
            inputs.as_price_usd_per_mw_h,
            inputs.as_max_offer_fraction,
            inputs.deployment_by_product,
            inputs.as_award_intervals,
            inputs.dt_h,
        )
        return _closed_form_result(inputs, sol, t0)
    if use_fast:
        sol = greedy_dispatch(
            inputs.mining_value_usd_per_mwh,
            inputs.energy_cost_usd_per_mwh,
            inputs.import_limit_mw - inputs.firm_ai_mw,
            inputs.fleet_min_mw,
            inputs.fleet_max_mw,
            inputs.as_price_usd_per_mw_h,
            inputs.as_max_offer_fraction,
            inputs.deployment_by_product,
            inputs.forced_curtail,
            inputs.dt_h,
        )
        return _closed_form_result(inputs, sol, t0)
    why_not = coupled_unsupported(inputs) if solver in ("auto", "coupled") else None
    if solver == "coupled" and why_not is not None:
        raise ScenarioError(f"solver: got 'coupled', but {why_not}; allowed: 'lp' or 'auto'")
    coupled = _couplings(inputs)
    note = f"solver: lp ({coupled}), as asked"
    if solver in ("auto", "coupled") and why_not is None:
        csol = solve_coupled(inputs)
        if csol.certified or solver == "coupled":
            result = _coupled_result(inputs, csol)
            cert = "certified optimal" if csol.certified else "NOT certified optimal (a piece between slack ramp constraints spans more than two months)"
            result.notes.append(f"solver: coupled, exact specialised solver ({coupled}); {cert}")
            result.timings_s["solve"] = time.perf_counter() - t0
            return result
        note = f"solver: lp ({coupled}): the coupled solver could not certify its optimum here"
    elif solver == "auto":
        note = f"solver: lp ({coupled}): the coupled solver is not exact here, {why_not}"
    lp = solve_lp(inputs)
    result = evaluate(inputs, lp.mining_mw, lp.as_mw, lp.flex_mw, lp.status, "lp", lp.objective_usd)
    result.notes.append(note)
    result.timings_s["solve"] = time.perf_counter() - t0
    return result


def dispatch(
    scenario: Scenario | str | Path,
    start: str | None = None,
    end: str | None = None,
    solver: Solver = "auto",
    policy: str = "perfect",
) -> DispatchResult:
    """Dispatch a site over ``start``..``end`` (inclusive UTC days; default: the scenario's own).

    Parameters
    ----------
    scenario
        A :class:`~mullet.site.Scenario` or the path of a scenario TOML file.
    start, end
        Override the horizon, e.g. ``"2023-08-01"``, ``"2023-08-31"``.
    solver
        ``"auto"`` (fast path when separable, coupled solver where it is exact, LP otherwise),
        ``"lp"``, ``"fast"`` or ``"coupled"``.
    policy
        ``"perfect"`` (the optimum with every price known: an upper bound) or a realisable
        policy of :data:`mullet.dispatch.foresight.POLICIES` (``realtime``, ``realtime_4cp``, ``dayahead``).
    """
    from mullet.dispatch.foresight import POLICIES, run_named_policy

    if policy not in POLICIES:
        raise ScenarioError(f"policy: got {policy!r}; allowed: {', '.join(POLICIES)}")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    t0 = time.perf_counter()
    inputs = build_inputs(sc, start, end)
    t_inputs = time.perf_counter() - t0
    if policy == "perfect":
        result = dispatch_inputs(inputs, solver)
    else:
        t1 = time.perf_counter()
        result = run_named_policy(inputs, policy)
        result.timings_s["solve"] = time.perf_counter() - t1
    result.timings_s["inputs"] = t_inputs
    result.scenario = sc.name
    return result
