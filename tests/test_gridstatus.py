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


# --- a site outside ERCOT planned from a gridstatus-shaped price file (issue 15) ------------------------------------


def _generated_pjm_year(path: Path, start: str = "2023-01-01", end: str = "2023-12-31 23:00") -> Path:
    """GENERATED test data (not real prices): a gridstatus-shaped PJM real-time hourly file, Eastern time with offsets.

    A daily sine plus seeded gamma noise [USD/MWh]; it only stands in for the shape a gridstatus user has.
    """
    idx = pd.date_range(start, end, freq="1h", tz="UTC").tz_convert("America/New_York")
    lmp = 35 + 15 * np.sin(2 * np.pi * (idx.hour - 6) / 24) + np.random.default_rng(0).gamma(2.0, 5.0, len(idx))
    frame = pd.DataFrame(
        {"Interval Start": idx, "Interval End": idx + pd.Timedelta("1h"), "Location": "WESTERN HUB", "Market": "REAL_TIME_HOURLY", "LMP": lmp.round(2)}
    )
    frame.to_csv(path, index=False)
    return path


def _pjm_scenario(tmp_path: Path, price_file: str) -> Path:
    toml = tmp_path / "pjm.toml"
    toml.write_text(
        'name = "pjm-west"\nstart = "2023-08-01"\nend = "2023-08-07"\n[interconnect]\nimport_limit_mw = 100\n'
        '[[mining]]\nname = "s21"\nmodel = "Antminer S21"\nunits = 10000\n'
        f'[power]\nmarket = "PJM"\nprice_file = "{price_file}"\nsettlement_point = "WESTERN HUB"\n'
    )
    return toml


def test_dispatch_reads_a_gridstatus_price_file_like_the_converted_one(tmp_path: Path) -> None:
    from mullet.dispatch import dispatch
    from mullet.site import load_scenario

    _generated_pjm_year(tmp_path / "gs.csv")
    direct = dispatch(_pjm_scenario(tmp_path, "gs.csv"))
    # independent path: convert with the loader + writer of `mullet data gridstatus`, then read mullet's own layout
    to_mullet_csv(load_gridstatus_prices(tmp_path / "gs.csv"), tmp_path / "converted.csv")
    (tmp_path / "conv").mkdir()
    (tmp_path / "conv" / "converted.csv").write_bytes((tmp_path / "converted.csv").read_bytes())
    converted = dispatch(load_scenario(_pjm_scenario(tmp_path / "conv", "converted.csv")))
    assert direct.metrics["hours"] == 7 * 24
    pd.testing.assert_series_equal(direct.schedule["price_usd_per_mwh"], converted.schedule["price_usd_per_mwh"])
    assert direct.pnl == pytest.approx(converted.pnl)
    # the first interval is 2023-08-01 00:00 UTC, i.e. 20:00 EDT on 31 July in the file
    raw = pd.read_csv(tmp_path / "gs.csv")
    assert direct.schedule["price_usd_per_mwh"].iloc[0] == raw.loc[raw["Interval Start"] == "2023-07-31 20:00:00-04:00", "LMP"].item()


def test_plan_a_pjm_site_from_a_gridstatus_year(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from mullet.cli import main

    _generated_pjm_year(tmp_path / "gs.csv")
    args = ["plan", str(_pjm_scenario(tmp_path, "gs.csv")), "--paths", "4", "--years", "2", "--ai-shares", "0,1", "--conversion-years", "1"]
    args += ["--workers", "1", "--db", str(tmp_path / "runs.duckdb"), "--format", "json"]
    capsys.readouterr()
    main(args)
    out = json.loads(capsys.readouterr().out)
    assert any("WESTERN HUB, years [2023]" in n for n in out["notes"])  # the one whole year of the file, resampled

    # two days only: the plan says the file covers no whole year (one line, exit 2), nothing is stored as a success
    head = pd.read_csv(tmp_path / "gs.csv").head(48)
    (tmp_path / "short").mkdir()
    head.to_csv(tmp_path / "short" / "gs.csv", index=False)
    args[1] = str(_pjm_scenario(tmp_path / "short", "gs.csv"))
    with pytest.raises(SystemExit) as exc:
        main(args)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "cover no whole year" in err and "WESTERN HUB" in err


def test_a_gridstatus_price_file_states_what_is_wrong(tmp_path: Path) -> None:
    from mullet.dispatch.inputs import build_inputs
    from mullet.errors import ScenarioError
    from mullet.site import load_scenario

    _generated_pjm_year(tmp_path / "gs.csv", "2023-08-01", "2023-08-08")
    frame = pd.read_csv(tmp_path / "gs.csv")
    sc = load_scenario(_pjm_scenario(tmp_path, "gs.csv"))
    with pytest.raises(ScenarioError, match=r"power.settlement_point: got 'EASTERN HUB'.*allowed: \['WESTERN HUB'\]"):
        build_inputs(sc.model_copy(update={"power": sc.power.model_copy(update={"settlement_point": "EASTERN HUB"})}))
    # two markets in one file: the scenario names one (power.price_market)
    pd.concat([frame, frame.assign(Market="DAY_AHEAD_HOURLY", LMP=frame["LMP"] + 1)]).to_csv(tmp_path / "gs.csv", index=False)
    with pytest.raises(DataError, match="price_market"):
        build_inputs(sc)
    da = sc.model_copy(update={"power": sc.power.model_copy(update={"price_market": "DAY_AHEAD_HOURLY"})})
    np.testing.assert_allclose(build_inputs(da).price_usd_per_mwh[:24], frame["LMP"].to_numpy()[:24] + 1)  # the file starts 00:00 UTC
