"""Prices in the shape gridstatus returns, for any ISO, as mullet's tz-aware UTC series.

gridstatus (``gridstatus.PJM().get_lmp(...)``, ``ERCOT().get_spp(...)``, ...) returns long frames
with ``Interval Start``, ``Interval End`` (tz-aware, the ISO's local time), ``Location``,
``Market`` and a price column, ``SPP`` or ``LMP`` (with ``Energy``, ``Congestion``, ``Loss``
beside an LMP). This module reads such a frame, or a CSV/Parquet file of one, without
importing gridstatus (its pins conflict with current pandas), and returns a wide frame:
one column per location [USD/MWh], indexed by **UTC interval start** on a fixed interval.

Rules: timestamps must carry their offset (a naive local time shifts at DST changes);
one market at a time (pass ``market=`` when the file holds several); one price per
location and interval (a repeated one is an error, never averaged silently); the
interval is ``Interval End - Interval Start`` and must be the same everywhere.
``freq=`` averages to a coarser interval (e.g. 5-minute real-time LMPs to 15 minutes
or an hour); an output interval with any input interval missing is left NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from mullet.errors import DataError

__all__ = [
    "BUNDLED_PJM_SAMPLE",
    "PRICE_COLUMNS",
    "is_gridstatus_file",
    "load_gridstatus_prices",
    "pjm_dataminer_to_gridstatus",
    "read_gridstatus_price_file",
    "to_mullet_csv",
]

PRICE_COLUMNS = ("SPP", "LMP")
BUNDLED_PJM_SAMPLE = "pjm_rt_hrl_lmps_western_dominion_hub_2025-05-01_02.csv"
"""A real PJM Data Miner 2 ``rt_hrl_lmps`` export: WESTERN HUB and DOMINION HUB, operating day 2025-05-01 (EPT)."""
_PJM_MARKETS = {"rt_hrl_lmps": ("REAL_TIME_HOURLY", "rt"), "da_hrl_lmps": ("DAY_AHEAD_HOURLY", "da")}


def _times(col: pd.Series, source: str, name: str) -> pd.DatetimeIndex:
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(col).tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(col.dtype):
        raise DataError(source, "timestamps have no time zone; allowed: tz-aware (gridstatus returns the ISO's local time with its offset)", column=name)
    from mullet.data import _require_utc_offsets

    _require_utc_offsets(col.astype(str), source, name)
    try:
        # format="ISO8601" accepts both "2024-01-01 00:00:00-05:00" (CSV from gridstatus) and "...T...Z"
        return pd.DatetimeIndex(pd.to_datetime(col, utc=True, format="ISO8601"))
    except (ValueError, TypeError) as exc:
        raise DataError(source, f"not a time ({exc})", column=name) from exc


def load_gridstatus_prices(
    data: pd.DataFrame | str | Path,
    *,
    market: str | None = None,
    price_column: str | None = None,
    locations: Sequence[str] | None = None,
    freq: str | None = None,
) -> pd.DataFrame:
    """Read gridstatus-shaped prices into a wide frame of USD/MWh by location, UTC interval start.

    Parameters
    ----------
    data
        A gridstatus DataFrame, or a CSV/Parquet file holding one.
    market
        Which ``Market`` to keep (e.g. ``"REAL_TIME_5_MIN"``, ``"DAY_AHEAD_HOURLY"``); needed when several.
    price_column
        ``"SPP"`` or ``"LMP"``; default the one present.
    locations
        Locations to keep (default all).
    freq
        Average to this interval (``"15min"``, ``"1h"``); default keep the data's own interval.

    Returns
    -------
    pandas.DataFrame
        Columns: locations; index ``interval_start_utc`` (tz-aware UTC, complete grid from the first to the
        last interval, NaN where a location has no price). ``attrs`` holds ``market``, ``price_column``,
        ``interval`` and ``source``.
    """
    from mullet.data import read_table

    source = str(data) if not isinstance(data, pd.DataFrame) else "gridstatus frame"
    frame = data if isinstance(data, pd.DataFrame) else read_table(data)
    need = ["Interval Start", "Location"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}; a gridstatus frame has Interval Start, Interval End, Location, Market and SPP or LMP")
    if price_column is None:
        present = [c for c in PRICE_COLUMNS if c in frame.columns]
        if len(present) != 1:
            raise DataError(source, f"price column: found {present or 'none'}; allowed: exactly one of SPP, LMP (or pass price_column=)")
        price_column = present[0]
    elif price_column not in frame.columns:
        raise DataError(source, f"price column {price_column!r} not in the data; columns: {list(frame.columns)}")
    df = frame
    if "Market" in df.columns:
        markets = sorted(df["Market"].astype(str).unique())
        if market is None:
            if len(markets) > 1:
                raise DataError(source, f"market: the data hold {markets}; pass market= (one at a time; a scenario's power.price_market)")
            market = markets[0] if markets else None
        elif market not in markets:
            raise DataError(source, f"market: got {market!r}, the data hold {markets}")
        df = df[df["Market"].astype(str) == market]
    if locations is not None:
        absent = sorted(set(locations) - set(df["Location"].astype(str)))
        if absent:
            raise DataError(source, f"locations {absent} not in the data; found {sorted(df['Location'].astype(str).unique())[:20]}")
        df = df[df["Location"].astype(str).isin(list(locations))]
    if df.empty:
        raise DataError(source, "no rows left to read")
    start = _times(df["Interval Start"], source, "Interval Start")
    if "Interval End" in df.columns:
        width = _times(df["Interval End"], source, "Interval End") - start
        widths = pd.unique(np.asarray(width))
        if len(widths) != 1 or pd.Timedelta(widths[0]) <= pd.Timedelta(0):
            lengths = sorted(pd.Timedelta(w) for w in widths)[:5]
            raise DataError(source, f"intervals of different or non-positive lengths {lengths}; allowed: one fixed interval")
        interval = pd.Timedelta(widths[0])
    else:
        steps = np.diff(np.unique(start.asi8))
        if len(steps) == 0:
            raise DataError(source, "one interval only and no 'Interval End' to tell its length")
        interval = pd.Timedelta(int(steps.min()), unit="ns")
    price = pd.to_numeric(df[price_column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(price) & df[price_column].notna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(source, f"not a number: {df[price_column].iloc[i]!r}", row=i + 2, column=price_column)
    long = pd.DataFrame({"t": start, "loc": df["Location"].astype(str).to_numpy(), "p": price})
    dup = long.duplicated(["t", "loc"])
    if dup.any():
        row = long[dup].iloc[0]
        raise DataError(source, f"two prices for {row['loc']} at {row['t']} (UTC interval start); allowed: one per location and interval")
    wide = long.pivot(index="t", columns="loc", values="p").sort_index()
    off = (wide.index.as_unit("ns").asi8 - wide.index.as_unit("ns").asi8[0]) % interval.value
    if off.any():
        raise DataError(source, f"interval start {wide.index[int(np.flatnonzero(off)[0])]} is off the {interval} grid")
    grid = pd.date_range(wide.index[0], wide.index[-1], freq=interval)
    wide = wide.reindex(grid)
    if freq is not None:
        target = pd.Timedelta(freq)
        if target < interval or target % interval != pd.Timedelta(0):
            raise DataError(source, f"freq: got {freq}, allowed: a multiple of the data's interval {interval}")
        per = int(target / interval)
        bucket = wide.index.floor(target)
        counts = wide.notna().groupby(bucket).sum()
        wide = wide.groupby(bucket).mean().where(counts == per)
        interval = target
    wide.index = pd.DatetimeIndex(wide.index, name="interval_start_utc")
    wide.columns.name = None
    wide.attrs.update({"market": market, "price_column": price_column, "interval": str(interval), "source": source})
    return wide


def _columns(path: str | Path) -> list[str]:
    """Column names of a CSV (header only) or Parquet file."""
    from mullet.data import read_table

    p = Path(path)
    if ".csv" in "".join(p.suffixes).lower():
        try:
            return list(pd.read_csv(p, nrows=0).columns)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(str(p), f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc
    return list(read_table(p).columns)


def is_gridstatus_file(path: str | Path) -> bool:
    """True when the price file at ``path`` is gridstatus-shaped (``Interval Start`` and ``Location`` columns), not mullet's layout."""
    from mullet.data import read_table

    if not Path(path).exists():
        read_table(path)  # raises the file-not-found DataError
    cols = _columns(path)
    return "Interval Start" in cols and "Location" in cols


