"""The Bitcoin network: history from bundled data, block-level simulation, backtest."""

from mullet.network.backtest import BacktestResult, backtest, halving_episode
from mullet.network.history import HEIGHT_ANCHOR, NetworkPoint, daily_hashprice, daily_heights, network_at, network_history
from mullet.network.simulate import (
    DEFAULT_CLASSES,
    HALVING_CLASSES,
    EfficiencyClass,
    Event,
    NetworkSimResult,
    SupplyModel,
    parse_event,
    simulate_blocks,
    simulate_network,
)

__all__ = [
    "DEFAULT_CLASSES",
    "HALVING_CLASSES",
    "HEIGHT_ANCHOR",
    "BacktestResult",
    "EfficiencyClass",
    "Event",
    "NetworkPoint",
    "NetworkSimResult",
    "SupplyModel",
    "backtest",
    "daily_hashprice",
    "daily_heights",
    "halving_episode",
    "network_at",
    "network_history",
    "parse_event",
    "simulate_blocks",
    "simulate_network",
]
