"""Realisable dispatch policies: decisions from what is known at decision time only.

The optimiser in :mod:`mullet.dispatch.fast` / :mod:`mullet.dispatch.lp` knows
every price of the horizon: its P&L is a *perfect-foresight upper bound*. A
site's controller decides one interval at a time from what has already
settled. This module is that controller's logic, in one form used two ways:

- live, one interval at a time: ``decision = policy.step(state, observation)``,
  then ``state = decision.state`` for the next interval;
- in a backtest over a year: :func:`run_policy` builds each interval's
  :class:`Observation` from the aligned :class:`~mullet.dispatch.inputs.SiteInputs`
  (only values known before the interval starts) and calls the same
  :meth:`RealtimePolicy.step` in a loop, then prices the schedule with the same
  :func:`~mullet.dispatch.result.evaluate` as the optimum.

The real-time price-response policy (what commercial curtailment controllers do):

- **strike** of each fleet: its mining value per MWh of site power from the
  day's hashprice and the fleet's efficiency (after pool fee and cooling),
  minus the retail adder and an optional offset, in USD/MWh;
- **hysteresis**: a running fleet stops when the last settled price exceeds
  ``strike + band/2`` and a stopped fleet restarts when it falls below
  ``strike - band/2``;
- **reaction lag**: the price of the interval being decided is unknown; the
  decision for interval ``t`` uses the price of ``t - lag`` (default one
  interval: the last settled real-time price);
- **minimum on/off times** (the policy's own, and each fleet's physical ones);
- **merit order**: when the site must give power back (an ancillary deployment,
  an AI tenant's power request, the interconnect), the least efficient fleet is
  shed first; a 4CP alert takes every fleet to its floor.

Timestamps are tz-aware UTC interval starts at the inputs' fixed interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Annotated, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from mullet.bitcoin.hashprice import mining_value_usd_per_mwh
from mullet.dispatch.inputs import SiteInputs
from mullet.dispatch.result import DispatchResult, evaluate
from mullet.errors import ScenarioError

__all__ = [
    "DayAheadConfig",
    "Decision",
    "FleetSpec",
    "Observation",
    "PolicyState",
    "RealtimePolicy",
    "RealtimePolicyConfig",
    "dayahead_awards",
    "known_hashprice",
    "lagged_prices",
    "observed_prices",
    "run_policy",
]

FloatArray = npt.NDArray[np.float64]
_EPS_MW = 1e-9


class RealtimePolicyConfig(BaseModel):
    """Settings of the real-time price-response policy. Every field is printed with the result it decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strike_offset_usd_per_mwh: Annotated[
        float,
        Field(ge=-1_000, le=1_000, description="Subtracted from each fleet's break-even price: > 0 curtails earlier (margin of safety) [USD/MWh]."),
    ] = 0.0
    hysteresis_usd_per_mwh: Annotated[
        float, Field(ge=0, le=1_000, description="Width of the band around the strike: stop above strike + band/2, restart below strike - band/2 [USD/MWh].")
    ] = 10.0
    reaction_lag_intervals: Annotated[
        int, Field(ge=1, le=96, description="Decision for interval t uses the settled price of t - lag; 1 = the last settled interval [-].")
    ] = 1
    min_on_hours: Annotated[float, Field(ge=0, le=168, description="Least time a fleet stays on once restarted by the policy [h].")] = 0.0
    min_off_hours: Annotated[float, Field(ge=0, le=168, description="Least time a fleet stays off once stopped by the policy [h].")] = 0.0
    hashprice_lag_days: Annotated[
        Literal[0, 1],
        Field(
            description="Backtests: 1 = strike from the previous UTC day's hashprice (known at decision time); "
            "0 = the same day's daily average (mild hindsight, labelled in the notes)."
        ),
    ] = 1
    follow_four_cp_alerts: Annotated[bool, Field(description="Take every fleet to its floor while a 4CP alert is active.")] = True

    def describe(self) -> str:
        """One line stating every setting, for notes and reports."""
        return (
            f"realtime policy: strike = fleet break-even from the {'previous' if self.hashprice_lag_days else 'same'} day's hashprice"
            f" - adder - {self.strike_offset_usd_per_mwh:g} USD/MWh, hysteresis {self.hysteresis_usd_per_mwh:g} USD/MWh,"
            f" reaction lag {self.reaction_lag_intervals} interval(s), min on {self.min_on_hours:g} h / off {self.min_off_hours:g} h,"
            f" 4CP alerts {'followed' if self.follow_four_cp_alerts else 'ignored'}"
        )


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """What the policy needs to know of one mining fleet.

    Attributes
    ----------
    name
        Label.
    max_mw
        Largest site power of the fleet [MW].
    floor_mw
        Load when stopped: the must-run floor (0 for fleets with minimum on/off times) [MW].
    usd_per_mwh_per_hashprice
        Mining value of one MWh of fleet site power per USD/PH/day of hashprice
        (after pool fee and cooling) [USD/MWh per USD/PH/day]; see :meth:`from_efficiency`.
    on_min_mw
        Least load while on, for fleets with minimum on/off times [MW].
    ramp_mw_per_h
        Largest change of fleet power per hour [MW/h]; ``inf`` = unlimited.
    min_on_hours, min_off_hours
        Physical minimum on/off times of the fleet [h].
    """

    name: str
    max_mw: float
    floor_mw: float
    usd_per_mwh_per_hashprice: float
    on_min_mw: float = 0.0
    ramp_mw_per_h: float = math.inf
    min_on_hours: float = 0.0
    min_off_hours: float = 0.0

    @staticmethod
    def value_per_hashprice(efficiency_j_per_th: float, pool_fee_fraction: float = 0.0, cooling_overhead_fraction: float = 0.0) -> float:
        """USD/MWh of fleet site power per USD/PH/day of hashprice, for ASICs of ``efficiency_j_per_th``."""
        return float(mining_value_usd_per_mwh(1.0, efficiency_j_per_th)) * (1 - pool_fee_fraction) / (1 + cooling_overhead_fraction)


