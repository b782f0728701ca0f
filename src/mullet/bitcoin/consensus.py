"""Bitcoin consensus rules, integer-exact.

The subsidy schedule, the compact ("nBits") encoding of the proof-of-work target,
and the mainnet difficulty retarget, written after Bitcoin Core's
``GetBlockSubsidy``, ``arith_uint256::SetCompact``/``GetCompact`` and
``CalculateNextWorkRequired``. Everything here is integer arithmetic; floats
appear only in :func:`difficulty`, which is a ratio for display and economics.
"""

from __future__ import annotations

from typing import NamedTuple

from mullet.errors import ConsensusError

__all__ = [
    "COIN_SAT",
    "HALVING_INTERVAL_BLOCKS",
    "MAX_TARGET",
    "POW_LIMIT",
    "POW_LIMIT_BITS",
    "RETARGET_INTERVAL_BLOCKS",
    "TARGET_SPACING_S",
    "TARGET_TIMESPAN_S",
    "Compact",
    "bits_to_target",
    "block_subsidy",
    "decode_compact",
    "difficulty",
    "encode_compact",
    "halving_height",
    "next_bits",
    "target_to_bits",
]

COIN_SAT = 100_000_000
"""Satoshis per bitcoin."""
HALVING_INTERVAL_BLOCKS = 210_000
"""Blocks between two subsidy halvings (mainnet)."""
INITIAL_SUBSIDY_SAT = 50 * COIN_SAT
RETARGET_INTERVAL_BLOCKS = 2016
"""Blocks per difficulty epoch."""
TARGET_SPACING_S = 600
"""Target time between blocks, seconds."""
TARGET_TIMESPAN_S = RETARGET_INTERVAL_BLOCKS * TARGET_SPACING_S
"""Target duration of one epoch: two weeks, 1,209,600 seconds."""
POW_LIMIT = (1 << 224) - 1
"""Mainnet proof-of-work limit, ``0x00000000ffff...ff`` (Bitcoin Core ``consensus.powLimit``)."""
POW_LIMIT_BITS = 0x1D00FFFF
"""Compact form of the easiest target, difficulty 1."""
MAX_TARGET = 0xFFFF << 208
"""``bits_to_target(0x1d00ffff)``: the target of difficulty 1."""
_UINT256_LIMIT = 1 << 256


def block_subsidy(height: int) -> int:
    """Block subsidy in satoshis at ``height`` on mainnet.

    50 BTC halved every 210,000 blocks by a right shift, zero from the 64th halving on.

    >>> block_subsidy(0), block_subsidy(840_000)
    (5000000000, 312500000)
    """
    if height < 0:
        raise ConsensusError(f"height: got {height}, allowed: an integer >= 0")
    halvings = height // HALVING_INTERVAL_BLOCKS
    if halvings >= 64:
        return 0
    return INITIAL_SUBSIDY_SAT >> halvings


def halving_height(epoch: int) -> int:
    """First height of subsidy epoch ``epoch`` (``halving_height(4) == 840_000``)."""
    if epoch < 0:
        raise ConsensusError(f"epoch: got {epoch}, allowed: an integer >= 0")
    return epoch * HALVING_INTERVAL_BLOCKS


class Compact(NamedTuple):
    """A decoded compact number: magnitude, sign bit and overflow flag as Bitcoin Core reports them."""

    value: int
    negative: bool
    overflow: bool


def decode_compact(bits: int) -> Compact:
    """Decode a 32-bit compact number exactly as ``arith_uint256::SetCompact``.

    The top byte is the size in bytes, the low 23 bits the mantissa, bit 23 the sign.
    ``overflow`` is set when the value does not fit in 256 bits; ``value`` is then
    the unbounded magnitude (Core would have truncated it).
    """
    if not 0 <= bits <= 0xFFFFFFFF:
        raise ConsensusError(f"bits: got {bits:#x}, allowed: 0 to 0xffffffff")
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        value = word
    else:
        value = word << (8 * (size - 3))
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33) or (word > 0xFFFF and size > 32))
    return Compact(value, negative, overflow)


def encode_compact(value: int, negative: bool = False) -> int:
    """Encode a non-negative integer below 2**256 as ``arith_uint256::GetCompact``.

    The mantissa is truncated to its top three bytes; if its top bit would read as
    the sign bit, the mantissa is shifted one byte right and the size grows by one
    (normalisation). ``negative`` sets the sign bit unless the mantissa is zero.
    """
    if not 0 <= value < _UINT256_LIMIT:
        raise ConsensusError(f"target: got {value:#x}, allowed: 0 <= target < 2**256")
    size = (value.bit_length() + 7) // 8
    compact = value << 8 * (3 - size) & 18446744073709551615 if size <= 3 else value >> 8 * (size - 3)
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    compact |= size << 24
    if negative and (compact & 0x007FFFFF):
        compact |= 0x00800000
    return compact


def bits_to_target(bits: int) -> int:
    """Proof-of-work target encoded by compact ``bits``.

    Raises :class:`~mullet.errors.ConsensusError` where consensus rejects the
    encoding: the sign bit set on a non-zero mantissa, or a value above 2**256.
    A zero mantissa decodes to target 0 (no hash can meet it).

    >>> hex(bits_to_target(0x1d00ffff))
    '0xffff0000000000000000000000000000000000000000000000000000'
    """
    value, negative, overflow = decode_compact(bits)
    if negative:
        raise ConsensusError(f"bits: got {bits:#010x}, a negative target (sign bit 0x00800000 set); allowed: a non-negative target")
    if overflow:
        raise ConsensusError(f"bits: got {bits:#010x}, a target of 2**256 or more; allowed: a target below 2**256")
    return value


def target_to_bits(target: int) -> int:
    """Compact encoding of ``target``; a negative ``target`` sets the sign bit.

    >>> hex(target_to_bits(0xffff << 208))
    '0x1d00ffff'
    """
    if target < 0:
        return encode_compact(-target, negative=True)
    return encode_compact(target)


def difficulty(bits: int) -> float:
    """Difficulty of ``bits``: the target of ``0x1d00ffff`` divided by this target.

    >>> difficulty(0x1d00ffff)
    1.0
    """
    target = bits_to_target(bits)
    if target == 0:
        raise ConsensusError(f"bits: got {bits:#010x}, a zero target; allowed: a target > 0")
    return MAX_TARGET / target


def next_bits(prev_bits: int, first_block_time: int, last_block_time: int) -> int:
    """Mainnet difficulty retarget, exactly as Bitcoin Core's ``CalculateNextWorkRequired``.

    Parameters
    ----------
    prev_bits
        ``nBits`` of the last block of the ending epoch.
    first_block_time
        Timestamp [s, Unix] of the first block of the ending epoch (height ``h - 2016``).
    last_block_time
        Timestamp [s, Unix] of its last block (height ``h - 1``). Like Core, the
        timespan covers 2015 block intervals (the historical off-by-one).

    The actual timespan is clamped to [1/4, 4] x 1,209,600 s; the new target is
    ``old * actual // 1,209,600``, capped at the proof-of-work limit, then compacted.
    """
    actual_s = last_block_time - first_block_time
    actual_s = max(TARGET_TIMESPAN_S // 4, min(actual_s, TARGET_TIMESPAN_S * 4))
    target = bits_to_target(prev_bits)
    new_target = target * actual_s // TARGET_TIMESPAN_S
    new_target = min(new_target, POW_LIMIT)
    return encode_compact(new_target)
