"""Clocks of the controller and the emulator: wall time, a scaled time for demos, a virtual time for tests.

``now()`` is monotonic seconds (emulated seconds for a :class:`ScaledClock`); ``utcnow()`` is the tz-aware UTC
time the audit log stamps; ``sleep()`` waits the given number of clock seconds. Network timeouts are always wall
seconds and never scaled. A :class:`VirtualClock` (tests, replays) is deterministic: it moves only when every task
waits on it, never during a network call, so a loaded machine cannot make physics outrun the controller.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "ManualClock", "ScaledClock", "VirtualClock", "WallClock", "io_in_flight"]


class Clock(Protocol):
    """What the controller and the emulator need to know about time.

    ``follows_wall`` is True when clock time passes with wall time (network time then costs clock time).
    """

    follows_wall: bool

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

    follows_wall = True

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

    follows_wall = True

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

    follows_wall = False

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


#: Network exchanges and audit writes in progress (see :func:`io_in_flight`); a :class:`VirtualClock` stands still
#: while any is open, so no clock time passes during a network call however slow the machine is.
_IN_FLIGHT = [0]


@contextmanager
def io_in_flight() -> Iterator[None]:
    """Mark a network exchange (or an audit write) in progress: :class:`VirtualClock` time stands still meanwhile."""
    _IN_FLIGHT[0] += 1
    try:
        yield
    finally:
        _IN_FLIGHT[0] -= 1


class VirtualClock:
    """A discrete-event clock for tests: deterministic, independent of the machine's load.

    Time moves only when the test calls :meth:`advance`, or when nothing else can happen first: then it jumps to
    the earliest wake-up of a :meth:`sleep`. It stands still while a task is runnable, while a network exchange or
    an audit write is in flight (:func:`io_in_flight`, which also covers a wall-time network timeout), so network
    calls take no clock time and physics never run ahead of the controller on a busy machine. A task waiting on
    anything else (a plain ``asyncio.sleep``, a queue) does not hold the clock. Runnable tasks are seen through
    asyncio's ready queue; on another loop (uvloop) 50 idle turns of the loop stand in for it.

    Parameters
    ----------
    start : float
        ``now()`` at creation [s].
    start_utc : datetime, optional
        UTC time at ``now() == start``; 1 August 2023 00:00 UTC if omitted.

    Attributes
    ----------
    listeners : list of callable
        Each is called with (from_s, to_s) before every jump of the clock (nothing else runs during a jump).
    """

    follows_wall = False

    def __init__(self, start: float = 0.0, start_utc: datetime | None = None):
        self._t = float(start)
        self._start = float(start)
        self._utc0 = start_utc or datetime(2023, 8, 1, tzinfo=UTC)
        if self._utc0.tzinfo is None:
            raise ValueError("start_utc: got a naive datetime; allowed: tz-aware UTC")
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0
        self._runner: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[float, float], None]] = []

    def now(self) -> float:
        """Clock seconds."""
        return self._t

    def utcnow(self) -> datetime:
        """UTC time at ``now()``."""
        return self._utc0 + timedelta(seconds=self._t - self._start)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` and wake every sleeper due by then."""
        self._wake_until(self._t + max(0.0, seconds))

    def _wake_until(self, t: float) -> None:
        if t > self._t:
            for listen in list(self.listeners):  # e.g. a meter that finds the peak of the physics over the jump
                listen(self._t, t)
        self._t = max(self._t, t)
        while self._sleepers and self._sleepers[0][0] <= self._t:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)

    async def sleep(self, seconds: float) -> None:
        """Wait until the clock reaches ``now() + seconds`` (time jumps there once nothing else can run)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._seq += 1
        heapq.heappush(self._sleepers, (self._t + seconds, self._seq, fut))
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._advance_when_idle())
        await fut

    async def _advance_when_idle(self) -> None:
        loop = asyncio.get_running_loop()
        ready = getattr(loop, "_ready", None)  # asyncio's queue of runnable callbacks (uvloop has none: count idle turns)
        idle_turns = 0
        for _ in range(10**9):  # ends when no task sleeps on this clock
            while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                return
            await asyncio.sleep(0)
            if _IN_FLIGHT[0] > 0:
                idle_turns = 0
                await asyncio.sleep(0.0005)  # a network exchange is in flight: wait for it, in wall time
                continue
            if ready is not None and len(ready) > 0:
                continue
            idle_turns += 1
            if ready is None and idle_turns < 50:
                continue
            idle_turns = 0
            if self._sleepers:
                self._wake_until(self._sleepers[0][0])
