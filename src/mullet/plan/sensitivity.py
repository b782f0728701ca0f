"""Tornado: the recommended strategy's mean NPV with one input at a time set low and high (same seed: common random numbers)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from mullet.finance.contracts import ColocationLease
from mullet.finance.metrics import npv
from mullet.plan.config import PlanConfig
from mullet.plan.paths import PathSet, simulate_paths
from mullet.plan.result import PlanResult
from mullet.plan.run import draw_risk, strategy_cash_flows
from mullet.site import Scenario

__all__ = ["sensitivity_inputs", "tornado"]


def sensitivity_inputs(cfg: PlanConfig) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The 8 inputs of the tornado as (label, low update, high update) of the plan configuration (model_dump form)."""
    base = cfg.model_dump()
    c = base["contract"]
    rk = c["risk"]

    def contract(**kw: Any) -> dict[str, Any]:
        return {"contract": {**c, **kw}}

    def risk(**kw: Any) -> dict[str, Any]:
        return {"contract": {**c, "risk": {**rk, **kw}}}

    out: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if isinstance(cfg.contract, ColocationLease) and cfg.contract.usd_per_kw_month is not None:
        rate = cfg.contract.usd_per_kw_month
        out.append((f"lease rate ${rate * 0.8:.0f}..${rate * 1.2:.0f}/kW-month", contract(usd_per_kw_month=rate * 0.8), contract(usd_per_kw_month=rate * 1.2)))
    else:
        g = cfg.contract.model_dump().get("usd_per_gpu_hour", 2.0)
        out.append((f"GPU price ${g * 0.8:.2f}..${g * 1.2:.2f}/h", contract(usd_per_gpu_hour=g * 0.8), contract(usd_per_gpu_hour=g * 1.2)))
    r = cfg.discount_rate_fraction
    out.append((f"discount rate {r + 0.02:.0%}..{r - 0.02:.0%}", {"discount_rate_fraction": r + 0.02}, {"discount_rate_fraction": r - 0.02}))
    pm = base["price_measure"]
    out.append(
        (
            "BTC mean growth -10%..+20%/yr",
            {"price_measure": {**pm, "kind": "user", "expected_growth_per_year": -0.10}},
            {"price_measure": {**pm, "kind": "user", "expected_growth_per_year": 0.20}},
        )
    )
    h = rk["default_hazard_per_year"]
    out.append((f"tenant default {min(h * 2 + 0.02, 1):.0%}..0%/yr", risk(default_hazard_per_year=min(h * 2 + 0.02, 1.0)), risk(default_hazard_per_year=0.0)))
    shell = cfg.capex.ai_shell_usd_per_mw
    cap = base["capex"]
    out.append(
        (
            f"AI shell ${shell * 1.3 / 1e6:.1f}M..${shell * 0.7 / 1e6:.1f}M/MW",
            {"capex": {**cap, "ai_shell_usd_per_mw": shell * 1.3}},
            {"capex": {**cap, "ai_shell_usd_per_mw": shell * 0.7}},
        )
    )
    ev = cfg.exit_ev_usd_per_mw
    out.append((f"EV per MW ${ev * 0.7 / 1e6:.2f}M..${ev * 1.3 / 1e6:.2f}M", {"exit_ev_usd_per_mw": ev * 0.7}, {"exit_ev_usd_per_mw": ev * 1.3}))
    esc = base["escalation"]
    out.append(("power escalation +5%..-1%/yr", {"escalation": {**esc, "power_fraction": 0.05}}, {"escalation": {**esc, "power_fraction": -0.01}}))
    renew = rk["renewal_probability"]
    out.append((f"renewal {max(renew - 0.25, 0):.0%}..100%", risk(renewal_probability=max(renew - 0.25, 0.0)), risk(renewal_probability=1.0)))
    return out


def _mean_npv_musd(scenario: Scenario, cfg: PlanConfig, key: tuple[float, int], n: int, cache: dict[str, PathSet]) -> float:
    """Mean NPV of one strategy on ``n`` paths; the simulated paths are shared by every variant that does not change them."""
    paths_key = json.dumps([cfg.price_measure.model_dump(), cfg.escalation.power_fraction, cfg.contract.kind, cfg.years])
    paths_seed, risk_seed = np.random.SeedSequence(entropy=cfg.seed, spawn_key=(0,)).spawn(2)  # the streams of the run's first chunk
    if paths_key not in cache:
        cache[paths_key] = simulate_paths(scenario, cfg, n, np.random.default_rng(paths_seed))
    risk = draw_risk(cfg, n, np.random.default_rng(risk_seed))
    cf, _, _ = strategy_cash_flows(scenario, cfg, cache[paths_key], risk, key[0], key[1])
    return float(np.mean(npv(cfg.discount_rate_fraction, cf))) / 1e6


def tornado(scenario: Scenario, cfg: PlanConfig, result: PlanResult, paths: int | None = None) -> pd.DataFrame:
    """Mean NPV of the recommended strategy (pure AI when exit wins) with each input low and high [M USD], largest swing first.

    Every variant uses the same seeds (common random numbers) on ``paths`` paths (default: the
    base run's, at most 200); variants that do not change the simulated paths share them, so
    differences are the input's effect, not sampling noise.
    """
    rec = result.recommended() or (max(cfg.ai_shares), min(cfg.conversion_years))
    n = min(paths or cfg.paths, 200)
    cache: dict[str, PathSet] = {}
    base = _mean_npv_musd(scenario, cfg, rec, n, cache)
    rows = []
    for label, low, high in sensitivity_inputs(cfg):
        vals = [_mean_npv_musd(scenario, PlanConfig.model_validate({**cfg.model_dump(), **upd}), rec, n, cache) for upd in (low, high)]
        rows.append({"input": label, "npv_low_musd": vals[0], "npv_base_musd": base, "npv_high_musd": vals[1], "swing_musd": abs(vals[1] - vals[0])})
    return pd.DataFrame(rows).sort_values("swing_musd", ascending=False).set_index("input")
