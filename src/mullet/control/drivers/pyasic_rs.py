"""An adapter over pyasic-rs (Apache-2.0; ``pip install 'mullet[fleet]'``) for firmware the native drivers do not speak.

pyasic-rs (the Python bindings of the Rust ``asic-rs`` library, 0.8.x) identifies a miner by its address
(``MinerFactory().get_miner(ip)``: it probes each firmware's standard ports itself, so the inventory's port is
not used) and offers awaitable reads (``get_wattage``, ``get_hashrate``, ``get_is_mining``) and controls
(``pause``, ``resume``, ``set_power_limit``), each flagged by a ``supports_*`` property. This adapter maps them
onto :class:`~mullet.control.drivers.base.MinerDriver`: every call is bounded by the driver's timeout, a control
the miner does not support raises :class:`UnsupportedCommand` (the controller then sheds another miner), and the
library is imported only when a driver is made, with an error naming the extra when it is missing.

Tried once by hand with pyasic-rs 0.8.6 against this package's emulator on 127.0.0.2:4028: it identified the
LuxOS emulator ("Antminer S21 (LuxOS)"), read its power and paused it (the emulator's power fell to idle); its
hashrate came back as None (the emulator lacks the commands pyasic-rs reads it from); it identified neither the
Whatsminer nor the CGMiner emulator. The test suite uses a fake module and never needs the library.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable
from types import ModuleType
from typing import Any, TypeVar

from mullet.control.clock import io_in_flight
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading, UnsupportedCommand
from mullet.errors import MulletError

__all__ = ["PyasicRsDriver", "load_pyasic_rs"]

T = TypeVar("T")


def load_pyasic_rs() -> tuple[ModuleType, ModuleType]:
    """The ``pyasic_rs`` package and its ``data`` module; a one-line error naming the extra when not installed."""
    try:
        return importlib.import_module("pyasic_rs"), importlib.import_module("pyasic_rs.data")
    except ImportError:
        raise MulletError("firmware pyasic-rs: the package is not installed; install it with: pip install 'mullet[fleet]'") from None


class PyasicRsDriver(MinerDriver):
    """Any firmware pyasic-rs identifies: measured power, pause/resume and a power limit where the miner supports them.

    The capabilities are claimed for the class (the controller plans with them); a miner that turns out not to
    support a control answers it with :class:`UnsupportedCommand`, which the controller treats as a failed shed.
    """

    firmware = "pyasic-rs"
    capabilities = Capabilities(sleep=True, power_target=True, power_measured=True)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lib, self._data = load_pyasic_rs()
        self._miner: Any = None

    async def _bounded(self, what: str, call: Awaitable[T]) -> T:
        try:
            with io_in_flight():
                async with asyncio.timeout(self.timeout_s):
                    return await call
        except TimeoutError:
            raise DriverError(f"{self.miner_id} ({self.host}) {what}: no answer within {self.timeout_s:g} s") from None
        except DriverError:
            raise
        except Exception as exc:  # the library's errors (connection, parsing) become driver errors, named
            raise DriverError(f"{self.miner_id} ({self.host}) {what}: {type(exc).__name__}: {exc}") from None

    async def _get(self) -> Any:
        if self._miner is None:
            miner = await self._bounded("identify", self._lib.MinerFactory().get_miner(self.host))
            if miner is None:
                raise DriverError(f"{self.miner_id} ({self.host}): pyasic-rs identified no miner at this address")
            if self.credentials is not None:
                miner.set_auth(self.credentials.user, self.credentials.password)
            self._miner = miner
        return self._miner

    async def read(self) -> MinerReading:
        """Power, hashrate and the mining flag (three calls at once; pyasic-rs gives no single cheap read)."""
        try:
            m = await self._get()
            watts, rate, mining = await self._bounded("read", asyncio.gather(m.get_wattage(), m.get_hashrate(), m.get_is_mining()))
            if watts is None:
                raise DriverError(f"{self.miner_id} ({self.host}): the miner reports no power")
            ths = None if rate is None else float(rate.as_unit(self._data.HashRateUnit.TeraHash).value)  # None: not reported
            return MinerReading(self.miner_id, True, float(watts), True, ths, None, "mining" if mining else "sleeping")
        except DriverError as exc:
            return MinerReading(self.miner_id, False, error=str(exc))

    async def _control(self, supported: str, what: str, call: str, *args: Any) -> None:
        m = await self._get()
        if not getattr(m, supported, False):
            raise UnsupportedCommand(f"{self.miner_id} ({self.host}): pyasic-rs has no {what} for this miner")
        if not await self._bounded(what, getattr(m, call)(*args)):
            raise DriverError(f"{self.miner_id} ({self.host}) {what}: the miner refused")

    async def sleep(self) -> None:
        """``pause()``."""
        await self._control("supports_pause", "pause", "pause")

    async def wake(self) -> None:
        """``resume()``."""
        await self._control("supports_resume", "resume", "resume")

    async def set_power_target(self, power_w: float) -> None:
        """``set_power_limit(watts)``."""
        await self._control("supports_set_power_limit", "power limit", "set_power_limit", float(self._check_target(power_w)))
