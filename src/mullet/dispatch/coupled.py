"""Exact coupled dispatch at planning speed: ramp limit, monthly demand charge and flexible-AI energy budget.

The LP of :mod:`mullet.dispatch.lp` couples intervals through three
constraints. Each has a one-dimensional structure that this module exploits,
on top of the per-interval value of the closed-form fast path
(:func:`mullet.dispatch.fast._worth`: a fleet MW above its floor is worth its
mining margin plus the best ancillary offer it can back):

* **Ramp limit** (one fleet): given its load ``x`` above the floor, an
  interval is a fractional knapsack of the other items (other fleets, the
  flexible AI block) in the capacity left, so its value is concave and
  piecewise linear in ``x``. The year is then a dynamic programme over ``x``
  whose value function stays concave piecewise linear; it is kept as two heaps
  of breakpoints (the "slope trick": the ramp shifts the two halves apart, an
  interval adds a slope and a few kinks), ``O(T log T)`` per year, and the
  schedule is read back by clamping each interval's argmax to the ramp window.
* **Monthly demand charge**: the month's peak ``P_k`` is a scalar and the
  variable profit is concave (L-natural concave across months) in the peaks.
  The year is cut at every ramp constraint slack in the current schedule
  (their multipliers are 0), which gives a relaxation equal to the true value
  at the current peaks, an upper bound elsewhere and with the same one-sided
  derivatives; its pieces of one interval are fractional knapsacks in closed
  form, its ramp-bound stretches short DPs, and each piece spans at most two
  months. The peaks are optimal iff no set of months moved together gains (a
  Viterbi pass over the pieces' one-sided slopes): the certificate. Moves go
  all months at once to the optimum of a model (one-interval pieces exact,
  stretches by their slopes), re-solving only the moving months' pieces, or
  else along the test's best set by a bracketing line search. With a ramp
  limit the result is certified only where no piece spans more than two
  months (``solver="auto"`` then runs the LP).
* **Flexible-AI energy budget** (one block): a Lagrange multiplier ``lambda``
  [USD/MWh] on the yearly budget makes the served MW worth
  ``revenue lost + SLA credit + lambda - energy cost``; ``lambda`` is found by
  bisection (the capped energy is non-increasing in it) and the two
  solutions bracketing the budget are mixed so that it is met exactly: the mix
  is feasible (every constraint is linear) and optimal for the Lagrangian, so
  it is optimal (LP duality).

4CP (a price adder in perfect-foresight mode, a forced curtailment in forecast
mode) and ancillary offers enter through the per-interval worth, as in the fast
path. Minimum on/off times (a MIP), ramp limits on more than one fleet or more
than one flexible block are outside this structure: :func:`coupled_unsupported`
says why, and ``solver="auto"`` keeps the LP there.

Timestamps are tz-aware UTC interval starts; power in MW, energy in MWh,
money in USD.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from numba import njit

from mullet.dispatch.fast import _worth
from mullet.dispatch.inputs import SiteInputs
from mullet.errors import ScenarioError
from mullet.site import Scenario

__all__ = [
    "CoupledSolution",
    "coupled_objective_usd",
    "coupled_unsupported",
    "coupled_values",
    "plan_couplings",
    "plan_year_net_usd",
    "planning_site_inputs",
    "solve_coupled",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_BATCH = 32
"""Paths per call of the batch kernel in :func:`coupled_values`."""


# --- heaps of breakpoints (min-heaps on a key; the left heap stores negated positions) ---------------------


@njit(cache=True)
def _push(key: FloatArray, wt: FloatArray, n: int, k: float, w: float) -> int:  # pragma: no cover - compiled
    i = n
    key[i] = k
    wt[i] = w
    while i > 0:
        par = (i - 1) >> 1
        if key[par] <= key[i]:
            break
        key[par], key[i] = key[i], key[par]
        wt[par], wt[i] = wt[i], wt[par]
        i = par
    return n + 1


@njit(cache=True)
def _pop(key: FloatArray, wt: FloatArray, n: int) -> int:  # pragma: no cover - compiled
    n -= 1
    key[0] = key[n]
    wt[0] = wt[n]
    i = 0
    while True:
        a = 2 * i + 1
        if a >= n:
            break
        b = a + 1
        c = b if b < n and key[b] < key[a] else a
        if key[c] >= key[i]:
            break
        key[c], key[i] = key[i], key[c]
        wt[c], wt[i] = wt[i], wt[c]
        i = c
    return n


@njit(cache=True)
def _grown(a: FloatArray, n: int) -> FloatArray:  # pragma: no cover - compiled
    b = np.empty(2 * a.shape[0] + 64)
    b[:n] = a[:n]
    return b


@njit(cache=True)
def _ramp_dp(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    rstep: float,
    month: IntArray,
    peak: FloatArray,
    cap_const: float,
    use_peak: bool,
    a: int,
    b: int,
    x: FloatArray,
    heap: FloatArray,
    arg: FloatArray,
    order: IntArray,
) -> None:  # pragma: no cover - compiled
    """Optimal load ``x[a:b]`` of the ramped fleet above its floor over intervals ``a..b-1`` alone (both ends free).

    ``wr`` (T,) its worth [USD/MWh], ``hr`` (T,) its room [MW] (0 where held at
    the floor), ``wfree``/``wdth`` (T, M) worth and width of the other items,
    ``rstep`` the largest change per interval [MW]; the capacity above all
    floors [MW] is the month's peak ``peak[month[t]]`` (``cap_const`` without a
    demand charge). ``heap`` (4, H) and ``arg`` (2, T) are work space (H at
    least ``64 + (b - a) (2 M + 8)``), ``order`` (M,) too. The value function
    of the DP is concave piecewise linear on ``[0, hi]``: interior breakpoints
    are kept in a left heap (the slope rises by the weight when moving left
    past one) and a right heap (it falls moving right), each with a lazy
    position offset; the domain ends are walls. Items beyond a wall are dead
    and dropped when a whole heap is.
    """
    m_n = wfree.shape[1]
    room = 2 * m_n + 8  # the most pushes one interval makes on either heap
    lk = heap[0]
    lw = heap[1]
    rk = heap[2]
    rw = heap[3]
    lo_arg = arg[0]
    hi_arg = arg[1]
    nl = 0
    nr = 0
    offl = 0.0
    offr = 0.0
    top = 0.0  # upper wall; the lower wall is always 0
    for t in range(a, b):
        cap_t = peak[month[t]] if use_peak else cap_const
        if nl + room > lk.shape[0]:
            lk = _grown(lk, nl)
            lw = _grown(lw, nl)
        if nr + room > rk.shape[0]:
            rk = _grown(rk, nr)
            rw = _grown(rw, nr)
        u = min(hr[t], cap_t)
        if u < 0.0:
            u = 0.0
        if t == a:
            top = u
        else:
            offl -= rstep
            offr += rstep
            # the lower wall stays at 0: left items at or below it are dead
            if nr > 0 and rk[0] + offr <= 0.0:
                s = 0.0
                while nr > 0 and rk[0] + offr <= 0.0:
                    s += rw[0]
                    nr = _pop(rk, rw, nr)
                nl = 0
                nr = _push(rk, rw, nr, -offr, s)
            elif nl > 0 and offl - lk[0] <= 0.0:
                nl = 0
            # the upper wall moves out by the ramp, then in to u
            top = min(top + rstep, u)
            if nl > 0 and offl - lk[0] >= top:
                s = 0.0
                while nl > 0 and offl - lk[0] >= top:
                    s += lw[0]
                    nl = _pop(lk, lw, nl)
                nr = 0
                nl = _push(lk, lw, nl, offl - top, s)
            elif nr > 0 and rk[0] + offr >= top:
                nr = 0
        # this interval's value: slope wr below every kink, a kink where each other item becomes marginal
        m = 0
        for i in range(m_n):
            if wfree[t, i] > 0.0 and wdth[t, i] > 0.0:
                j = m
                while j > 0 and wfree[t, order[j - 1]] < wfree[t, i]:
                    order[j] = order[j - 1]
                    j -= 1
                order[j] = i
                m += 1
        base = wr[t]
        filled = 0.0
        for j in range(m):
            i = order[j]
            filled += wdth[t, i]
            p = cap_t - filled
            nxt = wfree[t, order[j + 1]] if j + 1 < m else 0.0
            drop = wfree[t, i] - nxt
            if drop <= 0.0:
                continue
            if p <= 0.0:
                base -= drop
            elif p < top:
                # concave kink: push left, then move its weight to the right heap
                nl = _push(lk, lw, nl, offl - p, drop)
                g = drop
                while g > 0.0:
                    if nl == 0 or offl - lk[0] <= 0.0:
                        nl = 0
                        nr = _push(rk, rw, nr, -offr, g)
                        break
                    q = offl - lk[0]
                    w = lw[0]
                    if w <= g:
                        nl = _pop(lk, lw, nl)
                        nr = _push(rk, rw, nr, q - offr, w)
                        g -= w
                    else:
                        lw[0] = w - g
                        nr = _push(rk, rw, nr, q - offr, g)
                        g = 0.0
        if base > 0.0:
            g = base
            while g > 0.0:
                if nr == 0 or rk[0] + offr >= top:
                    nr = 0
                    nl = _push(lk, lw, nl, offl - top, g)
                    break
                q = rk[0] + offr
                w = rw[0]
                if w <= g:
                    nr = _pop(rk, rw, nr)
                    nl = _push(lk, lw, nl, offl - q, w)
                    g -= w
                else:
                    rw[0] = w - g
                    nl = _push(lk, lw, nl, offl - q, g)
                    g = 0.0
        elif base < 0.0:
            g = -base
            while g > 0.0:
                if nl == 0 or offl - lk[0] <= 0.0:
                    nl = 0
                    nr = _push(rk, rw, nr, -offr, g)
                    break
                q = offl - lk[0]
                w = lw[0]
                if w <= g:
                    nl = _pop(lk, lw, nl)
                    nr = _push(rk, rw, nr, q - offr, w)
                    g -= w
                else:
                    lw[0] = w - g
                    nr = _push(rk, rw, nr, q - offr, g)
                    g = 0.0
        lo = offl - lk[0] if nl > 0 else 0.0
        hi = rk[0] + offr if nr > 0 else top
        lo_arg[t] = max(min(lo, top), 0.0)
        hi_arg[t] = max(min(hi, top), lo_arg[t])
    # read the schedule back: each interval's argmax clamped to the ramp window of the next
    x[b - 1] = lo_arg[b - 1]
    for t in range(b - 2, a - 1, -1):
        y = min(max(x[t + 1], lo_arg[t]), hi_arg[t])
        y = min(max(y, x[t + 1] - rstep), x[t + 1] + rstep)
        x[t] = y


@njit(cache=True)
def _solve_range(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    rstep: float,
    ramped: bool,
    month: IntArray,
    q: FloatArray,
    cap_const: float,
    use_peak: bool,
    a: int,
    b: int,
    x: FloatArray,
    z: FloatArray,
    heap: FloatArray,
    arg: FloatArray,
    order: IntArray,
) -> float:  # pragma: no cover - compiled
    """Intervals ``a..b-1`` alone (both ends free) under the caps: ``x[a:b]``, ``z[a:b]`` in place; returns ``sum(wr x + wfree z)``.

    The other items fill the room the ramped fleet leaves, best worth first while positive (a fractional knapsack).
    """
    m_n = wfree.shape[1]
    if ramped:
        _ramp_dp(wr, hr, wfree, wdth, rstep, month, q, cap_const, use_peak, a, b, x, heap, arg, order)
    else:
        for t in range(a, b):
            x[t] = 0.0
    total = 0.0
    for t in range(a, b):
        m = 0
        for i in range(m_n):
            z[t, i] = 0.0
            if wfree[t, i] > 0.0 and wdth[t, i] > 0.0:
                j = m
                while j > 0 and wfree[t, order[j - 1]] < wfree[t, i]:
                    order[j] = order[j - 1]
                    j -= 1
                order[j] = i
                m += 1
        left = (q[month[t]] if use_peak else cap_const) - x[t]
        total += wr[t] * x[t]
        for j in range(m):
            if left <= 0.0:
                break
            i = order[j]
            take = min(wdth[t, i], left)
            z[t, i] = take
            total += wfree[t, i] * take
            left -= take
    return total


@njit(cache=True)
def _primal(
    wr: FloatArray, value_free: FloatArray, x: FloatArray, z: FloatArray, month: IntArray, n_k: int, charge_per_interval: float
) -> float:  # pragma: no cover - compiled
    """Objective of a schedule without the multiplier: worths minus the charge on each month's actual peak."""
    total = 0.0
    peak = np.zeros(n_k)
    for t in range(wr.shape[0]):
        load = x[t]
        total += wr[t] * x[t]
        for i in range(value_free.shape[1]):
            total += value_free[t, i] * z[t, i]
            load += z[t, i]
        if load > peak[month[t]]:
            peak[month[t]] = load
    if charge_per_interval > 0.0:
        for k in range(n_k):
            total -= charge_per_interval * peak[k]
    return total


