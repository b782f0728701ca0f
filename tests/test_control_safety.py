"""Safety properties 1-11 of `mullet control` (README "Control"), each against the emulator on loopback.

The policy here is a test double that returns a chosen mining MW: these tests are about the controller's safety
envelope, which must hold whatever the policy asks. Physics and controller share a virtual clock (deterministic:
time moves only when every task waits on it, never during a network call), so a loaded machine cannot change what
the tests see; every loop is bounded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mullet.control.audit import AuditLog, read_audit
from mullet.control.clock import VirtualClock
from mullet.control.config import ControlConfig
from mullet.control.controller import Controller, SiteLimits
from mullet.control.drivers import MinerDriver, make_driver
from mullet.control.emulator import EmulatedFleet, MinerSpec
from mullet.control.signals import Deployment, Signals

SPEC = MinerSpec.from_catalog("Antminer S21")
UNIT_MW = SPEC.nominal_power_w / 1e6
T0 = datetime(2023, 8, 1, 4, 0, tzinfo=UTC)  # 23:00 local on 31 July: outside 4CP risk hours
PRICE = Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0)


class _Decision(NamedTuple):
    mining_mw: tuple[float, ...]
    state: Any
    strike_usd_per_mwh: tuple[float, ...]
    reason: str


class TargetPolicy:
    """Test double: asks for ``mw`` site MW of mining whatever the observation; counts its calls."""

    def __init__(self, mw: float):
        self.mw = mw
        self.calls: list[dict[str, Any]] = []

    def initial_state(self) -> None:
        return None

    def step(self, state: Any, obs: dict[str, Any]) -> _Decision:
        self.calls.append(obs)
        return _Decision((self.mw,), None, (60.0,), f"test target {self.mw:.4f} MW")


def observation(**kw: Any) -> dict[str, Any]:
    return kw


def drivers_for(fleet: EmulatedFleet, timeout_s: float = 0.5) -> list[MinerDriver]:
    return [
        make_driver(
            fleet.firmware, f"m{i:03d}", h, p, nominal_power_w=SPEC.nominal_power_w, nominal_hashrate_ths=SPEC.nominal_hashrate_ths, timeout_s=timeout_s
        )
        for i, (h, p) in enumerate(fleet.addresses())
    ]


def cfg(**kw: Any) -> ControlConfig:
    base: dict[str, Any] = dict(wave_size=10, wave_interval_s=5.0, confirm_timeout_s=120.0, min_on_s=0.0, min_off_s=0.0, max_concurrency=64)
    base.update(kw)
    return ControlConfig(**base)


def harness(
    body: Callable[[EmulatedFleet, Controller, TargetPolicy, VirtualClock], Awaitable[Any]],
    *,
    n: int = 20,
    firmware: str = "luxos",
    faults: dict[int, set[str]] | None = None,
    config: ControlConfig | None = None,
    site: SiteLimits | None = None,
    policy_mw: float = 1.0,
    audit: AuditLog | None = None,
    sleeping: bool = False,
    wall_limit_s: float = 30.0,
) -> Any:
    async def main() -> Any:
        clock = VirtualClock(0.0, T0)
        async with EmulatedFleet(n, firmware, SPEC, clock=clock, sleeping=sleeping) as fleet:
            for i, f in (faults or {}).items():
                await fleet.set_faults(i, f)
            pol = TargetPolicy(policy_mw)
            c = Controller(
                drivers_for(fleet),
                config or cfg(),
                site or SiteLimits(import_limit_mw=1.0, ai_site_mw=0.5, cooling_overhead_fraction=0.05, four_cp_enabled=False),
                pol,
                observation,
                audit=audit,
                clock=clock,
            )
            return await asyncio.wait_for(body(fleet, c, pol, clock), wall_limit_s)

    return asyncio.run(main())


async def max_true_power_during(fleet: EmulatedFleet, clock: VirtualClock, work: Awaitable[Any]) -> tuple[Any, float]:
    """Run ``work``; return its result and the exact peak of the fleet's physical power meanwhile [MW].

    Between two instants the clock stops at, no command arrives, so each miner's power is linear between its
    breakpoints (ramp and reboot ends): the peak over a jump is the largest total at its ends and breakpoints.
    """
    peak = fleet.true_power_mw()

    def meter(a: float, b: float) -> None:
        nonlocal peak
        times = {a, b} | {t for m in fleet.miners for t in m.breakpoints() if a < t < b}
        peak = max(peak, *(sum(m.power_at(t) for m in fleet.miners) / 1e6 for t in times))

    clock.listeners.append(meter)
    try:
        out = await work
    finally:
        clock.listeners.remove(meter)
    return out, max(peak, fleet.true_power_mw())


# ---- 1 + 2: only miners are commanded; the interconnect holds, wake ramps included (state machine) -------------------


class SiteMachine(RuleBasedStateMachine):
    """Random signals and policy targets; after every decision the site stays inside its interconnect limit."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.clock = VirtualClock(0.0, T0)
        self.fleet = EmulatedFleet(12, "luxos", SPEC, clock=self.clock)
        self.loop.run_until_complete(self.fleet.start())
        self.policy = TargetPolicy(1.0)
        # limit 0.09 MW, AI 0.05 MW: mining may use 0.04 MW site = 10.9 S21s of the 12
        self.site = SiteLimits(import_limit_mw=0.09, ai_site_mw=0.05, cooling_overhead_fraction=0.05, four_cp_enabled=False)
        self.ctl = Controller(drivers_for(self.fleet), cfg(wave_size=4, wave_interval_s=2.0), self.site, self.policy, observation, clock=self.clock)
        self.t = T0
        self.ids = {f"m{i:03d}" for i in range(12)}
        self.granted_mw = 0.0
        self.policy.mw = 0.03
        self.loop.run_until_complete(self.ctl.step(self.t, PRICE))  # start inside the limit

    def _step(self, signals: Signals) -> None:
        # the tenant draws more only once mining has made room, and draws less as soon as it says so: during the
        # step the AI carries the smaller of the old and new requests; after it, the new one
        during_mw = self.site.import_limit_mw - self.site.ai_site_mw - min(self.granted_mw, signals.ai_request_mw)
        self.t += timedelta(minutes=15)
        report, peak = self.loop.run_until_complete(max_true_power_during(self.fleet, self.clock, self.ctl.step(self.t, signals)))
        assert {r.command.miner_id for r in report.results} <= self.ids  # property 1: nothing but miners
        self.granted_mw = signals.ai_request_mw
        self.limit_mw = self.site.import_limit_mw - self.site.ai_site_mw - self.granted_mw
        self.checks = (peak * self.ctl.k, during_mw, self.fleet.true_power_mw() * self.ctl.k)
        self.report = report

    @rule(mw=st.floats(0.0, 0.06), ai_request_mw=st.sampled_from([0.0, 0.0, 0.01, 0.02]))
    def decide(self, mw: float, ai_request_mw: float) -> None:
        self.policy.mw = mw
        self._step(Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0, ai_request_mw=ai_request_mw))

    @invariant()
    def inside_the_interconnect(self) -> None:
        if hasattr(self, "report"):
            peak_mw, during_mw, end_mw = self.checks
            assert self.ctl.planned_asic_mw() * self.ctl.k <= self.limit_mw + 1e-9
            assert peak_mw <= during_mw + 1e-9  # physical power, sampled through wake ramps
            assert end_mw <= self.limit_mw + 1e-9

    def teardown(self) -> None:
        self.loop.run_until_complete(self.fleet.stop())
        self.loop.close()