class Observation(NamedTuple):
    """What a controller knows when it decides the next interval.

    Attributes
    ----------
    last_price_usd_per_mwh
        The most recent settled real-time price at the site's settlement point
        (``nan`` when none is known yet) [USD/MWh].
    hashprice_usd_per_ph_day
        The hashprice known now (a backtest uses the previous day's) [USD/PH/day].
    four_cp_alert
        A 4CP alert is active for the interval.
    deployment_mw
        Ancillary deployment the site must deliver in the interval: mining is
        reduced by this much, least efficient fleet first [MW].
    ai_load_mw
        AI site load to be served in the interval, including a tenant's power
        request; mining gets the interconnect headroom left over [MW].
    hold_mw
        Per fleet, the least load the site is obliged to run in the interval
        (an awarded ancillary offer must be backed by running load); empty: none.
        It wins over the price rule and over a 4CP alert [MW].
    """

    last_price_usd_per_mwh: float
    hashprice_usd_per_ph_day: float
    four_cp_alert: bool = False
    deployment_mw: float = 0.0
    ai_load_mw: float = 0.0
    hold_mw: tuple[float, ...] = ()


class PolicyState(NamedTuple):
    """What the policy carries from one interval to the next.

    Attributes
    ----------
    on
        Per fleet: running above its floor in the last interval.
    intervals_in_state
        Per fleet: intervals since it last started or stopped.
    mining_mw
        Per fleet: load of the last interval (``nan`` before the first) [MW].
    """

    on: tuple[bool, ...]
    intervals_in_state: tuple[int, ...]
    mining_mw: tuple[float, ...]


