"""Exact dispatch LP (a MIP with minimum on/off times), built as sparse matrices and solved by HiGHS.

Columns, in blocks over ``T`` intervals: fleet load ``m[f, t]`` [MW], offered
capacity ``r[f, k]`` [MW] per award block ``k`` (the market's award period, e.g. the
day-ahead hour: the offer holds through every interval of it) in the block's best
product for that fleet (the products share one capacity, and each MW's worth,
capacity price minus expected deployment x lost margin, is data, so only the best
is ever offered: an exact reduction from ``F x P`` to ``F`` columns per block), served flexible AI ``a[b, t]`` [MW], monthly peak
import ``peak[k]`` [MW], and for fleets with minimum on/off times binary
on-state, start and stop ``u, v, w[c, t]``. The objective minimises minus the
variable profit; :func:`mullet.dispatch.result.evaluate` adds the constants.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from mullet.dispatch.inputs import SiteInputs
from mullet.errors import SolverError

__all__ = ["LpSolution", "build_lp", "quiet_highs", "solve_lp"]

FloatArray = npt.NDArray[np.float64]
INF = highspy.kHighsInf


@dataclass
class _Rows:
    rows: list[npt.NDArray[np.int64]]
    cols: list[npt.NDArray[np.int64]]
    vals: list[FloatArray]
    lower: list[FloatArray]
    upper: list[FloatArray]
    n: int = 0

    def add(self, r: npt.NDArray[np.int64], c: npt.NDArray[np.int64], v: FloatArray | float) -> None:
        self.rows.append(np.asarray(r, dtype=np.int64) + self.n)
        self.cols.append(np.asarray(c, dtype=np.int64))
        self.vals.append(np.broadcast_to(np.asarray(v, dtype=float), np.shape(c)).astype(float))

    def close(self, count: int, lower: FloatArray | float, upper: FloatArray | float) -> None:
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (count,)).astype(float))
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (count,)).astype(float))
        self.n += count


@dataclass
class LpModel:
    """The assembled LP with column offsets to read the solution back."""

    lp: highspy.HighsLp
    t: int
    f: int
    p: int
    b: int
    m0: int
    r0: int
    a0: int
    k0: int
    u0: int
    committed: list[int]
    n_blk: int = 0
    """Ancillary award blocks."""
    blk_of_t: npt.NDArray[np.int64] | None = None
    """(T) award block of each interval."""
    best_product: npt.NDArray[np.int64] | None = None
    """(blocks, F) product offered in each block."""


@dataclass(frozen=True)
class LpSolution:
    """Decision arrays of an optimal LP."""

    mining_mw: FloatArray
    as_mw: FloatArray
    flex_mw: FloatArray
    objective_usd: float
    status: str


def build_lp(x: SiteInputs) -> LpModel:
    """Assemble the dispatch LP of ``x`` directly as a CSC matrix (no per-variable Python objects)."""
    t, f, b = x.n, len(x.fleet_names), len(x.flex_names)
    p = 1 if x.offers_ancillary else 0
    dt = x.dt_h
    tt = np.arange(t, dtype=np.int64)
    cost = x.energy_cost_usd_per_mwh
    # ancillary awards: one offer column per fleet and award block (n_a model intervals, e.g. the DAM hour);
    # its value is the best product's capacity price minus the expected deployment's lost margin, summed over the block
    n_a = max(1, int(x.as_award_intervals)) if p else 1
    blk_of_t = tt // n_a
    n_blk = int(blk_of_t[-1]) + 1 if t else 0
    starts = np.arange(0, t, n_a)
    delta = x.deployment_by_product if p else np.zeros(0)
    worth = np.zeros((n_blk, f))
    best_product = np.zeros((n_blk, f), dtype=np.int64)
    if p:
        for j in range(f):
            margin_j = x.mining_value_usd_per_mwh[:, j] - cost
            per_product = np.add.reduceat((x.as_price_usd_per_mw_h - delta[None, :] * margin_j[:, None]) * dt, starts, axis=0)  # (blocks, P)
            best_product[:, j] = np.argmax(per_product, axis=1)
            worth[:, j] = per_product[np.arange(n_blk), best_product[:, j]]
    committed = [j for j in range(f) if x.fleet_min_on_h[j] > 0 or x.fleet_min_off_h[j] > 0]
    months, month_of_t = np.unique(x.month, return_inverse=True)
    use_peak = x.demand_charge_usd_per_mw_month > 0
    n_k = len(months) if use_peak else 0
    c = len(committed)
    m0, r0 = 0, f * t
    a0 = r0 + f * p * n_blk
    k0 = a0 + b * t
    u0 = k0 + n_k
    n_col = u0 + 3 * c * t

    obj = np.zeros(n_col)
    lo = np.zeros(n_col)
    hi = np.full(n_col, INF)
    integrality = np.zeros(n_col, dtype=np.int32)
    for j in range(f):
        sl = slice(m0 + j * t, m0 + (j + 1) * t)
        margin = x.mining_value_usd_per_mwh[:, j] - cost
        obj[sl] = -margin * dt
        lo[sl] = x.fleet_min_mw[j]
        hi[sl] = np.where(x.forced_curtail, x.fleet_min_mw[j], x.fleet_max_mw[j])
        if p:
            obj[r0 + j * n_blk : r0 + (j + 1) * n_blk] = -worth[:, j]
    for j in range(b):
        sl = slice(a0 + j * t, a0 + (j + 1) * t)
        obj[sl] = -(x.flex_revenue_lost_usd_per_mwh[j] + x.flex_sla_usd_per_mwh[j] - cost) * dt
        lo[sl] = x.flex_min_mw[j]
        hi[sl] = x.flex_max_mw[j]
    if use_peak:
        obj[k0 : k0 + n_k] = x.demand_charge_usd_per_mw_month
    for i in range(c):
        base = u0 + 3 * i * t
        hi[base : base + 3 * t] = 1.0
        integrality[base : base + 3 * t] = 1

    rows = _Rows([], [], [], [], [])
    # interconnect: sum_f m + sum_b a <= L - firm; with demand charges it is the bound peak <= L - firm instead
    if not use_peak:
        for j in range(f):
            rows.add(tt, m0 + j * t + tt, 1.0)
        for j in range(b):
            rows.add(tt, a0 + j * t + tt, 1.0)
        rows.close(t, -INF, x.import_limit_mw - x.firm_ai_mw)
    # ancillary capacity, held through the award block: r[f,blk(t)] - k m[f,t] <= -k floor_f
    if p:
        for j in range(f):
            rows.add(tt, m0 + j * t + tt, -x.as_max_offer_fraction)
            rows.add(tt, r0 + j * n_blk + blk_of_t, 1.0)
            rows.close(t, -INF, -x.as_max_offer_fraction * x.fleet_min_mw[j])
    # ramp: |m[t] - m[t-1]| <= R dt (left out where it cannot bind: R dt >= the fleet's whole range)
    for j in range(f):
        if np.isfinite(x.fleet_ramp_mw_per_h[j]) and t > 1 and x.fleet_ramp_mw_per_h[j] * dt < x.fleet_max_mw[j] - x.fleet_min_mw[j]:
            r = tt[1:] - 1
            rows.add(r, m0 + j * t + tt[1:], 1.0)
            rows.add(r, m0 + j * t + tt[:-1], -1.0)
            step = x.fleet_ramp_mw_per_h[j] * dt
            rows.close(t - 1, -step, step)
    # demand charge: import - peak[month] <= -firm (and, through the bound on peak, the interconnect)
    if use_peak:
        hi[k0 : k0 + n_k] = x.import_limit_mw
        for j in range(f):
            rows.add(tt, m0 + j * t + tt, 1.0)
        for j in range(b):
            rows.add(tt, a0 + j * t + tt, 1.0)
        rows.add(tt, k0 + month_of_t, -1.0)
        rows.close(t, -INF, -x.firm_ai_mw)
    # flexible AI energy budget per period (local calendar year): sum a dt >= sum max dt - budget
    periods, period_of_t = np.unique(x.budget_period if x.budget_period is not None else np.zeros(t, dtype=np.int64), return_inverse=True)
    period_len = np.bincount(period_of_t, minlength=len(periods))
    for j in range(b):
        rows.add(period_of_t, a0 + j * t + tt, dt)
        rows.close(len(periods), x.flex_max_mw[j] * period_len * dt - x.flex_budget_mwh[j], INF)
    # unit commitment for fleets with minimum on/off times
    for i, j in enumerate(committed):
        u, v, w = u0 + 3 * i * t, u0 + (3 * i + 1) * t, u0 + (3 * i + 2) * t
        mcol = m0 + j * t + tt
        on_min = x.fleet_on_min_mw[j]
        rows.add(tt, mcol, 1.0)
        rows.add(tt, u + tt, -x.fleet_max_mw[j])
        rows.close(t, -INF, 0.0)
        if on_min > 0:
            rows.add(tt, mcol, 1.0)
            rows.add(tt, u + tt, -on_min)
            rows.close(t, 0.0, INF)
        # u[t] - u[t-1] - v[t] + w[t] = 0, the fleet starting off (u[-1] = 0): a start in the first interval counts
        rows.add(tt, u + tt, 1.0)
        rows.add(tt[1:], u + tt[:-1], -1.0)
        rows.add(tt, v + tt, -1.0)
        rows.add(tt, w + tt, 1.0)
        rows.close(t, 0.0, 0.0)
        for hours, col, sign in ((x.fleet_min_on_h[j], v, -1.0), (x.fleet_min_off_h[j], w, 1.0)):
            n_iv = int(np.ceil(hours / dt))
            if n_iv <= 1:
                continue
            # sum_{tau = t-n+1..t} v[tau] <= u[t]   /   sum w[tau] <= 1 - u[t]
            for lag in range(n_iv):
                rows.add(tt[lag:], col + tt[: t - lag], 1.0)
            rows.add(tt, u + tt, sign)
            rows.close(t, -INF, 0.0 if sign < 0 else 1.0)

    a = sp.csc_matrix(
        (np.concatenate(rows.vals), (np.concatenate(rows.rows), np.concatenate(rows.cols))),
        shape=(rows.n, n_col),
    )
    lp = highspy.HighsLp()
    lp.num_col_ = n_col
    lp.num_row_ = rows.n
    lp.col_cost_ = obj
    lp.col_lower_ = lo
    lp.col_upper_ = hi
    lp.row_lower_ = np.concatenate(rows.lower)
    lp.row_upper_ = np.concatenate(rows.upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    if c:
        lp.integrality_ = [highspy.HighsVarType(int(v)) for v in integrality]
    return LpModel(lp, t, f, p, b, m0, r0, a0, k0, u0, committed, n_blk, blk_of_t, best_product)


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance with output off, its start-up banner kept off stdout (so ``--format json`` stays pure JSON).

    HiGHS prints the banner from C++ when the instance is created, before any option
    can be set, so file descriptor 1 is pointed at the null device meanwhile.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    return h


def _run_interruptibly(h: highspy.Highs) -> None:
    """Solve in HiGHS's own thread so that Ctrl-C (KeyboardInterrupt) stops the solve at once and propagates."""
    thread = h.startSolve()
    try:
        while thread.is_alive():
            thread.join(0.1)
    except KeyboardInterrupt:
        h.cancelSolve()
        thread.join()
        raise