TestSiteMachine = SiteMachine.TestCase
TestSiteMachine.settings = settings(max_examples=3, stateful_step_count=4, deadline=None, suppress_health_check=list(HealthCheck))


# ---- 3: deployments shed before the deadline with k miners unresponsive ------------------------------------------------


@pytest.mark.parametrize("program", ["ECRS", "FAST"])
def test_deployment_is_shed_before_its_deadline_with_k_miners_failing(program: str) -> None:
    faults = {0: {"stall"}, 1: {"no_effect"}, 2: {"refuse"}}  # k = 3 miners that will not shed

    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        await c.step(T0, PRICE)  # everything running
        base_mw = fleet.true_power_mw()
        deploy_mw = 8 * UNIT_MW * c.k  # 8 of 20 miners' worth, site MW
        sig = Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0, deployments=(Deployment(program, deploy_mw, clock.now()),))
        deadline = clock.now() + c.cfg.deployment_deadline_s[program]

        async def power_at_deadline() -> float:
            await clock.sleep(deadline - clock.now())
            return fleet.true_power_mw()

        probe = asyncio.create_task(power_at_deadline())
        await c.enforce(sig, T0, poll=False)
        shed_site_mw = (base_mw - await probe) * c.k
        assert shed_site_mw >= deploy_mw - 1e-9  # physically shed at the deadline
        # the failing miners were never counted as shed
        assert not {"m000", "m001", "m002"} & set(c.curtailed_ids())

    harness(body, faults=faults, config=cfg(wave_size=5, confirm_timeout_s=20.0), policy_mw=1.0)