# --- the monthly peaks -------------------------------------------------------------------------------------


@njit(cache=True)
def _items(
    wr: FloatArray, hr: FloatArray, wfree: FloatArray, wdth: FloatArray, ramped: bool, t: int, wk: FloatArray, dk: FloatArray
) -> int:  # pragma: no cover - compiled
    """Every item of interval ``t`` worth loading (the ramped fleet too), best worth first: worths ``wk``, widths ``dk``; returns their count."""
    n = 0
    for i in range(-1 if ramped else 0, wfree.shape[1]):
        w = wr[t] if i < 0 else wfree[t, i]
        d = hr[t] if i < 0 else wdth[t, i]
        if w > 0.0 and d > 0.0:
            j = n
            while j > 0 and wk[j - 1] < w:
                wk[j] = wk[j - 1]
                dk[j] = dk[j - 1]
                j -= 1
            wk[j] = w
            dk[j] = d
            n += 1
    return n


@njit(cache=True)
def _single_value(wk: FloatArray, dk: FloatArray, n: int, p: float) -> float:  # pragma: no cover - compiled
    total = 0.0
    left = p
    for j in range(n):
        if left <= 0.0:
            break
        take = min(dk[j], left)
        total += wk[j] * take
        left -= take
    return total


@njit(cache=True)
def _pieces(x: FloatArray, rstep: float, ramped: bool, margin: float, cuts: IntArray) -> int:  # pragma: no cover - compiled
    """Cut the year at every ramp constraint slack by more than ``margin`` [MW] in ``x``: piece ``j`` is ``cuts[j]..cuts[j+1]-1``.

    Returns ``len(cuts)``. A slack constraint has multiplier 0 in every optimal dual (complementary slackness), so
    dropping it gives a relaxation whose value equals the true one at the current peaks, bounds it everywhere,
    and has the same one-sided derivatives there. The margin keeps the constraints that would bind within the
    test's step (there the relaxation's finite differences would differ from the true ones); keeping a slack
    constraint is always allowed. Pieces of one interval are fractional knapsacks in closed form.
    """
    t_n = x.shape[0]
    nc = 0
    cuts[nc] = 0
    nc += 1
    for t in range(1, t_n):
        if (not ramped) or abs(x[t] - x[t - 1]) < rstep * (1.0 - 1e-9) - 1e-9 - margin:
            cuts[nc] = t
            nc += 1
    cuts[nc] = t_n
    return nc + 1


@njit(cache=True)
def _viterbi(unary: FloatArray, pair: FloatArray, allowed: npt.NDArray[np.bool_], back: IntArray) -> tuple[float, float]:  # pragma: no cover - compiled
    """Best total gain rate of a set of months moved together (unary terms per month, pair terms of the pieces across a boundary).

    Over ``s_k`` in {0, 1} along the chain of months; returns the best value ending in ``s_K = 0`` and in
    ``s_K = 1`` (the gain is their maximum); ``back`` (K, 2) keeps the choices for :func:`_viterbi_set`.
    """
    n_k = unary.shape[0]
    v0 = 0.0
    v1 = unary[0] if allowed[0] else -np.inf
    for k in range(1, n_k):
        a0 = v0
        a1 = v1 + pair[k - 1, 0]
        back[k, 0] = 0 if a0 >= a1 else 1
        n0 = a0 if a0 >= a1 else a1
        if allowed[k]:
            b0 = v0 + pair[k - 1, 1] + unary[k]
            b1 = v1 + pair[k - 1, 2] + unary[k]
            back[k, 1] = 0 if b0 >= b1 else 1
            n1 = b0 if b0 >= b1 else b1
        else:
            n1 = -np.inf
        v0 = n0
        v1 = n1
    return v0, v1


@njit(cache=True)
def _viterbi_set(back: IntArray, v0: float, v1: float, pick: npt.NDArray[np.bool_]) -> None:  # pragma: no cover - compiled
    """The best set of the :func:`_viterbi` run that returned ``(v0, v1)`` and filled ``back``, in ``pick``."""
    st = 0 if v0 >= v1 else 1
    for k in range(back.shape[0] - 1, -1, -1):
        pick[k] = st == 1
        st = back[k, st] if k > 0 else 0


