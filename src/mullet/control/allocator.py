"""Which miners to curtail or release to reach a target mining power: a pure function of the fleet state.

Rules: shed the least efficient machines first (highest J/TH); prefer lowering a power target to sleeping where
the firmware supports targets (the machine keeps hashing at a better J/TH); release the most efficient first,
raising targets before waking sleepers. A waking miner counts at its full target power from the moment it is
commanded (so wake ramps cannot push the site past its interconnect). A miner that did not answer counts at its
last known power, or at nominal power when nothing is known. Minimum on/off times are kept except for safety sheds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Command", "MinerState", "allocate", "planned_power_w"]

Action = Literal["sleep", "wake", "target"]


@dataclass(slots=True)
class MinerState:
    """What the controller knows about one miner (rebuilt from read-backs after a restart).

    Attributes
    ----------
    miner_id : str
        Label.
    nominal_power_w : float
        Catalog power [W].
    efficiency_j_per_th : float
        Catalog efficiency [J/TH] (allocation order).
    can_sleep, can_target : bool
        Firmware capabilities.
    min_target_w : float
        Lowest power target the driver sends [W].
    power_w : float or None
        Last read-back power [W]; None if never read.
    responsive : bool
        The last read succeeded.
    asleep : bool
        Commanded to sleep (or found asleep by read-back).
    target_w : float
        Power target when running [W].
    changed_at_s : float
        Clock time of the last sleep/wake (minimum on/off times).
    suspect : bool
        A command to it failed recently: not used for sheds until a read-back clears it.
    pending : bool
        A command is in flight: the state shows what was commanded, not yet confirmed.
    idle_w : float
        Draw expected while asleep [W]: the last read-back seen asleep, else the controller's prior (the most a
        confirmed sleep may draw), so sheds are sized for the idle draw they leave behind.
    """

    miner_id: str
    nominal_power_w: float
    efficiency_j_per_th: float
    can_sleep: bool
    can_target: bool
    min_target_w: float
    power_w: float | None = None
    responsive: bool = False
    asleep: bool = False
    target_w: float = 0.0
    changed_at_s: float = -1e18
    suspect: bool = False
    pending: bool = False
    idle_w: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.target_w <= 0:
            self.target_w = self.nominal_power_w

    @property
    def controllable(self) -> bool:
        """Answers and accepts at least one curtailment command."""
        return self.responsive and not self.suspect and not self.pending and (self.can_sleep or self.can_target)


@dataclass(frozen=True, slots=True)
class Command:
    """One command to one miner and the power it should draw once carried out [W]."""

    miner_id: str
    action: Action
    power_w: float


def planned_power_w(s: MinerState) -> float:
    """Power the miner will draw once its last command has taken effect [W].

    Conservative: a miner that does not answer counts at its last known power (nominal when never read); a running
    miner at the larger of its target and its read-back power; a miner with a command in flight at what was
    commanded (the executor puts it back if the command fails).
    """
    if not s.responsive or s.suspect:
        if s.power_w is None:
            return s.nominal_power_w
        return s.power_w if s.asleep else max(s.power_w, s.target_w)
    if not (s.can_sleep or s.can_target):
        return s.power_w if s.power_w is not None else s.nominal_power_w
    if s.asleep:  # its idle draw (control board, fans): as read back once confirmed, as expected before
        return s.idle_w if s.pending or s.power_w is None else min(s.power_w, s.nominal_power_w)
    if s.pending or s.power_w is None:
        return s.target_w
    return max(s.target_w, s.power_w)  # a target confirmed within its tolerance may sit a little above it


def allocate(
    states: list[MinerState],
    target_mw: float,
    *,
    now_s: float,
    min_on_s: float = 0.0,
    min_off_s: float = 0.0,
    safety: bool = False,
    allow_wake: bool = True,
    prefer_targets: bool = True,
    deadband_w: float = 0.0,
    shed_tolerance_w: float = 0.0,
) -> list[Command]:
    """Commands that bring the fleet's planned power to at most ``target_mw`` (shed) or up to it (release).

    Parameters
    ----------
    states : list of MinerState
        The fleet.
    target_mw : float
        Wanted mining power [MW] (ASIC power, without cooling).
    now_s : float
        Clock time [s] for minimum on/off times.
    min_on_s, min_off_s : float
        A miner woken less than ``min_on_s`` ago is not shed (unless ``safety``); one put to sleep less than
        ``min_off_s`` ago is not woken.
    safety : bool
        A safety shed (deployment, interconnect, 4CP, stale signal): minimum on-times do not apply.
    allow_wake : bool
        False while a deployment is active or signals are stale: nothing is released.
    prefer_targets : bool
        Lower power targets before sleeping miners.
    deadband_w : float
        Room smaller than this is not released [W] (stops chatter).
    shed_tolerance_w : float
        Planned power this much above the target is left alone [W] (idle draw of sleeping miners, meter noise).

    Returns
    -------
    list of Command
        Sheds ordered least efficient first, releases most efficient first. The planned power after them is
        <= target for a shed; <= target for a release too (a release never overshoots).
    """
    target_w = max(0.0, target_mw) * 1e6
    planned = sum(planned_power_w(s) for s in states)
    gap = planned - target_w
    if -deadband_w <= gap <= shed_tolerance_w:
        return []
    cmds: dict[str, Command] = {}
    eff = {s.miner_id: s.efficiency_j_per_th for s in states}
    if gap > 0:
        running = [s for s in states if s.controllable and not s.asleep and (safety or now_s - s.changed_at_s >= min_on_s)]
        running.sort(key=lambda s: (-s.efficiency_j_per_th, s.miner_id))
        need = gap
        if prefer_targets:
            for s in running:
                if need <= 0:
                    break
                if s.can_target and s.target_w > s.min_target_w + 1.0:
                    new = max(s.min_target_w, s.target_w - need)
                    need -= s.target_w - new
                    cmds[s.miner_id] = Command(s.miner_id, "target", new)
        for s in running:
            if need <= 1e-9:
                break
            if not s.can_sleep:
                if not prefer_targets and s.can_target and s.target_w > s.min_target_w + 1.0:
                    new = max(s.min_target_w, s.target_w - need)
                    need -= s.target_w - new
                    cmds[s.miner_id] = Command(s.miner_id, "target", new)
                continue
            now_w = cmds[s.miner_id].power_w if s.miner_id in cmds else s.target_w
            need -= now_w - s.idle_w
            cmds[s.miner_id] = Command(s.miner_id, "sleep", s.idle_w)
        if need < -1.0 and prefer_targets:
            # a whole miner asleep overshot: hand the excess back to running miners' targets, most efficient first
            # (first those just lowered, up to where they were; then others, up to nominal)
            awake = [s for s in running if s.can_target and cmds.get(s.miner_id, Command(s.miner_id, "target", 0.0)).action == "target"]
            awake.sort(key=lambda s: (s.miner_id not in cmds, s.efficiency_j_per_th, s.miner_id))
            for s in awake:
                if need >= -1.0:
                    break
                now_w = cmds[s.miner_id].power_w if s.miner_id in cmds else s.target_w
                top = s.target_w if s.miner_id in cmds else s.nominal_power_w
                up = min(-need, max(0.0, top - now_w))
                if up > 1.0:
                    cmds[s.miner_id] = Command(s.miner_id, "target", now_w + up)
                    need += up
            for s in awake:  # a target handed all the way back is no command at all
                c = cmds.get(s.miner_id)
                if c is not None and c.action == "target" and abs(c.power_w - s.target_w) <= 1.0:
                    del cmds[s.miner_id]
        return sorted(cmds.values(), key=lambda c: (-eff[c.miner_id], c.miner_id))
    if not allow_wake:
        return []
    room = -gap
    ready = [s for s in states if s.controllable]
    ready.sort(key=lambda s: (s.efficiency_j_per_th, s.miner_id))
    for s in ready:
        if room <= 0:
            break
        if not s.asleep and s.can_target and s.target_w < s.nominal_power_w - 1.0:
            new = min(s.nominal_power_w, s.target_w + room)
            if new - s.target_w < 1.0:
                continue
            room -= new - s.target_w
            cmds[s.miner_id] = Command(s.miner_id, "target", new)
    for s in ready:
        if room <= 0:
            break
        rise = s.target_w - planned_power_w(s)  # from its idle draw to its target
        if s.asleep and s.can_sleep and now_s - s.changed_at_s >= min_off_s and rise <= room + 1e-9:
            room -= rise
            cmds[s.miner_id] = Command(s.miner_id, "wake", s.target_w)
    return sorted(cmds.values(), key=lambda c: (eff[c.miner_id], c.miner_id))
