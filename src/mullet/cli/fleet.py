"""``mullet fleet``: serve an emulated miner fleet on loopback, scan a network for miners."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from mullet.cli._common import app, console, err_console
from mullet.control.aio import run as run_loop
from mullet.errors import MulletError

fleet_app = typer.Typer(help="Miner fleets: an emulator for tests and demos, a bounded network scan.", no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")


def _faults(text: str, n: int) -> dict[int, set[str]]:
    """``stall:3,no_effect:2`` -> the first 3 miners stall, the next 2 acknowledge without effect."""
    from mullet.control.emulator import FAULTS

    out: dict[int, set[str]] = {}
    i = 0
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, count = part.partition(":")
        if name not in FAULTS or (count and not count.isdigit()):
            raise MulletError(f"faults: got {part!r}, allowed: NAME[:COUNT] with NAME one of {', '.join(FAULTS)}")
        for _ in range(int(count or 1)):
            if i >= n:
                raise MulletError(f"faults: more faulty miners than --miners {n}")
            out.setdefault(i, set()).add(name)
            i += 1
    return out


@fleet_app.command("emulate")
def emulate_cmd(
    miners: Annotated[int, typer.Option("--miners", min=1, max=60_000, help="Number of emulated miners.")] = 200,
    firmware: Annotated[str, typer.Option("--firmware", help="luxos, braiins, whatsminer or cgminer (read-only).")] = "luxos",
    model: Annotated[str, typer.Option("--model", help="ASIC model from the bundled catalog.")] = "Antminer S21",
    host: Annotated[str, typer.Option("--host", help="Loopback address to listen on (127.0.0.0/8 only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port of the first miner; the others follow.")] = 4028,
    speed: Annotated[float, typer.Option("--speed", min=0.001, help="Physics time per wall second (use the controller's --speed) [-].")] = 1.0,
    faults: Annotated[str, typer.Option("--faults", help="Fault modes of the first miners, e.g. stall:3,no_effect:2.")] = "",
    password: Annotated[str, typer.Option("--password", help="Braiins OS root / Whatsminer admin password (emulator only).")] = "",
    duration: Annotated[float | None, typer.Option("--duration", min=0.1, help="Stop after this many wall seconds; default: until Ctrl-C.")] = None,
) -> None:
    """Serve N emulated miners on loopback (one port each) with power physics and optional fault modes."""
    from mullet.control.clock import ScaledClock
    from mullet.control.emulator import EmulatedFleet, MinerSpec
    from mullet.data import load_asic_catalog

    if model not in load_asic_catalog().index:
        raise MulletError(f"model: got {model!r}, allowed: a model of the bundled catalog")
    fleet = EmulatedFleet(miners, firmware, MinerSpec.from_catalog(model), host=host, base_port=port, clock=ScaledClock(speed), password=password)
    plan = _faults(faults, miners)

    async def main() -> None:
        async with fleet:
            for i, f in plan.items():
                await fleet.set_faults(i, f)
            err_console.print(
                f"emulating {miners} {firmware} miners ({model}, {fleet.nominal_mw():.3f} MW nominal) on {host}:{port}-{port + miners - 1}, "
                f"physics at {speed:g}x; Ctrl-C stops",
                markup=False,
                highlight=False,
            )
            snippet = f'[control]\n[[control.miners]]\nname = "emulated"\nhost = "{host}"\nport = {port}\ncount = {miners}\n'
            console.print(
                snippet + f'firmware = "{firmware}"\nmodel = "{model}"',
                markup=False,
                highlight=False,
            )
            await asyncio.sleep(duration if duration is not None else 10 * 365 * 86400)

    try:
        run_loop(main())
    except KeyboardInterrupt:
        err_console.print("interrupted: emulator stopped (it keeps no state)", markup=False)
        raise typer.Exit(130) from None


@fleet_app.command("scan")
def scan_cmd(
    cidr: Annotated[str, typer.Argument(help="Network to scan, e.g. 192.168.1.0/24 (at most a /16).")],
    ports: Annotated[str, typer.Option("--ports", help="Port, range or list: 4028, 4028-4227.")] = "4028",
    timeout_s: Annotated[float, typer.Option("--timeout", min=0.05, max=30, help="Timeout of each probe [s].")] = 1.0,
    concurrency: Annotated[int, typer.Option("--concurrency", min=1, max=4096, help="Probes in flight at once.")] = 256,
    budget_s: Annotated[float, typer.Option("--budget", min=0.1, max=3600, help="Time budget of the whole scan [s].")] = 120.0,
) -> None:
    """Find miners that answer the CGMiner RPC (``version``) on a network: bounded concurrency and time."""
    from mullet.control.scan import parse_ports, scan

    port_list = parse_ports(ports)
    found, probed, complete = run_loop(scan(cidr, port_list, timeout_s=timeout_s, concurrency=concurrency, time_budget_s=budget_s))
    for f in found:
        console.print(f"{f.host}:{f.port}\t{f.firmware}\t{f.model or '-'}\t{f.description}", markup=False, highlight=False)
    err_console.print(
        f"{len(found)} miner(s) answered of {probed:,} address-port pairs probed{'' if complete else ' (time budget ran out: scan incomplete)'}",
        markup=False,
        highlight=False,
    )
    if not complete:
        raise typer.Exit(1)
