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

__all__ = ["FastSolution", "block_award_dispatch", "greedy_dispatch", "mining_margin_usd"]

FloatArray = npt.NDArray[np.float64]
_CHUNK_PATHS = 16


@dataclass(frozen=True)
class FastSolution:
    """Optimal separable dispatch: arrays over (..., T, F) and (..., T, F, P)."""

    mining_mw: FloatArray
    as_mw: FloatArray
    value_usd: FloatArray
    """(...) variable profit of the dispatch above the floors [USD]."""


def _shared(deployment_fraction: float | FloatArray) -> float | None:
    """The deployment fraction as one number when every product shares it, else None."""
    d = np.asarray(deployment_fraction, dtype=float)
    if d.ndim == 0:
        return float(d)
    if d.size and np.all(d == d.flat[0]):
        return float(d.flat[0])
    return None if d.size else 0.0


def _worth(
    margin: FloatArray,
    as_price_usd_per_mw_h: FloatArray | None,
    max_offer_fraction: float,
    deployment_fraction: float | FloatArray,
) -> tuple[FloatArray, FloatArray | None, npt.NDArray[np.intp] | None]:
    """Worth ``w`` of one fleet MW above its floor, the best ancillary margin and the best product.

    With one deployment fraction, ``max_p(pi_p - delta * (v - c)) = max_p(pi_p) - delta * (v - c)``:
    the best product does not depend on the fleet and is found once per interval (shape (..., T)).
    With one per product it is found per interval and fleet (shape (..., T, F)).
    """
    if as_price_usd_per_mw_h is None or as_price_usd_per_mw_h.shape[-1] == 0 or max_offer_fraction <= 0:
        return margin, None, None
    prices = np.asarray(as_price_usd_per_mw_h, dtype=float)
    shared = _shared(deployment_fraction)
    if shared is None:
        full = prices[..., None, :] - np.asarray(deployment_fraction, dtype=float) * margin[..., None]  # (..., T, F, P)
        best_pf = np.argmax(full, axis=-1)
        best_f = np.take_along_axis(full, best_pf[..., None], axis=-1)[..., 0]
        np.maximum(best_f, 0.0, out=best_f)
        return margin + max_offer_fraction * best_f, best_f, best_pf
    deployment_fraction = shared
    if prices.shape[-1] == 1:
        best_p = np.zeros(prices.shape[:-1], dtype=np.intp)
        top = prices
    else:
        best_p = np.argmax(prices, axis=-1)
        top = np.take_along_axis(prices, best_p[..., None], axis=-1)  # (..., T, 1)
    best = top - deployment_fraction * margin
    np.maximum(best, 0.0, out=best)
    return margin + max_offer_fraction * best, best, best_p


def _one_fleet_value(
    value: FloatArray,
    cost: FloatArray,
    room_mw: float,
    as_price: FloatArray | None,
    k: float,
    delta: float,
) -> FloatArray:
    """In-place form of the one-fleet, no-floor objective: ``sum(max(w, 0)) * room`` (few temporaries)."""
    margin = np.subtract(value, cost)
    if as_price is not None and as_price.shape[-1] > 0 and k > 0:
        top = as_price[..., 0] if as_price.shape[-1] == 1 else np.max(as_price, axis=-1)
        best = np.multiply(margin, -delta)
        best += top
        np.maximum(best, 0.0, out=best)
        best *= k
        margin += best
    np.maximum(margin, 0.0, out=margin)
    return np.asarray(margin.sum(axis=-1) * room_mw)


