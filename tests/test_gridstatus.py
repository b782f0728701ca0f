"""gridstatus-shaped prices (any ISO) -> mullet's UTC interval-start frames; the bundled real PJM sample."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mullet.data import ERCOT_HUBS, load_ercot_hub_prices, read_timeseries
from mullet.data.gridstatus import load_gridstatus_prices, pjm_dataminer_to_gridstatus, to_mullet_csv
from mullet.errors import DataError


@pytest.fixture(scope="module")
def ercot_week() -> pd.DataFrame:
    return load_ercot_hub_prices().loc["2023-08-07":"2023-08-13"]  # real 15-minute hub SPPs


def as_gridstatus(wide: pd.DataFrame, market: str = "REAL_TIME_15_MIN") -> pd.DataFrame:
    """The long shape gridstatus' ERCOT().get_spp returns (local Central time with offsets)."""
    long = wide.stack().rename("SPP").reset_index()
    long.columns = ["start", "Location", "SPP"]
    start = pd.DatetimeIndex(long["start"]).tz_convert("US/Central")
    return pd.DataFrame(
        {"Interval Start": start, "Interval End": start + pd.Timedelta("15min"), "Location": long["Location"], "Market": market, "SPP": long["SPP"]}
    )


def test_ercot_round_trip_frame_and_csv(ercot_week: pd.DataFrame, tmp_path: Path) -> None:
    gs = as_gridstatus(ercot_week)
    got = load_gridstatus_prices(gs)
    pd.testing.assert_frame_equal(got[list(ERCOT_HUBS)], ercot_week, check_freq=False, check_names=False)
    assert got.attrs["interval"] == "0 days 00:15:00" and got.attrs["price_column"] == "SPP"
    # the same through a CSV file, as gridstatus users save it (local times with offsets, DST included)
    gs.to_csv(tmp_path / "spp.csv", index=False)
    from_csv = load_gridstatus_prices(tmp_path / "spp.csv", locations=["HB_WEST"], freq="1h")
    hourly = ercot_week["HB_WEST"].groupby(ercot_week.index.floor("1h")).mean()
    np.testing.assert_allclose(from_csv["HB_WEST"].to_numpy(), hourly.to_numpy())
    # to a mullet price file that the dispatch loader reads
    path = to_mullet_csv(from_csv, tmp_path / "west.csv")
    back = read_timeseries(path, {"HB_WEST": "finite"}, freq="1h")
    np.testing.assert_allclose(back["HB_WEST"].to_numpy(), hourly.to_numpy())


def test_incomplete_hours_are_left_empty(ercot_week: pd.DataFrame) -> None:
    gs = as_gridstatus(ercot_week[["HB_NORTH"]]).drop(index=[5])  # one 15-minute interval missing
    hourly = load_gridstatus_prices(gs, freq="1h")["HB_NORTH"]
    assert np.isnan(hourly.iloc[1]) and hourly.notna().sum() == len(hourly) - 1


def test_bundled_real_pjm_sample() -> None:
    gs = pjm_dataminer_to_gridstatus()
    assert set(gs["Location"]) == {"WESTERN HUB", "DOMINION HUB"} and (gs["Market"] == "REAL_TIME_HOURLY").all()
    assert str(gs["Interval Start"].dt.tz) == "America/New_York" and gs["Interval Start"].iloc[0] == pd.Timestamp("2025-05-01 00:00", tz="America/New_York")
    # LMP = energy + congestion + loss (hourly averages agree to PJM's rounding)
    assert (gs["LMP"] - gs["Energy"] - gs["Congestion"] - gs["Loss"]).abs().max() < 0.01
    prices = load_gridstatus_prices(gs)
    assert prices.index[0] == pd.Timestamp("2025-05-01T04:00Z") and len(prices) == 44 and prices.notna().all().all()
    assert prices.loc["2025-05-02T00:00Z", "DOMINION HUB"] == pytest.approx(449.187075)  # HE21 EPT, the day's peak
    assert prices["WESTERN HUB"].mean() == pytest.approx(75.3179, abs=1e-4)
    assert prices["WESTERN HUB"].max() == pytest.approx(704.871394)  # 2025-05-02 17:00 EPT


def test_bad_frames_say_what_is_wrong(ercot_week: pd.DataFrame) -> None:
    gs = as_gridstatus(ercot_week[["HB_WEST"]].head(8))
    naive = gs.assign(**{"Interval Start": gs["Interval Start"].dt.tz_localize(None)})
    with pytest.raises(DataError, match="no time zone"):
        load_gridstatus_prices(naive)
    two = pd.concat([gs, gs.assign(Market="DAY_AHEAD_HOURLY")])
    with pytest.raises(DataError, match="pass market="):
        load_gridstatus_prices(two)
    assert len(load_gridstatus_prices(two, market="REAL_TIME_15_MIN")) == 8
    with pytest.raises(DataError, match="two prices for HB_WEST"):
        load_gridstatus_prices(pd.concat([gs, gs.head(1)]))
    with pytest.raises(DataError, match="exactly one of SPP, LMP"):
        load_gridstatus_prices(gs.assign(LMP=1.0))
    with pytest.raises(DataError, match="freq: got 10min"):
        load_gridstatus_prices(gs, freq="10min")


def test_cli_converts_a_gridstatus_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mullet.cli import main

    pjm = pjm_dataminer_to_gridstatus()
    pjm.to_csv(tmp_path / "pjm.csv", index=False)
    capsys.readouterr()
    main(["data", "gridstatus", str(tmp_path / "pjm.csv"), "--out", str(tmp_path / "prices.csv"), "--locations", "WESTERN HUB"])
    assert "44 intervals" in capsys.readouterr().out
    back = read_timeseries(tmp_path / "prices.csv", {"WESTERN HUB": "finite"}, freq="1h")
    assert back.index[0] == pd.Timestamp("2025-05-01T04:00Z") and len(back) == 44