class Decision(NamedTuple):
    """The policy's decision for one interval.

    Attributes
    ----------
    mining_mw
        Target load per fleet, in the order of the policy's fleets [MW].
    state
        The state to pass to the next :meth:`RealtimePolicy.step`.
    strike_usd_per_mwh
        Per fleet: the strike used [USD/MWh].
    why
        Reason template and its arguments; read :attr:`reason` for the text
        (formatted on demand, so a year-long backtest does not pay for it).
    """

    mining_mw: tuple[float, ...]
    state: PolicyState
    strike_usd_per_mwh: tuple[float, ...]
    why: tuple[str, tuple[object, ...]]

    @property
    def reason(self) -> str:
        """Why, in words: the rule that decided the interval (price vs strike, or the override that won)."""
        template, args = self.why
        return template.format(*(_words(a) for a in args))


class RealtimePolicy:
    """Real-time price response with strike, hysteresis, reaction lag, minimum on/off times and merit order.

    Parameters
    ----------
    config
        The policy's settings.
    fleets
        The mining fleets it controls.
    import_limit_mw
        Interconnect import limit [MW].
    dt_h
        Interval length [h] (for minimum on/off times and ramps).
    adder_usd_per_mwh
        Retail adders paid on every MWh consumed, part of the strike [USD/MWh].

    Examples
    --------
    >>> fleet = FleetSpec("s21", max_mw=10.0, floor_mw=0.0, usd_per_mwh_per_hashprice=2.0)
    >>> policy = RealtimePolicy(RealtimePolicyConfig(hysteresis_usd_per_mwh=10), [fleet], import_limit_mw=20, dt_h=0.25)
    >>> state = policy.initial_state()
    >>> d = policy.step(state, Observation(last_price_usd_per_mwh=120.0, hashprice_usd_per_ph_day=50.0))
    >>> d.mining_mw, d.reason
    ((0.0,), 'price 120.00 USD/MWh vs strike 100.00: s21 off')
    """

    def __init__(self, config: RealtimePolicyConfig, fleets: list[FleetSpec], import_limit_mw: float, dt_h: float, adder_usd_per_mwh: float = 0.0):
        if not fleets:
            raise ScenarioError("mining: no fleets; allowed: a policy needs at least one mining fleet")
        if dt_h <= 0:
            raise ScenarioError(f"dt_h: got {dt_h}, allowed: > 0")
        self.config = config
        self.fleets = list(fleets)
        self.import_limit_mw = float(import_limit_mw)
        self.dt_h = float(dt_h)
        self._coef = tuple(f.usd_per_mwh_per_hashprice for f in fleets)
        self._names = tuple(f.name for f in fleets)
        self._max = tuple(f.max_mw for f in fleets)
        self._floor = tuple(f.floor_mw for f in fleets)
        self._on_min = tuple(max(f.on_min_mw, f.floor_mw) for f in fleets)
        self._ramp = tuple(f.ramp_mw_per_h * dt_h for f in fleets)
        self._min_on = tuple(math.ceil(max(config.min_on_hours, f.min_on_hours) / dt_h - 1e-9) for f in fleets)
        self._min_off = tuple(math.ceil(max(config.min_off_hours, f.min_off_hours) / dt_h - 1e-9) for f in fleets)
        self._band = config.hysteresis_usd_per_mwh / 2.0
        self._offset = adder_usd_per_mwh + config.strike_offset_usd_per_mwh
        self._floor_total = sum(self._floor)
        self._follow_cp = config.follow_four_cp_alerts
        self._ramped = any(math.isfinite(r) for r in self._ramp)
        self._single = len(fleets) == 1 and not self._ramped
        # a fleet is "on" above its floor, or for fleets with minimum on/off times above 0
        self._on_threshold = tuple(f.floor_mw + _EPS_MW if f.on_min_mw <= f.floor_mw else _EPS_MW for f in fleets)
        # most efficient (highest value per MWh) first; shedding walks it backwards
        self._order = tuple(sorted(range(len(fleets)), key=lambda j: -self._coef[j]))
        self._shed = tuple(reversed(self._order))

    def initial_state(self) -> PolicyState:
        """Every fleet on, just started (a fleet's minimum on time applies from the first interval); no last load, so no ramp limit yet."""
        return PolicyState(on=(True,) * len(self.fleets), intervals_in_state=(0,) * len(self.fleets), mining_mw=(math.nan,) * len(self.fleets))

    def step(self, state: PolicyState, obs: Observation) -> Decision:
        """Decide the mining load of the next interval from ``state`` and ``obs`` (nothing else).

        Cheap by design (plain floats and tuples, no arrays): a backtest calls it once per interval.
        One fleet without ramp limit or obligation takes a shorter branch with the same rules.
        """
        if self._single and not obs.hold_mw:
            return self._step_one(state, obs)
        price = obs.last_price_usd_per_mwh
        hp = obs.hashprice_usd_per_ph_day
        band = self._band
        offset = self._offset
        known = price == price  # False for nan
        on_prev = state.on
        held = state.intervals_in_state
        strikes = tuple([hp * c - offset for c in self._coef])
        why: tuple[str, tuple[object, ...]] | None = None
        want = []
        for j, strike in enumerate(strikes):
            on = on_prev[j]
            w = (price <= strike + band if on else price < strike - band) if known else on
            if w != on:
                if on and held[j] < self._min_on[j]:
                    w = on
                    why = why or ("{} held on (minimum on time)", (self.fleets[j].name,))
                elif not on and held[j] < self._min_off[j]:
                    w = on
                    why = why or ("{} held off (minimum off time)", (self.fleets[j].name,))
            want.append(w)
        if obs.four_cp_alert and self._follow_cp:
            want = [False] * len(want)
            why = ("4CP alert: every fleet at its floor", ())
        target = [m if w else f for m, f, w in zip(self._max, self._floor, want, strict=True)]
        total = sum(target)
        room = min(self.import_limit_mw - obs.ai_load_mw, total - obs.deployment_mw)
        if total > room + _EPS_MW:
            excess = total - max(room, self._floor_total)
            for j in self._shed:
                if excess <= _EPS_MW:
                    break
                cut = min(excess, target[j] - self._floor[j])
                target[j] -= cut
                excess -= cut
                if want[j] and target[j] < self._on_min[j] - _EPS_MW:
                    excess -= target[j] - self._floor[j]
                    target[j] = self._floor[j]
            if why is None:
                if obs.deployment_mw > 0:
                    why = ("deployment of {:.3f} MW: least efficient fleet shed first", (obs.deployment_mw,))
                else:
                    why = ("headroom {:.3f} MW: least efficient fleet shed first", (room,))
        if obs.hold_mw:
            held_up = [max(x, h) for x, h in zip(target, obs.hold_mw, strict=True)]
            if held_up != target:
                target = held_up
                why = ("ancillary award held: load kept running to back it", ())
        if self._ramped:
            last = state.mining_mw
            target = [x if m != m else min(max(x, m - r), m + r) for x, m, r in zip(target, last, self._ramp, strict=True)]
        now = tuple([x > lo for x, lo in zip(target, self._on_threshold, strict=True)])
        held_next = tuple([h + 1 if a == b else 1 for h, a, b in zip(held, now, on_prev, strict=True)])
        if why is None:
            why = ("no settled price yet: state held", ()) if not known else ("price {:.2f} USD/MWh vs strike {}: {}", (price, strikes, (self._names, now)))
        mw = tuple(target)
        return Decision(mw, PolicyState(now, held_next, mw), strikes, why)

    def _step_one(self, state: PolicyState, obs: Observation) -> Decision:
        """:meth:`step` for one fleet, no ramp limit, no obligation (the rules of the general branch, in scalars)."""
        price = obs.last_price_usd_per_mwh
        strike = obs.hashprice_usd_per_ph_day * self._coef[0] - self._offset
        on = state.on[0]
        held = state.intervals_in_state[0]
        known = price == price
        why: tuple[str, tuple[object, ...]] | None = None
        if known:
            w = price <= strike + self._band if on else price < strike - self._band
            if w != on:
                if on and held < self._min_on[0]:
                    w = on
                    why = ("{} held on (minimum on time)", (self.fleets[0].name,))
                elif not on and held < self._min_off[0]:
                    w = on
                    why = ("{} held off (minimum off time)", (self.fleets[0].name,))
        else:
            w = on
        if obs.four_cp_alert and self._follow_cp:
            w = False
            why = ("4CP alert: every fleet at its floor", ())
        floor = self._floor[0]
        x = self._max[0] if w else floor
        room = min(self.import_limit_mw - obs.ai_load_mw, x - obs.deployment_mw)
        if x > room + _EPS_MW:
            x -= min(x - max(room, floor), x - floor)
            if w and x < self._on_min[0] - _EPS_MW:
                x = floor
            if why is None:
                if obs.deployment_mw > 0:
                    why = ("deployment of {:.3f} MW: least efficient fleet shed first", (obs.deployment_mw,))
                else:
                    why = ("headroom {:.3f} MW: least efficient fleet shed first", (room,))
        now = x > self._on_threshold[0]
        strikes = (strike,)
        nows = (now,)
        if why is None:
            why = ("price {:.2f} USD/MWh vs strike {}: {}", (price, strikes, (self._names, nows))) if known else ("no settled price yet: state held", ())
        mw = (x,)
        return Decision(mw, PolicyState(nows, (held + 1 if now == on else 1,), mw), strikes, why)


