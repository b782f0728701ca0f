"""Exact dispatch LP (a MIP with minimum on/off times), built as sparse matrices and solved by HiGHS.

Columns, in blocks over ``T`` intervals: fleet load ``m[f, t]`` [MW], offered
capacity ``r[f, t]`` [MW] in the interval's best product (the products share one
capacity and one deployment cost, so only the highest-priced one is ever
offered: an exact reduction from ``F x P x T`` to ``F x T`` columns), served flexible AI ``a[b, t]`` [MW], monthly peak
import ``peak[k]`` [MW], and for fleets with minimum on/off times binary
on-state, start and stop ``u, v, w[c, t]``. The objective minimises minus the
variable profit; :func:`mullet.dispatch.result.evaluate` adds the constants.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from mullet.dispatch.inputs import SiteInputs
from mullet.errors import SolverError

__all__ = ["LpSolution", "build_lp", "solve_lp"]

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
    p = 1 if x.as_products and x.as_max_offer_fraction > 0 else 0
    best_price = x.as_price_usd_per_mw_h.max(axis=1) if p else np.zeros(t)
    dt = x.dt_h
    tt = np.arange(t, dtype=np.int64)
    cost = x.energy_cost_usd_per_mwh
    committed = [j for j in range(f) if x.fleet_min_on_h[j] > 0 or x.fleet_min_off_h[j] > 0]
    months, month_of_t = np.unique(x.month, return_inverse=True)
    use_peak = x.demand_charge_usd_per_mw_month > 0
    n_k = len(months) if use_peak else 0
    c = len(committed)
    m0, r0 = 0, f * t
    a0 = r0 + f * p * t
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
            rs = slice(r0 + j * t, r0 + (j + 1) * t)
            obj[rs] = -(best_price - x.as_deployment_fraction * margin) * dt
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
    # ancillary capacity: r[f,t] - k m[f,t] <= -k floor_f
    if p:
        for j in range(f):
            rows.add(tt, m0 + j * t + tt, -x.as_max_offer_fraction)
            rows.add(tt, r0 + j * t + tt, 1.0)
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
    # flexible AI energy budget: sum a dt >= sum max dt - budget
    for j in range(b):
        rows.add(np.zeros(t, dtype=np.int64), a0 + j * t + tt, dt)
        rows.close(1, x.flex_max_mw[j] * t * dt - x.flex_budget_mwh[j], INF)
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
    return LpModel(lp, t, f, p, b, m0, r0, a0, k0, u0, committed)


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
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
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
    if model.p:
        offer = col[model.r0 : model.r0 + f * t].reshape(f, t).T
        best = np.argmax(x.as_price_usd_per_mw_h, axis=1)
        as_mw[np.arange(t), :, best] = offer
    flex = col[model.a0 : model.a0 + b * t].reshape(b, t).T
    return LpSolution(
        mining_mw=np.clip(mining, 0.0, None),
        as_mw=np.clip(as_mw, 0.0, None),
        flex_mw=flex,
        objective_usd=-float(h.getInfo().objective_function_value),
        status="optimal",
    )