@njit(cache=True)
def _test(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    rstep: float,
    ramped: bool,
    month: IntArray,
    qmax: FloatArray,
    charge: float,
    x: FloatArray,
    z: FloatArray,
    q: FloatArray,
    cuts: IntArray,
    nc: int,
    pick: npt.NDArray[np.bool_],
    slopes: FloatArray,
    xs: FloatArray,
    zs: FloatArray,
    heap: FloatArray,
    arg: FloatArray,
    order: IntArray,
    wk: FloatArray,
    dk: FloatArray,
    hs: float,
    dirty: npt.NDArray[np.bool_],
    cache: FloatArray,
) -> tuple[int, float, bool, float]:  # pragma: no cover - compiled
    """The best move of a set of monthly peaks together, or none: the optimality test of the peaks.

    On the relaxation of :func:`_pieces` each piece depends on at most two adjacent months. The value is
    L-natural concave in the peaks, so ``q`` is optimal iff no direction ``+-chi_S`` improves; the best set
    ``S`` over the chain of months is a Viterbi pass over one-sided slopes of the pieces over a step ``hs``
    [MW] (in closed form for pieces of one interval, by a DP for longer ones). Returns (sign, gain rate, ok, the
    best gain rate of the months the model step would keep) and marks ``S`` in ``pick``; ``ok`` is False when
    a piece spans more than two months. ``slopes`` (K, 4) gets each month's right and left slope of its
    one-interval pieces and of its longer pieces with the other months fixed (the model of :func:`_model_step`).

    Incremental: ``cache`` (K, 16) keeps each month's terms (and those of the piece across its end) from the last
    call; only months marked in ``dirty`` (their peak, schedule or the step changed) and the boundaries next to
    them are computed again (the pieces of a clean month and their terms are unchanged).
    """
    n_k = qmax.shape[0]
    use_peak = True
    best_gain = 0.0
    best_sign = 0
    qq = q.copy()
    unary = np.zeros((2, n_k))
    pair = np.zeros((2, n_k, 3))  # boundary k|k+1: gains of (1,0), (0,1), (1,1)
    allowed = np.zeros((2, n_k), dtype=np.bool_)
    # cache[k]: 0-1 one-interval slopes (right, left); 2-3 longer pieces' unary gain (sign -, +); 4-5 their slopes
    # (right, left); 6-8 / 9-11 pair gains of boundary k|k+1 (sign -, +); 12-15 its partial slopes (k right, left;
    # k+1 right, left)
    for k in range(n_k):
        allowed[0, k] = q[k] - hs >= 0.0
        allowed[1, k] = q[k] + hs <= qmax[k]
    for k in range(n_k):
        if dirty[k]:
            for j in range(6):
                cache[k, j] = 0.0
        if dirty[k] or (k + 1 < n_k and dirty[k + 1]):
            for j in range(6, 16):
                cache[k, j] = 0.0
    for c in range(nc - 1):
        a = cuts[c]
        b = cuts[c + 1]
        m0 = month[a]
        m1 = month[b - 1]
        if not (dirty[m0] or dirty[m1]):
            continue
        if b - a == 1:
            # closed form, over the same step as the longer pieces: a kink closer than the step adds only its share
            n = _items(wr, hr, wfree, wdth, ramped, a, wk, dk)
            p = q[m0]
            lo = 0.0
            up = 0.0
            dn = 0.0
            for j in range(n):
                hi = lo + dk[j]
                up += wk[j] * max(min(hi, p + hs) - max(lo, p), 0.0)
                dn += wk[j] * max(min(hi, p) - max(lo, p - hs), 0.0)
                lo = hi
            cache[m0, 0] += up / hs
            cache[m0, 1] += dn / hs
            continue
        if m1 - m0 > 1:
            for k in range(n_k):
                dirty[k] = True  # nothing cached is complete
            return 0, 0.0, False, 0.0
        # the schedule restricted to a piece is optimal for it (the cut multipliers are 0)
        base = 0.0
        for t in range(a, b):
            base += wr[t] * x[t]
            for i in range(wfree.shape[1]):
                base += wfree[t, i] * z[t, i]
        for s in range(2):
            sign = 2 * s - 1
            if m0 == m1:
                if allowed[s, m0]:
                    qq[m0] = q[m0] + sign * hs
                    g = (_solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qq, 0.0, use_peak, a, b, xs, zs, heap, arg, order) - base) / hs
                    cache[m0, 2 + s] += g
                    cache[m0, 4 + (1 - s)] += sign * g
                    qq[m0] = q[m0]
                continue
            for j in range(3):
                use0 = j != 1
                use1 = j != 0
                if (use0 and not allowed[s, m0]) or (use1 and not allowed[s, m1]):
                    cache[m0, 6 + 3 * s + j] = -np.inf
                    continue
                if use0:
                    qq[m0] = q[m0] + sign * hs
                if use1:
                    qq[m1] = q[m1] + sign * hs
                g = (_solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qq, 0.0, use_peak, a, b, xs, zs, heap, arg, order) - base) / hs
                cache[m0, 6 + 3 * s + j] = g
                if j == 0:
                    cache[m0, 12 + (1 - s)] += sign * g
                elif j == 1:
                    cache[m0, 14 + (1 - s)] += sign * g
                qq[m0] = q[m0]
                qq[m1] = q[m1]
    for k in range(n_k):
        dirty[k] = False
        slopes[k, 0] = cache[k, 0]
        slopes[k, 1] = cache[k, 1]
        slopes[k, 2] = cache[k, 4] + cache[k, 12] + (cache[k - 1, 14] if k > 0 else 0.0)
        slopes[k, 3] = cache[k, 5] + cache[k, 13] + (cache[k - 1, 15] if k > 0 else 0.0)
        unary[1, k] = cache[k, 3] + slopes[k, 0] - charge
        unary[0, k] = cache[k, 2] + charge - slopes[k, 1]
        for s in range(2):
            for j in range(3):
                pair[s, k, j] = cache[k, 6 + 3 * s + j]
    back = np.zeros((n_k, 2), dtype=np.int64)
    for s in range(2):
        v0, v1 = _viterbi(unary[s], pair[s], allowed[s], back)
        gain = v0 if v0 >= v1 else v1
        if gain > best_gain:
            best_gain = gain
            best_sign = 2 * s - 1
            _viterbi_set(back, v0, v1, pick)
    # the best move of the months the model keeps (their one-sided slopes within 1e-9 of the charge) alone: where
    # it gains nothing, those months are optimal given the others (see _model_step)
    tol = 1e-9 * (1.0 + charge)
    rest_gain = 0.0
    for k in range(n_k):
        mover = (q[k] < qmax[k] and slopes[k, 0] + slopes[k, 2] - charge > tol) or (q[k] > 0.0 and slopes[k, 1] + slopes[k, 3] - charge < -tol)
        if mover:
            allowed[0, k] = False
            allowed[1, k] = False
    for s in range(2):
        v0, v1 = _viterbi(unary[s], pair[s], allowed[s], back)
        rest_gain = max(rest_gain, v0, v1)
    return best_sign, best_gain, True, rest_gain


@njit(cache=True)
def _model_step(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    ramped: bool,
    month: IntArray,
    qmax: FloatArray,
    charge: float,
    q: FloatArray,
    cuts: IntArray,
    nc: int,
    slopes: FloatArray,
    qn: FloatArray,
    wk: FloatArray,
    dk: FloatArray,
) -> tuple[bool, bool]:  # pragma: no cover - compiled
    """Every month's peak at once, on a model: its one-interval pieces exact, its longer pieces by their one-sided slopes.

    Writes the model's optimum to ``qn``; returns whether any month moves, and whether the model is exact: no piece
    longer than one interval touches a moving month. Then the relaxation is separable between the moving months and
    the rest, each moving month's peak is its exact optimum and the rest is optimal by the test, so ``qn`` maximizes
    the relaxation; where the true value meets it there (:func:`_partial`), ``qn`` is optimal. Otherwise the step is
    only a proposal, kept when the true value improves.
    """
    n_k = qmax.shape[0]
    tol = 1e-9 * (1.0 + charge)
    moved = False
    # the months the test's slopes would move (the others keep their peak and need no breakpoints)
    movers = np.zeros(n_k, dtype=np.bool_)
    for k in range(n_k):
        movers[k] = (q[k] < qmax[k] and slopes[k, 0] + slopes[k, 2] - charge > tol) or (q[k] > 0.0 and slopes[k, 1] + slopes[k, 3] - charge < -tol)
    n_tot = 0
    for c in range(nc - 1):
        if cuts[c + 1] - cuts[c] == 1 and movers[month[cuts[c]]]:
            n_tot += 1
    pos = np.empty(n_tot * (wfree.shape[1] + 1) + 1)
    drop = np.empty_like(pos)
    # breakpoints of every one-interval piece of a moving month, grouped by month (months run in time order)
    first = np.zeros(n_k + 1, dtype=np.int64)
    nb = 0
    for c in range(nc - 1):
        a = cuts[c]
        if cuts[c + 1] - a != 1 or not movers[month[a]]:
            continue
        n = _items(wr, hr, wfree, wdth, ramped, a, wk, dk)
        lo = 0.0
        for j in range(n):
            lo += dk[j]
            pos[nb] = lo
            drop[nb] = wk[j] - (wk[j + 1] if j + 1 < n else 0.0)
            nb += 1
        first[month[a] + 1] = nb
    for k in range(1, n_k + 1):
        first[k] = max(first[k], first[k - 1])
    for k in range(n_k):
        qn[k] = q[k]
        if not movers[k]:
            continue
        i0 = first[k]
        i1 = first[k + 1]
        g_up = 0.0
        g_dn = 0.0
        for i in range(i0, i1):
            if pos[i] > q[k]:
                g_up += drop[i]
            if pos[i] >= q[k]:
                g_dn += drop[i]
        up = g_up + slopes[k, 2] - charge
        dn = g_dn + slopes[k, 3] - charge
        if up > tol and q[k] < qmax[k]:
            # the largest P in (q, qmax] whose left slope still pays the charge
            acc = slopes[k, 2]
            for i in range(i0, i1):
                if pos[i] >= qmax[k]:
                    acc += drop[i]
            if acc >= charge:
                qn[k] = qmax[k]
            else:
                sel = np.empty(i1 - i0, dtype=np.int64)
                m = 0
                for i in range(i0, i1):
                    if q[k] < pos[i] < qmax[k]:
                        sel[m] = i
                        m += 1
                idx = np.argsort(-pos[sel[:m]])
                for j in range(m):
                    i = sel[idx[j]]
                    acc += drop[i]
                    if acc >= charge:
                        qn[k] = pos[i]
                        break
        elif dn < -tol and q[k] > 0.0:
            acc = g_dn + slopes[k, 3]
            qn[k] = 0.0
            sel = np.empty(i1 - i0, dtype=np.int64)
            m = 0
            for i in range(i0, i1):
                if 0.0 < pos[i] < q[k]:
                    sel[m] = i
                    m += 1
            idx = np.argsort(-pos[sel[:m]])
            for j in range(m):
                i = sel[idx[j]]
                acc += drop[i]
                if acc >= charge:
                    qn[k] = pos[i]
                    break
        if qn[k] != q[k]:
            moved = True
    exact = True
    for c in range(nc - 1):
        a = cuts[c]
        b = cuts[c + 1]
        if b - a > 1:
            for k in range(month[a], month[b - 1] + 1):
                if qn[k] != q[k]:
                    exact = False
    return moved, exact