def solve_lp(x: SiteInputs, time_limit_s: float = 600.0, mip_rel_gap: float = 1e-6) -> LpSolution:
    """Build and solve the dispatch LP; raise :class:`SolverError` unless optimal."""
    model = build_lp(x)
    h = quiet_highs()
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("threads", 1)
    if model.committed:
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
    else:
        h.setOptionValue("solver", "simplex")
        h.setOptionValue("simplex_strategy", 1)  # dual simplex after presolve: fewest iterations here (benchmarks/)
    h.passModel(model.lp)
    _run_interruptibly(h)
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"solver: HiGHS ended with status '{h.modelStatusToString(status)}'; allowed: optimal")
    col = np.asarray(h.getSolution().col_value)
    t, f, b = model.t, model.f, model.b
    mining = col[model.m0 : model.m0 + f * t].reshape(f, t).T
    as_mw = np.zeros((t, f, len(x.as_products)))
    if model.p and model.blk_of_t is not None and model.best_product is not None:
        offer = col[model.r0 : model.r0 + f * model.n_blk].reshape(f, model.n_blk).T  # (blocks, F)
        for j in range(f):
            as_mw[np.arange(t), j, model.best_product[model.blk_of_t, j]] = offer[model.blk_of_t, j]
    flex = col[model.a0 : model.a0 + b * t].reshape(b, t).T
    return LpSolution(
        mining_mw=np.clip(mining, 0.0, None),
        as_mw=np.clip(as_mw, 0.0, None),
        flex_mw=flex,
        objective_usd=-float(h.getInfo().objective_function_value),
        status="optimal",
    )
