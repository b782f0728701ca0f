"""Power physics and fault modes of one emulated miner (no network: see :mod:`mullet.control.emulator.server`).

Physics, on the emulator's clock: sleep brings the power down to the control board's idle draw over ``sleep_s``;
a wake ramps it back to the power target over ``wake_s``; a new power target is reached over ``target_s``.
Power moves linearly between those points and never overshoots. Hashrate is proportional to the power above idle
(a simplification: real chips gain a little efficiency when underclocked). A reboot draws idle power for
``reboot_s`` and comes back in the state it had (LuxOS keeps curtailment over reboots).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from mullet.control.clock import Clock

__all__ = ["FAULTS", "EmulatedMiner", "MinerSpec"]

#: refuse: connection refused; stall: accepts, never answers; truncated / malformed: broken JSON; error_status: every
#: command answers STATUS E; session_busy: another LuxOS session holds the miner; no_effect: commands acknowledged,
#: nothing happens; lying_state: acknowledged, the state flag changes, the power does not; failed_wake: wakes are
#: acknowledged and ignored; reboot_mid_command: the first command drops the connection and reboots the miner;
#: frozen_telemetry: reads repeat the values of the moment the fault was set.
Fault = Literal[
    "refuse",
    "stall",
    "truncated",
    "malformed",
    "error_status",
    "session_busy",
    "no_effect",
    "lying_state",
    "failed_wake",
    "reboot_mid_command",
    "frozen_telemetry",
]
FAULTS: tuple[Fault, ...] = get_args(Fault)


@dataclass(frozen=True, slots=True)
class MinerSpec:
    """Nominal figures and time constants of an emulated model.

    Attributes
    ----------
    model : str
        Catalog name.
    nominal_power_w, nominal_hashrate_ths : float
        Power at the wall [W] and hashrate [TH/s] at stock settings.
    idle_power_w : float
        Draw of the control board while asleep [W].
    sleep_s, wake_s, target_s, reboot_s : float
        Seconds to fall asleep, ramp up from sleep, reach a new power target, reboot.
    """

    model: str
    nominal_power_w: float
    nominal_hashrate_ths: float
    idle_power_w: float = 15.0
    sleep_s: float = 5.0
    wake_s: float = 60.0
    target_s: float = 10.0
    reboot_s: float = 30.0

    @classmethod
    def from_catalog(cls, model: str = "Antminer S21", **kwargs: float) -> MinerSpec:
        """Spec of a model of the bundled catalog."""
        from mullet.data import load_asic_catalog

        row = load_asic_catalog().loc[model]
        return cls(model, float(row["power_w"]), float(row["hashrate_ths"]), **kwargs)


class EmulatedMiner:
    """One miner's state on a clock. Commands return an acknowledgement the way firmware does, faults included."""

    __slots__ = ("_frozen", "_p0", "_p1", "_t0", "_t1", "clock", "faults", "flag_sleeping", "power_target_w", "reboot_until", "session", "session_t", "spec")

    def __init__(self, spec: MinerSpec, clock: Clock, *, sleeping: bool = False, faults: set[str] | None = None):
        self.spec = spec
        self.clock = clock
        self.power_target_w = spec.nominal_power_w
        p = spec.idle_power_w if sleeping else spec.nominal_power_w
        now = clock.now()
        self._p0, self._p1, self._t0, self._t1 = p, p, now, now
        self.flag_sleeping = sleeping
        self.reboot_until = -1.0
        self.session = ""
        self.session_t = 0.0
        self.faults: set[str] = set()
        self._frozen: tuple[float, float, float] | None = None
        self.set_faults(faults or set())

    # --- faults -------------------------------------------------------------------------------------------------
    def set_faults(self, faults: set[str]) -> None:
        """Replace the active fault modes (frozen telemetry freezes the values of this moment)."""
        bad = set(faults) - set(FAULTS)
        if bad:
            raise ValueError(f"faults: got {sorted(bad)}, allowed: {list(FAULTS)}")
        self.faults = set(faults)
        self._frozen = self._telemetry() if "frozen_telemetry" in faults else None

    # --- physics ------------------------------------------------------------------------------------------------
    @property
    def sleeping(self) -> bool:
        """The physical state: asleep (heading to or at idle power)."""
        return self._p1 <= self.spec.idle_power_w

    def power_w(self) -> float:
        """True power at the wall now [W]."""
        return self.power_at(self.clock.now())

    def power_at(self, t: float) -> float:
        """True power at clock time ``t`` [W], if no command arrives before then."""
        if t < self.reboot_until:
            return self.spec.idle_power_w
        if t >= self._t1:
            return self._p1
        return self._p0 + (self._p1 - self._p0) * (t - self._t0) / (self._t1 - self._t0)

    def _move(self, to_w: float, over_s: float) -> None:
        now = self.clock.now()
        self._p0, self._p1, self._t0, self._t1 = self.power_w(), to_w, now, now + max(over_s, 1e-9)

    def breakpoints(self) -> tuple[float, float]:
        """Clock times where the power curve bends without a new command: the end of the ramp and of a reboot."""
        return self._t1, self.reboot_until

    def _telemetry(self) -> tuple[float, float, float]:
        p = self.power_w()
        s = self.spec
        ths = max(0.0, s.nominal_hashrate_ths * (p - s.idle_power_w) / (s.nominal_power_w - s.idle_power_w))
        if ths < 1e-6 * s.nominal_hashrate_ths:
            ths = 0.0
        return p, ths, 30.0 + 40.0 * p / s.nominal_power_w

    def telemetry(self) -> tuple[float, float, float]:
        """Reported (power [W], hashrate [TH/s], temperature [degC]); frozen when that fault is active."""
        return self._frozen if self._frozen is not None else self._telemetry()

    def reported_sleeping(self) -> bool:
        """The state flag the firmware reports (lies under ``lying_state``)."""
        return self.flag_sleeping

    # --- commands (acknowledgements) ------------------------------------------------------------------------------
    def reboot(self) -> None:
        """Reboot: idle power for ``reboot_s``, then back to the state before (the command that caused it is lost)."""
        self.reboot_until = self.clock.now() + self.spec.reboot_s
        self.faults.discard("reboot_mid_command")

    def sleep(self) -> None:
        """Go to sleep (ack)."""
        if "no_effect" in self.faults:
            return
        self.flag_sleeping = True
        if "lying_state" in self.faults:
            return
        if not self.sleeping:
            self._move(self.spec.idle_power_w, self.spec.sleep_s)

    def wake(self) -> None:
        """Wake up and ramp to the power target (ack)."""
        if "no_effect" in self.faults or "failed_wake" in self.faults:
            return
        self.flag_sleeping = False
        if "lying_state" in self.faults:
            return
        if self.sleeping or self._p1 != self.power_target_w:
            self._move(self.power_target_w, self.spec.wake_s)

    def set_power_target(self, power_w: float) -> None:
        """New power target; applied now when mining, on the next wake when asleep (ack)."""
        if "no_effect" in self.faults or "lying_state" in self.faults:
            return
        self.power_target_w = min(max(power_w, 0.5 * self.spec.nominal_power_w), self.spec.nominal_power_w)
        if not self.sleeping:
            self._move(self.power_target_w, self.spec.target_s)
