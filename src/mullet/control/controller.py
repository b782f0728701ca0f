"""The controller: signals -> the realtime policy (one interval) -> safety envelope -> allocator -> executor -> audit.

The decision logic is the dispatch package's step-callable realtime policy (the same code a backtest runs); the
controller adds only what a live site needs around it, each rule a numbered safety property of the README:

1. Only mining miners are ever commanded (AI load has no driver here).
2. Planned site import (AI + mining at its planned power, waking miners at full target power) never exceeds the
   interconnect limit.
3. A deployment's MW (plus a margin) are shed before its program's deadline; failures go to other miners.
4. Nothing is released while a deployment is active, signals are stale, or the operator holds.
5. Released MW rise at most ``ramp_up_mw_per_min``; wakes go out in staggered waves.
6. Miners keep minimum on/off times (safety sheds excepted); the policy's strike hysteresis stops flapping.
7. A miner counts as curtailed only when its read-back power says so.
8. Stale signals hold the fleet where it is; 4CP risk hours without information count as peaks; a restart
   re-reads the fleet and leaves curtailed miners curtailed.
9. State is rebuilt from read-backs; the decision for an interval is taken once (a repeat re-applies it).
10. Every network call has a timeout; every wave a concurrency cap.
11. Every decision is in the audit log before its first command goes out.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from mullet.control.allocator import Command, MinerState, allocate, planned_power_w
from mullet.control.audit import AuditLog, AuditRow, read_audit
from mullet.control.clock import Clock, WallClock, io_in_flight
from mullet.control.config import ControlConfig
from mullet.control.drivers.base import MinerDriver
from mullet.control.executor import CommandResult, ExecutorSettings, execute, poll
from mullet.control.signals import Signals
from mullet.control.watchdog import WatchReport, apply_readings, four_cp_risk, is_stale

__all__ = ["Controller", "SiteLimits", "StepPolicy", "StepReport"]


class StepPolicy(Protocol):
    """The step-callable policy (:class:`mullet.dispatch.policy.RealtimePolicy` has this shape)."""

    def initial_state(self) -> Any:
        """The policy's state before the first interval."""
        ...

    def step(self, state: Any, obs: Any) -> Any:
        """Decide one interval; the result has ``mining_mw``, ``state``, ``strike_usd_per_mwh`` and ``reason``."""
        ...


@dataclass(frozen=True, slots=True)
class SiteLimits:
    """The site around the fleet.

    Attributes
    ----------
    import_limit_mw : float
        Interconnect import limit [MW].
    ai_site_mw : float
        AI site load served in full (firm and flexible blocks at full load) [MW]; never commanded here.
    cooling_overhead_fraction : float
        Mining site power = ASIC power x (1 + this) [-].
    four_cp_enabled : bool
        The site avoids 4CP peaks (risk hours without information then count as peaks).
    """

    import_limit_mw: float
    ai_site_mw: float
    cooling_overhead_fraction: float = 0.05
    four_cp_enabled: bool = True


@dataclass
class StepReport:
    """Outcome of one decision (or enforcement) and its commands."""

    interval_start_utc: datetime | None
    kind: str
    policy_site_mw: float | None
    target_site_mw: float
    target_asic_mw: float
    reason: str
    flags: dict[str, bool]
    results: list[CommandResult] = field(default_factory=list)
    planned_asic_mw: float = 0.0
    readback_asic_mw: float = 0.0
    watch: WatchReport | None = None
    strike_usd_per_mwh: float | None = None

    @property
    def failed(self) -> list[CommandResult]:
        """Commands not confirmed by read-back."""
        return [r for r in self.results if not r.confirmed]


