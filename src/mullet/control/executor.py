"""Carry out the allocator's commands: staggered, rate-limited waves, every command confirmed by read-back.

A command counts as done only when the miner's read-back power confirms it: asleep at or below
``sleep_confirm_w``; a power target at or below target x (1 + tolerance), once it has reached the target or stopped
falling (or the window ends); a wake when the power has left idle.
An acknowledgement without that effect is a failure (the controller hands the MW to other miners). Every network
call goes through one semaphore (the concurrency cap) and has the driver's timeout; every loop is bounded by a
clock deadline.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from mullet.control.allocator import Command
from mullet.control.clock import Clock
from mullet.control.drivers.base import DriverError, MinerDriver, MinerReading

__all__ = ["CommandResult", "ExecutorSettings", "execute", "poll"]


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """Limits of the executor (see :class:`~mullet.control.config.ControlConfig` for meanings and units)."""

    max_concurrency: int = 256
    wave_size: int = 500
    wave_interval_s: float = 5.0
    confirm_timeout_s: float = 30.0
    confirm_poll_s: float = 2.0
    sleep_confirm_w: float = 150.0
    target_tolerance_fraction: float = 0.05
    min_confirm_wall_s: float = 2.0
    steady_polls: int = 6  # read-backs every confirm_poll_s before backing off (12 s at 2 s: a sleep or a target ramp)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """Outcome of one command.

    Attributes
    ----------
    command : Command
        What was asked.
    acked : bool
        The miner acknowledged it.
    confirmed : bool
        Read-back power confirmed the effect.
    readback_w : float or None
        Last read-back power [W].
    error : str or None
        Why it failed.
    sent_at_s, done_at_s : float
        Clock times of sending and of confirmation (or giving up).
    """

    command: Command
    acked: bool
    confirmed: bool
    readback_w: float | None
    error: str | None
    sent_at_s: float
    done_at_s: float


def confirms(cmd: Command, reading: MinerReading, settings: ExecutorSettings, idle_margin_w: float | None = None) -> bool:
    """True when ``reading`` shows the effect of ``cmd`` (never on a failed read)."""
    if not reading.ok or reading.power_w is None:
        return False
    if cmd.action == "sleep":
        return reading.power_w <= settings.sleep_confirm_w
    if cmd.action == "target":
        return reading.power_w <= cmd.power_w * (1.0 + settings.target_tolerance_fraction)
    return reading.power_w > (idle_margin_w if idle_margin_w is not None else 2.0 * settings.sleep_confirm_w)


async def poll(drivers: Sequence[MinerDriver], sem: asyncio.Semaphore) -> list[MinerReading]:
    """Read every miner, at most ``sem`` at once; the order of the result is the order of ``drivers``."""

    async def one(d: MinerDriver) -> MinerReading:
        async with sem:
            return await d.read()

    return list(await asyncio.gather(*(one(d) for d in drivers)))


async def _send(d: MinerDriver, cmd: Command) -> None:
    if cmd.action == "sleep":
        await d.sleep()
    elif cmd.action == "wake":
        await d.wake()
    else:
        await d.set_power_target(cmd.power_w)


async def execute(
    commands: Sequence[Command],
    drivers: dict[str, MinerDriver],
    *,
    clock: Clock,
    settings: ExecutorSettings,
    sem: asyncio.Semaphore | None = None,
    stagger: bool = True,
    deadline_s: float | None = None,
    on_wave: Callable[[int, list[Command]], Awaitable[None]] | None = None,
    on_result: Callable[[CommandResult], Sequence[Command]] | None = None,
    max_followups: int = 100,
) -> list[CommandResult]:
    """Send ``commands`` in waves and confirm each by read-back.

    Parameters
    ----------
    commands : sequence of Command
        In the order they should go out (the allocator's order).
    drivers : dict
        Driver of each miner id.
    clock : Clock
        Clock of stagger and confirmation deadlines.
    settings : ExecutorSettings
        Concurrency cap, wave size and interval, confirmation limits.
    sem : asyncio.Semaphore, optional
        Shared concurrency cap (one is made from ``settings`` if omitted).
    stagger : bool
        Wait ``wave_interval_s`` between waves (False for safety sheds: all waves at once, still capped, power
        targets first since they take longer to show than sleeps).
    deadline_s : float, optional
        Clock time by which every confirmation must be in; the confirmation window shrinks to meet it (to no
        less than three read-back polls after sending).
    on_wave : callable, optional
        Awaited before each wave is sent (the audit log records the wave first); wave -1 are follow-ups.
    on_result : callable, optional
        Called with each result as it comes in; the commands it returns go out at once (a failure handed to
        other miners without waiting for the rest of the wave).
    max_followups : int
        Most calls of ``on_result`` that may add commands (a bound on re-allocation).

    Returns
    -------
    list of CommandResult
        One per command sent (given ones first, in order; then follow-ups).
    """
    sem = sem or asyncio.Semaphore(settings.max_concurrency)
    if not stagger:  # everything goes out at once: power targets first, their ramps take longer to show than sleeps
        commands = sorted(commands, key=lambda c: c.action != "target")
    waves = [list(commands[i : i + settings.wave_size]) for i in range(0, len(commands), settings.wave_size)]
    results: dict[int, CommandResult] = {}
    tasks: list[asyncio.Task[None]] = []
    counter = [0]
    budget = [max_followups]

    def spawn(cmd: Command) -> None:
        tasks.append(asyncio.create_task(run_one(counter[0], cmd)))
        counter[0] += 1

    async def run_one(idx: int, cmd: Command) -> None:
        d = drivers[cmd.miner_id]
        sent = clock.now()
        wall0 = time.monotonic()
        try:
            async with sem:
                await _send(d, cmd)
        except (DriverError, ValueError) as exc:
            await finish(idx, CommandResult(cmd, False, False, None, str(exc), sent, clock.now()))
            return
        until = sent + settings.confirm_timeout_s
        if deadline_s is not None:  # leave half of the time left to whoever takes over a failure, but poll a few times
            until = min(until, max(sent + (deadline_s - sent) / 2.0, sent + 3 * settings.confirm_poll_s))
        step_s = min(settings.confirm_poll_s, max(0.05, (until - sent) / 5.0))
        last: MinerReading | None = None
        prev_w: float | None = None
        idle_margin = 2.0 * settings.sleep_confirm_w
        for n_read in range(10_000):  # bounded; the clock deadline ends it long before
            await clock.sleep(min(step_s, max(0.0, until - clock.now())) or step_s)  # nothing shows the instant it is acknowledged
            if n_read >= settings.steady_polls:  # back off once a command takes longer than sleeps and targets normally do
                step_s = min(2.0 * step_s, 4.0 * settings.confirm_poll_s)
            async with sem:
                last = await d.read()
            done = confirms(cmd, last, settings, idle_margin)
            if done and cmd.action == "target" and last.power_w is not None:
                # within tolerance; wait until it reaches the target or stops falling, so the read-back the plan
                # keeps is where the miner settles, not a point of its ramp
                done = last.power_w <= cmd.power_w + 1.0 or (prev_w is not None and prev_w - last.power_w < 1.0)
                prev_w = last.power_w
            window_over = clock.now() >= until and (deadline_s is not None or not clock.follows_wall or time.monotonic() - wall0 >= settings.min_confirm_wall_s)
            if done or (window_over and confirms(cmd, last, settings, idle_margin)):
                await finish(idx, CommandResult(cmd, True, True, last.power_w, None, sent, clock.now()))
                return
            if window_over:
                break  # network time is wall time: a fast wall-driven clock never cuts the window below min_confirm_wall_s
        why = last.error if last is not None and not last.ok else f"acknowledged, read-back {last.power_w if last else None} W does not confirm {cmd.action}"
        await finish(idx, CommandResult(cmd, True, False, last.power_w if last else None, why, sent, clock.now()))

    async def finish(idx: int, result: CommandResult) -> None:
        results[idx] = result
        if on_result is None:
            return
        more = on_result(result)
        if more and budget[0] > 0:
            budget[0] -= 1
            if on_wave is not None:
                await on_wave(-1, list(more))
            for cmd in more:
                spawn(cmd)

    for w, wave in enumerate(waves):
        if w and stagger and settings.wave_interval_s > 0:
            await clock.sleep(settings.wave_interval_s)
        if on_wave is not None:
            await on_wave(w, wave)
        for cmd in wave:
            spawn(cmd)
        await asyncio.sleep(0)
    for _ in range(100_000):  # follow-up commands add tasks while we wait; bounded by max_followups
        pending = [t for t in tasks if not t.done()]
        if not pending:
            break
        await asyncio.gather(*pending)
    return [results[i] for i in range(counter[0])]
