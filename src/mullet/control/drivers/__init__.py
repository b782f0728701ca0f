"""Miner drivers: one async interface (:class:`MinerDriver`) over each firmware's wire protocol."""

from __future__ import annotations

from mullet.control.config import Credentials
from mullet.control.drivers.base import Capabilities, DriverError, MinerDriver, MinerReading, UnsupportedCommand
from mullet.control.drivers.braiins import BraiinsDriver
from mullet.control.drivers.cgminer import CGMinerDriver
from mullet.control.drivers.luxos import LuxOSDriver
from mullet.control.drivers.pyasic_rs import PyasicRsDriver
from mullet.control.drivers.whatsminer import WhatsminerDriver

__all__ = [
    "DRIVERS",
    "BraiinsDriver",
    "CGMinerDriver",
    "Capabilities",
    "DriverError",
    "LuxOSDriver",
    "MinerDriver",
    "MinerReading",
    "PyasicRsDriver",
    "UnsupportedCommand",
    "WhatsminerDriver",
    "make_driver",
]

DRIVERS: dict[str, type[MinerDriver]] = {
    "cgminer": CGMinerDriver,
    "luxos": LuxOSDriver,
    "braiins": BraiinsDriver,
    "whatsminer": WhatsminerDriver,
    "pyasic-rs": PyasicRsDriver,
}


def make_driver(
    firmware: str,
    miner_id: str,
    host: str,
    port: int,
    *,
    nominal_power_w: float,
    nominal_hashrate_ths: float,
    credentials: Credentials | None = None,
    timeout_s: float = 2.0,
) -> MinerDriver:
    """The driver of ``firmware`` (cgminer, luxos, braiins, whatsminer, pyasic-rs) for one miner."""
    if firmware not in DRIVERS:
        raise ValueError(f"firmware: got {firmware!r}, allowed: {list(DRIVERS)}")
    cls = DRIVERS[firmware]
    return cls(miner_id, host, port, nominal_power_w=nominal_power_w, nominal_hashrate_ths=nominal_hashrate_ths, credentials=credentials, timeout_s=timeout_s)
