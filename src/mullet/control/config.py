"""The ``[control]`` section of a scenario TOML: the miner inventory and the controller's safety settings.

Credentials never live in the TOML: a miner block names an environment variable or a secrets file (mode 0600)
that holds ``user:password``. Every time is in seconds, every power in W or MW as its name says.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mullet.errors import ScenarioError

__all__ = ["ControlConfig", "Credentials", "MinerBlock", "resolve_credentials"]

Firmware = Literal["cgminer", "luxos", "braiins", "whatsminer", "pyasic-rs"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Credentials(BaseModel):
    """A user name and password read from the environment or a 0600 secrets file (never from the TOML)."""

    model_config = ConfigDict(frozen=True)

    user: str
    password: str = Field(repr=False)


class MinerBlock(_Model):
    """One miner, or ``count`` miners on consecutive ports of one host (how the emulator serves a fleet)."""

    name: Annotated[str, Field(min_length=1, description="Label of the block; miners are NAME-0, NAME-1, ...")] = "miners"
    host: Annotated[str, Field(min_length=1, description="IP address or host name of the (first) miner.")]
    port: Annotated[int, Field(ge=0, le=65535, description="API port of the first miner: 4028 RPC (cgminer, luxos, whatsminer), 80 REST (braiins).")] = 4028
    count: Annotated[int, Field(ge=1, le=100_000, description="Miners on consecutive ports from `port` [-].")] = 1
    firmware: Annotated[Firmware, Field(description="Wire protocol: cgminer (read-only), luxos, braiins, whatsminer; pyasic-rs (extra) for others.")] = "luxos"
    model: Annotated[str, Field(description="ASIC model from the bundled catalog (nominal power and hashrate).")] = "Antminer S21"
    credentials_env: Annotated[str | None, Field(description="Environment variable holding `user:password`.")] = None
    credentials_file: Annotated[str | None, Field(description="File (mode 0600) holding `user:password` on its first line.")] = None

    @model_validator(mode="after")
    def _check(self) -> MinerBlock:
        from mullet.data import load_asic_catalog

        if self.model not in load_asic_catalog().index:
            raise ValueError(f"model: got {self.model!r}, allowed: a model of the bundled catalog (mullet.data.load_asic_catalog)")
        if self.credentials_env and self.credentials_file:
            raise ValueError("credentials_env/credentials_file: both set; allowed: one of them")
        if self.port + self.count - 1 > 65535:
            raise ValueError(f"count: got {self.count} from port {self.port}, beyond port 65535")
        return self

    def addresses(self) -> list[tuple[str, int]]:
        """(host, port) of every miner of the block."""
        return [(self.host, self.port + i) for i in range(self.count)]

    def unit_specs(self) -> tuple[float, float]:
        """Nominal (hashrate [TH/s], power [W]) of one miner of the block, from the catalog."""
        from mullet.data import load_asic_catalog

        row = load_asic_catalog().loc[self.model]
        return float(row["hashrate_ths"]), float(row["power_w"])


def resolve_credentials(block: MinerBlock) -> Credentials | None:
    """Read the credentials a block refers to; a secrets file readable by group or others is refused."""
    text: str | None = None
    if block.credentials_env:
        text = os.environ.get(block.credentials_env)
        if text is None:
            raise ScenarioError(f"control.miners.credentials_env: environment variable {block.credentials_env!r} is not set")
    elif block.credentials_file:
        p = Path(block.credentials_file)
        if not p.is_file():
            raise ScenarioError(f"control.miners.credentials_file: '{p}' not found")
        mode = stat.S_IMODE(p.stat().st_mode)
        if mode & 0o077:
            raise ScenarioError(f"control.miners.credentials_file: '{p}' has mode {mode:o}; allowed: 600 (owner only)")
        text = (p.read_text().splitlines() or [""])[0]
    if text is None:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise ScenarioError("control.miners credentials: expected `user:password`; got a value without ':' (value not shown)")
    return Credentials(user=user, password=password)


class ControlConfig(_Model):
    """Live control of the mining fleet: inventory, polling, waves, safety limits, audit store."""

    miners: Annotated[list[MinerBlock], Field(description="Fleet inventory.")] = []
    interval_s: Annotated[float, Field(gt=0, le=3600, description="Decision interval; the policy is called once per interval [s].")] = 900.0
    poll_interval_s: Annotated[float, Field(gt=0, le=3600, description="Read-back poll of every miner [s].")] = 10.0
    timeout_s: Annotated[float, Field(gt=0, le=60, description="Timeout of every network call [s] (wall time).")] = 2.0
    max_concurrency: Annotated[int, Field(ge=1, le=4096, description="Network calls in flight at once [-].")] = 256
    wave_size: Annotated[int, Field(ge=1, le=100_000, description="Miners commanded per wave [-].")] = 500
    wave_interval_s: Annotated[float, Field(ge=0, le=600, description="Stagger between waves of wakes (and of sheds without a deadline) [s].")] = 5.0
    ramp_up_mw_per_min: Annotated[float | None, Field(gt=0, description="Largest rise of commanded mining power per minute [MW/min]; none: unlimited.")] = None
    min_on_s: Annotated[float, Field(ge=0, le=86_400, description="Least time a woken miner stays on (except for safety sheds) [s].")] = 300.0
    min_off_s: Annotated[float, Field(ge=0, le=86_400, description="Least time a curtailed miner stays off [s].")] = 300.0
    hysteresis_usd_per_mwh: Annotated[float, Field(ge=0, le=10_000, description="Band around the policy's strike before mining resumes [USD/MWh].")] = 5.0
    confirm_timeout_s: Annotated[float, Field(gt=0, le=3600, description="Time a shed has to show in read-back power before it counts as failed [s].")] = 30.0
    power_target_settle_s: Annotated[
        float, Field(gt=0, le=600, description="Time a power target takes to show; a deadline closer than this sheds by sleep instead [s].")
    ] = 30.0
    sleep_confirm_w: Annotated[float, Field(gt=0, le=2_000, description="Read-back power at or below which a miner counts as curtailed [W].")] = 150.0
    target_tolerance_fraction: Annotated[float, Field(ge=0, le=0.5, description="Read-back power may exceed a power target by this share [-].")] = 0.05
    max_signal_age_s: Annotated[float, Field(gt=0, description="A price or heartbeat older than this is stale: nothing wakes [s].")] = 1800.0
    deployment_deadline_s: Annotated[
        dict[str, float], Field(description="Seconds to shed a deployment, per program (ECRS-like 10 min, fast response seconds).")
    ] = {"ECRS": 600.0, "RRS": 600.0, "NSPIN": 1800.0, "FAST": 15.0}
    deployment_margin_fraction: Annotated[float, Field(ge=0, le=1, description="Extra shed beyond a deployment's MW, for miners that fail [-].")] = 0.05
    max_reallocations: Annotated[int, Field(ge=0, le=100_000, description="Times per decision a failed shed is handed to other miners [-].")] = 1000
    four_cp_months: Annotated[list[int], Field(description="Months of possible 4CP peaks (local) [1-12].")] = [6, 7, 8, 9]
    four_cp_hours_local: Annotated[list[int], Field(description="Local hours (interval start) of 4CP risk; without an alert they count as peaks.")] = [
        15,
        16,
        17,
        18,
    ]
    timezone: Annotated[str, Field(description="Local time zone of the 4CP hours.")] = "America/Chicago"
    audit_db: Annotated[str, Field(description="DuckDB file of the append-only audit log.")] = "mullet.duckdb"
    scale_site_to_fleet: Annotated[
        bool, Field(description="Scale interconnect and AI load by (inventory MW / scenario mining MW): for demos on a small emulated fleet.")
    ] = False

    @model_validator(mode="after")
    def _check(self) -> ControlConfig:
        if any(not 1 <= m <= 12 for m in self.four_cp_months):
            raise ValueError(f"four_cp_months: got {self.four_cp_months}, allowed: 1..12")
        if any(not 0 <= h <= 23 for h in self.four_cp_hours_local):
            raise ValueError(f"four_cp_hours_local: got {self.four_cp_hours_local}, allowed: 0..23")
        for k, v in self.deployment_deadline_s.items():
            if not v > 0:
                raise ValueError(f"deployment_deadline_s.{k}: got {v}, allowed: > 0 seconds")
        names = [b.name for b in self.miners]
        if len(set(names)) != len(names):
            raise ValueError(f"miners.name: block names must be unique, got {names}")
        return self

    @property
    def n_miners(self) -> int:
        """Miners in the inventory."""
        return sum(b.count for b in self.miners)


def is_loopback(host: str) -> bool:
    """True for an address in 127.0.0.0/8 (or ::1, or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
