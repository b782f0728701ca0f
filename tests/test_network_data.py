"""Mining economics on every bundled day, retargets against the real adjustment list, loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mullet.bitcoin import (
    TARGET_TIMESPAN_S,
    block_subsidy,
    expected_blocks_per_day,
    hashprice_usd_per_ph_day,
    implied_hashrate_ths,
    mining_value_usd_per_mwh,
)
from mullet.data import load_difficulty_adjustments, load_hashrate_mempool_daily, load_network_daily
from mullet.errors import DataError, ScenarioError
from mullet.network import daily_hashprice, daily_heights, network_at, network_history

NET = load_network_daily()

# The SIAP-era Coin Metrics export (2014-01-01..2023-02-17) stores HashRate and DiffMean
# rounded upstream; from 2020-11-13 on, hashrates above 1e8 TH/s keep only 10 significant
# digits, and 644 of those days satisfy CM's identity to 7.4e-9 rather than 1e-9.
UPSTREAM_ROUNDED = (NET.index >= "2020-11-13") & (NET.index <= "2023-02-17")


def test_implied_hashrate_identity_on_every_bundled_day() -> None:
    implied = implied_hashrate_ths(NET["difficulty_mean"], NET["block_count"])
    rel = (implied / NET["hashrate_ths"] - 1).abs()
    assert rel[~UPSTREAM_ROUNDED].max() < 1e-9
    assert rel[UPSTREAM_ROUNDED].max() < 1e-8
    assert len(rel) == 4381


def test_hashprice_times_hashrate_is_issuance_plus_fees() -> None:
    fees = NET["fees_known"]
    n = NET[fees]
    hp = hashprice_usd_per_ph_day(n["price_usd"], n["difficulty_mean"], n["issuance_btc"] / n["block_count"], n["fees_btc"] / n["block_count"])
    revenue_usd = (n["issuance_btc"] + n["fees_btc"]) * n["price_usd"]
    rel = (hp * n["hashrate_ths"] / 1e3 / revenue_usd - 1).abs()
    assert rel.max() < 1e-9
    assert fees.sum() == 4381 - 3313


def test_expected_blocks_of_the_network_is_its_block_count() -> None:
    blocks = expected_blocks_per_day(NET["hashrate_ths"], NET["difficulty_mean"])
    np.testing.assert_allclose(blocks, NET["block_count"], rtol=1e-8)


def test_issuance_follows_the_subsidy_schedule() -> None:
    """Coin Metrics' own issuance (from 2023-02-18) equals the schedule summed over each day's heights."""
    heights = daily_heights(NET)
    cm = NET.index >= "2023-02-18"
    expected = [
        sum(block_subsidy(h) for h in range(first, last + 1)) / 1e8 for first, last in zip(heights["first_height"][cm], heights["last_height"][cm], strict=True)
    ]
    np.testing.assert_array_equal(np.asarray(expected), NET["issuance_btc"][cm].to_numpy())


def test_mining_value_known_value() -> None:
    assert mining_value_usd_per_mwh(50.0, 17.5) == pytest.approx(119.0476190476, rel=1e-12)
    # vectorised: Series in, Series out
    s = mining_value_usd_per_mwh(pd.Series([50.0, 100.0]), 17.5)
    assert isinstance(s, pd.Series)
    np.testing.assert_allclose(s, [119.047619047619, 238.095238095238])


@given(
    st.floats(min_value=1.0, max_value=1e6),
    st.floats(min_value=1.0, max_value=1e15),
    st.floats(min_value=0.0, max_value=50.0),
    st.floats(min_value=0.0, max_value=10.0),
)
def test_hashprice_is_linear_in_reward_and_price(price: float, diff: float, subsidy: float, fees: float) -> None:
    whole = hashprice_usd_per_ph_day(price, diff, subsidy, fees)
    parts = hashprice_usd_per_ph_day(price, diff, subsidy) + hashprice_usd_per_ph_day(price, diff, 0.0, fees)
    assert whole == pytest.approx(parts, rel=1e-12, abs=1e-300)
    assert hashprice_usd_per_ph_day(2 * price, diff, subsidy, fees) == pytest.approx(2 * whole, rel=1e-12, abs=1e-300)


def test_bundled_retargets_follow_the_rule_within_timestamp_resolution() -> None:
    """Every listed adjustment against the rule applied to the listed epoch start times.

    The list has each epoch's first block time (height h) but the retarget uses the
    last block of the previous epoch (h - 1) and compact bits, which the list lacks;
    so this is the rule to within one block interval of timestamp (< 0.5 %). The
    exact integer rule is tested on Bitcoin Core's vectors in test_consensus.py.
    """
    adj = load_difficulty_adjustments()
    heights = adj["height"].to_numpy()
    times_s = adj.index.as_unit("s").asi8
    consecutive = np.diff(heights) == 2016
    span_s = np.clip(np.diff(times_s), TARGET_TIMESPAN_S // 4, TARGET_TIMESPAN_S * 4)
    predicted = TARGET_TIMESPAN_S / span_s
    actual = adj["difficulty"].to_numpy()[1:] / adj["difficulty"].to_numpy()[:-1]
    err = np.abs(predicted / actual - 1)[consecutive]
    assert consecutive.sum() == 424
    assert err.max() < 5e-3
    assert np.median(err) < 1e-3


def test_mempool_hashrate_cross_check() -> None:
    mp = load_hashrate_mempool_daily()["hashrate_ths"]
    joined = pd.concat([NET["hashrate_ths"], mp.rename("mp")], axis=1, join="inner")
    corr = np.corrcoef(np.log(joined["hashrate_ths"]), np.log(joined["mp"]))[0, 1]
    assert corr > 0.999


def test_halving_halves_the_subsidy_part() -> None:
    hist = network_history("2024-04-01", "2024-05-31", "week")
    assert list(hist["days"]) == [7, 7, 7, 7, 7, 7, 7, 7, 5]
    before = hist.loc["2024-04-08", "subsidy_btc"] / hist.loc["2024-04-08", "block_count"]
    after = hist.loc["2024-04-29", "subsidy_btc"] / hist.loc["2024-04-29", "block_count"]
    assert before == 6.25
    assert after == 3.125
    # subsidy part of hashprice: about $101 before, about $45 after at similar price and difficulty
    sub = hist["hashprice_subsidy_usd_per_ph_day"]
    assert sub.loc["2024-04-08"] / sub.loc["2024-05-06"] == pytest.approx(2.2, abs=0.15)
    parts = hist["hashprice_subsidy_usd_per_ph_day"] + hist["hashprice_fees_usd_per_ph_day"]
    np.testing.assert_allclose(parts, hist["hashprice_usd_per_ph_day"], rtol=1e-12)


def test_weekly_hashprice_is_revenue_over_ph_days() -> None:
    daily = daily_hashprice()
    week = daily.loc["2024-04-22":"2024-04-28"]
    hist = network_history("2024-04-22", "2024-04-28", "week")
    expected = week["revenue_usd"].sum() / (week["hashrate_ths"].sum() / 1e3)
    assert hist["hashprice_usd_per_ph_day"].iloc[0] == pytest.approx(expected, rel=1e-9)  # the data hold the identity to 1e-9


def test_network_at_height_and_day() -> None:
    p = network_at(840_000)
    assert p.subsidy_sat == 312_500_000
    assert p.day == pd.Timestamp("2024-04-19", tz="UTC")
    assert p.halving_epoch == 4
    out = network_at(10**7)
    assert out.subsidy_sat == 0 and out.day is None
    day = network_at("2024-04-20")
    assert day.first_height == 840_004
    with pytest.raises(ScenarioError, match="date: got 2030-01-01"):
        network_at("2030-01-01")


def test_history_rejects_bad_ranges() -> None:
    with pytest.raises(ScenarioError, match="freq"):
        network_history(freq="year")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="start"):
        network_history("2024-05-01", "2024-04-01")
    with pytest.raises(ScenarioError, match="within the history"):
        network_history("2030-01-01", "2030-02-01")


def test_user_file_with_bad_row_names_file_row_column(tmp_path: Path) -> None:
    df = pd.read_csv(Path(__file__).parents[1] / "src/mullet/data/files/btc_network_daily.csv").head(5)
    df.loc[3, "price_usd"] = -1.0
    bad = tmp_path / "net.csv"
    df.to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"net.csv, row 5, column 'price_usd': negative value"):
        load_network_daily(bad)
    df.loc[3, "price_usd"] = 1.0
    df.loc[2, "date"] = df.loc[1, "date"]
    df.to_csv(bad, index=False)
    with pytest.raises(DataError, match=r"row 4, column 'date': duplicate time"):
        load_network_daily(bad)
    df.loc[2, "date"] = "2014-01-03"
    df.loc[1, "hashrate_ths"] = np.nan
    df.to_parquet(tmp_path / "net.parquet")
    with pytest.raises(DataError, match=r"row 3, column 'hashrate_ths': missing value"):
        load_network_daily(tmp_path / "net.parquet")
    with pytest.raises(DataError, match="file not found"):
        load_network_daily(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="unknown file type"):
        load_network_daily(tmp_path / "x.xlsx") if (tmp_path / "x.xlsx").write_text("x") else None


def test_bundled_network_is_complete_and_utc() -> None:
    assert str(NET.index.tz) == "UTC"
    assert NET.index[0] == pd.Timestamp("2014-01-01", tz="UTC")
    assert NET.index[-1] == pd.Timestamp("2025-12-29", tz="UTC")
    assert (np.diff(NET.index.asi8) == pd.Timedelta("1D").value).all()
