"""EIA-930 (Hourly Electric Grid Monitor) demand as users get it: CSV exports and API JSON, any balancing authority.

EIA-930 stamps every hourly value at the **end** of its hour ("the integrated mean
value in megawatts over the previous hour"). Every reader here turns that into
mullet's convention: a tz-aware UTC ``DatetimeIndex`` of **interval starts** on a
complete hourly grid from the first to the last hour in the file; an hour the file
does not have, or has blank (``EMPTY``/``MISSING``), is NaN: a gap, never filled.

Formats read (detected from the content, not the file name):

- EIA Open Data **API v2 JSON** (``response.data`` rows with ``period``, ``respondent``,
  ``type`` and ``value``; ``type == "D"`` is demand). ``period`` is UTC hour ending
  (``2024-01-01T05``) or, for ``local-hourly`` requests, local hour ending with its
  offset (``2024-01-01T00-06``).
- EIA **API v1 JSON** (``series[].data`` pairs like ``["20200101T05Z", 41000]``, series id
  ``EBA.ERCO-ALL.D.H``).
- EIA-930 **six-month BALANCE CSV** downloads (``EIA930_BALANCE_2024_Jan_Jun.csv``):
  ``Balancing Authority``, ``UTC Time at End of Hour``, ``Demand (MW)`` (as the BA
  submitted it; ``--column "Demand (MW) (Adjusted)"`` picks EIA's adjusted series);
  thousands separators are accepted.
- The raw per-BA CSV of Ruggles & Farnham's data release (``date_time``, ``demand (MW)``).
- mullet's own layout (the bundled file): ``interval_start_utc`` or ``interval_end_utc``
  plus one column per BA (``ERCO`` or ``ERCO_demand_mw``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mullet.errors import DataError

__all__ = ["BUNDLED_EIA930_FILE", "gaps_per_year", "load_eia930_demand", "parse_eia930_json", "read_eia930"]

BUNDLED_EIA930_FILE = "eia930_demand_hourly_ERCO_2016_2024.csv.gz"
_HOUR = pd.Timedelta("1h")
_BLANK = ("", "EMPTY", "MISSING", "NA", "N/A", "nan")


def _grid(hour_ending_utc: pd.DatetimeIndex, values: np.ndarray, source: str, ba: str) -> pd.Series:
    """Hour-ending UTC stamps + values -> a full hourly series of interval starts (NaN = gap)."""
    start = pd.DatetimeIndex(hour_ending_utc).tz_convert("UTC").as_unit("ns") - _HOUR
    s = pd.Series(np.asarray(values, dtype=float), index=start)
    if s.index.hasnans:
        raise DataError(source, "empty or unreadable time", column=ba)
    off = (s.index.asi8 % _HOUR.value) != 0
    if off.any():
        raise DataError(source, f"time {s.index[int(np.flatnonzero(off)[0])] + _HOUR} is not on the hour (EIA-930 is hourly)", column=ba)
    dup = s.index.duplicated(keep=False)
    if dup.any():
        groups = s[dup].groupby(level=0)
        conflict = groups.nunique(dropna=True) > 1
        if conflict.any():
            when = conflict.index[int(np.flatnonzero(conflict.to_numpy())[0])]
            raise DataError(source, f"two different values for the hour ending {when + _HOUR}", column=ba)
        s = s[~s.index.duplicated(keep="first")] if not s[dup].isna().any() else groups.first().combine_first(s[~dup])
    s = s.sort_index()
    full = pd.date_range(s.index[0], s.index[-1], freq="1h")
    out = s.reindex(full)
    out.index.name = "interval_start_utc"
    out.name = ba
    return out


def _numbers(col: pd.Series, source: str, column: str) -> np.ndarray:
    text = col.astype(str).str.strip().str.replace(",", "", regex=False)
    blank = col.isna().to_numpy() | text.isin(_BLANK).to_numpy()
    num = pd.to_numeric(text.where(~blank), errors="coerce")
    bad = num.isna().to_numpy() & ~blank
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(source, f"not a number: {col.iloc[row]!r}", row=row + 2, column=column)
    return num.to_numpy(dtype=float)


def _parse_period(text: pd.Series, source: str) -> pd.DatetimeIndex:
    """EIA API periods: ``2024-01-01T05`` (UTC), ``2024-01-01T00-06`` (local with offset), ``20200101T05Z`` (v1)."""
    t = text.astype(str).str.strip()
    m = t.str.extract(r"^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})(Z|[+-]\d{2})?$")
    if m[0].isna().any():
        row = int(np.flatnonzero(m[0].isna().to_numpy())[0])
        raise DataError(source, f"period {t.iloc[row]!r} is not an EIA hourly period (like 2024-01-01T05 or 2024-01-01T00-06)", row=row, column="period")
    offset = m[4].fillna("Z").replace("Z", "+00")
    iso = m[0] + "-" + m[1] + "-" + m[2] + "T" + m[3] + ":00:00" + offset + ":00"
    return pd.DatetimeIndex(pd.to_datetime(iso, utc=True, format="ISO8601"))


def parse_eia930_json(payload: Any, source: str = "EIA API response", ba: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Demand [MW] per BA from an EIA API v2 or v1 JSON payload (already decoded); interval start UTC, NaN = gap."""
    wanted = {ba} if isinstance(ba, str) else set(ba) if ba is not None else None
    series: dict[str, pd.Series] = {}
    if isinstance(payload, dict) and isinstance(payload.get("response"), dict):
        rows = payload["response"].get("data")
        if not isinstance(rows, list) or not rows:
            raise DataError(source, "no rows in response.data")
        df = pd.DataFrame(rows)
        for col in ("period", "respondent", "value"):
            if col not in df.columns:
                raise DataError(source, f"rows have no '{col}' field; expected EIA API v2 rows (period, respondent, type, value)")
        if "type" in df.columns:
            df = df[df["type"].astype(str) == "D"]
            if df.empty:
                raise DataError(source, "no demand rows (type 'D') in the response")
        for name, part in df.groupby("respondent", sort=True):
            if wanted is None or name in wanted:
                series[str(name)] = _grid(_parse_period(part["period"], source), _numbers(part["value"], source, "value"), source, str(name))
    elif isinstance(payload, dict) and isinstance(payload.get("series"), list):
        for item in payload["series"]:
            sid = str(item.get("series_id", ""))
            m = re.match(r"EBA\.([A-Z0-9_]+)-ALL\.D\.H", sid)
            if m is None:
                continue
            name = m.group(1)
            data = item.get("data") or []
            if not data or (wanted is not None and name not in wanted):
                continue
            part = pd.DataFrame(data, columns=["period", "value"])
            series[name] = _grid(_parse_period(part["period"], source), _numbers(part["value"], source, "value"), source, name)
    else:
        raise DataError(source, "not an EIA API response (expected 'response.data' (v2) or 'series' (v1))")
    if not series:
        raise DataError(source, f"no demand series{' for ' + ', '.join(sorted(wanted)) if wanted else ''} in the response")
    return pd.concat(series, axis=1).sort_index()