def greedy_dispatch(
    value_usd_per_mwh: FloatArray,
    cost_usd_per_mwh: FloatArray,
    headroom_mw: FloatArray | float,
    fleet_min_mw: FloatArray,
    fleet_max_mw: FloatArray,
    as_price_usd_per_mw_h: FloatArray | None = None,
    max_offer_fraction: float = 0.0,
    deployment_fraction: float | FloatArray = 0.0,
    forced_curtail: npt.NDArray[np.bool_] | None = None,
    dt_h: float = 1.0,
    value_only: bool = False,
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
        Expected share of offered MWh deployed, curtailing mining [-]: one number, or one per product (P,).
    forced_curtail
        (T,) intervals where mining is held at its floor.
    dt_h
        Interval length [h].
    value_only
        Return only ``value_usd`` (the schedule arrays are then empty): the
        cheapest form for sweeps over many paths.
    """
    v = np.asarray(value_usd_per_mwh, dtype=float)
    if value_only and v.ndim == 3 and v.shape[0] > _CHUNK_PATHS:
        # paths in cache-sized chunks: the kernel is memory-bound, so this is ~2-5x faster on large batches
        def part(a: FloatArray | float | None, i: int, ndim: int) -> FloatArray | float | None:
            return a[i : i + _CHUNK_PATHS] if isinstance(a, np.ndarray) and a.ndim == ndim else a

        c = np.asarray(cost_usd_per_mwh, dtype=float)
        values = [
            greedy_dispatch(
                v[i : i + _CHUNK_PATHS],
                c[i : i + _CHUNK_PATHS] if c.ndim == 2 else c,
                part(headroom_mw, i, 2),  # type: ignore[arg-type]
                fleet_min_mw,
                fleet_max_mw,
                part(as_price_usd_per_mw_h, i, 3),  # type: ignore[arg-type]
                max_offer_fraction,
                deployment_fraction,
                forced_curtail,
                dt_h,
                value_only=True,
            ).value_usd
            for i in range(0, v.shape[0], _CHUNK_PATHS)
        ]
        return FastSolution(np.empty(0), np.empty(0), np.concatenate(values))
    fmin = np.asarray(fleet_min_mw, dtype=float)
    width = np.asarray(fleet_max_mw, dtype=float) - fmin
    if value_only and v.shape[-1] == 1 and fmin[0] == 0 and forced_curtail is None and np.ndim(headroom_mw) == 0 and _shared(deployment_fraction) is not None:
        return FastSolution(
            np.empty(0),
            np.empty(0),
            _one_fleet_value(
                v[..., 0],
                cost_usd_per_mwh,
                min(width[0], max(float(headroom_mw), 0.0)),
                as_price_usd_per_mw_h,
                max_offer_fraction,
                float(_shared(deployment_fraction) or 0.0),
            )
            * dt_h,
        )
    margin = np.asarray(value_usd_per_mwh, dtype=float) - np.asarray(cost_usd_per_mwh, dtype=float)[..., None]
    w, best, best_p = _worth(margin, as_price_usd_per_mw_h, max_offer_fraction, deployment_fraction)
    cap = np.asarray(headroom_mw, dtype=float) - float(fmin.sum())
    if np.any(cap < -1e-9):
        raise ValueError(f"headroom_mw: below the mining floors ({float(fmin.sum()):.3f} MW); allowed: >= the floors")
    cap = np.maximum(cap, 0.0)
    if forced_curtail is not None:
        w = np.where(np.asarray(forced_curtail)[..., None], -1.0, w)
    floor_value = float(np.sum(margin * fmin)) if margin.ndim == 2 else np.sum(margin * fmin, axis=(-2, -1))
    if w.shape[-1] == 1:
        room = np.minimum(width[0], cap)
        if value_only:
            positive = np.maximum(w[..., 0], 0.0)
            total = positive.sum(axis=-1) * room if np.ndim(room) == 0 else (positive * room).sum(axis=-1)
            return FastSolution(np.empty(0), np.empty(0), (total + floor_value) * dt_h)
        extra = np.where(w > 0, np.broadcast_to(np.asarray(room)[..., None] if np.ndim(room) else room, w.shape), 0.0)
    else:
        order = np.argsort(-w, axis=-1, kind="stable")
        w_sorted = np.take_along_axis(w, order, axis=-1)
        width_sorted = width[order]
        before = np.cumsum(width_sorted, axis=-1) - width_sorted
        capb = np.broadcast_to(cap, w.shape[:-1])[..., None]
        extra_sorted = np.clip(capb - before, 0.0, width_sorted) * (w_sorted > 0)
        extra = np.empty_like(extra_sorted)
        np.put_along_axis(extra, order, extra_sorted, axis=-1)
    value = (np.sum(w * extra, axis=(-2, -1)) + floor_value) * dt_h
    if value_only:
        return FastSolution(np.empty(0), np.empty(0), value)
    mining = extra + fmin
    n_p = 0 if as_price_usd_per_mw_h is None else as_price_usd_per_mw_h.shape[-1]
    as_mw = np.zeros((*mining.shape, n_p))
    if best is not None and best_p is not None:
        per_fleet = best_p.ndim == mining.ndim
        offer = max_offer_fraction * extra * (best > 0)
        idx = best_p[..., None] if per_fleet else np.broadcast_to(best_p[..., None, None], (*mining.shape, 1))
        np.put_along_axis(as_mw, idx, offer[..., None], axis=-1)
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


def block_award_dispatch(
    value_usd_per_mwh: FloatArray,
    cost_usd_per_mwh: FloatArray,
    room_mw: FloatArray,
    fleet_min_mw: FloatArray,
    as_price_usd_per_mw_h: FloatArray,
    max_offer_fraction: float,
    deployment_fraction: FloatArray,
    award_intervals: int,
    dt_h: float = 1.0,
) -> FastSolution:
    """Exact optimum when ancillary awards hold for blocks of intervals and fleets do not compete for headroom.

    Each fleet ``j`` and award block ``h`` (``award_intervals`` consecutive intervals, e.g. the
    day-ahead hour) is then on its own: with ``u`` the load above the floor that backs an
    offer ``r = k u``, the fleet runs at its room in intervals of positive margin and at ``u``
    in the others, so the block's profit is linear in ``u``:

        u * (k * W_h + sum_{t in h, margin_t <= 0} margin_t dt) + const,

    where ``W_h = max_p sum_{t in h} (pi_tp - delta_p margin_t) dt`` is one offered MW's worth.
    The optimum is ``u = min_t room_t`` when that coefficient is positive, else 0.

    Parameters
    ----------
    value_usd_per_mwh
        (T, F) mining value per MWh.
    cost_usd_per_mwh
        (T,) marginal energy cost.
    room_mw
        (T, F) load each fleet may add above its floor (0 where mining is forced to its floor) [MW].
    fleet_min_mw
        (F,) must-run floors [MW].
    as_price_usd_per_mw_h
        (T, P) capacity prices (constant within an award block).
    max_offer_fraction
        Largest share of the load above the floor that may be offered [-].
    deployment_fraction
        (P,) expected deployed share of offered MWh per product [-].
    award_intervals
        Intervals per award block.
    dt_h
        Interval length [h].
    """
    v = np.asarray(value_usd_per_mwh, dtype=float)
    t, f = v.shape
    margin = v - np.asarray(cost_usd_per_mwh, dtype=float)[:, None]
    starts = np.arange(0, t, award_intervals)
    blk = np.arange(t) // award_intervals
    delta = np.asarray(deployment_fraction, dtype=float)
    mining = np.empty((t, f))
    n_p = as_price_usd_per_mw_h.shape[1]
    as_mw = np.zeros((t, f, n_p))
    value = 0.0
    room = np.asarray(room_mw, dtype=float)
    for j in range(f):
        m = margin[:, j]
        per_product = np.add.reduceat((as_price_usd_per_mw_h - delta[None, :] * m[:, None]) * dt_h, starts, axis=0)  # (blocks, P)
        best_p = np.argmax(per_product, axis=1)
        worth = per_product[np.arange(len(starts)), best_p]
        idle = np.add.reduceat(np.minimum(m, 0.0) * dt_h, starts)
        coef = max_offer_fraction * worth + idle
        room_min = np.minimum.reduceat(room[:, j], starts)
        u = np.where(coef > 0, room_min, 0.0)
        extra = np.where(m > 0, room[:, j], u[blk])
        mining[:, j] = fleet_min_mw[j] + extra
        offer = max_offer_fraction * u
        as_mw[np.arange(t), j, best_p[blk]] = offer[blk]
        value += float(np.sum(m * mining[:, j]) * dt_h + np.sum(worth * offer))
    return FastSolution(mining_mw=mining, as_mw=as_mw, value_usd=np.asarray(value))
