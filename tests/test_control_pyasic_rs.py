"""The pyasic-rs adapter against a fake ``pyasic_rs`` module (the suite never needs the extra).

The fake miners are emulated miners (the same physics as the wire emulator) behind pyasic-rs's method names, so
the adapter is checked for what it reads and commands, for its timeouts and for what it does when a miner lacks
a control; the real library is not imported.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from mullet.control.clock import ManualClock, VirtualClock
from mullet.control.config import ControlConfig
from mullet.control.controller import Controller, SiteLimits
from mullet.control.drivers import DriverError, PyasicRsDriver, UnsupportedCommand, make_driver
from mullet.control.emulator import EmulatedMiner, MinerSpec
from mullet.control.signals import Deployment, Signals
from mullet.errors import MulletError

SPEC = MinerSpec.from_catalog("Antminer S21")


class _Unit:
    TeraHash = "TH"


class _Rate:
    def __init__(self, ghs: float):
        self.ghs = ghs

    def as_unit(self, unit: str) -> Any:
        assert unit == "TH"
        return types.SimpleNamespace(value=self.ghs / 1000.0)


class FakeMiner:
    """pyasic-rs's ``Miner`` surface over an emulated miner."""

    def __init__(self, m: EmulatedMiner, *, pause: bool = True, stall: bool = False):
        self.m = m
        self.supports_pause = self.supports_resume = pause
        self.supports_set_power_limit = True
        self.stall = stall
        self.auth: tuple[str, str] | None = None

    def set_auth(self, user: str, password: str) -> None:
        self.auth = (user, password)

    async def get_wattage(self) -> float:
        if self.stall:
            await asyncio.sleep(3600)
        return self.m.telemetry()[0]

    async def get_hashrate(self) -> _Rate:
        return _Rate(self.m.telemetry()[1] * 1000.0)

    async def get_is_mining(self) -> bool:
        return self.m.telemetry()[1] > 0

    async def pause(self) -> bool:
        self.m.sleep()
        return True

    async def resume(self) -> bool:
        self.m.wake()
        return True

    async def set_power_limit(self, watts: float) -> bool:
        self.m.set_power_target(watts)
        return True


@pytest.fixture
def fake_lib(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, FakeMiner]]:
    miners: dict[str, FakeMiner] = {}

    class MinerFactory:
        async def get_miner(self, ip: str) -> FakeMiner | None:
            return miners.get(ip)

    lib = types.ModuleType("pyasic_rs")
    lib.MinerFactory = MinerFactory  # type: ignore[attr-defined]
    data = types.ModuleType("pyasic_rs.data")
    data.HashRateUnit = _Unit  # type: ignore[attr-defined]
    lib.data = data  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pyasic_rs", lib)
    monkeypatch.setitem(sys.modules, "pyasic_rs.data", data)
    yield miners


def _driver(host: str, timeout_s: float = 0.5) -> PyasicRsDriver:
    d = make_driver("pyasic-rs", host, host, 4028, nominal_power_w=SPEC.nominal_power_w, nominal_hashrate_ths=SPEC.nominal_hashrate_ths, timeout_s=timeout_s)
    assert isinstance(d, PyasicRsDriver)
    return d


def test_missing_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyasic_rs", None)  # import raises ImportError
    with pytest.raises(MulletError, match=r"pip install 'mullet\[fleet\]'"):
        _driver("10.0.0.1")


def test_reads_and_controls_follow_the_miner(fake_lib: dict[str, FakeMiner]) -> None:
    clock = ManualClock()
    fake_lib["10.0.0.1"] = FakeMiner(EmulatedMiner(SPEC, clock))
    fake_lib["10.0.0.2"] = FakeMiner(EmulatedMiner(SPEC, clock), pause=False)
    fake_lib["10.0.0.3"] = FakeMiner(EmulatedMiner(SPEC, clock), stall=True)

    async def main() -> None:
        d = _driver("10.0.0.1")
        r = await d.read()
        assert r.ok and r.power_w == pytest.approx(SPEC.nominal_power_w) and r.hashrate_ths == pytest.approx(SPEC.nominal_hashrate_ths)
        await d.sleep()
        clock.advance(SPEC.sleep_s)
        r = await d.read()
        assert r.power_w == pytest.approx(SPEC.idle_power_w) and r.state == "sleeping" and r.hashrate_ths == 0
        await d.wake()
        clock.advance(SPEC.wake_s)
        await d.set_power_target(2800)
        clock.advance(SPEC.target_s)
        assert (await d.read()).power_w == pytest.approx(2800)
        with pytest.raises(UnsupportedCommand):
            await _driver("10.0.0.2").sleep()  # the miner has no pause: the controller sheds another
        r = await _driver("10.0.0.3", timeout_s=0.2).read()  # a stalled call ends at the timeout
        assert not r.ok and "0.2 s" in (r.error or "")
        r = await _driver("10.0.0.9").read()
        assert not r.ok and "no miner" in (r.error or "")
        with pytest.raises(DriverError, match="no miner"):
            await _driver("10.0.0.9").wake()

    asyncio.run(main())


def test_the_controller_sheds_a_deployment_through_the_adapter(fake_lib: dict[str, FakeMiner]) -> None:
    clock = VirtualClock()
    for i in range(6):
        fake_lib[f"10.0.0.{i + 1}"] = FakeMiner(EmulatedMiner(SPEC, clock), pause=i != 0)  # miner 1 cannot pause

    async def main() -> None:
        drivers = [_driver(f"10.0.0.{i + 1}") for i in range(6)]
        cfg = ControlConfig(min_on_s=0, min_off_s=0, wave_size=3, confirm_timeout_s=60.0)
        c = Controller(drivers, cfg, SiteLimits(1.0, 0.5, 0.05, False), _AllOn(), dict, clock=clock)
        await c.poll()
        deploy_mw = 3 * SPEC.nominal_power_w / 1e6 * c.k
        sig = Signals(price_usd_per_mwh=40.0, hashprice_usd_per_ph_day=50.0, deployments=(Deployment("FAST", deploy_mw, clock.now()),))
        r = await c.enforce(sig, poll=False)
        shed_w = sum(SPEC.nominal_power_w - m.m.power_w() for m in fake_lib.values())
        assert shed_w * c.k / 1e6 >= deploy_mw - 1e-9  # physically shed
        failed = [x for x in r.results if not x.confirmed]  # miner 1 is shed first (ids break ties) and cannot pause
        assert [x.command.miner_id for x in failed] == ["10.0.0.1"] and "no pause" in (failed[0].error or "")
        assert "10.0.0.1" not in c.curtailed_ids() and len(c.curtailed_ids()) == 4  # 3 miners + 5% margin + idle draw left

    asyncio.run(main())


class _AllOn:
    def initial_state(self) -> None:
        return None

    def step(self, state: Any, obs: Any) -> Any:
        return types.SimpleNamespace(mining_mw=(1.0,), state=None, strike_usd_per_mwh=(0.0,), reason="all on")