@njit(cache=True)
def _partial(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    rstep: float,
    ramped: bool,
    month: IntArray,
    q: FloatArray,
    qn: FloatArray,
    cuts: IntArray,
    nc: int,
    x: FloatArray,
    z: FloatArray,
    xs: FloatArray,
    zs: FloatArray,
    heap: FloatArray,
    arg: FloatArray,
    order: IntArray,
) -> tuple[bool, float, bool]:  # pragma: no cover - compiled
    """The optimum at the peaks ``qn`` by re-solving only the pieces of :func:`_pieces` (cut at ``q``'s schedule ``x``) whose months move.

    The other pieces keep ``x``: restricted to a piece, an optimal schedule is optimal for the piece (the cut
    constraints' multipliers are 0), and a piece's problem depends only on its own months' peaks. Each moving
    piece is solved alone (a range with free ends); where a range's schedule breaks the ramp at an end, it takes in
    the next piece there (merging with a range solved before) and is solved again. The ranges' optima and
    the kept pieces form the optimum of a relaxation at ``qn`` (cut at the ranges' ends and the kept cuts), an upper
    bound on the true value; where the joined schedule meets every ramp constraint it is feasible, hence optimal.
    Writes it to ``xs``, ``zs`` and returns ``(True, sum(wr x + wfree z), extended)``; ``(False, 0, extended)`` where
    it cannot (then a full DP decides). ``extended``: some range took in a piece whose months do not move (its
    relaxation is then tighter than the one cut at every piece).
    """
    t_n = x.shape[0]
    xs[:] = x
    zs[:, :] = z
    lim = rstep * (1.0 + 1e-12) + 1e-9
    touched = np.zeros(nc, dtype=np.bool_)
    for c in range(nc - 1):
        for k in range(month[cuts[c]], month[cuts[c + 1] - 1] + 1):
            if qn[k] != q[k]:
                touched[c] = True
    starts = np.empty(nc, dtype=np.int64)  # the ranges solved so far, as piece indices [starts[r], ends[r])
    ends = np.empty(nc, dtype=np.int64)
    n_r = 0
    c = 0
    extended = False
    while c < nc - 1:
        if not touched[c]:
            c += 1
            continue
        ca = c
        cb = c + 1
        solved = False
        for _ext in range(64):
            _solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qn, 0.0, True, cuts[ca], cuts[cb], xs, zs, heap, arg, order)
            if not ramped:
                solved = True
                break
            ok_a = ca == 0 or abs(xs[cuts[ca]] - xs[cuts[ca] - 1]) <= lim
            ok_b = cb == nc - 1 or abs(xs[cuts[cb]] - xs[cuts[cb] - 1]) <= lim
            if ok_a and ok_b:
                solved = True
                break
            extended = True
            if not ok_a:
                ca -= 1
                if n_r > 0 and ca < ends[n_r - 1]:
                    n_r -= 1
                    ca = starts[n_r]
            if not ok_b:
                cb += 1
        if not solved:
            return False, 0.0, extended
        if n_r > 0 and ca < ends[n_r - 1]:
            return False, 0.0, extended  # cannot happen: a left step merges; kept as a guard
        starts[n_r] = ca
        ends[n_r] = cb
        n_r += 1
        c = cb
    if ramped:
        # every join (a range next to a kept piece or to another range) must meet the ramp
        for t in range(1, t_n):
            if abs(xs[t] - xs[t - 1]) > lim:
                return False, 0.0, extended
    total = 0.0
    for t in range(t_n):
        total += wr[t] * xs[t]
        for i in range(wfree.shape[1]):
            total += wfree[t, i] * zs[t, i]
    return True, total, extended


@njit(cache=True)
def _relaxed(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    rstep: float,
    ramped: bool,
    month: IntArray,
    qq: FloatArray,
    cuts: IntArray,
    nc: int,
    pick: npt.NDArray[np.bool_],
    xs: FloatArray,
    zs: FloatArray,
    heap: FloatArray,
    arg: FloatArray,
    order: IntArray,
    wk: FloatArray,
    dk: FloatArray,
) -> float:  # pragma: no cover - compiled
    """Value of the relaxation's pieces that touch the months in ``pick`` at the peaks ``qq``."""
    v = 0.0
    for c in range(nc - 1):
        a = cuts[c]
        b = cuts[c + 1]
        if not (pick[month[a]] or pick[month[b - 1]]):
            continue
        if b - a == 1:
            n = _items(wr, hr, wfree, wdth, ramped, a, wk, dk)
            v += _single_value(wk, dk, n, qq[month[a]])
        else:
            v += _solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qq, 0.0, True, a, b, xs, zs, heap, arg, order)
    return v


@njit(cache=True)
def _mark(
    q: FloatArray, qn: FloatArray, x: FloatArray, xn: FloatArray, z: FloatArray, zn: FloatArray, month: IntArray, dirty: npt.NDArray[np.bool_]
) -> None:  # pragma: no cover - compiled
    """Mark the months whose peak or schedule differs between ``(q, x, z)`` and ``(qn, xn, zn)``."""
    for k in range(q.shape[0]):
        if qn[k] != q[k]:
            dirty[k] = True
    for t in range(x.shape[0]):
        if dirty[month[t]]:
            continue
        same = xn[t] == x[t]
        for i in range(z.shape[1]):
            same = same and zn[t, i] == z[t, i]
        if not same:
            dirty[month[t]] = True


