"""The Bitcoin network: history from bundled data (and, later, simulation)."""

from mullet.network.history import HEIGHT_ANCHOR, NetworkPoint, daily_hashprice, daily_heights, network_at, network_history

__all__ = ["HEIGHT_ANCHOR", "NetworkPoint", "daily_hashprice", "daily_heights", "network_at", "network_history"]
