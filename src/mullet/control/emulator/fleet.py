"""A fleet of emulated miners served on loopback: one port per miner (consecutive from ``base_port``, or ephemeral)."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from mullet.control.clock import Clock, WallClock
from mullet.control.emulator.miner import EmulatedMiner, MinerSpec
from mullet.control.emulator.server import BraiinsProtocol, ConnectionStats, RpcProtocol, WhatsminerAuth, WhatsminerProtocol

__all__ = ["EmulatedFleet"]

FIRMWARES = ("cgminer", "luxos", "braiins", "whatsminer")


class EmulatedFleet:
    """``n`` emulated miners of one firmware and model.

    Parameters
    ----------
    n : int
        Number of miners.
    firmware : str
        cgminer, luxos, braiins or whatsminer.
    spec : MinerSpec, optional
        Model and time constants; an Antminer S21 by default.
    host : str
        Loopback address to listen on (127.0.0.0/8 only).
    base_port : int
        First port; miners use base_port .. base_port+n-1; 0: ephemeral ports.
    clock : Clock, optional
        The emulator's clock (a ScaledClock makes physics run faster).
    password : str
        Braiins OS password of user ``root``; Whatsminer admin password (``admin`` when empty).
    """

    def __init__(
        self,
        n: int,
        firmware: str = "luxos",
        spec: MinerSpec | None = None,
        *,
        host: str = "127.0.0.1",
        base_port: int = 0,
        clock: Clock | None = None,
        password: str = "",
        sleeping: bool = False,
    ):
        if firmware not in FIRMWARES:
            raise ValueError(f"firmware: got {firmware!r}, allowed: {list(FIRMWARES)}")
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"host: got {host!r}, allowed: a loopback address (127.0.0.0/8): the emulator never listens elsewhere")
        if not 1 <= n <= 60_000:
            raise ValueError(f"miners: got {n}, allowed: 1..60000")
        if base_port and base_port + n - 1 > 65535:
            raise ValueError(f"base_port: got {base_port} with {n} miners, beyond port 65535")
        self.firmware = firmware
        self.spec = spec or MinerSpec.from_catalog("Antminer S21")
        self.host = host
        self.base_port = base_port
        self.clock = clock or WallClock()
        self.password = password
        self.miners = [EmulatedMiner(self.spec, self.clock, sleeping=sleeping) for _ in range(n)]
        self.ports: list[int] = [0] * n
        self._servers: list[asyncio.Server | None] = [None] * n
        self._tokens: list[dict[str, float]] = [{} for _ in range(n)]
        self._auth = [WhatsminerAuth(password or "admin") for _ in range(n)] if firmware == "whatsminer" else []
        self.stats = ConnectionStats()

    def _factory(self, i: int) -> Any:
        m = self.miners[i]
        if self.firmware == "braiins":
            tokens = self._tokens[i]
            return lambda: BraiinsProtocol(m, tokens, self.password, self.stats)
        if self.firmware == "whatsminer":
            auth = self._auth[i]
            return lambda: WhatsminerProtocol(m, auth, self.stats)
        fw = self.firmware
        return lambda: RpcProtocol(m, fw, self.stats)

    async def _listen(self, i: int) -> None:
        loop = asyncio.get_running_loop()
        port = self.ports[i] or (self.base_port + i if self.base_port else 0)
        server = await loop.create_server(self._factory(i), self.host, port, backlog=128)
        self._servers[i] = server
        self.ports[i] = server.sockets[0].getsockname()[1]

    async def start(self) -> EmulatedFleet:
        """Open every miner's port."""
        for i in range(len(self.miners)):
            if "refuse" not in self.miners[i].faults:
                await self._listen(i)
            elif not self.ports[i]:
                await self._listen(i)
                await self._close(i)
        return self

    async def _close(self, i: int) -> None:
        server = self._servers[i]
        self._servers[i] = None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def stop(self) -> None:
        """Close every port."""
        await asyncio.gather(*(self._close(i) for i in range(len(self.miners))))

    async def __aenter__(self) -> EmulatedFleet:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def set_faults(self, i: int, faults: set[str]) -> None:
        """Set miner ``i``'s fault modes; ``refuse`` closes its port (connections are refused) until cleared."""
        self.miners[i].set_faults(faults)
        if "refuse" in faults and self._servers[i] is not None:
            await self._close(i)
        elif "refuse" not in faults and self._servers[i] is None:
            await self._listen(i)

    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every miner."""
        return [(self.host, p) for p in self.ports]

    def true_power_mw(self) -> float:
        """Physical power of the whole fleet now [MW] (what a site meter would show)."""
        return sum(m.power_w() for m in self.miners) / 1e6

    def nominal_mw(self) -> float:
        """Nominal power of the fleet [MW]."""
        return len(self.miners) * self.spec.nominal_power_w / 1e6