@njit(cache=True)
def _inner(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    value_free: FloatArray,
    rstep: float,
    ramped: bool,
    month: IntArray,
    qmax: FloatArray,
    cap_const: float,
    charge_per_interval: float,
    x: FloatArray,
    z: FloatArray,
    q: FloatArray,
) -> tuple[float, bool]:  # pragma: no cover - compiled
    """Best schedule for fixed worths over the monthly peaks ``q`` above the base load (written in place).

    From the unshaved peaks, each round tests optimality (:func:`_test`); where a move pays, every month moves at
    once to the optimum of a model (:func:`_model_step`) and the move is kept if the true value (a full-year DP)
    improves; else a golden-section search along the test's best set of months (on the relaxation first, then on
    the true value). Returns the objective with the worths ``value_free`` (no multiplier) minus the charge on the
    actual peaks (per-interval units), and whether the result is certified optimal (see the module docstring).
    """
    t_n = wr.shape[0]
    n_k = qmax.shape[0]
    m_n = wfree.shape[1]
    use_peak = charge_per_interval > 0.0
    heap = np.empty((4, 64 + t_n * (2 * m_n + 8)))
    arg = np.empty((2, t_n))
    order = np.empty(m_n + 1, dtype=np.int64)
    if not use_peak:
        _solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qmax, cap_const, False, 0, t_n, x, z, heap, arg, order)
        return _primal(wr, value_free, x, z, month, n_k, charge_per_interval), True
    for k in range(n_k):
        q[k] = qmax[k]
    xs = np.empty(t_n)
    zs = np.empty_like(z)
    pick = np.zeros(n_k, dtype=np.bool_)
    qq = np.empty(n_k)
    cuts = np.empty(t_n + 2, dtype=np.int64)
    slopes = np.empty((n_k, 4))
    wk = np.empty(m_n + 2)
    dk = np.empty(m_n + 2)
    charge_sum = 0.0
    hs = 1e-7 * max(1.0, qmax.max())  # the test's step
    q_try = np.empty(n_k)
    nc_box = np.zeros(1, dtype=np.int64)
    dirty = np.ones(n_k, dtype=np.bool_)  # months whose terms of the test must be computed (again)
    cache = np.zeros((n_k, 16))
    x_try = np.empty(t_n)
    z_try = np.empty_like(z)

    def evaluate(qv: FloatArray) -> float:
        v = _solve_range(wr, hr, wfree, wdth, rstep, ramped, month, qv, cap_const, True, 0, t_n, xs, zs, heap, arg, order)
        for kk in range(n_k):
            v -= charge_per_interval * qv[kk]
        return v

    def phi(tt: float, mode: int, sign: int, pick: npt.NDArray[np.bool_], charge_sum: float) -> float:
        # the value at q + sign * tt * chi_S: the relaxation's pieces touching S (mode 0) or the true value (mode 1)
        for kk in range(n_k):
            qq[kk] = q[kk] + (sign * tt if pick[kk] else 0.0)
        if mode == 0:
            return -charge_sum * sign * tt + _relaxed(wr, hr, wfree, wdth, rstep, ramped, month, qq, cuts, nc_box[0], pick, xs, zs, heap, arg, order, wk, dk)
        return evaluate(qq)

    best = evaluate(q)
    x[:] = xs
    z[:, :] = zs
    certified = False
    use_model = True
    stalls = 0
    h_test = hs
    h_last = hs
    for _it in range(100):
        nc = _pieces(x, rstep, ramped, 10.0 * h_test, cuts)
        nc_box[0] = nc
        if h_test != h_last:
            dirty[:] = True  # another step: other cuts and slopes everywhere
            h_last = h_test
        sign, gain, ok, rest_gain = _test(
            wr,
            hr,
            wfree,
            wdth,
            rstep,
            ramped,
            month,
            qmax,
            charge_per_interval,
            x,
            z,
            q,
            cuts,
            nc,
            pick,
            slopes,
            xs,
            zs,
            heap,
            arg,
            order,
            wk,
            dk,
            h_test,
            dirty,
            cache,
        )
        if not ok:
            break
        if sign == 0 or gain <= 1e-6 * (1.0 + charge_per_interval):
            certified = True
            break
        if h_test < hs:
            # the finer test still finds a move: search along it as below
            use_model = False
        moved, exact = (
            _model_step(wr, hr, wfree, wdth, ramped, month, qmax, charge_per_interval, q, cuts, nc, slopes, qq, wk, dk) if use_model else (False, False)
        )
        if moved:
            done, fc, extended = _partial(wr, hr, wfree, wdth, rstep, ramped, month, q, qq, cuts, nc, x, z, xs, zs, heap, arg, order)
            if done:
                for kk in range(n_k):
                    fc -= charge_per_interval * qq[kk]
                if exact and not extended and h_test == hs and rest_gain <= 1e-6 * (1.0 + charge_per_interval):
                    # the relaxation's maximum, met by the true value: optimal (see _model_step)
                    q[:] = qq
                    best = fc
                    x[:] = xs
                    z[:, :] = zs
                    certified = True
                    break
            else:
                fc = evaluate(qq)
            # kept when it improves, or (a few times running) when it does not lose: a move of a peak by rounding
            # noise (e.g. from an interconnect limit 1e-7 MW above the load) gains nothing but ends the search
            if fc > best + 1e-12 * (1.0 + abs(best)) or (fc >= best - 1e-12 * (1.0 + abs(best)) and stalls < 3):
                stalls = 0 if fc > best + 1e-12 * (1.0 + abs(best)) else stalls + 1
                _mark(q, qq, x, xs, z, zs, month, dirty)
                q[:] = qq
                best = max(best, fc)
                x[:] = xs
                z[:, :] = zs
                continue
            use_model = False
        # search along sign * chi_S: first on the relaxation (only the pieces touching S; exact at q, an upper
        # bound elsewhere), kept if the true value improves there; else on the true value (full DPs). The function is
        # concave piecewise linear along the line: the tangents at the ends of a bracket meet at the next trial point
        # (exact once both lie on the pieces at the maximum), with slopes by a step ``hh``, and halving as a safeguard.
        tmax = np.inf
        n_s = 0
        for k in range(n_k):
            if pick[k]:
                tmax = min(tmax, qmax[k] - q[k] if sign > 0 else q[k])
                n_s += 1
        charge_sum = charge_per_interval * n_s
        fc = -np.inf
        for mode in range(2):
            lo = 0.0
            flo = phi(0.0, mode, sign, pick, charge_sum) if mode == 0 else best
            slo = gain
            hi = tmax
            fhi = phi(hi, mode, sign, pick, charge_sum)
            shi = (fhi - phi(hi - min(hs, 0.5 * tmax), mode, sign, pick, charge_sum)) / min(hs, 0.5 * tmax)
            step = hi
            fbest = fhi
            if flo > fbest:
                step = 0.0
                fbest = flo
            if shi < 0.0:
                for _ls in range(60):
                    w = hi - lo
                    if w <= 0.5 * hs:
                        break  # within the test's step of the maximum
                    tt = 0.5 * (lo + hi)
                    if _ls % 3 != 2 and slo > shi:
                        # the slopes are finite differences of sums with rounding noise: the meeting point is only a
                        # trial point (kept 1% inside the bracket so that it always shrinks), never a proof
                        tt = (fhi - flo + slo * lo - shi * hi) / (slo - shi)
                        tt = min(max(tt, lo + 0.01 * w), hi - 0.01 * w)
                    ft = phi(tt, mode, sign, pick, charge_sum)
                    if ft > fbest:
                        fbest = ft
                        step = tt
                    sr = (phi(tt + hs, mode, sign, pick, charge_sum) - ft) / hs
                    if sr > 0.0:
                        lo, flo, slo = tt, ft, sr
                        continue
                    sl = (ft - phi(tt - hs, mode, sign, pick, charge_sum)) / hs
                    if sl < 0.0:
                        hi, fhi, shi = tt, ft, sl
                        continue
                    break  # a kink within the test's step of tt: the maximum
            for k in range(n_k):
                qv = q[k] + (sign * step if pick[k] else 0.0)
                # snap to the bounds so that the test can move away from them again
                qq[k] = 0.0 if qv <= 1e-9 * max(1.0, qmax[k]) else (qmax[k] if qv >= qmax[k] * (1.0 - 1e-12) else qv)
            fc = evaluate(qq)
            if fc > best + 1e-12 * (1.0 + abs(best)):
                break
        tol = 1e-12 * (1.0 + abs(best))
        if fc <= best + tol:
            # the line search stops just short of a kink that the test's step reaches: the largest step that
            # loses nothing (the kink's distance is below the line search's resolution) moves past it
            fc = -np.inf
            if stalls < 3:
                for e in range(4, -1, -1):
                    tt = min(hs * 10.0 ** (-e), tmax)
                    for k in range(n_k):
                        qv = q[k] + (sign * tt if pick[k] else 0.0)
                        qq[k] = 0.0 if qv <= 1e-9 * max(1.0, qmax[k]) else (qmax[k] if qv >= qmax[k] * (1.0 - 1e-12) else qv)
                    v = evaluate(qq)
                    if v < best - tol:
                        break
                    fc = v
                    q_try[:] = qq
                    x_try[:] = xs
                    z_try[:, :] = zs
            if fc == -np.inf:
                if h_test > hs * 1e-4:
                    # the relaxation may differ from the true value within the step (a cut constraint binds
                    # there): test again with a finer step
                    h_test *= 1e-3
                    continue
                break
            qq[:] = q_try
            xs[:] = x_try
            zs[:, :] = z_try
        stalls = 0 if fc > best + tol else stalls + 1
        h_test = hs
        _mark(q, qq, x, xs, z, zs, month, dirty)
        q[:] = qq
        best = max(best, fc)
        x[:] = xs
        z[:, :] = zs
    return _primal(wr, value_free, x, z, month, n_k, charge_per_interval), certified


@njit(cache=True)
def _capped(z: FloatArray, flex_col: int, flex_width: float, dt: float) -> float:  # pragma: no cover - compiled
    total = 0.0
    for t in range(z.shape[0]):
        total += (flex_width - z[t, flex_col]) * dt
    return total


