"""Every miner driver against the emulator: the same contract (BaseDriverTest), plus firmware specifics.

Loopback only; physics on a virtual clock the test moves (deterministic: a 5 s sleep takes no wall time and no
load on the machine can make the physics run ahead of the test).
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mullet.control.clock import ManualClock, VirtualClock
from mullet.control.config import Credentials
from mullet.control.drivers import DriverError, LuxOSDriver, MinerDriver, UnsupportedCommand, WhatsminerDriver, make_driver
from mullet.control.drivers._md5crypt import md5_crypt
from mullet.control.drivers.cgminer import request_bytes, rpc_request
from mullet.control.drivers.whatsminer import aes_key, decrypt, encrypt, key_of
from mullet.control.emulator import EmulatedFleet, EmulatedMiner, MinerSpec
from mullet.control.emulator.server import RpcProtocol
from mullet.errors import MulletError

SPEC = MinerSpec.from_catalog("Antminer S21")


def run(fn: Callable[[EmulatedFleet, list[MinerDriver]], Awaitable[Any]], firmware: str, n: int = 2, password: str = "", timeout_s: float = 0.5) -> Any:
    async def main() -> Any:
        clock = VirtualClock()
        async with EmulatedFleet(n, firmware, SPEC, clock=clock, password=password) as fleet:
            creds = {"braiins": Credentials(user="root", password=password), "whatsminer": Credentials(user="admin", password=password or "admin")}.get(
                firmware
            )
            drivers = [
                make_driver(
                    firmware,
                    f"m{i}",
                    h,
                    p,
                    nominal_power_w=SPEC.nominal_power_w,
                    nominal_hashrate_ths=SPEC.nominal_hashrate_ths,
                    credentials=creds,
                    timeout_s=timeout_s,
                )
                for i, (h, p) in enumerate(fleet.addresses())
            ]
            return await asyncio.wait_for(fn(fleet, drivers), 20)

    return asyncio.run(main())


async def settle(fleet: EmulatedFleet, emulated_s: float) -> None:
    await fleet.clock.sleep(emulated_s)


class BaseDriverTest:
    """The contract every driver keeps; a subclass names the firmware."""

    firmware = "luxos"

    def test_read_reports_nominal_power_and_hashrate(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            r = await ds[0].read()
            assert r.ok and r.error is None
            assert r.power_w == pytest.approx(SPEC.nominal_power_w, rel=1e-3)
            assert r.hashrate_ths == pytest.approx(SPEC.nominal_hashrate_ths, rel=1e-3)
            assert r.temperature_c is not None and 20 < r.temperature_c < 100
            assert r.power_measured is ds[0].capabilities.power_measured

        run(body, self.firmware)

    @pytest.mark.parametrize("fault", ["refuse", "stall", "truncated", "malformed", "error_status"])
    def test_faulty_reads_fail_cleanly_within_the_timeout(self, fault: str) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            await fleet.set_faults(1, {fault})
            t0 = time.monotonic()
            r = await ds[1].read()
            assert time.monotonic() - t0 < 3 * ds[1].timeout_s + 0.5
            assert not r.ok and r.power_w is None and r.error
            assert (await ds[0].read()).ok  # the neighbour is unaffected

        run(body, self.firmware, timeout_s=0.3)

    def test_sleep_wake_and_power_target_follow_physics(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            d = ds[0]
            if not d.capabilities.sleep:
                with pytest.raises(UnsupportedCommand):
                    await d.sleep()
                with pytest.raises(UnsupportedCommand):
                    await d.set_power_target(3000)
                return
            await d.sleep()
            await settle(fleet, SPEC.sleep_s * 1.5)
            r = await d.read()
            assert r.power_w == pytest.approx(SPEC.idle_power_w) and r.hashrate_ths == 0
            await d.wake()
            await settle(fleet, SPEC.wake_s / 2)
            mid = (await d.read()).power_w
            assert mid is not None and SPEC.idle_power_w < mid < SPEC.nominal_power_w  # wakes ramp, they do not jump
            await settle(fleet, SPEC.wake_s)
            assert (await d.read()).power_w == pytest.approx(SPEC.nominal_power_w)
            await d.set_power_target(2500)
            await settle(fleet, SPEC.target_s * 1.5)
            assert (await d.read()).power_w == pytest.approx(2500, abs=1)
            with pytest.raises(ValueError, match="power_w"):
                await d.set_power_target(100)  # below the driver's floor: refused before anything is sent

        run(body, self.firmware)

    def test_acknowledged_without_effect_is_visible_in_read_back(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            if not ds[0].capabilities.sleep:
                return
            await fleet.set_faults(0, {"lying_state"})
            await ds[0].sleep()  # acknowledged
            await settle(fleet, SPEC.sleep_s * 2)
            r = await ds[0].read()
            assert r.power_w == pytest.approx(SPEC.nominal_power_w)  # the power tells the truth

        run(body, self.firmware)

    def test_reboot_mid_command_raises_and_loses_the_command(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            if not ds[0].capabilities.sleep:
                return
            await fleet.set_faults(0, {"reboot_mid_command"})
            with pytest.raises(DriverError):
                await ds[0].sleep()
            await settle(fleet, SPEC.reboot_s * 1.2)
            assert (await ds[0].read()).power_w == pytest.approx(SPEC.nominal_power_w)  # back as it was, still mining

        run(body, self.firmware)


class TestCGMiner(BaseDriverTest):
    firmware = "cgminer"

    def test_power_is_estimated_from_hashrate(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            fleet.miners[0].set_power_target(2500)
            await settle(fleet, SPEC.target_s * 1.5)
            r = await ds[0].read()
            assert not r.power_measured
            assert r.power_w == pytest.approx(ds[0].estimate_power_w(r.hashrate_ths or 0))

        run(body, self.firmware)

    def test_wire_format_is_cgminer_json_with_nul(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            host, port = fleet.addresses()[0]
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b'{"command": "summary"}')
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), 2)
            writer.close()
            assert raw.endswith(b"\x00") and b'"STATUS": "S"' in raw and b'"SUMMARY"' in raw
            reply = await rpc_request(host, port, "bogus")
            assert reply["STATUS"][0]["STATUS"] == "E"

        run(body, self.firmware)


class TestLuxOS(BaseDriverTest):
    firmware = "luxos"

    def test_session_is_released_even_when_the_command_fails(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            d = ds[0]
            assert isinstance(d, LuxOSDriver)
            with pytest.raises(RuntimeError):
                async with d.session() as sid:
                    assert fleet.miners[0].session == sid
                    raise RuntimeError("boom")
            assert fleet.miners[0].session == ""
            await d.sleep()
            assert fleet.miners[0].session == ""  # also after a normal command

        run(body, self.firmware)

    def test_busy_session_is_retried_then_refused(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            await fleet.set_faults(0, {"session_busy"})
            with pytest.raises(DriverError, match="session busy"):
                await ds[0].sleep()
            assert not fleet.miners[0].flag_sleeping

        run(body, self.firmware)


class TestBraiins(BaseDriverTest):
    firmware = "braiins"

    def test_wrong_password_is_refused(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            ds[0].credentials = Credentials(user="root", password="wrong")
            with pytest.raises(DriverError, match="login refused"):
                await ds[0].sleep()
            assert not (await ds[0].read()).ok

        run(body, self.firmware, password="s3cret")

    def test_expired_token_logs_in_again_and_flag_is_read(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            assert (await ds[0].read()).state == "mining"
            fleet._tokens[0].clear()  # the miner forgot the token (reboot, expiry)
            await ds[0].sleep()
            await settle(fleet, SPEC.sleep_s * 1.5)
            r = await ds[0].read()
            assert r.state == "sleeping" and r.power_w == pytest.approx(SPEC.idle_power_w)

        run(body, self.firmware, password="s3cret")


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=12), st.text(max_size=12))
def test_request_bytes_are_the_json_of_the_request(command: str, parameter: str) -> None:
    want = {"command": command} if parameter == "" else {"command": command, "parameter": parameter}
    assert json.loads(request_bytes(command, parameter)) == want


@pytest.mark.parametrize("fault", [None, "frozen_telemetry", "lying_state"])
def test_emulator_read_template_is_the_json_of_the_read(fault: str | None) -> None:
    clock = ManualClock()
    m = EmulatedMiner(SPEC, clock, faults={fault} if fault else None)
    m.sleep()
    clock.advance(SPEC.sleep_s / 3)  # mid-ramp: fractional power, hashrate and temperature
    proto = RpcProtocol(m, "luxos")
    want: dict[str, Any] = {part: [proto.handle(part, "", 1690848000)] for part in ("summary", "power", "temps")}
    want["id"] = 1
    assert json.loads(proto._luxos_read(1690848000)) == want


class TestWhatsminer(BaseDriverTest):
    firmware = "whatsminer"

    def test_writes_are_encrypted_and_signed_with_a_reused_token(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            host, port = fleet.addresses()[0]
            refused = await rpc_request(host, port, "power_off", payload={"cmd": "power_off"})  # a plain write is refused
            assert refused["STATUS"] == "E" and not fleet.miners[0].flag_sleeping
            d = ds[0]
            assert isinstance(d, WhatsminerDriver)
            await d.sleep()
            assert fleet.miners[0].flag_sleeping and len(fleet._auth[0].tokens) == 1
            await d.wake()
            await d.set_power_target(3000)
            assert len(fleet._auth[0].tokens) == 1  # one token for the three writes
            assert fleet.miners[0].power_target_w == 3000
            fleet._auth[0].tokens.clear()  # the miner forgot it (reboot, expiry): one fresh token, the write goes through
            await d.set_power_target(2800)
            assert fleet.miners[0].power_target_w == 2800 and len(fleet._auth[0].tokens) == 1

        run(body, self.firmware)

    def test_wrong_admin_password_is_refused_and_busy_tokens_fail_cleanly(self) -> None:
        async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
            ds[0].credentials = Credentials(user="admin", password="wrong")
            with pytest.raises(DriverError, match=r"token refused|undecipherable|base64"):
                await ds[0].sleep()
            assert not fleet.miners[0].flag_sleeping
            await fleet.set_faults(1, {"session_busy"})  # token over max times
            with pytest.raises(DriverError, match="136"):
                await ds[1].sleep()
            assert (await ds[0].read()).ok  # reads need no password

        run(body, self.firmware, password="s3cret")


@pytest.mark.parametrize(
    ("password", "salt", "want"),
    [  # known values from an independent implementation: OpenSSL 3.0 `openssl passwd -1 -salt SALT PASSWORD`
        ("Hello world!", "saltstring", "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1"),
        ("admin", "BQ5hoXV9", "$1$BQ5hoXV9$RxmaDUO33TS7O26yeMHZ81"),
        ("", "jbzkfQls", "$1$jbzkfQls$OhU/P2xGDDw2HL9JaoSqD."),
        ("a", "jbzkfQls", "$1$jbzkfQls$xT7xmaIVPTYzWRJDq9UIu/"),
        ("password123", "jbzkfQls", "$1$jbzkfQls$BiYYyyDhBoZQhm/hBLsZU1"),
        ("0123456789abcdef0123", "jbzkfQls", "$1$jbzkfQls$N6Lz2CxP9eoVBZaSqt8xn1"),
    ],
)
def test_md5_crypt_matches_openssl(password: str, salt: str, want: str) -> None:
    assert md5_crypt(password, salt) == want


def test_whatsminer_cipher_round_trip_pads_to_whole_blocks() -> None:
    aes = aes_key(key_of("admin", "BQ5hoXV9"))
    for payload in ({"cmd": "power_on"}, {"cmd": "adjust_power_limit", "power_limit": "3000", "token": "x" * 22}):
        text = encrypt(aes, payload)
        assert len(base64.b64decode(text)) % 16 == 0
        assert decrypt(aes, text) == payload
    with pytest.raises(ValueError):
        decrypt(aes_key("another key"), encrypt(aes, {"cmd": "power_on"}))


def test_a_cancelled_request_stays_cancelled_and_a_timed_out_one_becomes_a_driver_error() -> None:
    async def body(fleet: EmulatedFleet, ds: list[MinerDriver]) -> None:
        await fleet.set_faults(0, {"stall"})
        host, port = fleet.addresses()[0]
        task = asyncio.create_task(rpc_request(host, port, "summary", timeout_s=30.0))
        await asyncio.sleep(0.05)
        task.cancel()  # Ctrl-C, a test's wait_for: the lean timeout must not swallow it
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(DriverError, match=r"no answer within 0\.1 s"):
            await rpc_request(host, port, "summary", timeout_s=0.1)
        assert (await ds[1].read()).ok and asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]

    run(body, "luxos")


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_both_exchange_paths_read_command_and_time_out(loop: str) -> None:
    # asyncio's own loop exchanges over plain sockets, uvloop over a transport: the same contract on both
    if loop == "uvloop":
        uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        async with EmulatedFleet(2, "luxos", SPEC, clock=VirtualClock()) as fleet:
            (h0, p0), (h1, p1) = fleet.addresses()
            await fleet.set_faults(1, {"stall"})
            reply = await rpc_request(h0, p0, "summary+power+temps")
            assert reply["power"][0]["POWER"][0]["Watts"] == round(SPEC.nominal_power_w)
            d = make_driver("luxos", "m0", "localhost", p0, nominal_power_w=SPEC.nominal_power_w, nominal_hashrate_ths=SPEC.nominal_hashrate_ths)
            await d.sleep()  # a host name, three exchanges
            assert fleet.miners[0].flag_sleeping
            with pytest.raises(DriverError, match="no answer"):
                await rpc_request(h1, p1, "summary", timeout_s=0.1)
            with pytest.raises(DriverError):
                await rpc_request(h0, 1, "summary", timeout_s=0.5)  # refused

    if loop == "uvloop":
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main())
    else:
        asyncio.run(main())


def test_whatsminer_without_cryptography_is_refused_when_the_driver_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers", None)
    with pytest.raises(MulletError, match=r"pip install 'mullet\[whatsminer\]'"):
        make_driver("whatsminer", "w", "127.0.0.1", 4028, nominal_power_w=3500.0, nominal_hashrate_ths=200.0)