@lru_cache(maxsize=4)
def _cached_file(path: str, stamp: tuple[int, int], market: str | None) -> pd.DataFrame:
    return load_gridstatus_prices(path, market=market)


def read_gridstatus_price_file(path: str | Path, market: str | None = None) -> pd.DataFrame:
    """A gridstatus-shaped price file as a wide frame (:func:`load_gridstatus_prices`), read once per file version.

    The frame is the cached one: copy it before changing it. Columns: locations [USD/MWh]; index: UTC interval
    starts on the file's own fixed interval (NaN where a location has no price).
    """
    st = Path(path).stat()
    return _cached_file(str(path), (st.st_mtime_ns, st.st_size), market)


def to_mullet_csv(prices: pd.DataFrame, path: str | Path) -> Path:
    """Write a wide price frame as mullet's price-file layout (``interval_start_utc`` with ``Z``, one column per location)."""
    p = Path(path)
    out = prices.copy()
    out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    out.rename_axis("interval_start_utc").to_csv(p)
    return p


def pjm_dataminer_to_gridstatus(data: pd.DataFrame | str | Path | None = None, feed: str = "rt_hrl_lmps") -> pd.DataFrame:
    """A PJM Data Miner 2 LMP export (``rt_hrl_lmps`` or ``da_hrl_lmps``) in gridstatus' shape.

    The export's ``datetime_beginning_utc`` (hour beginning, UTC, like ``5/1/2025 4:00:00 AM``) becomes
    ``Interval Start`` in Eastern prevailing time with its offset, as gridstatus returns PJM data;
    ``total_lmp_*`` is ``LMP``, with ``Energy``, ``Congestion`` and ``Loss``. Default: the bundled sample.
    """
    from mullet.data import bundled_path, read_table

    if feed not in _PJM_MARKETS:
        raise DataError(str(data), f"feed: got {feed!r}, allowed: {sorted(_PJM_MARKETS)}")
    market, suffix = _PJM_MARKETS[feed]
    source = str(data) if data is not None and not isinstance(data, pd.DataFrame) else BUNDLED_PJM_SAMPLE if data is None else "Data Miner frame"
    raw = data if isinstance(data, pd.DataFrame) else read_table(bundled_path(BUNDLED_PJM_SAMPLE) if data is None else data)
    cols = ["datetime_beginning_utc", "pnode_name", f"total_lmp_{suffix}"]
    missing = [c for c in cols if c not in raw.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}; expected a PJM Data Miner 2 {feed} export")
    try:
        start = pd.to_datetime(raw["datetime_beginning_utc"], format="%m/%d/%Y %I:%M:%S %p").dt.tz_localize("UTC")
    except ValueError:
        try:
            start = pd.to_datetime(raw["datetime_beginning_utc"], format="ISO8601", utc=True)
        except ValueError as exc:
            raise DataError(source, f"unreadable time ({exc})", column="datetime_beginning_utc") from exc
    local = start.dt.tz_convert("America/New_York")
    out = pd.DataFrame(
        {
            "Interval Start": local,
            "Interval End": local + pd.Timedelta("1h"),
            "Market": market,
            "Location": raw["pnode_name"].astype(str),
            "Location Type": raw["type"].astype(str) if "type" in raw.columns else "",
            "LMP": pd.to_numeric(raw[f"total_lmp_{suffix}"], errors="coerce"),
        }
    )
    for name, col in (("Energy", f"system_energy_price_{suffix}"), ("Congestion", f"congestion_price_{suffix}"), ("Loss", f"marginal_loss_price_{suffix}")):
        if col in raw.columns:
            out[name] = pd.to_numeric(raw[col], errors="coerce")
    return out
