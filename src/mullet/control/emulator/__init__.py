"""A miner emulator speaking the CGMiner RPC, LuxOS and Braiins OS REST, with power physics and fault modes."""

from __future__ import annotations

from mullet.control.emulator.fleet import FIRMWARES, EmulatedFleet
from mullet.control.emulator.miner import FAULTS, EmulatedMiner, MinerSpec

__all__ = ["FAULTS", "FIRMWARES", "EmulatedFleet", "EmulatedMiner", "MinerSpec"]
