"""Pipelines of ``mullet control``: build a controller from a scenario, run it live or on replayed prices.

Scale: with ``[control] scale_site_to_fleet = true`` the site (interconnect, AI load, the policy's fleets) is
scaled by (inventory site MW / scenario mining site MW) so a small emulated fleet can stand in for a large site;
every figure printed or stored says which scale it is in. Replay P&L is always reported at the scenario's scale.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mullet.control.audit import AuditLog
from mullet.control.clock import Clock, ScaledClock, WallClock
from mullet.control.config import ControlConfig, resolve_credentials
from mullet.control.controller import Controller, SiteLimits, StepReport
from mullet.control.drivers import MinerDriver, make_driver
from mullet.control.signals import Signals, read_signal_file
from mullet.dispatch import dispatch_inputs
from mullet.dispatch.inputs import SiteInputs, build_inputs
from mullet.dispatch.policy import Observation, RealtimePolicy, RealtimePolicyConfig, fleets_of, known_hashprice, lagged_prices, run_policy
from mullet.dispatch.result import DispatchResult, evaluate
from mullet.errors import ScenarioError
from mullet.site import Scenario

__all__ = ["ReplayResult", "build_controller", "build_drivers", "head", "replay", "run_live", "status_path"]


def status_path(audit_db: str | Path) -> Path:
    """The live status file written next to the audit database (read by ``control status`` and the live page)."""
    return Path(str(audit_db) + ".live.json")


def write_status(path: Path, payload: dict[str, Any]) -> None:
    """Replace the status file atomically (readers never see half a file)."""
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, default=str))
    tmp.replace(path)


def build_drivers(cfg: ControlConfig) -> list[MinerDriver]:
    """One driver per miner of the inventory (credentials from the environment or a 0600 file)."""
    drivers: list[MinerDriver] = []
    for block in cfg.miners:
        ths, w = block.unit_specs()
        creds = resolve_credentials(block)
        for i, (host, port) in enumerate(block.addresses()):
            drivers.append(
                make_driver(
                    block.firmware, f"{block.name}-{i}", host, port, nominal_power_w=w, nominal_hashrate_ths=ths, credentials=creds, timeout_s=cfg.timeout_s
                )
            )
    return drivers


def _control(scenario: Scenario) -> ControlConfig:
    if scenario.control is None or not scenario.control.miners:
        raise ScenarioError(f"{scenario.name}: control.miners: empty; allowed: a [control] section with [[control.miners]] blocks (see README, Control)")
    return scenario.control


def _scale(scenario: Scenario, cfg: ControlConfig, cooling: float) -> float:
    if not cfg.scale_site_to_fleet:
        return 1.0
    inventory_site_mw = sum(b.count * b.unit_specs()[1] for b in cfg.miners) / 1e6 * (1 + cooling)
    scenario_mw = sum(f.site_power_mw * f.max_load_fraction for f in scenario.mining)
    if scenario_mw <= 0:
        raise ScenarioError("control.scale_site_to_fleet: the scenario has no mining fleet to scale from")
    return inventory_site_mw / scenario_mw


def head(inputs: SiteInputs, n: int) -> SiteInputs:
    """The first ``n`` intervals of ``inputs`` (every per-interval array cut along its first axis)."""
    t = inputs.n
    if n >= t:
        return inputs
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(inputs):
        v = getattr(inputs, f.name)
        if isinstance(v, pd.Index | np.ndarray) and len(v) == t and f.name not in ("fleet_names", "flex_names", "as_products"):
            changes[f.name] = v[:n]
    return dataclasses.replace(inputs, **changes)


def build_controller(
    scenario: Scenario,
    inputs: SiteInputs,
    *,
    drivers: list[MinerDriver] | None = None,
    policy_config: RealtimePolicyConfig | None = None,
    audit: AuditLog | None = None,
    clock: Clock | None = None,
    dry_run: bool = False,
) -> tuple[Controller, float]:
    """The controller of ``scenario``'s fleet, with the realtime policy built from ``inputs``; and the site scale."""
    cfg = _control(scenario)
    cooling = scenario.mining[0].cooling_overhead_fraction if scenario.mining else 0.05
    scale = _scale(scenario, cfg, cooling)
    fleets = [dataclasses.replace(f, max_mw=f.max_mw * scale, floor_mw=f.floor_mw * scale, on_min_mw=f.on_min_mw * scale) for f in fleets_of(inputs)]
    ai_mw = (inputs.firm_ai_mw + float(inputs.flex_max_mw.sum())) * scale
    policy = RealtimePolicy(policy_config or RealtimePolicyConfig(), fleets, inputs.import_limit_mw * scale, inputs.dt_h, inputs.adder_usd_per_mwh)
    site = SiteLimits(
        import_limit_mw=inputs.import_limit_mw * scale,
        ai_site_mw=ai_mw,
        cooling_overhead_fraction=cooling,
        four_cp_enabled=scenario.power.four_cp.mode != "none" and scenario.power.four_cp.rate_usd_per_kw_year > 0,
    )
    ctl = Controller(drivers or build_drivers(cfg), cfg, site, policy, Observation, audit=audit, clock=clock, dry_run=dry_run)
    return ctl, scale