def _words(arg: object) -> object:
    """A reason argument in words: strikes as ``100.00, 80.00``, fleet states as ``s21 on, s19 off``."""
    if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[0], tuple) and isinstance(arg[1], tuple):
        return ", ".join(f"{name} {'on' if on else 'off'}" for name, on in zip(arg[0], arg[1], strict=True))
    if isinstance(arg, tuple) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in arg):
        return ", ".join(f"{float(v):.2f}" for v in arg)
    return arg


def fleets_of(inputs: SiteInputs) -> list[FleetSpec]:
    """:class:`FleetSpec` of each fleet of ``inputs`` (value per hashprice from ``inputs.fleet_usd_per_mwh_per_hashprice``)."""
    coef = coefficients(inputs)
    return [
        FleetSpec(
            name=inputs.fleet_names[j],
            max_mw=float(inputs.fleet_max_mw[j]),
            floor_mw=float(inputs.fleet_min_mw[j]),
            usd_per_mwh_per_hashprice=float(coef[j]),
            on_min_mw=float(inputs.fleet_on_min_mw[j]),
            ramp_mw_per_h=float(inputs.fleet_ramp_mw_per_h[j]),
            min_on_hours=float(inputs.fleet_min_on_h[j]),
            min_off_hours=float(inputs.fleet_min_off_h[j]),
        )
        for j in range(len(inputs.fleet_names))
    ]


