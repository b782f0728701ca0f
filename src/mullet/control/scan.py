"""Find miners on a network range: one CGMiner-style ``version`` request per address and port.

Bounded in concurrency and in time. Firmware is told from the reply (LUXminer: luxos; BOSminer/BOSer: braiins;
btminer: whatsminer; else cgminer).
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from dataclasses import dataclass

from mullet.control.drivers.base import DriverError
from mullet.control.drivers.cgminer import rpc_request
from mullet.errors import MulletError

__all__ = ["FoundMiner", "parse_ports", "scan"]

MAX_HOSTS = 65_536


@dataclass(frozen=True, slots=True)
class FoundMiner:
    """A miner that answered the scan."""

    host: str
    port: int
    firmware: str
    model: str
    description: str


def parse_ports(text: str) -> list[int]:
    """``4028`` or ``4028-4227`` or ``4028,4029`` -> ports; one-line error naming the option otherwise."""
    ports: list[int] = []
    try:
        for part in text.split(","):
            a, _, b = part.strip().partition("-")
            lo, hi = int(a), int(b or a)
            if not 1 <= lo <= hi <= 65535:
                raise ValueError
            ports.extend(range(lo, hi + 1))
    except ValueError:
        raise MulletError(f"ports: got {text!r}, allowed: a port, a range like 4028-4227, or a comma-separated list (1..65535)") from None
    return ports


def _identify(reply: dict[str, object]) -> tuple[str, str, str]:
    st = reply.get("STATUS")
    desc = str(st[0].get("Description", "")) if isinstance(st, list) and st and isinstance(st[0], dict) else ""
    ver = reply.get("VERSION")
    model = str(ver[0].get("Type", "")) if isinstance(ver, list) and ver and isinstance(ver[0], dict) else ""
    low = desc.lower()
    low += " " + " ".join(str(k).lower() for k in (ver[0] if isinstance(ver, list) and ver and isinstance(ver[0], dict) else {}))
    if "luxminer" in low:
        firmware = "luxos"
    elif "bosminer" in low or "boser" in low:
        firmware = "braiins"
    elif "btminer" in low:
        firmware = "whatsminer"
    else:
        firmware = "cgminer"
    return firmware, model, desc


async def scan(
    cidr: str, ports: list[int], *, timeout_s: float = 1.0, concurrency: int = 256, time_budget_s: float = 120.0
) -> tuple[list[FoundMiner], int, bool]:
    """Scan every address of ``cidr`` on ``ports``.

    Returns
    -------
    found : list of FoundMiner
        Miners that answered, sorted by address and port.
    probed : int
        Address-port pairs tried.
    complete : bool
        False when the time budget ran out before every pair was tried.
    """
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise MulletError(f"cidr: got {cidr!r}, allowed: a network like 192.168.1.0/24 or 127.0.0.1/32") from None
    hosts = [net.network_address] if net.num_addresses == 1 else list(net.hosts()) if net.num_addresses <= MAX_HOSTS else []
    if not hosts:
        raise MulletError(f"cidr: got {cidr!r} with {net.num_addresses:,} addresses, allowed: at most {MAX_HOSTS:,} (a /16)")
    if not 1 <= concurrency <= 4096:
        raise MulletError(f"concurrency: got {concurrency}, allowed: 1..4096")
    targets = [(str(h), p) for h in hosts for p in ports]
    sem = asyncio.Semaphore(concurrency)
    found: list[FoundMiner] = []
    stop_at = time.monotonic() + time_budget_s
    probed = 0

    async def probe(host: str, port: int) -> None:
        nonlocal probed
        async with sem:
            if time.monotonic() > stop_at:
                return
            probed += 1
            try:
                reply = await rpc_request(host, port, "version", timeout_s=timeout_s)
            except DriverError:
                return
            fw, model, desc = _identify(reply)
            found.append(FoundMiner(host, port, fw, model, desc))

    try:
        async with asyncio.timeout(time_budget_s + timeout_s + 1.0):
            await asyncio.gather(*(probe(h, p) for h, p in targets))
    except TimeoutError:
        pass
    found.sort(key=lambda f: (ipaddress.ip_address(f.host), f.port))
    return found, probed, probed == len(targets)