def _live_payload(ctl: Controller, report: StepReport | None, scale: float, extra: dict[str, Any]) -> dict[str, Any]:
    st = ctl.status()
    st.update(extra)
    st["scale"] = scale
    st["updated_utc"] = ctl.clock.utcnow().isoformat()
    if report is not None:
        st["last"] = {
            "interval_start_utc": report.interval_start_utc.isoformat() if report.interval_start_utc else None,
            "kind": report.kind,
            "reason": report.reason,
            "policy_site_mw": report.policy_site_mw,
            "target_site_mw": report.target_site_mw,
            "strike_usd_per_mwh": report.strike_usd_per_mwh,
            "flags": report.flags,
            "commands": len(report.results),
            "failed": len(report.failed),
        }
    return st


async def run_live(
    scenario: Scenario,
    signal_file: Path,
    *,
    audit_db: Path,
    dry_run: bool = False,
    duration_s: float | None = None,
    hashprice_usd_per_ph_day: float | None = None,
    on_report: Callable[[StepReport], None] | None = None,
) -> Controller:
    """Run the controller on live signals read from ``signal_file`` each poll; bounded by ``duration_s`` if given.

    The hashprice is the signal file's, else ``hashprice_usd_per_ph_day``, else the bundled hashprice of the
    scenario's first day (stale for live use; the CLI says so).
    """
    cfg = _control(scenario)
    day = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
    try:
        inputs = build_inputs(scenario, start=day, end=day)
    except ScenarioError:
        inputs = build_inputs(scenario, start=scenario.start, end=scenario.start)  # fleet specs only: the prices come from the signal file
    clock = WallClock()
    audit = AuditLog(audit_db, uuid.uuid4().hex[:12])
    ctl, scale = build_controller(scenario, inputs, audit=audit, clock=clock, dry_run=dry_run)
    hp_known = float(hashprice_usd_per_ph_day) if hashprice_usd_per_ph_day is not None else float(inputs.hashprice_usd_per_ph_day[-1])
    status = status_path(audit_db)
    t_end = None if duration_s is None else clock.now() + duration_s
    interval = pd.Timedelta(seconds=cfg.interval_s)
    last_interval: pd.Timestamp | None = None
    seen_deployments: set[tuple[str, float]] = set()
    for _ in range(10**9):  # ends at duration_s or on Ctrl-C
        if t_end is not None and clock.now() >= t_end:
            break
        age = max(0.0, pd.Timestamp.now(tz="UTC").timestamp() - signal_file.stat().st_mtime) if signal_file.exists() else math.inf
        sig = read_signal_file(signal_file, clock.now(), age) if signal_file.exists() else Signals(price_age_s=math.inf, heartbeat_age_s=math.inf)
        if math.isnan(sig.hashprice_usd_per_ph_day):
            sig = dataclasses.replace(sig, hashprice_usd_per_ph_day=hp_known)
        now = pd.Timestamp(clock.utcnow()).floor(interval)
        new_dep = {(d.program, d.started_s) for d in sig.deployments} - seen_deployments
        seen_deployments = {(d.program, d.started_s) for d in sig.deployments}
        if last_interval is None or now > last_interval:
            report = await ctl.step(now.to_pydatetime(), sig)
            last_interval = now
        else:
            report = await ctl.enforce(sig, now.to_pydatetime(), poll=not new_dep)
        write_status(status, _live_payload(ctl, report, scale, {"mode": "dry-run" if dry_run else "live", "signals": sig.as_record()}))
        if on_report is not None:
            on_report(report)
        await clock.sleep(cfg.poll_interval_s)
    return ctl


@dataclass
class ReplayResult:
    """Replay of the controller on recorded prices, against the offline policy and the perfect-foresight bound.

    Attributes
    ----------
    realised : DispatchResult
        P&L of the mining load the fleet actually drew (read-back, averaged per interval, at the scenario's scale).
    offline_policy : DispatchResult
        The same realtime policy run offline over the same intervals (``run_policy``).
    perfect : DispatchResult
        Perfect foresight over the same intervals without ancillary offers (an upper bound, not achievable).
    reports : list of StepReport
        One per interval.
    scale : float
        Site scale of the live fleet (see the module docstring).
    notes : list of str
        Assumptions of the comparison.
    """

    realised: DispatchResult
    offline_policy: DispatchResult
    perfect: DispatchResult
    reports: list[StepReport]
    scale: float
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[tuple[str, float, float]]:
        """(label, net P&L [USD], mining energy [MWh]) of the three runs."""
        out = []
        for label, r in (
            ("controller (realised, read-back)", self.realised),
            ("offline realtime policy", self.offline_policy),
            ("perfect foresight (bound)", self.perfect),
        ):
            mwh = float(r.schedule["mining_mw"].sum()) * _dt_h(r)
            out.append((label, float(r.pnl["net_usd"]), mwh))
        return out


