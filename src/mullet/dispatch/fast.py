"""Closed-form dispatch for the separable case, vectorised over intervals and over many paths.

When nothing couples intervals (no ramp limit, demand charge, flexible-AI
energy budget or minimum on/off time), each interval is a small LP with one
shared capacity (the interconnect headroom left by firm AI and must-run
floors). Its optimum is a fractional knapsack: every fleet MW above its floor
is worth

    w = (v - c) + k * max(0, max_p(pi_p - delta * (v - c)))

per MWh, where ``v`` is the fleet's mining value, ``c`` the marginal energy cost,
``pi_p`` the capacity price of product ``p``, ``k`` the largest share of
curtailable load offered and ``delta`` the expected deployment. Fleets are
filled in order of ``w`` while ``w > 0`` until the headroom is used. The LP in
:mod:`mullet.dispatch.lp` must and does give the same objective (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FastSolution", "greedy_dispatch", "mining_margin_usd"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FastSolution:
    """Optimal separable dispatch: arrays over (..., T, F) and (..., T, F, P)."""

    mining_mw: FloatArray
    as_mw: FloatArray
    value_usd: FloatArray
    """(...) variable profit of the dispatch above the floors [USD]."""


def greedy_dispatch(
    value_usd_per_mwh: FloatArray,
    cost_usd_per_mwh: FloatArray,
    headroom_mw: FloatArray | float,
    fleet_min_mw: FloatArray,
    fleet_max_mw: FloatArray,
    as_price_usd_per_mw_h: FloatArray | None = None,
    max_offer_fraction: float = 0.0,
    deployment_fraction: float = 0.0,
    forced_curtail: npt.NDArray[np.bool_] | None = None,
    dt_h: float = 1.0,
) -> FastSolution:
    """Exact optimum of the separable site dispatch.

    Parameters
    ----------
    value_usd_per_mwh
        Mining value per MWh of each fleet's site power, shape (..., T, F).
    cost_usd_per_mwh
        Marginal cost of consuming, shape (..., T).
    headroom_mw
        Import limit minus firm AI load [MW], scalar or (..., T).
    fleet_min_mw, fleet_max_mw
        Must-run floor and largest load of each fleet [MW], shape (F,).
    as_price_usd_per_mw_h
        Capacity prices, shape (..., T, P) or None.
    max_offer_fraction
        Share of curtailable load (above the floor) that may be offered [-].
    deployment_fraction
        Expected share of offered MWh deployed, curtailing mining [-].
    forced_curtail
        (T,) intervals where mining is held at its floor.
    dt_h
        Interval length [h].
    """
    v = np.asarray(value_usd_per_mwh, dtype=float)
    margin = v - np.asarray(cost_usd_per_mwh, dtype=float)[..., None]
    width = np.asarray(fleet_max_mw, dtype=float) - np.asarray(fleet_min_mw, dtype=float)
    n_f = v.shape[-1]
    if as_price_usd_per_mw_h is not None and as_price_usd_per_mw_h.shape[-1] > 0 and max_offer_fraction > 0:
        as_margin = np.asarray(as_price_usd_per_mw_h)[..., None, :] - deployment_fraction * margin[..., None]
        best_p = np.argmax(as_margin, axis=-1)
        best = np.take_along_axis(as_margin, best_p[..., None], axis=-1)[..., 0]
        np.maximum(best, 0.0, out=best)
        w = margin + max_offer_fraction * best
    else:
        best_p = None
        best = None
        w = margin
    cap = np.asarray(headroom_mw, dtype=float) - float(np.sum(fleet_min_mw))
    if np.any(cap < -1e-9):
        raise ValueError(f"headroom_mw: below the mining floors ({float(np.sum(fleet_min_mw)):.3f} MW); allowed: >= the floors")
    cap = np.broadcast_to(np.maximum(cap, 0.0), w.shape[:-1])
    if n_f == 1:
        extra = np.where(w[..., 0] > 0, np.minimum(width[0], cap), 0.0)[..., None]
    else:
        order = np.argsort(-w, axis=-1, kind="stable")
        w_sorted = np.take_along_axis(w, order, axis=-1)
        width_sorted = width[order]
        before = np.cumsum(width_sorted, axis=-1) - width_sorted
        extra_sorted = np.clip(cap[..., None] - before, 0.0, width_sorted) * (w_sorted > 0)
        extra = np.empty_like(extra_sorted)
        np.put_along_axis(extra, order, extra_sorted, axis=-1)
    if forced_curtail is not None:
        extra = np.where(np.asarray(forced_curtail)[..., None], 0.0, extra)
    mining = extra + np.asarray(fleet_min_mw, dtype=float)
    n_p = 0 if as_price_usd_per_mw_h is None else as_price_usd_per_mw_h.shape[-1]
    as_mw = np.zeros((*mining.shape, n_p))
    if best is not None and best_p is not None:
        offer = max_offer_fraction * extra * (best > 0)
        np.put_along_axis(as_mw, best_p[..., None], offer[..., None], axis=-1)
    value = np.sum(w * extra, axis=(-2, -1)) * dt_h + np.sum(margin * np.asarray(fleet_min_mw), axis=(-2, -1)) * dt_h
    return FastSolution(mining_mw=mining, as_mw=as_mw, value_usd=value)


def mining_margin_usd(
    value_usd_per_mwh: FloatArray,
    cost_usd_per_mwh: FloatArray,
    power_mw: float,
    dt_h: float = 1.0,
) -> FloatArray:
    """Profit of one flexible fleet with no floor and no ancillary offers, batched over paths.

    ``sum(max(v - c, 0)) * power * dt`` over the last axis: the simplest exact
    dispatch (mine when value exceeds cost), used by sweeps over many paths.
    """
    margin = np.asarray(value_usd_per_mwh) - np.asarray(cost_usd_per_mwh)
    return np.sum(np.maximum(margin, 0.0), axis=-1) * (power_mw * dt_h)