def coefficients(inputs: SiteInputs) -> FloatArray:
    """(F) mining value per MWh per USD/PH/day of hashprice of each fleet.

    Taken from ``inputs.fleet_usd_per_mwh_per_hashprice`` when set (scenarios);
    otherwise derived from the inputs' own value and hashprice series, which
    must then be proportional (hand-built inputs).
    """
    if inputs.fleet_usd_per_mwh_per_hashprice is not None:
        return np.asarray(inputs.fleet_usd_per_mwh_per_hashprice, dtype=float)
    hp = inputs.hashprice_usd_per_ph_day
    if not (hp > 0).all():
        raise ScenarioError("hashprice_usd_per_ph_day: not positive everywhere; a policy needs fleet_usd_per_mwh_per_hashprice set")
    ratio = inputs.mining_value_usd_per_mwh / hp[:, None]
    coef = ratio[0]
    if not np.allclose(ratio, coef[None, :], rtol=1e-9, atol=1e-12):
        raise ScenarioError(
            "mining_value_usd_per_mwh: not proportional to the hashprice series; set fleet_usd_per_mwh_per_hashprice so the policy can price mining"
        )
    return np.asarray(coef, dtype=float)


def lagged_prices(price_usd_per_mwh: FloatArray, lag_intervals: int) -> FloatArray:
    """(T) the settled price a controller knows when deciding each interval: ``price[t - lag]``; ``nan`` before any."""
    out = np.full(len(price_usd_per_mwh), np.nan)
    if lag_intervals < len(price_usd_per_mwh):
        out[lag_intervals:] = price_usd_per_mwh[: len(price_usd_per_mwh) - lag_intervals]
    return out


