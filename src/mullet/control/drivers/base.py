"""One async interface for every miner firmware: read, sleep, wake, set a power target.

A driver never blocks longer than its timeout (wall seconds) on any network call. ``read`` never raises: a
failed read is a :class:`MinerReading` with ``ok=False`` and the error. Commands raise :class:`DriverError`
(or :class:`UnsupportedCommand`) when the miner refuses, times out or answers nonsense. A command that returns
is only an acknowledgement: the controller confirms every command by reading the power back.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import ClassVar, Literal

from mullet.control.config import Credentials
from mullet.errors import MulletError

__all__ = ["Capabilities", "DriverError", "MinerDriver", "MinerReading", "UnsupportedCommand"]

State = Literal["mining", "sleeping", "unknown"]


class DriverError(MulletError):
    """A miner did not carry out a command: refused, timed out, malformed answer or error status."""


class UnsupportedCommand(DriverError):
    """The firmware has no such command (e.g. sleep on stock CGMiner/BMMiner)."""


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a firmware can do.

    Attributes
    ----------
    sleep : bool
        Can be put to sleep and woken.
    power_target : bool
        Accepts a power target in watts.
    power_measured : bool
        Reports its power draw (otherwise power is estimated from hashrate and nominal efficiency).
    """

    sleep: bool
    power_target: bool
    power_measured: bool


@dataclass(frozen=True, slots=True)
class MinerReading:
    """One read-back of a miner.

    Attributes
    ----------
    miner_id : str
        Label of the miner.
    ok : bool
        The miner answered with a well-formed reply.
    power_w : float or None
        Power at the wall [W] (estimated when ``power_measured`` is False).
    power_measured : bool
        True when the firmware reported the power itself.
    hashrate_ths : float or None
        Current hashrate [TH/s].
    temperature_c : float or None
        Hottest reported temperature [degC].
    state : str
        What the firmware *says* (mining, sleeping, unknown); never trusted alone.
    error : str or None
        Why the read failed.
    """

    miner_id: str
    ok: bool
    power_w: float | None = None
    power_measured: bool = False
    hashrate_ths: float | None = None
    temperature_c: float | None = None
    state: State = "unknown"
    error: str | None = None


class MinerDriver(abc.ABC):
    """Base class of the drivers.

    Parameters
    ----------
    miner_id : str
        Label used in the audit log.
    host, port : str, int
        Address of the miner's API.
    nominal_power_w, nominal_hashrate_ths : float
        Catalog power [W] and hashrate [TH/s] of the model (estimates and allocation).
    credentials : Credentials, optional
        For firmware that needs a login.
    timeout_s : float
        Timeout of every network call [s] (wall time).
    """

    firmware: ClassVar[str] = "base"
    capabilities: ClassVar[Capabilities] = Capabilities(sleep=False, power_target=False, power_measured=False)

    def __init__(
        self,
        miner_id: str,
        host: str,
        port: int,
        *,
        nominal_power_w: float,
        nominal_hashrate_ths: float,
        credentials: Credentials | None = None,
        timeout_s: float = 2.0,
    ):
        if not timeout_s > 0:
            raise ValueError(f"timeout_s: got {timeout_s}, allowed: > 0")
        self.miner_id = miner_id
        self.host = host
        self.port = port
        self.nominal_power_w = float(nominal_power_w)
        self.nominal_hashrate_ths = float(nominal_hashrate_ths)
        self.credentials = credentials
        self.timeout_s = float(timeout_s)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.miner_id!r}, {self.host}:{self.port})"

    @property
    def min_power_target_w(self) -> float:
        """Lowest power target the driver will send (60% of nominal: a safe floor for air-cooled S19/S21 tuning) [W]."""
        return 0.6 * self.nominal_power_w

    def estimate_power_w(self, hashrate_ths: float) -> float:
        """Power from hashrate at the model's nominal efficiency, for firmware that does not report power [W]."""
        return max(0.0, hashrate_ths) * self.nominal_power_w / self.nominal_hashrate_ths

    @abc.abstractmethod
    async def read(self) -> MinerReading:
        """Read power, hashrate, temperature and the firmware's state flag; never raises."""

    async def sleep(self) -> None:
        """Put the miner to sleep (hashboards and PSU off or paused)."""
        raise UnsupportedCommand(f"{self.miner_id}: firmware {self.firmware} has no sleep command")

    async def wake(self) -> None:
        """Wake the miner from sleep; it ramps back to its power target."""
        raise UnsupportedCommand(f"{self.miner_id}: firmware {self.firmware} has no wake command")

    async def set_power_target(self, power_w: float) -> None:
        """Ask the miner to run at ``power_w`` watts."""
        raise UnsupportedCommand(f"{self.miner_id}: firmware {self.firmware} has no power target")

    def _check_target(self, power_w: float) -> int:
        if not self.min_power_target_w <= power_w <= self.nominal_power_w * 1.001:
            raise ValueError(f"power_w: got {power_w:.0f}, allowed: {self.min_power_target_w:.0f}..{self.nominal_power_w:.0f} W for {self.miner_id}")
        return round(power_w)
