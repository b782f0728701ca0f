"""Bitcoin consensus rules: known values from Bitcoin Core and the chain, and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mullet.bitcoin import (
    MAX_TARGET,
    POW_LIMIT,
    TARGET_TIMESPAN_S,
    bits_to_target,
    block_subsidy,
    decode_compact,
    difficulty,
    encode_compact,
    next_bits,
    target_to_bits,
)
from mullet.errors import ConsensusError


@pytest.mark.parametrize(
    ("height", "subsidy_sat"),
    [
        (0, 5_000_000_000),
        (209_999, 5_000_000_000),
        (210_000, 2_500_000_000),
        (419_999, 2_500_000_000),
        (420_000, 1_250_000_000),
        (629_999, 1_250_000_000),
        (630_000, 625_000_000),
        (839_999, 625_000_000),
        (840_000, 312_500_000),
        (1_050_000, 156_250_000),
        (6_929_999, 1),  # halving 32: 5e9 >> 32 == 1
        (6_930_000, 0),
        (64 * 210_000, 0),
        (10**9, 0),
    ],
)
def test_subsidy_at_halving_heights(height: int, subsidy_sat: int) -> None:
    assert block_subsidy(height) == subsidy_sat


def test_total_supply_is_exact() -> None:
    total = sum(block_subsidy(epoch * 210_000) * 210_000 for epoch in range(70))
    assert total == 2_099_999_997_690_000
    # the same, summing every height of the last few non-zero epochs block by block
    assert sum(block_subsidy(h) for h in range(31 * 210_000, 33 * 210_000)) == 210_000 * (2 + 1)


def test_subsidy_rejects_negative_height() -> None:
    with pytest.raises(ConsensusError, match="height: got -1"):
        block_subsidy(-1)


# Bitcoin Core src/test/arith_uint256_tests.cpp (SetCompact/GetCompact cases)
@pytest.mark.parametrize(
    ("bits", "value", "negative", "reencoded"),
    [
        (0x00000000, 0, False, 0),
        (0x00123456, 0, False, 0),
        (0x01003456, 0, False, 0),
        (0x02000056, 0, False, 0),
        (0x03000000, 0, False, 0),
        (0x04000000, 0, False, 0),
        (0x00923456, 0, False, 0),
        (0x01803456, 0, False, 0),
        (0x02800056, 0, False, 0),
        (0x03800000, 0, False, 0),
        (0x04800000, 0, False, 0),
        (0x01123456, 0x12, False, 0x01120000),
        (0x01FEDCBA, 0x7E, True, 0x01FE0000),
        (0x02123456, 0x1234, False, 0x02123400),
        (0x03123456, 0x123456, False, 0x03123456),
        (0x04123456, 0x12345600, False, 0x04123456),
        (0x04923456, 0x12345600, True, 0x04923456),
        (0x05009234, 0x92340000, False, 0x05009234),
        (0x20123456, 0x123456 << (8 * 29), False, 0x20123456),
    ],
)
def test_compact_known_cases(bits: int, value: int, negative: bool, reencoded: int) -> None:
    decoded = decode_compact(bits)
    assert decoded.value == value
    assert decoded.negative is negative
    assert decoded.overflow is False
    assert encode_compact(decoded.value, decoded.negative) == reencoded


def test_compact_normalises_a_mantissa_with_the_sign_bit() -> None:
    assert encode_compact(0x80) == 0x02008000
    assert encode_compact(0x800000) == 0x04008000


@pytest.mark.parametrize("bits", [0xFF123456, 0x23000001, 0x22000100, 0x21010000])
def test_compact_overflow(bits: int) -> None:
    assert decode_compact(bits).overflow
    assert decode_compact(bits).value >= 1 << 256
    with pytest.raises(ConsensusError, match="2\\*\\*256"):
        bits_to_target(bits)


def test_compact_largest_non_overflowing() -> None:
    for bits in (0x220000FF, 0x2100FFFF, 0x207FFFFF):  # 0xff << 248, 0xffff << 240, 0x7fffff << 232
        decoded = decode_compact(bits)
        assert not decoded.overflow
        assert decoded.value < 1 << 256
        assert bits_to_target(target_to_bits(decoded.value)) == decoded.value


def test_negative_bits_rejected_by_bits_to_target() -> None:
    with pytest.raises(ConsensusError, match="negative"):
        bits_to_target(0x04923456)
    assert target_to_bits(-0x12345600) == 0x04923456


def test_difficulty_one_and_known_value() -> None:
    assert bits_to_target(0x1D00FFFF) == MAX_TARGET
    assert difficulty(0x1D00FFFF) == 1.0
    # block 32256, the first difficulty change: 1.182899534 in mempool.space's list
    assert difficulty(0x1D00D86A) == pytest.approx(1.182899534, rel=1e-9)


@given(st.integers(min_value=1, max_value=(1 << 256) - 1))
def test_encode_decode_round_trip_truncates_to_three_bytes(target: int) -> None:
    bits = target_to_bits(target)
    back = bits_to_target(bits)
    assert back <= target
    # only the top 24 significant bits (23 after normalisation) survive
    assert target - back < 1 << max(0, target.bit_length() - 16)
    assert target_to_bits(back) == bits


@given(st.integers(min_value=0, max_value=0xFFFFFFFF))
def test_decode_encode_is_canonical(bits: int) -> None:
    d = decode_compact(bits)
    if d.overflow:
        return
    canonical = encode_compact(d.value, d.negative)
    assert decode_compact(canonical)[:2] == d[:2]
    assert encode_compact(*decode_compact(canonical)[:2]) == canonical


# Bitcoin Core src/test/pow_tests.cpp: real mainnet blocks (the last one with a mocked first time)
@pytest.mark.parametrize(
    ("prev_bits", "first_time", "last_time", "expected"),
    [
        (0x1D00FFFF, 1261130161, 1262152739, 0x1D00D86A),  # blocks 30240 and 32255
        (0x1D00FFFF, 1231006505, 1233061996, 0x1D00FFFF),  # blocks 0 and 2015: proof-of-work limit
        (0x1C05A3F4, 1279008237, 1279297671, 0x1C0168FD),  # blocks 66528 and 68543: lower clamp (1/4)
        (0x1C387F6F, 1263163443, 1269211443, 0x1D00E1FD),  # block 46367: upper clamp (4x)
    ],
)
def test_next_bits_matches_bitcoin_core_vectors(prev_bits: int, first_time: int, last_time: int, expected: int) -> None:
    assert next_bits(prev_bits, first_time, last_time) == expected


def test_next_bits_clamps_both_ends() -> None:
    bits = 0x1802AEE8
    target = bits_to_target(bits)
    fast = next_bits(bits, 0, 1)  # one second: clamped to a quarter
    assert bits_to_target(fast) == bits_to_target(encode_compact(target * (TARGET_TIMESPAN_S // 4) // TARGET_TIMESPAN_S))
    assert next_bits(bits, 0, TARGET_TIMESPAN_S // 8) == fast
    slow = next_bits(bits, 0, 100 * TARGET_TIMESPAN_S)
    assert slow == next_bits(bits, 0, 4 * TARGET_TIMESPAN_S) == encode_compact(target * 4)
    assert next_bits(bits, 0, TARGET_TIMESPAN_S) == bits


def test_next_bits_never_exceeds_pow_limit() -> None:
    assert next_bits(0x1D00FFFF, 0, 4 * TARGET_TIMESPAN_S) == 0x1D00FFFF
    assert bits_to_target(next_bits(0x1C7FFFFF, 0, 4 * TARGET_TIMESPAN_S)) <= POW_LIMIT


@given(
    st.integers(min_value=0x17000000, max_value=0x1D00FFFF).filter(lambda b: decode_compact(b).value > 0 and not decode_compact(b).negative),
    st.integers(min_value=-(10**7), max_value=10**8),
)
def test_next_bits_ratio_is_bounded(bits: int, timespan_s: int) -> None:
    old = bits_to_target(bits)
    new = bits_to_target(next_bits(bits, 1_000_000_000, 1_000_000_000 + timespan_s))
    assert new <= max(old * 4, POW_LIMIT)
    assert new <= POW_LIMIT
    assert new * 4 >= old - (old >> 16) * 4 or new == bits_to_target(encode_compact(old // 4))
