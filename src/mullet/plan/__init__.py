"""Capacity planning: how many of a site's MW to turn into AI/HPC, when, and at what risk.

For each simulated path (BTC price under the chosen measure, difficulty and hashprice from
:func:`mullet.network.simulate_network`, a power-price year resampled through the dispatch
price loader, GPU prices, tenant and construction risk) and each candidate AI share and
conversion year, the yearly cash flows give NPV, IRR, payback, funding need, DSCR and dilution;
the strategy table adds P10/P50/P90, mean, CVaR at 10% and P(loss), and states its criterion.

Modules: :mod:`~mullet.plan.config` (the typed configuration), :mod:`~mullet.plan.paths`
(simulated paths), :mod:`~mullet.plan.run` (cash flows and the executor loop),
:mod:`~mullet.plan.result` (the typed result), :mod:`~mullet.plan.sensitivity` (tornado).
"""

from __future__ import annotations

from mullet.plan.config import DEFAULT_RISK, PlanConfig
from mullet.plan.result import PlanResult, StrategyKey
from mullet.plan.run import input_hash, run_plan

__all__ = ["DEFAULT_RISK", "PlanConfig", "PlanResult", "StrategyKey", "input_hash", "run_plan"]
