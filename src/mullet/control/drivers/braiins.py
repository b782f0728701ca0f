"""Braiins OS public REST API: login token, pause/resume, power target, stats.

Written from the public Braiins OS API description (developer.braiins-os.com; the REST face of the bos-plus-api
protocol buffers): ``POST /api/v1/auth/login`` with ``{"username", "password"}`` returns ``{"token",
"timeout_s"}``; the token goes in the ``Authorization`` header; ``PUT /api/v1/actions/pause`` and ``/resume``;
``PUT /api/v1/performance/power-target`` with ``{"watt": N}``; ``GET /api/v1/miner/stats`` (power in
``power_stats.approximated_consumption.watt``, hashrate in ``miner_stats.real_hashrate.last_5s``),
``GET /api/v1/miner/details`` (``status``), ``GET /api/v1/cooling/state``. Check the paths against your firmware
version: the REST gateway is young and has moved between releases.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mullet.control.drivers._http import http_json
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading

__all__ = ["BraiinsDriver"]


def _dig(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict) or k not in obj:
            return None
        obj = obj[k]
    return obj


class BraiinsDriver(MinerDriver):
    """Braiins OS: measured power, pause/resume, power targets; a login token reused until it expires."""

    firmware = "braiins"
    capabilities = Capabilities(sleep=True, power_target=True, power_measured=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._token: str | None = None

    async def _login(self) -> str:
        user = self.credentials.user if self.credentials else "root"
        password = self.credentials.password if self.credentials else ""
        status, body = await http_json(self.host, self.port, "POST", "/api/v1/auth/login", {"username": user, "password": password}, timeout_s=self.timeout_s)
        token = _dig(body, "token")
        if status != 200 or not isinstance(token, str) or not token:
            raise DriverError(f"{self.miner_id}: login refused (HTTP {status})")
        self._token = token
        return token

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        for attempt in range(2):  # a second try after a fresh login when the token has expired
            token = self._token or await self._login()
            status, reply = await http_json(self.host, self.port, method, path, body, headers={"Authorization": token}, timeout_s=self.timeout_s)
            if status == 401 and attempt == 0:
                self._token = None
                continue
            if status // 100 != 2:
                raise DriverError(f"{self.miner_id} {method} {path}: HTTP {status} {_dig(reply, 'message') or ''}".rstrip())
            return reply
        raise DriverError(f"{self.miner_id} {method} {path}: unauthorised after a fresh login")

    async def read(self) -> MinerReading:
        """Read stats, details and cooling state (three requests at once)."""
        try:
            stats, details, cooling = await asyncio.gather(
                self._call("GET", "/api/v1/miner/stats"), self._call("GET", "/api/v1/miner/details"), self._call("GET", "/api/v1/cooling/state")
            )
            watts = _dig(stats, "power_stats", "approximated_consumption", "watt")
            ghs = _dig(stats, "miner_stats", "real_hashrate", "last_5s", "gigahash_per_second")
            if not isinstance(watts, int | float) or not isinstance(ghs, int | float):
                raise DriverError(f"{self.miner_id}: stats without power or hashrate")
            temp = _dig(cooling, "highest_temperature", "temperature", "degree_c")
            flag = str(_dig(details, "status") or "")
            state = "sleeping" if "PAUSED" in flag else "mining" if "NORMAL" in flag else "unknown"
            return MinerReading(self.miner_id, True, float(watts), True, float(ghs) / 1000.0, float(temp) if isinstance(temp, int | float) else None, state)  # type: ignore[arg-type]
        except DriverError as exc:
            return MinerReading(self.miner_id, False, error=str(exc))

    async def sleep(self) -> None:
        """``PUT /api/v1/actions/pause``."""
        await self._call("PUT", "/api/v1/actions/pause")

    async def wake(self) -> None:
        """``PUT /api/v1/actions/resume``."""
        await self._call("PUT", "/api/v1/actions/resume")

    async def set_power_target(self, power_w: float) -> None:
        """``PUT /api/v1/performance/power-target`` with ``{"watt": N}``."""
        await self._call("PUT", "/api/v1/performance/power-target", {"watt": self._check_target(power_w)})
