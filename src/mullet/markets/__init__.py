"""Electricity markets: one module per ISO/RTO (like gridstatus), each a :class:`~mullet.markets.base.Market`.

Everything market-specific (time zone, settlement points, ancillary products and
their deployment statistics, coincident-peak rules, price data, billing
calendars) lives here; dispatch, plan, grid and web ask :func:`get_market`.
How to add a market: :mod:`mullet.markets.base`.
"""

from __future__ import annotations

from mullet.errors import ScenarioError
from mullet.markets.base import AncillaryProduct, Market
from mullet.markets.ercot import ERCOT
from mullet.markets.pjm import PJM

__all__ = ["ERCOT", "MARKETS", "PJM", "AncillaryProduct", "Market", "get_market"]

MARKETS: dict[str, Market] = {ERCOT.name: ERCOT, PJM.name: PJM}
"""Registered markets by name."""


def get_market(name: str) -> Market:
    """The market called ``name`` (case-insensitive); raises :class:`ScenarioError` for an unknown one."""
    for key, market in MARKETS.items():
        if key.lower() == name.lower():
            return market
    raise ScenarioError(f"power.market: got {name!r}; allowed: {list(MARKETS)}")
