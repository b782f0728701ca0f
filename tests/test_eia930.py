"""EIA-930 readers: API v2/v1 JSON, BALANCE CSV downloads, the Ruggles raw files; hour-ending to interval start.

Values are the first real ERCO hours of the bundled file (2016-01-01, UTC hour ending 01:00..06:00),
written in each layout EIA publishes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mullet.data.eia930 import gaps_per_year, load_eia930_demand, parse_eia930_json, read_eia930
from mullet.errors import DataError

REAL = {1: 40328.0, 2: 39263.0, 3: 38072.0, 4: 36931.0, 5: 35669.0, 6: 34680.0}  # UTC hour ending -> MW


def starts(*hours: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex([pd.Timestamp(f"2016-01-01T{h - 1:02d}:00Z") for h in hours]).as_unit("ns")


def test_bundled_matches_the_values_used_here() -> None:
    s = load_eia930_demand()
    assert s.loc[starts(*REAL)].tolist() == list(REAL.values())
    assert s.index.freq == "h" and str(s.index.tz) == "UTC"
    gaps = gaps_per_year(s)
    assert gaps.loc[2018, "hours_missing"] == 96 and gaps.loc[2019, "hours_missing"] == 0
    with pytest.raises(DataError, match="only 'ERCO'"):
        load_eia930_demand("PJM")


def test_api_v2_json_hour_ending_and_gaps(tmp_path: Path) -> None:
    rows = [
        {"period": f"2016-01-01T{h:02d}", "respondent": "ERCO", "type": "D", "type-name": "Demand", "value": str(int(REAL[h])), "value-units": "megawatthours"}
        for h in (6, 4, 2, 1)
    ]
    rows.append({"period": "2016-01-01T01", "respondent": "ERCO", "type": "NG", "value": "1"})  # net generation: ignored
    rows.append({"period": "2016-01-01T05", "respondent": "ERCO", "type": "D", "value": None})  # a blank
    path = tmp_path / "erco.json"
    path.write_text(json.dumps({"response": {"total": len(rows), "frequency": "hourly", "data": rows}}))
    df = read_eia930(path)
    assert list(df.columns) == ["ERCO"]
    assert df.index.equals(pd.date_range("2016-01-01T00:00Z", "2016-01-01T05:00Z", freq="1h"))  # hour ending 01:00 -> starts 00:00
    np.testing.assert_array_equal(df["ERCO"].to_numpy(), [REAL[1], REAL[2], np.nan, REAL[4], np.nan, REAL[6]])
    # local-hourly periods carry their offset: 19:00 CST on Dec 31 ends at 01:00 UTC
    local = {"response": {"data": [{"period": "2015-12-31T19-06", "respondent": "ERCO", "type": "D", "value": 40328}]}}
    assert parse_eia930_json(local)["ERCO"].index[0] == pd.Timestamp("2016-01-01T00:00Z")


def test_api_v1_json_newest_first() -> None:
    payload = {"series": [{"series_id": "EBA.ERCO-ALL.D.H", "data": [["20160101T03Z", REAL[3]], ["20160101T02Z", REAL[2]], ["20160101T01Z", REAL[1]]]}]}
    df = parse_eia930_json(payload)
    assert df.index.equals(starts(1, 2, 3).rename("interval_start_utc")) or df.index.equals(starts(1, 2, 3))
    assert df["ERCO"].tolist() == [REAL[1], REAL[2], REAL[3]]


def test_balance_csv_download(tmp_path: Path) -> None:
    header = '"Balancing Authority","Data Date","Hour Number","Local Time at End of Hour","UTC Time at End of Hour","Demand (MW)","Demand (MW) (Adjusted)"'
    lines = [header]
    for h in (1, 2, 3):
        lines.append(f'"ERCO","12/31/2015",{h + 18},"12/31/2015 {h + 6}:00:00 PM","01/01/2016 {h}:00:00 AM","{int(REAL[h]):,}","{int(REAL[h]) + 1:,}"')
    lines.append('"PJM","12/31/2015",19,"12/31/2015 8:00:00 PM","01/01/2016 1:00:00 AM","",""')
    path = tmp_path / "EIA930_BALANCE_2016_Jan_Jun.csv"
    path.write_text("\n".join(lines) + "\n")
    df = read_eia930(path, ba="ERCO")
    assert df.index[0] == pd.Timestamp("2016-01-01T00:00Z") and df["ERCO"].tolist() == [REAL[1], REAL[2], REAL[3]]
    adjusted = read_eia930(path, ba="ERCO", column="Demand (MW) (Adjusted)")
    assert adjusted["ERCO"].tolist() == [REAL[1] + 1, REAL[2] + 1, REAL[3] + 1]
    both = read_eia930(path)
    assert list(both.columns) == ["ERCO", "PJM"] and both["PJM"].isna().all()


def test_ruggles_raw_file_and_mullet_layout(tmp_path: Path) -> None:
    raw = tmp_path / "ERCO.csv"
    raw.write_text("date_time,demand (MW),category\n2016-01-01 01:00:00+00:00,40328,\n2016-01-01 02:00:00+00:00,EMPTY,\n2016-01-01 03:00:00+00:00,38072,\n")
    df = read_eia930(raw)
    assert list(df.columns) == ["ERCO"] and np.isnan(df["ERCO"].iloc[1]) and df["ERCO"].iloc[2] == REAL[3]
    end = tmp_path / "end.csv"
    end.write_text("interval_end_utc,ERCO\n2016-01-01T01:00:00Z,40328\n2016-01-01T03:00:00Z,38072\n")
    got = read_eia930(end, ba="ERCO")["ERCO"]
    assert got.index[0] == pd.Timestamp("2016-01-01T00:00Z") and len(got) == 3 and np.isnan(got.iloc[1])


def test_bad_inputs_name_file_row_and_column(tmp_path: Path) -> None:
    dup = {
        "response": {
            "data": [
                {"period": "2016-01-01T01", "respondent": "ERCO", "type": "D", "value": 1},
                {"period": "2016-01-01T01", "respondent": "ERCO", "type": "D", "value": 2},
            ]
        }
    }
    with pytest.raises(DataError, match="two different values for the hour ending 2016-01-01 01:00"):
        parse_eia930_json(dup)
    with pytest.raises(DataError, match="not an EIA API response"):
        parse_eia930_json({"data": []})
    with pytest.raises(DataError, match="period 'yesterday'"):
        parse_eia930_json({"response": {"data": [{"period": "yesterday", "respondent": "ERCO", "type": "D", "value": 1}]}})
    bad = tmp_path / "bad.csv"
    bad.write_text("interval_start_utc,ERCO\n2016-01-01T00:00:00Z,40328\n2016-01-01T01:00:00Z,lots\n")
    with pytest.raises(DataError, match=r"row 3, column 'ERCO': not a number: 'lots'"):
        read_eia930(bad)
    naive = tmp_path / "naive.csv"
    naive.write_text("interval_start_utc,ERCO\n2016-01-01 00:00,40328\n")
    with pytest.raises(DataError, match="no UTC offset"):
        read_eia930(naive)
    other = tmp_path / "other.csv"
    other.write_text("when,what\n1,2\n")
    with pytest.raises(DataError, match="unknown EIA-930 layout"):
        read_eia930(other)