@njit(cache=True)
def _solve_path(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    value_free: FloatArray,
    flex_col: int,
    flex_base: FloatArray,
    flex_width: float,
    budget_mwh: float,
    period: IntArray,
    dt: float,
    rstep: float,
    ramped: bool,
    month: IntArray,
    qmax: FloatArray,
    cap_const: float,
    charge_per_interval: float,
    x: FloatArray,
    z: FloatArray,
    q: FloatArray,
) -> tuple[float, bool, float]:  # pragma: no cover - compiled
    """One path: the flexible-AI multiplier by bisection around :func:`_inner`.

    ``flex_base`` (T,) is the served flexible MW's worth before the multiplier
    (revenue lost + SLA credit - energy cost). The first guess is the multiplier
    the budget would have if the block competed with nothing (cap the dearest
    intervals of each budget period ``period`` (T,), e.g. a local calendar year).
    One solve there, the tied intervals served in free room up to the budget,
    is exact wherever every binding budget is then met (always, where nothing
    competes with the block for capacity); otherwise two solves just below and above it bracket the budget, and
    bisection takes over where they do not (one budget period only: with several,
    the result is returned as not certified). Returns the
    objective (per-interval units), the certificate and the multiplier [USD/MWh].
    """
    t_n = wr.shape[0]
    if flex_col < 0 or flex_width <= 0.0:
        best, cert = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x, z, q)
        return best, cert, 0.0
    tol_b = 1e-9 * max(1.0, budget_mwh)
    n_per = period.max() + 1
    # the multiplier of each budget period if the block competed with nothing: cap the period's dearest intervals
    lams = np.zeros(n_per)
    n_full = int(budget_mwh / (flex_width * dt))
    for k in range(n_per):
        dear = -flex_base[period == k]
        # the (n_full + 1)-th dearest interval, by selection
        lams[k] = max(-np.partition(-dear, n_full)[n_full], 0.0) if n_full < dear.shape[0] else 0.0
    lam0 = lams.max()
    # solve at those multipliers and serve the tied intervals (the block's Lagrangian worth exactly 0) in free room up to
    # each budget: the schedule stays optimal for the Lagrangian, so where every binding budget is met exactly (and none
    # is exceeded) it is optimal (LP duality). That holds wherever nothing competes with the block for capacity.
    for t in range(t_n):
        wfree[t, flex_col] = flex_base[t] + lams[period[t]]
    _v, ok = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x, z, q)
    use_peak = charge_per_interval > 0.0
    met = True
    for k in range(n_per):
        excess = -budget_mwh
        for t in range(t_n):
            if period[t] == k:
                excess += (flex_width - z[t, flex_col]) * dt
        if lams[k] > 0.0:
            for t in range(t_n):
                if excess <= tol_b:
                    break
                if period[t] == k and wfree[t, flex_col] == 0.0 and z[t, flex_col] < flex_width:
                    load = x[t]
                    for i in range(wfree.shape[1]):
                        load += z[t, i]
                    room = (q[month[t]] if use_peak else cap_const) - load
                    add = min(flex_width - z[t, flex_col], excess / dt, max(room, 0.0))
                    z[t, flex_col] += add
                    excess -= add * dt
        met = met and (abs(excess) <= tol_b or (lams[k] == 0.0 and excess <= tol_b))
    if met:
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t]
        return _primal(wr, value_free, x, z, month, qmax.shape[0], charge_per_interval), ok, lam0
    if n_per > 1:
        # several budget periods whose block competes for capacity: outside this solver's certified structure
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t]
        return _primal(wr, value_free, x, z, month, qmax.shape[0], charge_per_interval), False, lam0
    x_lo = np.empty_like(x)
    z_lo = np.empty_like(z)
    q_lo = np.empty_like(q)
    x_hi = np.empty_like(x)
    z_hi = np.empty_like(z)
    q_hi = np.empty_like(q)
    have_lo = False
    have_hi = False
    c_lo = 0.0
    c_hi = 0.0
    cert_lo = True
    cert_hi = True
    lam_lo = 0.0
    # at lam_big the served block is worth more than anything else and than the peak charge
    big = 0.0
    for t in range(t_n):
        big = max(big, wr[t], -flex_base[t])
        for i in range(wfree.shape[1]):
            if i != flex_col:
                big = max(big, wfree[t, i])
    lam_hi = 2.0 * big + charge_per_interval + 1.0
    guesses = np.array([0.0]) if lam0 <= 0.0 else np.array([max(lam0 * (1.0 - 1e-12) - 1e-9, 0.0), lam0 * (1.0 + 1e-12) + 1e-9])
    for lam in guesses:
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t] + lam
        _v, ok = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x, z, q)
        c = _capped(z, flex_col, flex_width, dt)
        if c > budget_mwh + tol_b:
            lam_lo, c_lo, cert_lo, have_lo = lam, c, ok, True
            x_lo[:] = x
            z_lo[:, :] = z
            q_lo[:] = q
        else:
            lam_hi, c_hi, cert_hi, have_hi = lam, c, ok, True
            x_hi[:] = x
            z_hi[:, :] = z
            q_hi[:] = q
            break
    if have_hi and not have_lo and lam_hi == 0.0:
        # the budget does not bind
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t]
        return _primal(wr, value_free, x, z, month, qmax.shape[0], charge_per_interval), cert_hi, 0.0
    if not have_lo:
        # the guess was too high (the block competes for capacity): the low end of the bracket is 0
        lam_lo = 0.0
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t]
        _v, cert_lo = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x_lo, z_lo, q_lo)
        c_lo = _capped(z_lo, flex_col, flex_width, dt)
        if c_lo <= budget_mwh + tol_b:
            for t in range(t_n):
                wfree[t, flex_col] = flex_base[t]
            x[:] = x_lo
            z[:, :] = z_lo
            q[:] = q_lo
            return _primal(wr, value_free, x, z, month, qmax.shape[0], charge_per_interval), cert_lo, 0.0
    if not have_hi:
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t] + lam_hi
        _v, cert_hi = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x_hi, z_hi, q_hi)
        c_hi = _capped(z_hi, flex_col, flex_width, dt)
    for _it in range(200):
        if lam_hi - lam_lo <= 1e-11 * max(1.0, lam_hi) + 3e-9 or abs(c_hi - budget_mwh) <= tol_b:
            break
        lam = 0.5 * (lam_lo + lam_hi)
        for t in range(t_n):
            wfree[t, flex_col] = flex_base[t] + lam
        _v, ok = _inner(wr, hr, wfree, wdth, value_free, rstep, ramped, month, qmax, cap_const, charge_per_interval, x, z, q)
        c = _capped(z, flex_col, flex_width, dt)
        if c > budget_mwh + tol_b:
            lam_lo, c_lo, cert_lo = lam, c, ok
            x_lo[:] = x
            z_lo[:, :] = z
            q_lo[:] = q
        else:
            lam_hi, c_hi, cert_hi = lam, c, ok
            x_hi[:] = x
            z_hi[:, :] = z
            q_hi[:] = q
    for t in range(t_n):
        wfree[t, flex_col] = flex_base[t]
    # mix the two bracketing solutions so that the budget is met exactly
    theta = 0.0 if c_lo <= c_hi else (budget_mwh - c_hi) / (c_lo - c_hi)
    theta = min(max(theta, 0.0), 1.0)
    x[:] = theta * x_lo + (1.0 - theta) * x_hi
    z[:, :] = theta * z_lo + (1.0 - theta) * z_hi
    q[:] = theta * q_lo + (1.0 - theta) * q_hi
    v_mix = _primal(wr, value_free, x, z, month, qmax.shape[0], charge_per_interval)
    return v_mix, cert_lo and cert_hi, 0.5 * (lam_lo + lam_hi)


@njit(cache=True)
def _solve_paths(
    wr: FloatArray,
    hr: FloatArray,
    wfree: FloatArray,
    wdth: FloatArray,
    value_free: FloatArray,
    flex_col: int,
    flex_base: FloatArray,
    flex_width: float,
    budget_mwh: float,
    period: IntArray,
    dt: float,
    rstep: float,
    ramped: bool,
    month: IntArray,
    qmax: FloatArray,
    cap_const: float,
    charge_per_interval: float,
    value: FloatArray,
    certified: npt.NDArray[np.bool_],
) -> None:  # pragma: no cover - compiled
    """Many paths in one call: objective per path, certificate per path (parallelise over processes, as the planner does)."""
    for p in range(wr.shape[0]):
        x = np.empty(wr.shape[1])
        z = np.empty(wfree.shape[1:])
        q = np.empty(qmax.shape[1])
        wf = wfree[p].copy()
        v, c, _lam = _solve_path(
            wr[p],
            hr[p],
            wf,
            wdth[p],
            value_free[p],
            flex_col,
            flex_base[p],
            flex_width,
            budget_mwh,
            period,
            dt,
            rstep,
            ramped,
            month,
            qmax[p],
            cap_const,
            charge_per_interval,
            x,
            z,
            q,
        )
        value[p] = v
        certified[p] = c


# --- SiteInputs <-> arrays ---------------------------------------------------------------------------------


def coupled_unsupported(x: SiteInputs) -> str | None:
    """Why the coupled solver is not exact for ``x`` (None when it is)."""
    width = x.fleet_max_mw - x.fleet_min_mw
    binding = np.isfinite(x.fleet_ramp_mw_per_h) & (x.fleet_ramp_mw_per_h * x.dt_h < width)
    if (x.fleet_min_on_h > 0).any() or (x.fleet_min_off_h > 0).any():
        return "minimum on/off times make the dispatch a MIP"
    if int(binding.sum()) > 1:
        return f"{int(binding.sum())} fleets have separate ramp limits (the coupled solver handles one)"
    if len(x.flex_names) > 1:
        return f"{len(x.flex_names)} flexible AI blocks with separate budgets (the coupled solver handles one)"
    if x.as_award_intervals > 1 and x.offers_ancillary and not x.separable:
        return f"ancillary awards hold through {x.as_award_intervals} intervals (hourly day-ahead awards on shorter intervals)"
    return None


