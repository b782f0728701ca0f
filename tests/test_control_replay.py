"""Replay of the controller on real ERCOT prices against the emulator, cross-checked with the offline policy.

The controller calls the dispatch package's realtime policy one interval at a time with what was known then; the
offline backtest (`run_policy`) calls the same step on the same observations. Their decisions must agree interval
by interval, and perfect foresight must bound both.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from mullet.cli import app
from mullet.control.audit import read_audit
from mullet.control.clock import ScaledClock, VirtualClock
from mullet.control.emulator import EmulatedFleet, MinerSpec
from mullet.control.run import build_drivers, replay
from mullet.control.scan import parse_ports, scan
from mullet.errors import MulletError
from mullet.site import load_scenario

ROOT = Path(__file__).parents[1]
SPEED = 3000.0


def _scenario(tmp_path: Path, port: int, n: int) -> Path:
    text = (ROOT / "scenarios/default.toml").read_text()
    text = text.replace('audit_db = "mullet.duckdb"', f'audit_db = "{tmp_path / "audit.duckdb"}"').replace(
        "port = 4028\ncount = 200", f"port = {port}\ncount = {n}"
    )
    text = text.replace("[control]\n", "[control]\nconfirm_timeout_s = 60\npoll_interval_s = 300\n")
    p = tmp_path / "site.toml"
    p.write_text(text)
    return p


def test_replay_agrees_with_the_offline_policy_and_is_bounded_by_perfect_foresight(tmp_path: Path) -> None:
    n = 24
    intervals = 12  # 2023-08-24 00:00-03:00 UTC: prices 74 -> 529 -> 46 USD/MWh at HB_WEST

    async def main() -> object:
        clock = VirtualClock(0.0, datetime(2023, 8, 24, tzinfo=UTC))  # shared by the emulator and the controller: deterministic whatever the machine's load
        async with EmulatedFleet(n, "luxos", MinerSpec.from_catalog("Antminer S21"), clock=clock) as fleet:
            sc = load_scenario(_scenario(tmp_path, 4028, n))
            drivers = build_drivers(sc.control)  # type: ignore[arg-type]
            for d, (h, p) in zip(drivers, fleet.addresses(), strict=True):
                d.host, d.port = h, p
            return await replay(
                sc, "2023-08-24", "2023-08-24", speed=SPEED, drivers=drivers, audit_db=tmp_path / "audit.duckdb", max_intervals=intervals, clock=clock
            )

    res = asyncio.run(asyncio.wait_for(main(), 120))
    from mullet.control.run import ReplayResult

    assert isinstance(res, ReplayResult)
    scale = res.scale
    decided = np.array([r.policy_site_mw for r in res.reports], dtype=float) / scale
    offline = res.offline_policy.schedule["mining_mw"].to_numpy()
    np.testing.assert_allclose(decided, offline, rtol=1e-9, atol=1e-6)  # the same policy, the same observations
    assert decided.min() == 0.0 and decided.max() > 0  # it curtailed through the spike and ran otherwise
    net = {label: v for label, v, _ in res.table()}
    assert net["perfect foresight (bound)"] >= net["offline realtime policy"] - 1e-6
    assert net["perfect foresight (bound)"] >= net["controller (realised, read-back)"] - 1e-6
    # the realised P&L follows the policy within the cost of physical ramps (wakes take a minute; 1 interval = 15)
    assert abs(net["controller (realised, read-back)"] - net["offline realtime policy"]) <= 0.05 * abs(net["offline realtime policy"])
    rows = read_audit(tmp_path / "audit.duckdb", kinds=["decision", "confirmation"])
    assert sum(r["kind"] == "decision" for r in rows) == intervals
    assert all(r["ok"] for r in rows if r["kind"] == "confirmation")  # every decision confirmed by read-back


def _serve_in_thread(n: int, firmware: str = "luxos") -> tuple[EmulatedFleet, threading.Event, threading.Thread]:
    ready, stop = threading.Event(), threading.Event()
    box: dict[str, EmulatedFleet] = {}

    def run() -> None:
        async def main() -> None:
            async with EmulatedFleet(n, firmware, MinerSpec.from_catalog("Antminer S21"), clock=ScaledClock(100.0)) as fleet:
                box["fleet"] = fleet
                ready.set()
                for _ in range(600):
                    if stop.is_set():
                        return
                    await asyncio.sleep(0.05)

        asyncio.run(main())

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(10)
    return box["fleet"], stop, t


def test_scan_finds_the_emulated_miners_on_loopback_only() -> None:
    fleet, stop, t = _serve_in_thread(3)
    try:
        ports = sorted(p for _, p in fleet.addresses())
        found, probed, complete = asyncio.run(scan("127.0.0.1/32", [*ports, 1], timeout_s=0.5, concurrency=4, time_budget_s=10))
        assert complete and probed == 4
        assert [(f.port, f.firmware, f.model) for f in found] == [(p, "luxos", "Antminer S21") for p in ports]
        result = CliRunner().invoke(app, ["fleet", "scan", "127.0.0.1/32", "--ports", f"{ports[0]}-{ports[0]}", "--timeout", "0.5"])
        assert result.exit_code == 0 and "luxos" in result.output
    finally:
        stop.set()
        t.join(10)
    with pytest.raises(MulletError, match="at most"):
        asyncio.run(scan("10.0.0.0/8", [4028]))  # refused before any packet: too large
    with pytest.raises(MulletError, match="ports"):
        parse_ports("4028-99999")


def test_scan_tells_whatsminer_from_its_reply() -> None:
    fleet, stop, t = _serve_in_thread(2, "whatsminer")
    try:
        ports = sorted(p for _, p in fleet.addresses())
        found, _probed, complete = asyncio.run(scan("127.0.0.1/32", ports, timeout_s=0.5, concurrency=2, time_budget_s=10))
        assert complete and [(f.port, f.firmware, f.model) for f in found] == [(p, "whatsminer", "Antminer S21") for p in ports]
    finally:
        stop.set()
        t.join(10)


def test_control_status_and_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(app, ["control", "status", "--db", str(tmp_path / "none.duckdb")])
    assert r.exit_code != 0
    r = runner.invoke(app, ["control", "run", str(ROOT / "scenarios/riot_rockdale_2023.toml"), "--replay", "2023-08-24"])
    assert r.exit_code != 0 and isinstance(r.exception, MulletError | SystemExit)
    r = runner.invoke(app, ["fleet", "emulate", "--host", "10.0.0.1", "--duration", "0.1"])
    assert r.exit_code != 0
