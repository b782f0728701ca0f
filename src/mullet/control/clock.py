"""Clocks of the controller and the emulator: wall time, or a scaled time for replays and tests.

``now()`` is monotonic seconds (emulated seconds for a :class:`ScaledClock`); ``utcnow()`` is the tz-aware UTC
time the audit log stamps; ``sleep()`` waits the given number of clock seconds. Network timeouts are always wall
seconds and never scaled.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "ScaledClock", "WallClock"]


class Clock(Protocol):
    """What the controller and the emulator need to know about time."""

    def now(self) -> float:
        """Monotonic seconds of this clock."""
        ...

    def utcnow(self) -> datetime:
        """Current tz-aware UTC time of this clock."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock."""
        ...


class WallClock:
    """Real time."""

    def now(self) -> float:
        """Monotonic wall seconds."""
        return time.monotonic()

    def utcnow(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` wall seconds."""
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock:
    """Time running ``speed`` times faster than the wall clock, starting at ``start_utc``.

    Parameters
    ----------
    speed : float
        Emulated seconds per wall second (60 = one minute per second) [-].
    start_utc : datetime, optional
        UTC time at creation; now if omitted.
    """

    def __init__(self, speed: float = 1.0, start_utc: datetime | None = None):
        if not speed > 0:
            raise ValueError(f"speed: got {speed}, allowed: > 0")
        self.speed = float(speed)
        self._wall0 = time.monotonic()
        self._utc0 = start_utc or datetime.now(UTC)
        if self._utc0.tzinfo is None:
            raise ValueError("start_utc: got a naive datetime; allowed: tz-aware UTC")

    def now(self) -> float:
        """Emulated seconds since creation."""
        return (time.monotonic() - self._wall0) * self.speed

    def utcnow(self) -> datetime:
        """Emulated UTC time."""
        return self._utc0 + timedelta(seconds=self.now())

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` emulated seconds (``seconds / speed`` wall seconds)."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)


class ManualClock:
    """A clock that moves only when told (pure unit tests); ``sleep`` advances it instantly."""

    def __init__(self, start: float = 0.0, start_utc: datetime | None = None):
        self._t = float(start)
        self._utc0 = start_utc or datetime(2023, 8, 1, tzinfo=UTC)

    def now(self) -> float:
        """Current seconds."""
        return self._t

    def utcnow(self) -> datetime:
        """UTC time at ``now()``."""
        return self._utc0 + timedelta(seconds=self._t)

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._t += max(0.0, seconds)

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and yield to the event loop once."""
        self.advance(seconds)
        await asyncio.sleep(0)