def _from_table(raw: pd.DataFrame, source: str, ba: str | Sequence[str] | None, column: str | None) -> pd.DataFrame:
    cols = set(raw.columns)
    wanted = [ba] if isinstance(ba, str) else list(ba) if ba is not None else None
    if "UTC Time at End of Hour" in cols and "Balancing Authority" in cols:
        value_col = column or "Demand (MW)"
        if value_col not in cols:
            raise DataError(source, f"no column '{value_col}'; demand columns here: {sorted(c for c in cols if 'Demand' in c)}")
        ends = pd.to_datetime(raw["UTC Time at End of Hour"], format="%m/%d/%Y %I:%M:%S %p", utc=True, errors="coerce")
        if ends.isna().any():
            ends = pd.to_datetime(raw["UTC Time at End of Hour"], format="mixed", utc=True, errors="coerce")
        if ends.isna().any():
            row = int(np.flatnonzero(ends.isna().to_numpy())[0])
            raise DataError(source, f"not a time: {raw['UTC Time at End of Hour'].iloc[row]!r}", row=row + 2, column="UTC Time at End of Hour")
        values = _numbers(raw[value_col], source, value_col)
        out = {}
        names = raw["Balancing Authority"].astype(str).str.strip()
        for name in sorted(names.unique()):
            if wanted is None or name in wanted:
                sel = (names == name).to_numpy()
                out[name] = _grid(pd.DatetimeIndex(ends[sel]), values[sel], source, name)
        if not out:
            raise DataError(source, f"no rows for {wanted}; balancing authorities in the file: {sorted(names.unique())[:20]}")
        return pd.concat(out, axis=1).sort_index()
    if "date_time" in cols and "demand (MW)" in cols:
        name = wanted[0] if wanted else (column or Path(source).name.split(".")[0])
        ends = pd.to_datetime(raw["date_time"], utc=True, format="ISO8601")
        return _grid(pd.DatetimeIndex(ends), _numbers(raw["demand (MW)"], source, "demand (MW)"), source, name).to_frame()
    time_col = "interval_start_utc" if "interval_start_utc" in cols else "interval_end_utc" if "interval_end_utc" in cols else None
    if time_col is None:
        raise DataError(
            source,
            "unknown EIA-930 layout; expected an EIA-930 BALANCE download ('UTC Time at End of Hour', 'Balancing Authority', 'Demand (MW)'), "
            "a Ruggles raw file ('date_time', 'demand (MW)') or 'interval_start_utc'/'interval_end_utc' with one column per BA",
        )
    from mullet.data import _require_utc_offsets

    _require_utc_offsets(raw[time_col], source, time_col)
    stamps = pd.DatetimeIndex(pd.to_datetime(raw[time_col], utc=True, format="ISO8601"))
    ends = stamps + _HOUR if time_col == "interval_start_utc" else stamps
    if wanted:
        candidates = wanted
    elif column:
        candidates = [column]
    else:  # every demand column: '<BA>_demand_mw', else every column named like a BA code (upper case)
        codes = [c for c in raw.columns if re.fullmatch(r"[A-Z][A-Z0-9_-]*", c) and "FLAG" not in c]
        candidates = [c for c in raw.columns if c.endswith("_demand_mw")] or codes
    out = {}
    for name in candidates:
        col = name if name in cols else f"{name}_demand_mw" if f"{name}_demand_mw" in cols else None
        if col is None:
            raise DataError(source, f"no column '{name}' or '{name}_demand_mw'; columns: {list(raw.columns)}")
        label = col.removesuffix("_demand_mw")
        out[label] = _grid(ends, _numbers(raw[col], source, col), source, label)
    if not out:
        raise DataError(source, "which balancing authority? pass ba= (or --column) naming the demand column")
    return pd.concat(out, axis=1).sort_index()