class Controller:
    """Live control of a fleet through its drivers.

    Parameters
    ----------
    drivers : sequence of MinerDriver
        One per miner.
    cfg : ControlConfig
        Timing and safety settings.
    site : SiteLimits
        Interconnect, AI load, cooling.
    policy : StepPolicy
        The realtime policy; called once per interval.
    make_observation : callable
        Builds the policy's observation from keyword arguments ``last_price_usd_per_mwh``,
        ``hashprice_usd_per_ph_day``, ``four_cp_alert``, ``deployment_mw``, ``ai_load_mw``.
    audit : AuditLog, optional
        Where every decision, wave, command and confirmation is appended.
    clock : Clock, optional
        Wall clock by default.
    efficiency_j_per_th : dict, optional
        Per miner id; the nominal efficiency of its model otherwise.
    dry_run : bool
        Decide and log the commands, send none (reads still go out).
    """

    def __init__(
        self,
        drivers: Sequence[MinerDriver],
        cfg: ControlConfig,
        site: SiteLimits,
        policy: StepPolicy,
        make_observation: Callable[..., Any],
        *,
        audit: AuditLog | None = None,
        clock: Clock | None = None,
        efficiency_j_per_th: dict[str, float] | None = None,
        dry_run: bool = False,
    ):
        ids = [d.miner_id for d in drivers]
        if len(set(ids)) != len(ids):
            raise ValueError("drivers: miner ids must be unique")
        self.drivers = list(drivers)
        self.by_id = {d.miner_id: d for d in drivers}
        self.cfg = cfg
        self.site = site
        self.policy = policy
        self.make_observation = make_observation
        self.audit = audit
        self.clock = clock or WallClock()
        self.dry_run = dry_run
        self.run_id = audit.run_id if audit else uuid.uuid4().hex[:12]
        eff = efficiency_j_per_th or {}
        self.states = [
            MinerState(
                d.miner_id,
                d.nominal_power_w,
                eff.get(d.miner_id, d.nominal_power_w / d.nominal_hashrate_ths),
                d.capabilities.sleep,
                d.capabilities.power_target,
                d.min_power_target_w,
                idle_w=cfg.sleep_confirm_w,  # the prior until a read-back shows the miner asleep
            )
            for d in drivers
        ]
        self.settings = ExecutorSettings(
            max_concurrency=cfg.max_concurrency,
            wave_size=cfg.wave_size,
            wave_interval_s=cfg.wave_interval_s,
            confirm_timeout_s=cfg.confirm_timeout_s,
            confirm_poll_s=min(2.0, cfg.confirm_timeout_s / 5),
            sleep_confirm_w=cfg.sleep_confirm_w,
            target_tolerance_fraction=cfg.target_tolerance_fraction,
        )
        self.sem = asyncio.Semaphore(cfg.max_concurrency)
        self.policy_state = policy.initial_state()
        self.started = False
        self.last_target_site_mw: float | None = None
        self.last_step_s: float | None = None
        self.decided: dict[datetime, tuple[float, str]] = {}
        self._baselines: dict[tuple[str, float], float] = {}
        self.last_report: StepReport | None = None
        self._index = {st.miner_id: st for st in self.states}
        self._prior: dict[str, tuple[bool, float]] = {}

    # ---- fleet ---------------------------------------------------------------------------------------------------
    @property
    def k(self) -> float:
        """Site MW per ASIC MW (cooling) [-]."""
        return 1.0 + self.site.cooling_overhead_fraction

    def planned_asic_mw(self) -> float:
        """Mining ASIC power once every command has taken effect (unknown miners at nominal) [MW]."""
        return sum(planned_power_w(s) for s in self.states) / 1e6

    def readback_asic_mw(self) -> float:
        """Sum of the last read-back powers of the miners that answered [MW]."""
        return sum(s.power_w or 0.0 for s in self.states if s.responsive) / 1e6

    def curtailed_ids(self) -> list[str]:
        """Miners confirmed asleep by read-back."""
        return [s.miner_id for s in self.states if s.asleep and s.responsive and not s.pending]

    async def _audit(self, rows: list[AuditRow]) -> None:
        if self.audit is not None and rows:
            with io_in_flight():
                await asyncio.to_thread(self.audit.append, rows)

    async def poll(self) -> WatchReport:
        """Read every miner and update the state (the first poll rebuilds it from read-backs)."""
        readings = await poll(self.drivers, self.sem)
        first = not self.started
        report = apply_readings(self.states, readings, self.cfg, self.clock.now(), first=first)
        if first:
            self.started = True
            await self._audit(
                [
                    AuditRow(
                        "start",
                        ok=True,
                        commanded_mw=self.planned_asic_mw(),
                        confirmed_mw=self.readback_asic_mw(),
                        detail={
                            "miners": len(self.states),
                            "asleep": len(self.curtailed_ids()),
                            "unresponsive": len(report.unresponsive),
                            "rebuilt_from": "read-back",
                        },
                    )
                ]
            )
        elif report.woke_unexpectedly or report.unresponsive:
            detail = {"woke_unexpectedly": list(report.woke_unexpectedly), "unresponsive": len(report.unresponsive)}
            await self._audit([AuditRow("watchdog", ok=False, detail=detail)])
        return report

    # ---- the safety envelope --------------------------------------------------------------------------------------
    def _caps(self, signals: Signals, interval_start_utc: datetime | None) -> tuple[float, dict[str, bool], float | None, list[str]]:
        """Largest site mining MW allowed now, the flags that set it, the earliest deployment deadline, reasons."""
        now = self.clock.now()
        planned_site = self.planned_asic_mw() * self.k
        ai_mw = self.site.ai_site_mw + max(0.0, signals.ai_request_mw)
        cap = max(0.0, self.site.import_limit_mw - ai_mw)
        why = []
        flags = {"interconnect": False, "deployment": False, "stale": False, "four_cp": False, "manual_shed": False, "hold": False}
        if planned_site > cap + 1e-9:
            flags["interconnect"] = True
            why.append(f"interconnect: mining capped at {cap:.3f} MW")
        deadline = None
        live = set()
        for d in signals.deployments:
            key = (d.program, d.started_s)
            live.add(key)
            base = self._baselines.setdefault(key, planned_site)
            dep_cap = max(0.0, base - d.mw * (1.0 + self.cfg.deployment_margin_fraction))
            cap = min(cap, dep_cap)
            flags["deployment"] = True
            dl = d.started_s + self.cfg.deployment_deadline_s.get(d.program, min(self.cfg.deployment_deadline_s.values()))
            deadline = dl if deadline is None else min(deadline, dl)
            why.append(f"{d.program} deployment {d.mw:.3f} MW: mining <= {dep_cap:.3f} MW by t+{dl - now:.0f} s")
        for key in list(self._baselines):
            if key not in live:
                del self._baselines[key]
        if is_stale(signals, self.cfg):
            flags["stale"] = True
            cap = min(cap, planned_site)
            why.append("stale signals: nothing released")
        if signals.manual == "shed":
            flags["manual_shed"] = True
            cap = 0.0
            why.append("manual shed")
        elif signals.manual == "hold":
            flags["hold"] = True
            cap = min(cap, planned_site)
            why.append("manual hold")
        if self.site.four_cp_enabled and interval_start_utc is not None and signals.four_cp_alert is None and four_cp_risk(interval_start_utc, self.cfg):
            flags["four_cp"] = True
            cap = 0.0
            why.append("4CP risk hour without information: treated as a peak")
        return cap, flags, deadline, why

    def _four_cp_alert(self, signals: Signals, interval_start_utc: datetime) -> bool:
        if signals.four_cp_alert is not None:
            return bool(signals.four_cp_alert)
        return self.site.four_cp_enabled and four_cp_risk(interval_start_utc, self.cfg)

    # ---- decisions -----------------------------------------------------------------------------------------------
    async def step(self, interval_start_utc: datetime, signals: Signals) -> StepReport:
        """Decide the interval starting at ``interval_start_utc`` (tz-aware UTC) and carry it out."""
        if interval_start_utc.tzinfo is None:
            raise ValueError("interval_start_utc: got a naive datetime; allowed: tz-aware UTC")
        watch = await self.poll()
        policy_site_mw: float | None = None
        strike: float | None = None
        if interval_start_utc in self.decided:
            policy_site_mw, reason = self.decided[interval_start_utc]
            reason = f"repeat of this interval's decision ({reason})"
        else:
            previous = self._decision_in_audit(interval_start_utc)
            if previous is not None:
                policy_site_mw, reason = previous
                reason = f"decision of this interval from the audit log ({reason})"
            else:
                obs = self.make_observation(
                    last_price_usd_per_mwh=signals.price_usd_per_mwh,
                    hashprice_usd_per_ph_day=signals.hashprice_usd_per_ph_day,
                    four_cp_alert=self._four_cp_alert(signals, interval_start_utc),
                    deployment_mw=signals.deployment_mw,
                    ai_load_mw=self.site.ai_site_mw + max(0.0, signals.ai_request_mw),
                )
                decision = self.policy.step(self.policy_state, obs)
                self.policy_state = decision.state
                policy_site_mw = float(sum(decision.mining_mw))
                strikes = [float(x) for x in decision.strike_usd_per_mwh]
                strike = min(strikes) if strikes else None
                reason = str(decision.reason)
            self.decided[interval_start_utc] = (policy_site_mw, reason)
            if len(self.decided) > 96:
                self.decided.pop(next(iter(self.decided)))
        report = await self._apply(policy_site_mw, reason, signals, interval_start_utc, "decision", watch)
        report.strike_usd_per_mwh = strike
        return report

    async def enforce(self, signals: Signals, interval_start_utc: datetime | None = None, *, poll: bool = True) -> StepReport:
        """Between decisions: poll, and shed again if the plan breaks a limit (never releases anything).

        ``poll=False`` acts on the state as last read (a new deployment: the first wave goes out at once).
        """
        watch = await self.poll() if poll or not self.started else WatchReport((), (), ())
        target = self.last_target_site_mw if self.last_target_site_mw is not None else self.planned_asic_mw() * self.k
        target = min(target, self.planned_asic_mw() * self.k)
        return await self._apply(target, "enforce the last decision", signals, interval_start_utc, "enforce", watch, allow_release=False)

    def _decision_in_audit(self, interval_start_utc: datetime) -> tuple[float, str] | None:
        if self.audit is None:
            return None
        rows = read_audit(self.audit.path, None, ["decision"], limit=1)
        if rows and rows[-1]["interval_start_utc"] is not None and rows[-1]["interval_start_utc"] == interval_start_utc and rows[-1]["target_mw"] is not None:
            import json

            detail = json.loads(rows[-1]["detail"] or "{}")
            if detail.get("policy_site_mw") is not None:
                return float(detail["policy_site_mw"]), str(detail.get("reason", ""))
        return None

    async def _apply(
        self,
        policy_site_mw: float,
        reason: str,
        signals: Signals,
        interval_start_utc: datetime | None,
        kind: str,
        watch: WatchReport,
        allow_release: bool = True,
    ) -> StepReport:
        now = self.clock.now()
        cap, flags, deadline, why = self._caps(signals, interval_start_utc)
        planned_site = self.planned_asic_mw() * self.k
        target_site = min(policy_site_mw, cap)
        if self.cfg.ramp_up_mw_per_min is not None and self.last_step_s is not None and target_site > planned_site:
            minutes = max(0.0, now - self.last_step_s) / 60.0
            target_site = min(target_site, planned_site + self.cfg.ramp_up_mw_per_min * minutes)
        elif self.cfg.ramp_up_mw_per_min is not None and self.last_step_s is None:
            target_site = min(target_site, planned_site)
        target_asic = target_site / self.k
        safety = flags["interconnect"] or flags["deployment"] or flags["stale"] or flags["four_cp"] or flags["manual_shed"]
        allow_wake = allow_release and not (flags["deployment"] or flags["stale"] or flags["hold"])
        full_reason = "; ".join([reason, *why])
        report = StepReport(interval_start_utc, kind, policy_site_mw, target_site, target_asic, full_reason, flags, watch=watch)
        prefer_targets = deadline is None or deadline - now > self.cfg.power_target_settle_s
        smallest_w = min((s.nominal_power_w for s in self.states), default=0.0)
        deadband_w = 0.0 if safety else 0.5 * smallest_w
        tolerance_w = 0.0 if safety else 0.02 * smallest_w
        if flags["hold"]:
            commands: list[Command] = []
        else:
            commands = allocate(
                self.states,
                target_asic,
                now_s=now,
                min_on_s=self.cfg.min_on_s,
                min_off_s=self.cfg.min_off_s,
                safety=safety,
                allow_wake=allow_wake,
                prefer_targets=prefer_targets,
                deadband_w=deadband_w,
                shed_tolerance_w=tolerance_w,
            )
        rows = []
        if commands or kind == "decision":
            rows.append(
                AuditRow(
                    "decision" if kind == "decision" else "enforce",
                    interval_start_utc,
                    target_mw=target_site,
                    commanded_mw=self._after(commands) * self.k,
                    confirmed_mw=self.readback_asic_mw() * self.k,
                    ok=None,
                    detail={
                        "signals": signals.as_record(),
                        "policy_site_mw": policy_site_mw,
                        "reason": full_reason,
                        "flags": flags,
                        "commands": len(commands),
                        "deadline_in_s": None if deadline is None else deadline - now,
                    },
                )
            )
        await self._audit(rows)
        results: list[CommandResult] = []
        if commands and self.dry_run:
            await self._audit(
                [
                    AuditRow(
                        "command", interval_start_utc, miner_id=c.miner_id, action=c.action, commanded_mw=c.power_w / 1e6, ok=None, detail={"dry_run": True}
                    )
                    for c in commands
                ]
            )
            commands = []
        if commands:

            def reallocate() -> list[Command]:
                if flags["hold"]:
                    return []
                more = allocate(
                    self.states,
                    target_asic,
                    now_s=self.clock.now(),
                    min_on_s=self.cfg.min_on_s,
                    min_off_s=self.cfg.min_off_s,
                    safety=safety,
                    allow_wake=False,
                    prefer_targets=prefer_targets,
                    deadband_w=deadband_w,
                    shed_tolerance_w=tolerance_w,
                )
                self._provisional(more)
                return more

            self._provisional(commands)
            results = await self._execute(commands, interval_start_utc, stagger=not safety, deadline_s=deadline, reallocate=reallocate)
            for _ in range(3):  # top-up rounds: failures that came in while every candidate was busy
                if self.planned_asic_mw() * 1e6 <= target_asic * 1e6 + tolerance_w:
                    break
                more = reallocate()
                if not more:
                    break
                results += await self._execute(more, interval_start_utc, stagger=False, deadline_s=deadline, reallocate=reallocate)
        report.results = results
        report.planned_asic_mw = self.planned_asic_mw()
        report.readback_asic_mw = self.readback_asic_mw()
        self.last_target_site_mw = target_site if kind == "decision" else min(self.last_target_site_mw or target_site, target_site)
        self.last_step_s = now
        confirmed = sum(1 for r in results if r.confirmed)
        if results or kind == "decision":  # an enforcement that changed nothing is not logged (a row per poll is noise)
            await self._audit(
                [
                    AuditRow(
                        "confirmation",
                        interval_start_utc,
                        target_mw=target_site,
                        commanded_mw=report.planned_asic_mw * self.k,
                        confirmed_mw=report.readback_asic_mw * self.k,
                        ok=confirmed == len(results) and (report.planned_asic_mw * 1e6 <= target_asic * 1e6 + tolerance_w + 1e-3 or not self._sheddable()),
                        detail={"commands": len(results), "confirmed": confirmed, "failed": [r.command.miner_id for r in results if not r.confirmed][:50]},
                    )
                ]
            )
        self.last_report = report
        return report

    def _sheddable(self) -> bool:
        """Some miner could still give power back (below a target of 0 only idle draw is left)."""
        return any(s.controllable and not s.asleep and (s.can_sleep or (s.can_target and s.target_w > s.min_target_w + 1.0)) for s in self.states)

    def _after(self, commands: list[Command]) -> float:
        by = {c.miner_id: c for c in commands}
        total = 0.0
        for s in self.states:
            c = by.get(s.miner_id)
            total += planned_power_w(s) if c is None else c.power_w
        return total / 1e6

    def _provisional(self, commands: list[Command]) -> None:
        """Show commands in the state as soon as they go out (planned power = commanded), remembering the old values."""
        index = self._index
        for c in commands:
            st = index[c.miner_id]
            self._prior[c.miner_id] = (st.asleep, st.target_w)
            st.pending = True
            if c.action == "sleep":
                st.asleep = True
            elif c.action == "wake":
                st.asleep = False
            else:
                st.target_w = c.power_w

    def _settle(self, r: CommandResult) -> bool:
        """Update the state with one result; True when a shed failed (its MW must go elsewhere)."""
        st = self._index[r.command.miner_id]
        st.pending = False
        asleep, target_w = self._prior.pop(r.command.miner_id, (st.asleep, st.target_w))
        if r.readback_w is not None:
            st.power_w = r.readback_w
        if r.confirmed:
            if r.command.action in ("sleep", "wake"):
                st.changed_at_s = r.done_at_s
            if r.command.action == "sleep" and r.readback_w is not None:
                st.idle_w = r.readback_w
            return False
        st.asleep, st.target_w = asleep, target_w  # back to what the read-back supports
        st.suspect = True
        st.extra["suspect_until_s"] = r.done_at_s + self.cfg.interval_s
        if not r.acked and r.readback_w is None:
            st.responsive = False
        return r.command.action != "wake"

    async def _execute(
        self, commands: list[Command], interval_start_utc: datetime | None, *, stagger: bool, deadline_s: float | None, reallocate: Callable[[], list[Command]]
    ) -> list[CommandResult]:
        async def on_wave(w: int, wave: list[Command]) -> None:
            await self._audit(
                [AuditRow("wave", interval_start_utc, detail={"wave": w, "miners": len(wave), "reallocated": w < 0})]
                + [AuditRow("command", interval_start_utc, miner_id=c.miner_id, action=c.action, commanded_mw=c.power_w / 1e6) for c in wave]
            )

        def on_result(r: CommandResult) -> list[Command]:
            return reallocate() if self._settle(r) else []

        results = await execute(
            commands,
            self.by_id,
            clock=self.clock,
            settings=self.settings,
            sem=self.sem,
            stagger=stagger,
            deadline_s=deadline_s,
            on_wave=on_wave,
            on_result=on_result,
            max_followups=self.cfg.max_reallocations,
        )
        rows = [
            AuditRow(
                "result",
                interval_start_utc,
                miner_id=r.command.miner_id,
                action=r.command.action,
                commanded_mw=r.command.power_w / 1e6,
                confirmed_mw=None if r.readback_w is None else r.readback_w / 1e6,
                ok=r.confirmed,
                detail=None if r.confirmed else {"error": r.error, "acked": r.acked},
            )
            for r in results
        ]
        await self._audit(rows)
        return results

    def status(self) -> dict[str, Any]:
        """A summary of the fleet for the live page and ``control status``."""
        n_resp = sum(1 for s in self.states if s.responsive)
        return {
            "run_id": self.run_id,
            "miners": len(self.states),
            "responsive": n_resp,
            "asleep": len(self.curtailed_ids()),
            "suspect": sum(1 for s in self.states if s.suspect),
            "planned_site_mw": self.planned_asic_mw() * self.k,
            "readback_site_mw": self.readback_asic_mw() * self.k,
            "ai_site_mw": self.site.ai_site_mw,
            "import_limit_mw": self.site.import_limit_mw,
            "target_site_mw": None if self.last_target_site_mw is None or math.isnan(self.last_target_site_mw) else self.last_target_site_mw,
            "not_responding": [s.miner_id for s in self.states if not s.responsive][:50],
        }