@dataclass
class _Arrays:
    """The coupled problem of one site as arrays; the first axis of every per-interval array may be paths."""

    wr: FloatArray
    hr: FloatArray
    wfree: FloatArray
    wdth: FloatArray
    value_free: FloatArray
    flex_col: int
    flex_base: FloatArray
    flex_width: float
    budget_mwh: float
    period: IntArray
    """(T) budget period of each interval, 0..n-1 (local calendar years)."""
    rstep: float
    ramped_fleet: int
    """Index of the ramp-limited fleet, -1 if none binds."""
    free_fleets: list[int]
    month: IntArray
    qmax: FloatArray
    cap_const: float
    charge_per_interval: float
    base_mw: float
    """Firm AI + every floor (fleets' must-run, the flexible block's least load) [MW]."""
    notes: list[str] = field(default_factory=list)


def _arrays(
    x: SiteInputs,
    value_usd_per_mwh: FloatArray | None = None,
    cost_usd_per_mwh: FloatArray | None = None,
    as_price_usd_per_mw_h: FloatArray | None = None,
) -> _Arrays:
    """The coupled problem of ``x`` with a leading path axis: ``x``'s own series (one path) or the given ones.

    ``value_usd_per_mwh`` (N, T, F), ``cost_usd_per_mwh`` (N, T) and ``as_price_usd_per_mw_h``
    (N, T, P) replace the mining value, energy cost and ancillary prices of ``x`` for ``N`` paths.
    """
    reason = coupled_unsupported(x)
    if reason is not None:
        raise ScenarioError(f"solver: got 'coupled', but {reason}; allowed: 'lp' or 'auto'")
    dt = x.dt_h
    t_n = x.n
    value = x.mining_value_usd_per_mwh[None] if value_usd_per_mwh is None else np.asarray(value_usd_per_mwh, dtype=float)
    cost = x.energy_cost_usd_per_mwh[None] if cost_usd_per_mwh is None else np.asarray(cost_usd_per_mwh, dtype=float)
    as_price = x.as_price_usd_per_mw_h[None] if as_price_usd_per_mw_h is None else np.asarray(as_price_usd_per_mw_h, dtype=float)
    n_p = value.shape[0]
    if value.shape[1:] != (t_n, len(x.fleet_names)) or cost.shape != (n_p, t_n):
        allowed = f"(N, {t_n}, {len(x.fleet_names)}), (N, {t_n})"
        raise ScenarioError(f"value_usd_per_mwh/cost_usd_per_mwh: got shapes {value.shape}, {cost.shape}; allowed: {allowed}")
    fmin, fmax = x.fleet_min_mw, x.fleet_max_mw
    width = fmax - fmin
    margin = value - cost[..., None]
    worth, _best, _best_p = _worth(margin, as_price, x.as_max_offer_fraction, x.deployment_by_product)
    room = np.where(x.forced_curtail[None, :, None], 0.0, np.broadcast_to(width, margin.shape))
    binding = np.isfinite(x.fleet_ramp_mw_per_h) & (x.fleet_ramp_mw_per_h * dt < width)
    ramped = int(np.flatnonzero(binding)[0]) if binding.any() else -1
    free = [j for j in range(len(fmax)) if j != ramped]
    cols_w = [worth[..., j] for j in free]
    cols_d = [room[..., j] for j in free]
    flex_col = -1
    flex_base = np.zeros((n_p, t_n))
    flex_width = 0.0
    budget = np.inf
    amin = 0.0
    if x.flex_names:
        flex_col = len(cols_w)
        flex_base = x.flex_revenue_lost_usd_per_mwh[0] + x.flex_sla_usd_per_mwh[0] - cost
        flex_width = float(x.flex_max_mw[0] - x.flex_min_mw[0])
        budget = float(x.flex_budget_mwh[0])
        amin = float(x.flex_min_mw[0])
        cols_w.append(flex_base)
        cols_d.append(np.full((n_p, t_n), flex_width))
    wfree = np.stack(cols_w, axis=-1) if cols_w else np.zeros((n_p, t_n, 0))
    wdth = np.stack(cols_d, axis=-1) if cols_d else np.zeros((n_p, t_n, 0))
    if ramped >= 0:
        wr, hr = np.ascontiguousarray(worth[..., ramped]), np.ascontiguousarray(room[..., ramped])
        rstep = float(x.fleet_ramp_mw_per_h[ramped] * dt)
    else:
        wr, hr, rstep = np.zeros((n_p, t_n)), np.zeros((n_p, t_n)), 1.0
    base = x.firm_ai_mw + float(fmin.sum()) + amin
    cap_const = x.import_limit_mw - base
    if cap_const < -1e-9:
        raise ScenarioError(f"interconnect.import_limit_mw: got {x.import_limit_mw}, below the firm AI load and every floor ({base:.3f} MW)")
    cap_const = max(cap_const, 0.0)
    months, month = np.unique(x.month, return_inverse=True)
    total = hr + wdth.sum(axis=-1)  # (N, T)
    if np.all(np.diff(month) >= 0):
        # months in time order (always, for interval-start UTC series): one pass
        qmax = np.minimum(cap_const, np.maximum.reduceat(total, np.searchsorted(month, np.arange(len(months))), axis=1))
    else:
        qmax = np.stack([np.minimum(cap_const, total[:, month == k].max(axis=1)) for k in range(len(months))], axis=1)
    charge = x.demand_charge_usd_per_mw_month / dt
    return _Arrays(
        wr=wr,
        hr=hr,
        wfree=np.ascontiguousarray(wfree),
        wdth=np.ascontiguousarray(wdth),
        value_free=np.ascontiguousarray(wfree),
        flex_col=flex_col,
        flex_base=np.ascontiguousarray(flex_base),
        flex_width=flex_width,
        budget_mwh=budget,
        period=np.unique(x.budget_period if x.budget_period is not None else np.zeros(t_n, dtype=np.int64), return_inverse=True)[1].astype(np.int64),
        rstep=rstep,
        ramped_fleet=ramped,
        free_fleets=free,
        month=month.astype(np.int64),
        qmax=np.ascontiguousarray(qmax),
        cap_const=cap_const,
        charge_per_interval=charge,
        base_mw=base,
    )