def read_eia930(path: str | Path, ba: str | Sequence[str] | None = None, column: str | None = None) -> pd.DataFrame:
    """Read EIA-930 hourly demand [MW] from a CSV (optionally gzipped), Parquet or JSON file.

    Parameters
    ----------
    path
        The file, in any layout listed in the module docstring.
    ba
        Balancing authority code(s) to keep (``"ERCO"``, ``["PJM", "MISO"]``); default all in the file.
    column
        For BALANCE downloads, the demand column (default ``"Demand (MW)"``, the raw submitted value).

    Returns
    -------
    pandas.DataFrame
        One column per BA [MW], indexed by tz-aware UTC interval start on a complete hourly grid;
        NaN marks hours the file lacks or leaves blank (gaps, never filled).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(str(p), "file not found")
    suffixes = "".join(p.suffixes).lower()
    if suffixes.endswith(".json"):
        try:
            payload = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DataError(str(p), f"not valid JSON ({exc})") from exc
        return parse_eia930_json(payload, str(p), ba)
    from mullet.data import read_table

    if ".csv" in suffixes:
        try:
            raw = pd.read_csv(p, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(str(p), f"cannot be read as CSV ({type(exc).__name__}: {exc})") from exc
    else:
        raw = read_table(p)
    if raw.empty:
        raise DataError(str(p), "no rows")
    return _from_table(raw, str(p), ba, column)


def load_eia930_demand(ba: str = "ERCO", path: str | Path | None = None) -> pd.Series:
    """Hourly EIA-930 demand of one BA [MW], interval start UTC, NaN = gap.

    Bundled: raw ERCO demand 2016-01-01 to 2024-12-31 (Ruggles & Farnham's copy of the
    EIA API, CC BY 4.0), blanks kept: 241 blank hours, the Uri load shed of February 2021 in it.
    """
    if path is None:
        from mullet.data import bundled_path

        if ba != "ERCO":
            raise DataError(BUNDLED_EIA930_FILE, f"ba: got {ba!r}, the bundled file has only 'ERCO'; pass path= for another BA")
        path = bundled_path(BUNDLED_EIA930_FILE)
    frame = read_eia930(path, ba)
    if ba not in frame.columns:
        raise DataError(str(path), f"no demand for {ba!r}; found {list(frame.columns)}")
    return frame[ba].rename("load_mw")


def gaps_per_year(load_mw: pd.Series, tz: str = "UTC") -> pd.DataFrame:
    """Hours present and missing (NaN) per calendar year of ``tz``: ``hours, hours_present, hours_missing``."""
    local_year = load_mw.index.tz_convert(tz).year
    g = pd.DataFrame({"year": local_year, "present": load_mw.notna().to_numpy()})
    out = g.groupby("year")["present"].agg(hours="size", hours_present="sum")
    out["hours_missing"] = out["hours"] - out["hours_present"]
    return out.astype(np.int64)