# ---- 4: nothing wakes while a deployment is active -----------------------------------------------------------------


@pytest.mark.parametrize("firmware", ["luxos", "whatsminer", "braiins"])
def test_nothing_wakes_during_a_deployment(firmware: str) -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 0.0
        await c.step(T0, PRICE)
        assert len(c.curtailed_ids()) == 10
        pol.mw = 1.0  # the policy wants everything back ...
        dep = Signals(price_usd_per_mwh=10.0, hashprice_usd_per_ph_day=50.0, deployments=(Deployment("ECRS", 0.01, clock.now()),))
        r = await c.step(T0 + timedelta(minutes=15), dep)
        assert not [x for x in r.results if x.command.action in ("wake", "target")]  # ... but nothing is released
        assert len(c.curtailed_ids()) == 10
        r = await c.step(T0 + timedelta(minutes=30), PRICE)  # deployment over
        assert sum(x.command.action == "wake" and x.confirmed for x in r.results) == 10

    harness(body, n=10, firmware=firmware)


# ---- 5: ramp limit and staggered wakes -------------------------------------------------------------------------------


def test_release_respects_the_ramp_limit_and_staggers_waves() -> None:
    ramp = 4 * UNIT_MW * 1.05 / 15.0  # four miners' site MW per 15 minutes

    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        await c.step(T0, Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0, manual="hold"))
        assert len(c.curtailed_ids()) == 12
        before = c.planned_asic_mw() * c.k
        t_prev = c.last_step_s
        await clock.sleep(15 * 60 - (clock.now() - (t_prev or 0.0)))
        r = await c.step(T0 + timedelta(minutes=15), PRICE)
        minutes = (r.results[0].sent_at_s - (t_prev or 0.0)) / 60.0 if r.results else 15.0
        assert c.planned_asic_mw() * c.k - before <= ramp * minutes + 1e-9
        wakes = sorted(x.sent_at_s for x in r.results if x.command.action == "wake")
        assert 1 <= len(wakes) <= 5
        waves = [wakes[i] for i in range(0, len(wakes), 2)]  # wave_size 2
        assert all(b - a >= c.cfg.wave_interval_s - 1e-6 for a, b in itertools.pairwise(waves))

    harness(body, n=12, sleeping=True, config=cfg(ramp_up_mw_per_min=ramp, wave_size=2, wave_interval_s=10.0, confirm_timeout_s=300.0))


# ---- 6: minimum on/off times --------------------------------------------------------------------------------------


def test_minimum_off_and_on_times_stop_flapping() -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 0.0
        await c.step(T0, PRICE)
        assert len(c.curtailed_ids()) == 6
        pol.mw = 1.0
        r = await c.step(T0 + timedelta(minutes=15), PRICE)  # min off time (20 min) not over
        assert not r.results and len(c.curtailed_ids()) == 6
        await clock.sleep(1200)
        r = await c.step(T0 + timedelta(minutes=45), PRICE)
        assert sum(x.confirmed for x in r.results) == 6
        pol.mw = 0.0
        r = await c.step(T0 + timedelta(minutes=60), PRICE)  # just woken: min on time holds them on
        assert not r.results

    harness(body, n=6, config=cfg(min_on_s=1200.0, min_off_s=1200.0))


def test_strike_hysteresis_of_the_realtime_policy_stops_price_flapping() -> None:
    from mullet.dispatch.policy import FleetSpec, Observation, RealtimePolicy, RealtimePolicyConfig

    fleet_spec = FleetSpec("s21", max_mw=6 * UNIT_MW * 1.05, floor_mw=0.0, usd_per_mwh_per_hashprice=2.0)  # strike 100 at hashprice 50
    policy = RealtimePolicy(RealtimePolicyConfig(hysteresis_usd_per_mwh=20.0), [fleet_spec], import_limit_mw=1.0, dt_h=0.25)

    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        c.policy, c.make_observation, c.policy_state = policy, Observation, policy.initial_state()
        t = T0
        r = await c.step(t, Signals(price_usd_per_mwh=150.0, hashprice_usd_per_ph_day=50.0))  # above strike + band/2: all off
        assert len(c.curtailed_ids()) == 6 and r.strike_usd_per_mwh == pytest.approx(100.0)
        for price in (95.0, 105.0, 92.0, 108.0, 95.0):  # inside the band around the strike: nothing moves
            t += timedelta(minutes=15)
            r = await c.step(t, Signals(price_usd_per_mwh=price, hashprice_usd_per_ph_day=50.0))
            assert not r.results and len(c.curtailed_ids()) == 6
        r = await c.step(t + timedelta(minutes=15), Signals(price_usd_per_mwh=85.0, hashprice_usd_per_ph_day=50.0))  # below strike - band/2
        assert sum(x.command.action == "wake" and x.confirmed for x in r.results) == 6

    harness(body, n=6)