def coupled_values(
    x: SiteInputs,
    value_usd_per_mwh: FloatArray,
    cost_usd_per_mwh: FloatArray,
    as_price_usd_per_mw_h: FloatArray | None = None,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Optimal objective of the coupled site over many paths, in parallel over paths (the planner's kernel).

    Parameters
    ----------
    x
        The site (fleets, flexible block, ramp, demand charge, interconnect, 4CP hours, calendar).
    value_usd_per_mwh
        Mining value per MWh of each fleet's site power, shape (N, T, F).
    cost_usd_per_mwh
        Marginal cost of consuming (spot + adders + 4CP in perfect mode), shape (N, T).
    as_price_usd_per_mw_h
        Ancillary capacity prices, shape (N, T, P); default: ``x``'s own for every path.

    Returns
    -------
    objective_usd, certified
        (N,) the LP's objective (variable profit incl. floors, served flexible AI and the
        demand charge, as :func:`coupled_objective_usd`) and whether each path's optimum is certified.
    """
    n_p = np.shape(value_usd_per_mwh)[0]
    if n_p > _BATCH:
        # in batches: the per-path arrays of a batch stay in cache (one pass over many paths is bound by memory)
        parts = [
            coupled_values(
                x,
                value_usd_per_mwh[i : i + _BATCH],
                cost_usd_per_mwh[i : i + _BATCH],
                None if as_price_usd_per_mw_h is None else as_price_usd_per_mw_h[i : i + _BATCH],
            )
            for i in range(0, n_p, _BATCH)
        ]
        return np.concatenate([o for o, _ in parts]), np.concatenate([c for _, c in parts])
    if as_price_usd_per_mw_h is None:
        as_price_usd_per_mw_h = np.broadcast_to(x.as_price_usd_per_mw_h, (n_p, *x.as_price_usd_per_mw_h.shape))
    a = _arrays(x, value_usd_per_mwh, cost_usd_per_mwh, as_price_usd_per_mw_h)
    out = np.empty(n_p)
    cert = np.empty(n_p, dtype=np.bool_)
    _solve_paths(
        a.wr,
        a.hr,
        a.wfree,
        a.wdth,
        a.value_free,
        a.flex_col,
        a.flex_base,
        a.flex_width,
        a.budget_mwh,
        a.period,
        x.dt_h,
        a.rstep,
        a.ramped_fleet >= 0,
        a.month,
        a.qmax,
        a.cap_const,
        a.charge_per_interval,
        out,
        cert,
    )
    dt = x.dt_h
    cost = np.asarray(cost_usd_per_mwh, dtype=float)
    margin = np.asarray(value_usd_per_mwh, dtype=float) - cost[..., None]
    floors = (margin * x.fleet_min_mw).sum(axis=(1, 2)) * dt
    if x.flex_names:
        floors += ((x.flex_revenue_lost_usd_per_mwh[0] + x.flex_sla_usd_per_mwh[0] - cost) * x.flex_min_mw[0]).sum(axis=1) * dt
    peak_base = x.demand_charge_usd_per_mw_month * a.base_mw * a.qmax.shape[1] if x.demand_charge_usd_per_mw_month > 0 else 0.0
    return out * dt + floors - peak_base, cert


@dataclass(frozen=True)
class CoupledSolution:
    """Decision arrays of the coupled solver (same shapes as :class:`~mullet.dispatch.lp.LpSolution`)."""

    mining_mw: FloatArray
    """(T, F) fleet load [MW]."""
    as_mw: FloatArray
    """(T, F, P) offered capacity [MW]."""
    flex_mw: FloatArray
    """(T, B) served flexible AI load [MW]."""
    objective_usd: float
    """Variable profit, as the LP's objective: :func:`coupled_objective_usd` of the arrays."""
    certified: bool
    """True when the solution is proved optimal (see the module docstring)."""
    multiplier_usd_per_mwh: float
    """Lagrange multiplier of the flexible-AI energy budget (0 when it does not bind)."""


def coupled_objective_usd(x: SiteInputs, mining_mw: FloatArray, as_mw: FloatArray, flex_mw: FloatArray) -> float:
    """The LP's objective (variable profit) of a schedule: margins, offers, served flexible AI, minus the peak charge."""
    dt = x.dt_h
    cost = x.energy_cost_usd_per_mwh
    margin = x.mining_value_usd_per_mwh - cost[:, None]
    total = float(np.sum(margin * mining_mw) * dt)
    if as_mw.size and x.offers_ancillary:
        per_mw = x.as_price_usd_per_mw_h[:, None, :] - x.deployment_by_product[None, None, :] * margin[..., None]  # (T, F, P)
        total += float(np.sum(per_mw * as_mw) * dt)
    if flex_mw.size:
        worth = x.flex_revenue_lost_usd_per_mwh[None, :] + x.flex_sla_usd_per_mwh[None, :] - cost[:, None]
        total += float(np.sum(worth * flex_mw) * dt)
    if x.demand_charge_usd_per_mw_month > 0:
        imp = mining_mw.sum(axis=1) + flex_mw.sum(axis=1) + x.firm_ai_mw
        _, month = np.unique(x.month, return_inverse=True)
        peaks = np.full(month.max() + 1, -np.inf)
        np.maximum.at(peaks, month, imp)
        total -= float(peaks.sum() * x.demand_charge_usd_per_mw_month)
    return total


def solve_coupled(x: SiteInputs) -> CoupledSolution:
    """Exact coupled dispatch of one site (see the module docstring); raises :class:`ScenarioError` where not exact."""
    a = _arrays(x)
    t_n, f_n = x.n, len(x.fleet_names)
    xr = np.empty(t_n)
    z = np.empty(a.wfree.shape[1:])
    q = np.empty(a.qmax.shape[1])
    wfree = a.wfree[0].copy()
    _value, certified, lam = _solve_path(
        a.wr[0],
        a.hr[0],
        wfree,
        a.wdth[0],
        a.value_free[0],
        a.flex_col,
        a.flex_base[0],
        a.flex_width,
        a.budget_mwh,
        a.period,
        x.dt_h,
        a.rstep,
        a.ramped_fleet >= 0,
        a.month,
        a.qmax[0],
        a.cap_const,
        a.charge_per_interval,
        xr,
        z,
        q,
    )
    extra = np.zeros((t_n, f_n))
    if a.ramped_fleet >= 0:
        extra[:, a.ramped_fleet] = xr
    for col, j in enumerate(a.free_fleets):
        extra[:, j] = z[:, col]
    mining = extra + x.fleet_min_mw[None, :]
    as_mw = np.zeros((t_n, f_n, len(x.as_products)))
    if x.offers_ancillary:
        margin = x.mining_value_usd_per_mwh - x.energy_cost_usd_per_mwh[:, None]
        _w, best, best_p = _worth(margin, x.as_price_usd_per_mw_h, x.as_max_offer_fraction, x.deployment_by_product)
        if best is not None and best_p is not None:
            offer = x.as_max_offer_fraction * extra * (best > 0)
            idx = best_p[..., None] if best_p.ndim == 2 else np.broadcast_to(best_p[:, None, None], (t_n, f_n, 1))
            np.put_along_axis(as_mw, idx, offer[..., None], axis=-1)
    flex = np.zeros((t_n, len(x.flex_names)))
    if a.flex_col >= 0:
        flex[:, 0] = x.flex_min_mw[0] + z[:, a.flex_col]
    objective = coupled_objective_usd(x, mining, as_mw, flex)
    return CoupledSolution(mining, as_mw, flex, objective, bool(certified), float(lam))


def plan_couplings(scenario: Scenario) -> list[str]:
    """The couplings of ``scenario`` a plan honours through the coupled solver (empty: the plan's dispatch is separable)."""
    out = []
    if any(f.ramp_mw_per_h is not None for f in scenario.mining[:1]):
        out.append("ramp limit")
    if scenario.power.demand_charge_usd_per_kw_month > 0:
        out.append("monthly demand charge")
    if any(b.service == "flexible" for b in scenario.ai):
        out.append("flexible-AI energy budget")
    return out


def planning_site_inputs(scenario: Scenario, mining_mw: float, ai_site_mw: float, hours: int = 8760) -> SiteInputs:
    """An hourly plan year of ``scenario`` (UTC calendar months from 2023-01-01) for :func:`coupled_values`.

    One fleet of ``mining_mw`` whose ramp limit keeps the scenario's first fleet's share of power per hour; AI of
    ``ai_site_mw`` site load, flexible on the terms of the scenario's first flexible block (cap share, hours a year
    at the full cap, SLA credit and lost revenue per capped MWh) or firm; the scenario's demand charge on the
    site's monthly peak; the interconnect ``mining_mw + ai_site_mw``. Prices, mining value, 4CP and ancillary
    offers come from the caller's paths (no 4CP hours, no offers in the template).
    """
    from mullet.testing import make_inputs

    fleet = scenario.mining[0] if scenario.mining else None
    ramp = None
    if fleet is not None and fleet.ramp_mw_per_h is not None and mining_mw > 0:
        ramp = [fleet.ramp_mw_per_h / fleet.site_power_mw * mining_mw]
    flex = next((b for b in scenario.ai if b.service == "flexible"), None)
    kw: dict[str, object] = {}
    firm = ai_site_mw
    if flex is not None and ai_site_mw > 0:
        firm = 0.0
        kw.update(
            flex_max_mw=[ai_site_mw],
            flex_min_mw=[ai_site_mw * (1 - flex.flex_cap_fraction)],
            flex_budget_mwh=[ai_site_mw * flex.flex_cap_fraction * flex.flex_max_hours_per_year * hours / 8760],
            flex_sla_usd_per_mwh=[flex.sla_credit_usd_per_mwh],
            flex_revenue_lost_usd_per_mwh=[flex.revenue_usd_per_mwh_served],
        )
    return make_inputs(
        [0.0] * hours,
        [0.0] * hours,
        [max(mining_mw, 0.0)],
        [0.0],
        import_limit_mw=max(mining_mw, 0.0) + ai_site_mw + 1e-9,
        firm_ai_mw=firm,
        start="2023-01-01",
        ramp_mw_per_h=ramp,
        demand_charge_usd_per_mw_month=scenario.power.demand_charge_usd_per_kw_month * 1000.0,
        **kw,  # type: ignore[arg-type]
    )


_PLAN_INPUTS: dict[tuple[str, float, float, int], SiteInputs] = {}


def plan_year_net_usd(scenario: Scenario, mining_mw: float, ai_site_mw: float, value_usd_per_mwh: FloatArray, cost_usd_per_mwh: FloatArray) -> FloatArray:
    """(P,) a plan year's site dispatch over paths, net of the AI's energy at full load: what the planner adds to firm-AI accounting.

    ``value_usd_per_mwh`` (P, 8760) mining value, ``cost_usd_per_mwh`` (P, 8760) energy cost. The result is
    the coupled optimum (mining margin, served flexible AI worth, minus the demand charge on the site's peak)
    minus the flexible block's worth at full service, ``sum((K - c) * ai)``: i.e. mining margin + the capping
    savings net of SLA credits and lost revenue - the demand charge. Path-years the coupled solver cannot
    certify are solved by the LP.
    """
    from dataclasses import replace

    from mullet.dispatch.lp import solve_lp

    key = (scenario.model_dump_json(), float(mining_mw), float(ai_site_mw), int(value_usd_per_mwh.shape[1]))
    x = _PLAN_INPUTS.get(key)
    if x is None:
        # a plan asks for the same few (mining, AI) splits in every chunk: keep the last few templates
        x = planning_site_inputs(scenario, mining_mw, ai_site_mw, value_usd_per_mwh.shape[1])
        if len(_PLAN_INPUTS) >= 32:
            _PLAN_INPUTS.pop(next(iter(_PLAN_INPUTS)))
        _PLAN_INPUTS[key] = x
    value = np.asarray(value_usd_per_mwh, dtype=float)[..., None]
    cost = np.asarray(cost_usd_per_mwh, dtype=float)
    obj, cert = coupled_values(x, value, cost)
    for i in np.flatnonzero(~cert):
        obj[i] = solve_lp(replace(x, mining_value_usd_per_mwh=value[i], price_usd_per_mwh=cost[i])).objective_usd
    if x.flex_names:
        k = x.flex_revenue_lost_usd_per_mwh[0] + x.flex_sla_usd_per_mwh[0]
        obj = obj - ((k - cost) * x.flex_max_mw[0]).sum(axis=1) * x.dt_h
    return obj
