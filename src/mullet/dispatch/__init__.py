"""Site dispatch: co-optimise firm AI load and interruptible mining against spot, PPAs, tariffs and ancillary prices.

:func:`dispatch` is the pipeline: scenario -> aligned inputs -> solver -> typed
result. ``solver="auto"`` uses the closed-form path when the problem is
separable (exact there) and the HiGHS LP otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

import numpy as np

from mullet.dispatch.fast import FastSolution, block_award_dispatch, greedy_dispatch, mining_margin_usd
from mullet.dispatch.inputs import SiteInputs, build_inputs
from mullet.dispatch.lp import LpSolution, build_lp, solve_lp
from mullet.dispatch.result import PNL_KEYS, DispatchResult, evaluate
from mullet.errors import ScenarioError
from mullet.site import Scenario, load_scenario

__all__ = [
    "PNL_KEYS",
    "DispatchResult",
    "FastSolution",
    "LpSolution",
    "SiteInputs",
    "block_award_dispatch",
    "build_inputs",
    "build_lp",
    "dispatch",
    "dispatch_inputs",
    "greedy_dispatch",
    "mining_margin_usd",
    "solve_lp",
]

Solver = Literal["auto", "lp", "fast"]


def dispatch_inputs(inputs: SiteInputs, solver: Solver = "auto") -> DispatchResult:
    """Solve already-aligned inputs with the chosen solver."""
    if solver not in ("auto", "lp", "fast"):
        raise ScenarioError(f"solver: got {solver!r}, allowed: auto, lp, fast")
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
        flex = np.zeros((inputs.n, 0))
        result = evaluate(inputs, sol.mining_mw, sol.as_mw, flex, "optimal", "fast", float(sol.value_usd))
    elif use_fast:
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
        flex = np.zeros((inputs.n, 0))
        result = evaluate(inputs, sol.mining_mw, sol.as_mw, flex, "optimal", "fast", float(sol.value_usd))
    else:
        lp = solve_lp(inputs)
        result = evaluate(inputs, lp.mining_mw, lp.as_mw, lp.flex_mw, lp.status, "lp", lp.objective_usd)
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
        ``"auto"`` (fast path when exact, LP otherwise), ``"lp"`` or ``"fast"`` (perfect foresight only).
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
