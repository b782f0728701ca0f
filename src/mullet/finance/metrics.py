"""Metrics a board asks for: NPV, IRR, payback, DSCR, CVaR; scalar and row-wise (one row per simulated path).

Conventions: cash flows are yearly, at year end, year 0 first ("now", undiscounted); positive = cash in.
Discounting is ``cf_y / (1 + r)**y``. Money is nominal USD.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from mullet.errors import ScenarioError

__all__ = ["cvar", "dscr", "irr", "irr_rows", "npv", "payback_rows", "payback_years"]

FloatArray = npt.NDArray[np.float64]


def npv(rate: float, cash_flows: Sequence[float] | FloatArray) -> FloatArray | float:
    """Net present value of ``cash_flows[..., y]`` for y = 0, 1, ... at ``rate`` per year (year 0 undiscounted)."""
    cf = np.asarray(cash_flows, dtype=float)
    if rate <= -1:
        raise ScenarioError(f"discount_rate: got {rate}, allowed: > -1")
    factors = (1 + rate) ** -np.arange(cf.shape[-1])
    out = cf @ factors
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def irr(cash_flows: Sequence[float] | FloatArray, lo: float = -0.99, hi: float = 10.0) -> float:
    """Internal rate of return: the rate where NPV is 0, found by bisection (NaN when NPV has no sign change)."""
    return float(irr_rows(np.atleast_2d(np.asarray(cash_flows, dtype=float)), lo, hi)[0])


def irr_rows(cf: FloatArray, lo: float = -0.99, hi: float = 10.0) -> FloatArray:
    """IRR of each row of ``cf`` (paths, years + 1) by vectorised bisection on [lo, hi].

    NaN where NPV does not change sign on the bracket, and where the row has no initial
    outlay (its first non-zero cash flow is not negative): an IRR is only meaningful for an investment.
    """
    cf = np.asarray(cf, dtype=float)
    n = cf.shape[1]
    lo_a = np.full(cf.shape[0], lo)
    hi_a = np.full(cf.shape[0], hi)

    def f(rate: FloatArray) -> FloatArray:
        return np.asarray((cf * (1 + rate[:, None]) ** -np.arange(n)).sum(axis=1))

    f_lo, f_hi = f(lo_a), f(hi_a)
    nonzero = cf != 0
    first = np.argmax(nonzero, axis=1)
    outlay = nonzero.any(axis=1) & (cf[np.arange(cf.shape[0]), first] < 0)
    ok = (np.sign(f_lo) != np.sign(f_hi)) & np.isfinite(f_lo) & np.isfinite(f_hi) & outlay
    for _ in range(100):
        mid = (lo_a + hi_a) / 2
        f_mid = f(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo_a = np.where(left, mid, lo_a)
        f_lo = np.where(left, f_mid, f_lo)
        hi_a = np.where(left, hi_a, mid)
    return np.where(ok, (lo_a + hi_a) / 2, np.nan)


def payback_years(cash_flows: Sequence[float] | FloatArray) -> float:
    """Years until cumulative cash turns non-negative for good (interpolated within the year); NaN if never."""
    return float(payback_rows(np.atleast_2d(np.asarray(cash_flows, dtype=float)))[0])


def payback_rows(cf: FloatArray) -> FloatArray:
    """Payback per row of ``cf`` (paths, years + 1): years until cumulative cash is non-negative for good; NaN if never."""
    cum = np.cumsum(cf, axis=1)
    negative = cum < 0
    n = cf.shape[1]
    last_neg = n - 1 - np.argmax(negative[:, ::-1], axis=1)
    idx = np.arange(cf.shape[0])
    nxt = np.minimum(last_neg + 1, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = -cum[idx, last_neg] / cf[idx, nxt]
    out = np.where(negative.any(axis=1), last_neg + frac, 0.0)
    return np.where(cum[:, -1] < 0, np.nan, out)


def dscr(cash_available: FloatArray, debt_service: FloatArray) -> FloatArray:
    """Debt service coverage ratio per year: cash available for debt service / debt service (NaN without service)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt_service > 0, cash_available / np.where(debt_service > 0, debt_service, 1.0), np.nan)


def cvar(values: FloatArray, level_fraction: float = 0.10) -> float:
    """Conditional value at risk: the mean of the worst ``level_fraction`` of ``values`` (at least one value)."""
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0:
        return float("nan")
    k = max(int(np.floor(level_fraction * v.size)), 1)
    return float(v[:k].mean())
