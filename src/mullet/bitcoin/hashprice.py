"""Mining economics from difficulty: expected blocks, implied hashrate, hashprice.

Conventions (see the README glossary):

- *hashprice* is the expected revenue of 1 PH/s (1e15 hashes per second) of
  hashrate over one day (86,400 s), in USD, at a given BTC price, difficulty and
  reward per block (subsidy plus fees). It is an expectation: luck, pool fees and
  stale shares are not in it.
- expected blocks found per second by hashrate ``H`` [H/s] at difficulty ``D``
  is ``H / (D * 2**32)``, since a share of difficulty 1 takes 2**32 hashes.

Every function accepts Python scalars, numpy arrays and pandas Series and
returns the same kind (the arithmetic broadcasts).
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "HASHES_PER_DIFFICULTY_1",
    "SECONDS_PER_DAY",
    "expected_blocks_per_day",
    "hashprice_usd_per_ph_day",
    "implied_hashrate_ths",
    "mining_value_usd_per_mwh",
    "power_mw_for_hashrate",
]

HASHES_PER_DIFFICULTY_1 = 2**32
"""Expected hashes per block at difficulty 1."""
SECONDS_PER_DAY = 86_400
_PH = 1e15
_TH = 1e12

ArrayLike = TypeVar("ArrayLike", float, npt.NDArray[np.float64], "pd.Series[float]")


def expected_blocks_per_day(hashrate_ths: ArrayLike, difficulty: ArrayLike | float) -> ArrayLike:
    """Expected blocks per day found by ``hashrate_ths`` [TH/s] at ``difficulty``.

    For the whole network this is 144 when hashrate matches difficulty exactly.
    The share of the network a miner holds is ``hashrate_ths / network_hashrate_ths``,
    and its expected blocks are that share of the network's.
    """
    return hashrate_ths * _TH * SECONDS_PER_DAY / (difficulty * HASHES_PER_DIFFICULTY_1)


def implied_hashrate_ths(difficulty: ArrayLike, blocks: ArrayLike | float, period_s: float = SECONDS_PER_DAY) -> ArrayLike:
    """Network hashrate [TH/s] implied by ``blocks`` found in ``period_s`` seconds at ``difficulty``.

    ``difficulty * 2**32 * blocks / period_s / 1e12``; with a day and the day's
    block count this is Coin Metrics' ``HashRate`` definition.
    """
    return difficulty * HASHES_PER_DIFFICULTY_1 * blocks / period_s / _TH


def hashprice_usd_per_ph_day(
    price_usd: ArrayLike,
    difficulty: ArrayLike | float,
    subsidy_btc: ArrayLike | float,
    fees_btc_per_block: ArrayLike | float = 0.0,
) -> ArrayLike:
    """Expected USD revenue of 1 PH/s for one day.

    Parameters
    ----------
    price_usd
        BTC price [USD/BTC].
    difficulty
        Network difficulty (relative to ``0x1d00ffff``).
    subsidy_btc
        Block subsidy [BTC/block]; ``block_subsidy(height) / 1e8``.
    fees_btc_per_block
        Mean transaction fees [BTC/block].

    Returns
    -------
    Hashprice [USD/(PH/s)/day].

    Examples
    --------
    At difficulty 1e14, 3.125 BTC subsidy and $100,000/BTC:

    >>> round(hashprice_usd_per_ph_day(100_000.0, 1e14, 3.125), 4)
    62.8643
    """
    blocks_per_ph_day = _PH * SECONDS_PER_DAY / (difficulty * HASHES_PER_DIFFICULTY_1)
    return price_usd * (subsidy_btc + fees_btc_per_block) * blocks_per_ph_day


def mining_value_usd_per_mwh(hashprice_usd_per_ph_day: ArrayLike, efficiency_j_per_th: ArrayLike | float) -> ArrayLike:
    """What one MWh fed to miners of ``efficiency_j_per_th`` earns, in USD/MWh.

    1 PH/s at ``e`` J/TH draws ``1000 * e`` W, i.e. ``0.024 * e`` MWh a day, so the
    value is ``hashprice / (0.024 * e)``. This is the breakeven power price of
    that fleet (before pool fees, cooling overhead and other opex).

    >>> round(mining_value_usd_per_mwh(50.0, 17.5), 2)
    119.05
    """
    mwh_per_ph_day = 1000.0 * efficiency_j_per_th * SECONDS_PER_DAY / 3.6e9
    return hashprice_usd_per_ph_day / mwh_per_ph_day


def power_mw_for_hashrate(hashrate_ths: ArrayLike, efficiency_j_per_th: ArrayLike | float) -> ArrayLike:
    """Electrical power [MW] drawn by ``hashrate_ths`` [TH/s] at ``efficiency_j_per_th`` [J/TH]."""
    return hashrate_ths * efficiency_j_per_th / 1e6