# ---- 7: a miner counts as curtailed only when its read-back power confirms it -----------------------------------------


@pytest.mark.parametrize("fault", ["no_effect", "lying_state", "frozen_telemetry", "failed_wake"])
def test_only_read_back_power_counts(fault: str) -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 3 * UNIT_MW * c.k  # keep 3 of 8 running: 5 must be shed
        await fleet.set_faults(7, {fault})  # the least efficient? all equal: ids break ties, m007 is shed first
        r = await c.step(T0, PRICE)
        if fault == "failed_wake":
            assert all(x.confirmed for x in r.results)
            return
        bad = [x for x in r.results if x.command.miner_id == "m007"]
        assert bad and not any(x.confirmed for x in bad)
        assert "m007" not in c.curtailed_ids()
        # the shed went to another miner instead, and the plan is met
        assert c.planned_asic_mw() * 1e6 <= pol.mw / c.k * 1e6 + 0.02 * SPEC.nominal_power_w  # within the idle-draw tolerance
        if fault != "frozen_telemetry":
            assert fleet.true_power_mw() * c.k <= pol.mw + UNIT_MW * c.k + 1e-9

    async def wake_body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 0.0
        await c.step(T0, PRICE)
        await fleet.set_faults(0, {"failed_wake"})
        pol.mw = 1.0
        r = await c.step(T0 + timedelta(minutes=15), PRICE)
        failed = [x for x in r.results if not x.confirmed]
        assert [x.command.miner_id for x in failed] == ["m000"]  # acknowledged, never left idle power
        assert "m000" in c.curtailed_ids()

    harness(wake_body if fault == "failed_wake" else body, n=8)


# ---- 8: stale signals, restarts and 4CP defaults ---------------------------------------------------------------------


def test_stale_signals_release_nothing_and_four_cp_risk_defaults_to_a_peak() -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 0.0
        await c.step(T0, PRICE)
        pol.mw = 1.0
        stale = Signals(price_usd_per_mwh=10.0, hashprice_usd_per_ph_day=50.0, price_age_s=c.cfg.max_signal_age_s + 1)
        r = await c.step(T0 + timedelta(minutes=15), stale)
        assert r.flags["stale"] and not r.results and len(c.curtailed_ids()) == 5
        no_price = Signals(hashprice_usd_per_ph_day=50.0)
        r = await c.step(T0 + timedelta(minutes=30), no_price)
        assert r.flags["stale"] and not r.results
        r = await c.step(T0 + timedelta(minutes=45), PRICE)
        assert len(c.curtailed_ids()) == 0
        # 16:00 local on 1 August (21:00 UTC), no 4CP information: treated as a peak, everything shed
        r = await c.step(datetime(2023, 8, 1, 21, 0, tzinfo=UTC), PRICE)
        assert r.flags["four_cp"] and len(c.curtailed_ids()) == 5
        r = await c.step(datetime(2023, 8, 1, 21, 15, tzinfo=UTC), Signals(price_usd_per_mwh=10.0, hashprice_usd_per_ph_day=50.0, four_cp_alert=False))
        assert not r.flags["four_cp"] and len(c.curtailed_ids()) == 0  # an all-clear releases

    harness(body, n=5, site=SiteLimits(1.0, 0.5, 0.05, four_cp_enabled=True))


def test_restart_leaves_curtailed_miners_curtailed(tmp_path: Path) -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 2 * UNIT_MW * c.k
        await c.step(T0, PRICE)
        asleep = set(c.curtailed_ids())
        assert 1 <= len(asleep) <= 4
        # a new controller process: knows nothing but what it reads back
        pol2 = TargetPolicy(1.0)
        c2 = Controller(drivers_for(fleet), c.cfg, c.site, pol2, observation, clock=clock, audit=AuditLog(tmp_path / "a.duckdb", "second"))
        r = await c2.step(T0 + timedelta(minutes=15), PRICE)  # the policy wants all on; min off time restarts at the restart
        assert set(c2.curtailed_ids()) == asleep and not [x for x in r.results if x.command.action == "wake"]
        assert [s.asleep for s in c2.states] == [s.asleep for s in c.states]  # state rebuilt from read-backs

    harness(body, n=6, config=cfg(min_off_s=1800.0))


