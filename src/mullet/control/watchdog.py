"""Checks that keep the fleet safe between and around decisions.

- stale signals (price or heartbeat older than ``max_signal_age_s``): nothing is released;
- 4CP risk hours without an alert or all-clear count as peaks (conservative default);
- miners that answer but wake without being told (a reboot, a person at the panel) are taken back into account
  at their read-back power, so the next enforcement sheds them again;
- miners that do not answer are listed (and count at their last known or nominal power).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from mullet.control.allocator import MinerState
from mullet.control.config import ControlConfig
from mullet.control.drivers.base import MinerReading
from mullet.control.signals import Signals

__all__ = ["WatchReport", "apply_readings", "four_cp_risk", "is_stale"]


@dataclass(frozen=True, slots=True)
class WatchReport:
    """What the watchdog saw in one poll.

    Attributes
    ----------
    unresponsive : tuple of str
        Miners whose read failed.
    woke_unexpectedly : tuple of str
        Miners counted asleep whose read-back power says they run.
    fell_asleep : tuple of str
        Miners counted running whose read-back power says they sleep.
    """

    unresponsive: tuple[str, ...]
    woke_unexpectedly: tuple[str, ...]
    fell_asleep: tuple[str, ...]


def is_stale(signals: Signals, cfg: ControlConfig) -> bool:
    """True when the price or the heartbeat is older than ``cfg.max_signal_age_s``."""
    no_price = signals.price_usd_per_mwh != signals.price_usd_per_mwh
    return no_price or signals.price_age_s > cfg.max_signal_age_s or signals.heartbeat_age_s > cfg.max_signal_age_s


def four_cp_risk(interval_start_utc: datetime, cfg: ControlConfig) -> bool:
    """True when the interval starts in a 4CP risk hour (month and local hour of ``cfg``)."""
    local = interval_start_utc.astimezone(ZoneInfo(cfg.timezone))
    return local.month in cfg.four_cp_months and local.hour in cfg.four_cp_hours_local


def apply_readings(states: list[MinerState], readings: list[MinerReading], cfg: ControlConfig, now_s: float, first: bool = False) -> WatchReport:
    """Update ``states`` in place from read-backs (same order) and report what changed.

    On the first poll after a (re)start, a miner found asleep is counted asleep *as of now*, so its minimum
    off time starts again: a restart never wakes curtailed miners early.
    """
    unresponsive, woke, fell = [], [], []
    for s, r in zip(states, readings, strict=True):
        if not r.ok or r.power_w is None:
            s.responsive = False
            unresponsive.append(s.miner_id)
            continue
        s.responsive = True
        s.power_w = r.power_w
        if r.power_w <= cfg.sleep_confirm_w:
            s.idle_w = r.power_w
        if s.suspect and now_s >= s.extra.get("suspect_until_s", 0.0):
            s.suspect = False
        asleep_now = r.power_w <= cfg.sleep_confirm_w
        if first:
            if asleep_now != s.asleep or asleep_now:
                s.changed_at_s = now_s
            s.asleep = asleep_now
            if not asleep_now and s.can_target and s.min_target_w * 0.9 <= r.power_w < 0.98 * s.nominal_power_w:
                s.target_w = max(s.min_target_w, r.power_w)  # running under a power target set before the restart
            continue
        if s.asleep and r.power_w > 2 * cfg.sleep_confirm_w:
            s.asleep = False
            woke.append(s.miner_id)
        elif not s.asleep and asleep_now and s.can_sleep:
            s.asleep = True
            s.changed_at_s = now_s
            fell.append(s.miner_id)
    return WatchReport(tuple(unresponsive), tuple(woke), tuple(fell))
