"""LuxOS (LUXminer) on the CGMiner-style RPC: reads, sleep/wakeup through ``curtail``, power targets through profiles.

Written from the public LuxOS API documentation (docs.luxor.tech/firmware/api): commands that change the miner
need a session: ``logon`` returns ``SESSION[0].SessionID`` (only one session may exist; it expires after a minute
unused), the session id is the first parameter of ``curtail`` (``ID,sleep`` / ``ID,wakeup``) and ``profileset``
(``ID,3200W`` selects the profile nearest a power in watts), and ``logoff`` (``ID``) releases it. This driver
always releases its session, also when the command fails. ``power`` reports ``POWER[0].Watts``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mullet.control.clock import io_in_flight
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading
from mullet.control.drivers.cgminer import _sub, hashrate_ths_of, rpc_request, section, status_of

__all__ = ["LuxOSDriver"]


class LuxOSDriver(MinerDriver):
    """LuxOS: measured power, sleep/wakeup, power targets via profiles."""

    firmware = "luxos"
    capabilities = Capabilities(sleep=True, power_target=True, power_measured=True)
    #: attempts to obtain a session when another one is active (bounded), and the pause between them [s]
    logon_attempts = 3
    logon_retry_s = 0.2

    async def _rpc(self, command: str, parameter: str = "") -> dict[str, Any]:
        return await rpc_request(self.host, self.port, command, parameter, timeout_s=self.timeout_s)

    async def read(self) -> MinerReading:
        """Read summary, power and temperatures in one request."""
        where = f"{self.miner_id} ({self.host}:{self.port})"
        try:
            reply = await self._rpc("summary+power+temps")
            ths = hashrate_ths_of(section(_sub(reply, "summary", where), "SUMMARY", where))
            watts = float(section(_sub(reply, "power", where), "POWER", where)["Watts"])
            temp = None
            try:
                rows = _sub(reply, "temps", where).get("TEMPS") or []
                vals = [float(v) for r in rows if isinstance(r, dict) for k, v in r.items() if k != "Board" and isinstance(v, int | float)]
                temp = max(vals) if vals else None
            except DriverError:
                pass
            state = "sleeping" if ths <= 0.0 else "mining"
            return MinerReading(self.miner_id, True, watts, True, ths, temp, state)  # type: ignore[arg-type]
        except (DriverError, ValueError, TypeError, KeyError) as exc:
            return MinerReading(self.miner_id, False, error=str(exc) if not isinstance(exc, KeyError) else f"{where}: POWER has no Watts")

    async def _logon(self) -> str:
        where = f"{self.miner_id} logon"
        for attempt in range(self.logon_attempts):
            reply = await self._rpc("logon")
            try:
                sid = str(section(reply, "SESSION", where).get("SessionID") or "")
            except DriverError:
                if attempt + 1 == self.logon_attempts:
                    raise DriverError(f"{where}: session busy or refused after {self.logon_attempts} attempts") from None
                with io_in_flight():  # a protocol pause (wall time), part of the exchange
                    await asyncio.sleep(self.logon_retry_s)
                continue
            if not sid:
                raise DriverError(f"{where}: no SessionID in the reply")
            return sid
        raise DriverError(f"{where}: no session")  # unreachable: the loop returns or raises

    async def _logoff(self, sid: str) -> None:
        with contextlib.suppress(DriverError):  # the miner drops an unused session after a minute anyway
            await self._rpc("logoff", sid)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[str]:
        """A LuxOS session, released on exit whatever happens inside."""
        sid = await self._logon()
        try:
            yield sid
        finally:
            await self._logoff(sid)

    async def _write(self, command: str, arg: str) -> None:
        sid = await self._logon()
        try:  # the same release as :meth:`session`, without a context manager on the hot path
            reply = await self._rpc(command, f"{sid},{arg}")
            status_of(reply, f"{self.miner_id} {command}")
        finally:
            await self._logoff(sid)

    async def sleep(self) -> None:
        """``curtail ID,sleep``."""
        await self._write("curtail", "sleep")

    async def wake(self) -> None:
        """``curtail ID,wakeup``."""
        await self._write("curtail", "wakeup")

    async def set_power_target(self, power_w: float) -> None:
        """``profileset ID,<W>W``: the profile nearest ``power_w``."""
        await self._write("profileset", f"{self._check_target(power_w)}W")