# ---- 9: decisions are idempotent ------------------------------------------------------------------------------------


def test_a_repeated_interval_is_decided_once(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"

    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        pol.mw = 3 * UNIT_MW * c.k
        r1 = await c.step(T0, PRICE)
        assert r1.results
        r2 = await c.step(T0, PRICE)  # same interval again: no second policy call, no commands
        assert len(pol.calls) == 1 and not r2.results
        # a restarted controller finds the interval's decision in the audit log and re-applies it
        pol2 = TargetPolicy(1.0)
        c2 = Controller(drivers_for(fleet), c.cfg, c.site, pol2, observation, clock=clock, audit=AuditLog(db, "restarted"))
        r3 = await c2.step(T0, PRICE)
        assert not pol2.calls and not r3.results and r3.policy_site_mw == pytest.approx(pol.mw)

    harness(body, n=6, audit=AuditLog(db, "first"))


# ---- 10: timeouts and concurrency caps ---------------------------------------------------------------------------


def test_every_call_times_out_and_waves_respect_the_concurrency_cap() -> None:
    async def body(fleet: EmulatedFleet, c: Controller, pol: TargetPolicy, clock: VirtualClock) -> None:
        for i in range(0, 40, 2):
            await fleet.set_faults(i, {"stall"})
        t0 = time.monotonic()
        pol.mw = 0.0
        r = await c.step(T0, PRICE)
        wall = time.monotonic() - t0
        assert fleet.stats.max_open <= 8
        assert len(r.watch.unresponsive if r.watch else ()) == 20
        assert wall < 15.0  # bounded: 20 stalled reads x 0.2 s / 8 at once, plus the healthy sheds
        assert len(c.curtailed_ids()) == 20

    harness(body, n=40, config=cfg(max_concurrency=8, wave_size=40))


# ---- 11: the audit log survives kill -9 mid-wave ------------------------------------------------------------------

_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from datetime import UTC, datetime
    sys.path.insert(0, {tests!r})
    from test_control_safety import SPEC, TargetPolicy, drivers_for, observation, cfg
    from mullet.control.audit import AuditLog
    from mullet.control.clock import VirtualClock
    from mullet.control.controller import Controller, SiteLimits
    from mullet.control.emulator import EmulatedFleet
    from mullet.control.signals import Signals

    async def main():
        clock = VirtualClock(0.0, datetime(2023, 8, 1, 4, tzinfo=UTC))
        async with EmulatedFleet(30, "luxos", SPEC, clock=clock) as fleet:
            c = Controller(drivers_for(fleet), cfg(wave_size=5, wave_interval_s=10.0), SiteLimits(1.0, 0.5, 0.05, False),
                           TargetPolicy(0.0), observation, audit=AuditLog({db!r}, "killed"), clock=clock)
            orig = c._audit
            waves = [0]
            async def audit(rows):
                await orig(rows)
                if any(r.kind == "wave" for r in rows):
                    waves[0] += 1
                    print("wave", flush=True)
                    if waves[0] == 2:  # wave 2 logged, wave 1 out and confirming: held here until the parent kills us
                        await asyncio.Event().wait()
            c._audit = audit
            await c.step(datetime(2023, 8, 1, 4, tzinfo=UTC), Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0))
            print("finished", flush=True)
    asyncio.run(main())
    """
)


def test_audit_log_keeps_every_decision_after_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    code = _CHILD.format(tests=str(Path(__file__).parent), db=str(db))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        waves = 0
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while waves < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            waves += line.startswith("wave")
        assert waves == 2, proc.stderr.read() if proc.stderr else ""
        proc.kill()  # SIGKILL, mid-wave: the child holds wave 2 of six (a deterministic point, whatever the load)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    rows = read_audit(db)
    kinds = [r["kind"] for r in rows]
    assert kinds[0] == "start" and kinds.count("decision") == 1 and kinds.count("wave") >= 2
    decision = next(r for r in rows if r["kind"] == "decision")
    assert decision["interval_start_utc"] == datetime(2023, 8, 1, 4, tzinfo=UTC)
    assert json.loads(decision["detail"])["commands"] == 30
    assert kinds.count("command") >= 10 and "confirmation" not in kinds  # killed before the end of the step
    assert not math.isnan(decision["target_mw"])