def _dt_h(r: DispatchResult) -> float:
    idx = r.schedule.index
    return float((idx[1] - idx[0]).total_seconds() / 3600.0) if len(idx) > 1 else 1.0


async def replay(
    scenario: Scenario,
    start: str,
    end: str,
    *,
    speed: float,
    drivers: list[MinerDriver] | None = None,
    audit_db: Path | None = None,
    max_intervals: int | None = None,
    policy_config: RealtimePolicyConfig | None = None,
    on_report: Callable[[StepReport], None] | None = None,
    clock: Clock | None = None,
) -> ReplayResult:
    """Run the controller interval by interval on the scenario's recorded prices from ``start`` to ``end`` (UTC days).

    The clock runs ``speed`` times faster than the wall clock from the first interval start (or is ``clock``, e.g.
    a :class:`~mullet.control.clock.VirtualClock` shared with an emulator, whose ``now()`` at the call is the
    first interval's start); each interval the controller receives only what was known then (the last settled
    price, the previous day's hashprice).
    """
    cfg = _control(scenario)
    inputs = build_inputs(scenario, start=start, end=end)
    if max_intervals is not None:
        inputs = head(inputs, max_intervals)
    pcfg = policy_config or RealtimePolicyConfig()
    start_utc: datetime = inputs.index[0].to_pydatetime()
    clock = clock or ScaledClock(speed, start_utc)
    base_s = clock.now()
    audit = AuditLog(audit_db, uuid.uuid4().hex[:12]) if audit_db is not None else None
    ctl, scale = build_controller(scenario, inputs, drivers=drivers, policy_config=pcfg, audit=audit, clock=clock)
    last_price = lagged_prices(inputs.price_usd_per_mwh, pcfg.reaction_lag_intervals)
    hp, hp_note = known_hashprice(inputs, pcfg.hashprice_lag_days)
    alert = inputs.forced_curtail
    dt_s = inputs.dt_h * 3600.0
    n_fleets = len(inputs.fleet_names)
    realised = np.zeros((inputs.n, n_fleets))
    reports: list[StepReport] = []
    status = status_path(audit_db) if audit_db is not None else None
    for t in range(inputs.n):
        t0 = base_s + t * dt_s
        await clock.sleep(t0 - clock.now())
        ts = inputs.index[t].to_pydatetime()
        sig = Signals(price_usd_per_mwh=float(last_price[t]), hashprice_usd_per_ph_day=float(hp[t]), four_cp_alert=bool(alert[t]))
        report = await ctl.step(ts, sig)
        reports.append(report)
        samples = [ctl.readback_asic_mw()]
        for _ in range(100_000):  # sample read-back power until the next interval starts
            if clock.now() >= t0 + dt_s - 1e-6:
                break
            await clock.sleep(min(cfg.poll_interval_s, t0 + dt_s - clock.now()))
            if clock.now() >= t0 + dt_s - 1e-6:
                break
            await ctl.enforce(sig, ts)
            samples.append(ctl.readback_asic_mw())
        site_mw = float(np.mean(samples)) * ctl.k / scale
        decided = ctl.policy_state.mining_mw if hasattr(ctl.policy_state, "mining_mw") else ()
        weights = np.array([x for x in decided], dtype=float) if len(decided) == n_fleets and sum(decided) > 0 else inputs.fleet_max_mw.astype(float)
        realised[t] = site_mw * weights / weights.sum()
        if status is not None:
            write_status(
                status,
                _live_payload(
                    ctl, report, scale, {"mode": f"replay {speed:g}x", "signals": sig.as_record(), "price_usd_per_mwh": float(inputs.price_usd_per_mwh[t])}
                ),
            )
        if on_report is not None:
            on_report(report)
    notes = [pcfg.describe(), "realised: read-back mining power averaged per interval, scaled back to the scenario", "no ancillary offers in any of the three"]
    if hp_note:
        notes.append(hp_note)
    if scale != 1.0:
        notes.append(f"live fleet stands in for the site at scale {scale:.6f} (control.scale_site_to_fleet)")
    x0 = dataclasses.replace(inputs, as_products=[], as_price_usd_per_mw_h=np.zeros((inputs.n, 0)))
    flex = np.broadcast_to(x0.flex_max_mw, (x0.n, len(x0.flex_names))).copy()
    realised_res = evaluate(x0, realised, np.zeros((x0.n, n_fleets, 0)), flex, "replay", "control:replay")
    offline = run_policy(x0, pcfg)
    perfect = dispatch_inputs(x0, "auto")
    return ReplayResult(realised_res, offline, perfect, reports, scale, notes)