def observed_prices(inputs: SiteInputs, lag_intervals: int) -> FloatArray:
    """(T) the load's price a controller knows when deciding each interval [USD/MWh].

    ``hub[t - lag]`` (real-time hub prices settle every interval) plus the load zone's
    basis of the last *complete* hour before ``t`` (an hourly load-zone price is only
    known once its hour is over); ``nan`` before any price is known. Without a separate
    hub this is ``price[t - lag]``.
    """
    x = inputs
    hub = lagged_prices(x.hub_price_usd_per_mwh, lag_intervals)
    if x.ppa_price_usd_per_mwh is None:
        return hub
    basis = x.price_usd_per_mwh - x.hub_price_usd_per_mwh
    per_hour = max(1, round(1.0 / x.dt_h))
    t = np.arange(x.n)
    idx = np.minimum(t - lag_intervals, (t // per_hour) * per_hour - 1)
    known = np.where(idx >= 0, basis[np.clip(idx, 0, None)], 0.0)
    return hub + known


def known_hashprice(inputs: SiteInputs, lag_days: int) -> tuple[FloatArray, str | None]:
    """(T) the hashprice known when deciding each interval, and a note when it is not strictly known.

    ``lag_days = 1``: the previous UTC day's (``inputs.hashprice_prev_day_usd_per_ph_day``
    when the inputs carry it; else shifted within the horizon, the first day
    using its own value, which is noted). ``lag_days = 0``: the same day's daily
    average, which is mild hindsight (noted).
    """
    hp = inputs.hashprice_usd_per_ph_day
    if lag_days == 0:
        return hp, "policy strike uses the same day's average hashprice (mild hindsight: the day's BTC price is not known at its start)"
    if inputs.hashprice_prev_day_usd_per_ph_day is not None:
        return inputs.hashprice_prev_day_usd_per_ph_day, None
    per_day = max(1, round(24.0 / inputs.dt_h))
    out = np.empty_like(hp)
    out[per_day:] = hp[:-per_day] if len(hp) > per_day else hp[:0]
    out[: min(per_day, len(hp))] = hp[0]
    return out, "policy strike on the first day uses that day's hashprice (no earlier day in the inputs)"


def run_policy(
    inputs: SiteInputs,
    config: RealtimePolicyConfig | None = None,
    *,
    four_cp_alert: npt.NDArray[np.bool_] | None = None,
    deployment_mw: FloatArray | None = None,
    as_mw: FloatArray | None = None,
    name: str = "realtime",
) -> DispatchResult:
    """Backtest the real-time policy over ``inputs``: :meth:`RealtimePolicy.step` once per interval.

    Parameters
    ----------
    inputs
        Aligned site inputs (UTC interval starts, fixed interval).
    config
        Policy settings (default: :class:`RealtimePolicyConfig`'s).
    four_cp_alert
        (T) intervals with an active 4CP alert (from information known in time, e.g.
        :func:`mullet.dispatch.fourcp.realisable_alerts`); default none.
    deployment_mw
        (T) ancillary deployment to deliver [MW]; default none (expected deployment is
        priced by :func:`~mullet.dispatch.result.evaluate` from each product's deployment share).
    as_mw
        (T, F, P) awarded ancillary capacity (e.g. from :func:`dayahead_awards`); each fleet
        then holds ``floor + award / max_offer_fraction`` running; default none.
    name
        Policy name for ``solver`` (``"policy:<name>"``).

    Returns
    -------
    DispatchResult
        Priced by :func:`~mullet.dispatch.result.evaluate` exactly like the
        optimum; ``solver`` is ``"policy:<name>"``; flexible AI is served in full.
    """
    cfg = config or RealtimePolicyConfig()
    x = inputs
    policy = RealtimePolicy(cfg, fleets_of(x), x.import_limit_mw, x.dt_h, x.adder_usd_per_mwh)
    notes = [cfg.describe()]
    last_price = observed_prices(x, cfg.reaction_lag_intervals)
    hp, hp_note = known_hashprice(x, cfg.hashprice_lag_days)
    if hp_note:
        notes.append(hp_note)
    alert = np.zeros(x.n, dtype=bool) if four_cp_alert is None else np.asarray(four_cp_alert, dtype=bool)
    deploy = np.zeros(x.n) if deployment_mw is None else np.asarray(deployment_mw, dtype=float)
    awards = np.zeros((x.n, len(x.fleet_names), len(x.as_products))) if as_mw is None else np.asarray(as_mw, dtype=float)
    ai_mw = x.firm_ai_mw + float(x.flex_max_mw.sum())
    state = policy.initial_state()
    rows: list[tuple[float, ...]] = []
    keep = rows.append
    step = policy.step
    if awards.any():
        k = x.as_max_offer_fraction if x.as_max_offer_fraction > 0 else 1.0
        award_total = awards.sum(axis=2)
        hold = np.where(award_total > 0, x.fleet_min_mw[None, :] + award_total / k, 0.0)
        holds: list[tuple[float, ...]] = [tuple(row) if any(row) else () for row in hold.tolist()]
    else:
        holds = [()] * x.n
    for p, h, a, d, hd in zip(last_price.tolist(), hp.tolist(), alert.tolist(), deploy.tolist(), holds, strict=True):
        decision = step(state, Observation(p, h, a, d, ai_mw, hd))
        keep(decision.mining_mw)
        state = decision.state
    mining = np.array(rows, dtype=float).reshape(x.n, len(x.fleet_names))
    flex = np.broadcast_to(x.flex_max_mw, (x.n, len(x.flex_names))).copy()
    if alert.any():
        notes.append(f"4CP alerts followed in {alert.sum() * x.dt_h:g} h")
    return evaluate(replace(x, notes=[*x.notes, *notes]), mining, awards, flex, "policy", f"policy:{name}")


class DayAheadConfig(BaseModel):
    """Settings of the day-ahead ancillary commitment. Printed with every result it decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_days: Annotated[
        int, Field(ge=1, le=60, description="Days of past real-time prices (same hour) that estimate the hour's cost of holding load [d].")
    ] = 7
    premium_usd_per_mw_h: Annotated[
        float, Field(ge=0, le=1_000, description="Added to the reservation price: a margin for the risk of a price spike [USD/MW-h].")
    ] = 0.0

    def describe(self) -> str:
        """One line stating every setting."""
        return (
            f"day-ahead ancillary: offer when the DAM clearing price beats the expected cost of holding the load "
            f"(same hour, previous {self.lookback_days} days of real-time prices, known hashprice) + {self.premium_usd_per_mw_h:g} USD/MW-h; "
            "the award holds for its whole hour"
        )


def dayahead_awards(inputs: SiteInputs, config: DayAheadConfig | None = None) -> FloatArray:
    """(T, F, P) hourly ancillary awards decided the day before, from what is known then.

    For each award block (the DAM hour) of day ``D`` and fleet ``j``, one awarded MW
    obliges ``1 / k`` MW of running load through the hour (``k`` = max offer fraction)
    and an expected deployment ``delta_p``. Its expected cost is estimated from the
    same hour of the ``lookback_days`` days before ``D`` (real-time load prices, all
    settled before the DAM closes) and the hashprice known the day before:

        cost_p = (1 / k) * mean_d sum_t max(0, p_t - v_t) dt + delta_p * mean_d sum_t (v_t - p_t) dt

    The fleet offers its whole flexible range ``k x (max - floor)`` in the product
    with the highest ``MCPC x hour - cost_p`` when that is positive (the MCPC stands
    for the clearing price: an offer at the reservation price ``cost_p`` is
    awarded exactly when the MCPC is above it). The first day of a horizon has no
    past day and offers nothing. Fleets are filled most efficient first within the
    interconnect headroom.
    """
    cfg = config or DayAheadConfig()
    x = inputs
    t, f, p = x.n, len(x.fleet_names), len(x.as_products)
    awards = np.zeros((t, f, p))
    if not x.offers_ancillary or f == 0:
        return awards
    n = max(1, int(x.as_award_intervals))
    per_day = round(24.0 / (n * x.dt_h))
    n_blk = t // n
    if n_blk * n != t or n_blk < per_day:
        return awards
    k = x.as_max_offer_fraction
    hp, _ = known_hashprice(x, 1)
    value = hp[:, None] * coefficients(x)[None, :]  # (T, F) mining value from the known hashprice
    price = x.price_usd_per_mwh[:, None]
    idle = (np.maximum(price - value, 0.0) * x.dt_h).reshape(n_blk, n, f).sum(axis=1)  # (B, F) per past block
    margin = ((value - price) * x.dt_h).reshape(n_blk, n, f).sum(axis=1)
    # mean over the previous lookback days of the same hour (blocks strictly before day D)
    days = n_blk // per_day
    idle_d = idle[: days * per_day].reshape(days, per_day, f)
    margin_d = margin[: days * per_day].reshape(days, per_day, f)
    c_idle = np.cumsum(np.concatenate([np.zeros((1, per_day, f)), idle_d]), axis=0)
    c_margin = np.cumsum(np.concatenate([np.zeros((1, per_day, f)), margin_d]), axis=0)
    d = np.arange(days)
    lo = np.maximum(d - cfg.lookback_days, 0)
    count = (d - lo)[:, None, None].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp_idle = (c_idle[d] - c_idle[lo]) / count
        exp_margin = (c_margin[d] - c_margin[lo]) / count
    mcpc = x.as_price_usd_per_mw_h[::n][: days * per_day].reshape(days, per_day, p) * (n * x.dt_h)  # USD per MW per block
    delta = x.deployment_by_product
    worth = mcpc[:, :, None, :] - delta[None, None, None, :] * exp_margin[..., None] - (exp_idle / k)[..., None] - cfg.premium_usd_per_mw_h * n * x.dt_h
    worth = np.where(count[..., None] > 0, worth, -np.inf)  # (days, per_day, F, P)
    best = np.argmax(worth, axis=-1)
    ok = np.take_along_axis(worth, best[..., None], axis=-1)[..., 0] > 0  # (days, per_day, F)
    width = x.fleet_max_mw - x.fleet_min_mw
    room = x.import_limit_mw - x.firm_ai_mw - float(x.flex_max_mw.sum()) - float(x.fleet_min_mw.sum())
    order = np.argsort(-coefficients(x))
    offer = np.zeros((days, per_day, f))
    left = np.full((days, per_day), max(room, 0.0))
    for j in order:
        take = np.where(ok[..., j], np.minimum(width[j], left), 0.0)
        offer[..., j] = k * take
        left -= take
    blk_awards = np.zeros((days, per_day, f, p))
    np.put_along_axis(blk_awards, best[..., None], offer[..., None], axis=-1)
    awards[: days * per_day * n] = np.repeat(blk_awards.reshape(days * per_day, f, p), n, axis=0)
    return awards
