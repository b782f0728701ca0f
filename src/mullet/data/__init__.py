"""Bundled real-world data and validated loaders.

Every loader returns a pandas frame indexed by a tz-aware UTC ``DatetimeIndex``
of *interval starts* (daily data: the UTC day starting at 00:00), sorted and
unique, with unit-suffixed columns. Each accepts ``path=`` to read a user's own
CSV or Parquet file with the same columns instead of the bundled copy.

Bad data raises :class:`mullet.errors.DataError` naming the file, the row and
the column; no NaN passes silently: columns where NaN is a documented gap (fees
before 2023-02-18, ECRS before its launch) are listed per loader.

Sources and licences of every bundled file: ``mullet.data.SOURCES`` and the README.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from mullet.errors import DataError, warn_implausible

__all__ = [
    "AS_PRODUCTS",
    "ERCOT_HUBS",
    "ERCOT_LOAD_ZONES",
    "bundled_path",
    "check_gaps",
    "check_plausible",
    "load_as_prices",
    "load_asic_catalog",
    "load_difficulty_adjustments",
    "load_ercot_4cp_proxy",
    "load_ercot_hub_prices",
    "load_ercot_loadzone_prices",
    "load_gpu_specs",
    "load_hashrate_mempool_daily",
    "load_network_daily",
    "load_system_load",
    "read_table",
    "read_timeseries",
]

ERCOT_HUBS = ("HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST")
ERCOT_LOAD_ZONES = ("LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST")
AS_PRODUCTS = ("REGUP", "REGDN", "RRS", "ECRS", "NSPIN")


def bundled_path(name: str) -> Path:
    """Path of a bundled data file (inside the installed package)."""
    path = Path(str(resources.files("mullet.data") / "files" / name))
    if not path.exists():
        raise DataError(name, "no such bundled file")
    return path


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally gzipped) or Parquet file; a missing or unreadable file raises DataError."""
    p = Path(path)
    if not p.exists():
        raise DataError(str(p), "file not found")
    suffixes = "".join(p.suffixes).lower()
    try:
        if suffixes.endswith(".parquet") or suffixes.endswith(".pq"):
            return pd.read_parquet(p)
        if ".csv" in suffixes or suffixes.endswith(".gz") or suffixes == ".txt":
            return pd.read_csv(p)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(str(p), f"cannot be read as a table ({type(exc).__name__}: {exc})") from exc
    raise DataError(str(p), f"unknown file type '{suffixes or p.name}', allowed: .csv, .csv.gz, .parquet")


@dataclass(frozen=True)
class _Schema:
    time_column: str
    columns: Mapping[str, str]
    """column -> rule: 'nonneg' (finite, >= 0), 'finite' (any finite), 'nonneg_or_nan', 'finite_or_nan', 'text'."""
    freq: str | None = None
    """Fixed interval the index must have (``"1D"``, ``"1h"``, ``"15min"``), or None for event data."""


def _validated(df: pd.DataFrame, source: str, schema: _Schema, *, allow_gaps: bool = True) -> pd.DataFrame:
    missing = [c for c in [schema.time_column, *schema.columns] if c not in df.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}; expected {[schema.time_column, *schema.columns]}")
    if df.empty:
        raise DataError(source, "no data rows (only a header)")
    _require_utc_offsets(df[schema.time_column], source, schema.time_column)
    try:
        index = pd.to_datetime(df[schema.time_column], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        bad = _first_bad_time(df[schema.time_column])
        raise DataError(source, f"not an ISO-8601 time ({exc})", row=bad, column=schema.time_column) from exc
    if index.isna().any():
        row = int(np.flatnonzero(index.isna().to_numpy())[0])
        raise DataError(source, "empty time", row=_row_label(row), column=schema.time_column)
    index = pd.DatetimeIndex(index).as_unit("ns")
    steps = np.diff(index.asi8)
    if (steps <= 0).any():
        row = int(np.flatnonzero(steps <= 0)[0]) + 1
        kind = "duplicate" if steps[row - 1] == 0 else "out-of-order"
        raise DataError(source, f"{kind} time {index[row]} (times must be sorted and unique)", row=_row_label(row), column=schema.time_column)
    if schema.freq is not None and len(steps):
        step = pd.Timedelta(schema.freq).value
        off = (steps % step) != 0
        if off.any():
            row = int(np.flatnonzero(off)[0]) + 1
            raise DataError(source, f"time {index[row]} is not on the {schema.freq} grid", row=_row_label(row), column=schema.time_column)
        if not allow_gaps and (steps != step).any():
            row = int(np.flatnonzero(steps != step)[0]) + 1
            raise DataError(source, f"gap before {index[row]} (expected every {schema.freq})", row=_row_label(row), column=schema.time_column)
    out = pd.DataFrame(index=index.rename("interval_start_utc"))
    for column, rule in schema.columns.items():
        series = df[column]
        if rule == "text":
            out[column] = series.to_numpy()
            continue
        numeric = pd.to_numeric(series, errors="coerce")
        nan = numeric.isna().to_numpy() & ~series.isna().to_numpy()
        if nan.any():
            row = int(np.flatnonzero(nan)[0])
            raise DataError(source, f"not a number: {series.iloc[row]!r}", row=_row_label(row), column=column)
        arr = numeric.to_numpy(dtype=float)
        if not rule.endswith("_or_nan") and np.isnan(arr).any():
            row = int(np.flatnonzero(np.isnan(arr))[0])
            raise DataError(source, "missing value (NaN is not allowed in this column)", row=_row_label(row), column=column)
        if np.isinf(arr).any():
            row = int(np.flatnonzero(np.isinf(arr))[0])
            raise DataError(source, "infinite value", row=_row_label(row), column=column)
        if rule.startswith("nonneg") and (arr < 0).any():
            row = int(np.flatnonzero(arr < 0)[0])
            raise DataError(source, f"negative value {arr[row]} (allowed: >= 0)", row=_row_label(row), column=column)
        out[column] = arr
    return out


_OFFSET = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _require_utc_offsets(col: pd.Series, source: str, column: str) -> None:
    """Timestamps must say their offset (``Z`` or ``+hh:mm``): a naive local time would shift silently at DST changes."""
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        return
    if pd.api.types.is_datetime64_dtype(col.dtype):
        raise DataError(source, "timestamps have no time zone; allowed: tz-aware (UTC or with an offset)", column=column)
    text = col.astype(str)
    dates_only = text.str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    if dates_only.all():
        return  # daily data: a UTC calendar day
    bad = ~text.str.contains(_OFFSET, regex=True) & ~dates_only
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            source,
            f"timestamp {text.iloc[row]!r} has no UTC offset; allowed: ISO-8601 with 'Z' or '+hh:mm' (naive local times shift at DST changes)",
            row=_row_label(row),
            column=column,
        )


def check_gaps(have: pd.DatetimeIndex, needed: pd.DatetimeIndex, policy: str, source: str, column: str, notes: list[str]) -> int:
    """Compare the stamps a series ``have`` with the ``needed`` ones (both tz-aware UTC interval starts).

    With ``policy == "error"`` a gap raises :class:`DataError` naming the file, the column and the
    first missing stamp; with ``"ffill"`` the caller fills each gap from the previous interval and a
    note saying how many and where is appended to ``notes``. Returns the number of missing stamps.
    """
    missing = needed[~needed.isin(have)]
    if missing.empty:
        return 0
    n = len(missing)
    if policy != "ffill":
        raise DataError(
            source,
            f"{n} missing interval(s) in the horizon, first at {missing[0]} (UTC interval start); "
            "pass --fill ffill (or set power.missing_intervals = 'ffill') to fill them from the previous interval",
            column=column,
        )
    notes.append(f"{source}, {column}: {n} missing interval(s) filled from the previous interval (first {missing[0]}), as asked")
    return n


def check_plausible(values: pd.Series, source: str, column: str, low: float, high: float, usual: str) -> None:
    """Warn (:class:`~mullet.errors.PlausibilityWarning`) when ``values`` leave ``low``..``high``.

    The range is wide on purpose: it catches unit slips (kg for t, $/kWh for $/MWh, a stray exponent),
    not unusual but real values; ``usual`` says what the range rests on.
    """
    arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero((arr < low) | (arr > high))
    if len(bad):
        i = int(bad[0])
        warn_implausible(
            f"{source}, column '{column}': {len(bad)} value(s) outside {low:,g}..{high:,g}, first {arr[i]:,g} at {values.index[i]} ({usual}); "
            "check the units, the numbers are used as given"
        )


PRICE_RANGE_USD_PER_MWH = (-1_000.0, 10_000.0)
"""Plausible spot prices: ERCOT's offer floor is -$250/MWh and its cap $5,000/MWh; with adders real-time prices reached $9,315 (2021)."""


def _row_label(i: int) -> int:
    """Row number as a user sees it in the file: 1-based data row, the header being row 0... +1 for the header line."""
    return i + 2


def _first_bad_time(col: pd.Series) -> int | None:
    for i, value in enumerate(col):
        try:
            pd.Timestamp(value)
        except (ValueError, TypeError):
            return _row_label(i)
    return None


def read_timeseries(
    path: str | Path,
    columns: Mapping[str, str],
    freq: str | None = None,
    time_column: str = "interval_start_utc",
) -> pd.DataFrame:
    """Read and validate a user's time series file (CSV or Parquet).

    ``columns`` maps each needed column to its rule: ``"finite"``, ``"nonneg"``,
    ``"finite_or_nan"`` or ``"nonneg_or_nan"``. Times must carry a UTC offset; the
    result is indexed by tz-aware UTC interval start, sorted and unique, and on the
    ``freq`` grid if given (gaps allowed; callers decide what a gap means).
    """
    return _validated(read_table(path), str(path), _Schema(time_column, dict(columns), freq=freq))


def _bundled_table(name: str) -> pd.DataFrame:
    """A bundled file with the rows ``mullet data update`` stored after its end appended (see :mod:`mullet.data.update`)."""
    from mullet.data.update import merge_updates

    return merge_updates(name, read_table(bundled_path(name)))


def _load(name: str, path: str | Path | None, schema: _Schema) -> pd.DataFrame:
    if path is None:
        if name not in _BUNDLED_CACHE:
            _BUNDLED_CACHE[name] = _validated(_bundled_table(name), name, schema)
        return _BUNDLED_CACHE[name].copy()
    return _validated(read_table(path), str(path), schema)


_BUNDLED_CACHE: dict[str, pd.DataFrame] = {}


_NETWORK = _Schema(
    "date",
    {
        "price_usd": "nonneg",
        "block_count": "nonneg",
        "difficulty_mean": "nonneg",
        "hashrate_ths": "nonneg",
        "issuance_btc": "nonneg",
        "fees_btc": "nonneg_or_nan",
    },
    freq="1D",
)


def load_network_daily(path: str | Path | None = None) -> pd.DataFrame:
    """Daily Bitcoin network history (Coin Metrics community data, CC BY-NC 4.0).

    Index: UTC day start. Columns: ``price_usd`` [USD/BTC], ``block_count``
    [blocks/day], ``difficulty_mean`` (mean of the day's blocks), ``hashrate_ths``
    [TH/s], ``issuance_btc`` [BTC/day], ``fees_btc`` [BTC/day; NaN where the
    source has no fee data: 2014-01-23 to 2023-02-17], ``fees_known`` (bool).
    Bundled: 2014-01-01 to 2025-12-29, no missing days.
    """
    df = _load("btc_network_daily.csv", path, _NETWORK)
    df["block_count"] = df["block_count"].astype(np.int64)
    df["fees_known"] = df["fees_btc"].notna()
    return df


def load_difficulty_adjustments(path: str | Path | None = None) -> pd.DataFrame:
    """Every difficulty change on mainnet (mempool.space), genesis to 2025-03-09.

    Index: timestamp of the first block of the epoch (UTC). Columns: ``height``
    (first block of the epoch), ``difficulty``, ``adjustment_ratio`` (to the
    previous listed epoch; 0 for genesis). Early epochs whose difficulty did not
    change are not listed.
    """
    schema = _Schema("time_utc", {"height": "nonneg", "difficulty": "nonneg", "adjustment": "nonneg"})
    df = _load("btc_difficulty_adjustments_mempool.csv", path, schema)
    df["height"] = df["height"].astype(np.int64)
    return df.rename(columns={"adjustment": "adjustment_ratio"})


def load_hashrate_mempool_daily(path: str | Path | None = None) -> pd.DataFrame:
    """Daily average network hashrate [TH/s] estimated by mempool.space, 2014-01-01 to 2025-03-22."""
    return _load("btc_hashrate_mempool_daily.csv", path, _Schema("date", {"hashrate_ths": "nonneg"}, freq="1D"))


def load_system_load(path: str | Path | None = None, column: str | None = None) -> pd.DataFrame:
    """Hourly system load [MW], interval start UTC.

    Bundled: ERCOT native load, 2021, 2023 and 2024-01-01 to 2024-08-31 (2022 is
    missing). A user file needs ``interval_start_utc`` (or ``interval_end_utc``)
    and the load column: ``column``, or by default ``load_mw`` (any market's system
    or zone load) or ``ERCOT``. Returns one column, ``load_mw``.
    """
    if path is None:
        raw = _bundled_table("ercot_native_load_hourly.csv.gz")
        source = "ercot_native_load_hourly.csv.gz"
    else:
        raw, source = read_table(path), str(path)
    if column is None:
        column = "ERCOT" if path is None or ("load_mw" not in raw.columns and "ERCOT" in raw.columns) else "load_mw"
    if "interval_start_utc" not in raw.columns and "interval_end_utc" in raw.columns:
        _require_utc_offsets(raw["interval_end_utc"], source, "interval_end_utc")
        raw = raw.assign(interval_start_utc=pd.to_datetime(raw["interval_end_utc"], utc=True, format="ISO8601") - pd.Timedelta("1h"))
    df = _validated(raw, source, _Schema("interval_start_utc", {column: "nonneg"}, freq="1h"))
    return df.rename(columns={column: "load_mw"})


def _price_loader(name: str, columns: Iterable[str], freq: str, path: str | Path | None, rule: str = "finite") -> pd.DataFrame:
    return _load(name, path, _Schema("interval_start_utc", dict.fromkeys(columns, rule), freq=freq))


def load_ercot_hub_prices(path: str | Path | None = None) -> pd.DataFrame:
    """ERCOT real-time 15-minute settlement point prices at the trading hubs [USD/MWh].

    Interval start UTC, 15-minute grid, 2021-01-01 to 2024-12-31 (Central time).
    Columns: ``HB_BUSAVG, HB_HOUSTON, HB_HUBAVG, HB_NORTH, HB_PAN, HB_SOUTH, HB_WEST``.
    57 intervals of 2021 are missing in the source (listed in SOURCES.md); they
    are absent rows here, never filled.
    """
    return _price_loader("ercot_rtm_hub_spp_15min_2021_2024.csv.gz", ERCOT_HUBS, "15min", path)


def load_ercot_loadzone_prices(path: str | Path | None = None) -> pd.DataFrame:
    """ERCOT real-time hourly load-zone prices for 2023 [USD/MWh], interval start UTC.

    The repeated fall-back hour of 2023-11-05 appears once in the source; the
    hour after it (07:00 UTC) is therefore absent.
    """
    return _price_loader("ercot_rtm_loadzone_spp_hourly_2023.csv.gz", ERCOT_LOAD_ZONES, "1h", path)


def load_as_prices(path: str | Path | None = None) -> pd.DataFrame:
    """ERCOT day-ahead ancillary-service capacity clearing prices [USD/MW per hour], 2022-2024.

    Interval start UTC, hourly, gap-free. Columns ``REGUP, REGDN, RRS, ECRS, NSPIN``;
    ECRS is NaN before 2023-06-10 (the product did not exist).
    """
    df = _load(
        "ercot_dam_as_mcpc_hourly_2022_2024.csv.gz",
        path,
        _Schema("interval_start_utc", {"REGUP": "finite", "REGDN": "finite", "RRS": "finite", "ECRS": "finite_or_nan", "NSPIN": "finite"}, freq="1h"),
    )
    return df


def load_ercot_4cp_proxy(path: str | Path | None = None) -> pd.DataFrame:
    """Hour of each June-September monthly peak of ERCOT native load (an hourly proxy of 4CP).

    Index: interval start UTC of the peak hour; column ``load_mw``.
    """
    raw = read_table(bundled_path("ercot_4cp_hourly_proxy_derived.csv") if path is None else path)
    if "peak_interval_end_utc" not in raw.columns:
        raise DataError(str(path), "missing column 'peak_interval_end_utc'; expected ['peak_interval_end_utc', 'ercot_native_load_mw']")
    _require_utc_offsets(raw["peak_interval_end_utc"], str(path or "ercot_4cp_hourly_proxy_derived.csv"), "peak_interval_end_utc")
    raw = raw.assign(interval_start_utc=pd.to_datetime(raw["peak_interval_end_utc"], utc=True, format="ISO8601") - pd.Timedelta("1h"))
    df = _validated(raw, str(path or "ercot_4cp_hourly_proxy_derived.csv"), _Schema("interval_start_utc", {"ercot_native_load_mw": "nonneg"}))
    return df.rename(columns={"ercot_native_load_mw": "load_mw"})


def load_asic_catalog() -> pd.DataFrame:
    """ASIC miner specs: F2Pool 2020 snapshot plus newer models from third-party listings.

    Columns: ``manufacturer, model, hashrate_ths, power_w, efficiency_j_per_th,
    release_year`` (NaN where no source gives it), ``source``. Indexed by model name.
    Provenance of the newer rows is weak (see SOURCES.md); check before relying on them.
    The bundled files are read once per process; each call returns its own copy.
    """
    return _bundled_asic_catalog().copy()


@functools.cache
def _bundled_asic_catalog() -> pd.DataFrame:
    old = read_table(bundled_path("asic_miners_f2pool_2020snapshot.csv"))
    new = read_table(bundled_path("asic_miners_recent_thirdparty.csv"))
    cols = ["manufacturer", "model", "hashrate_ths", "power_w", "efficiency_j_per_th", "release_year", "source"]
    df = pd.concat([new[cols], old[cols]], ignore_index=True)
    df = df.drop_duplicates(subset="model", keep="first").set_index("model")
    for column in ("hashrate_ths", "power_w", "efficiency_j_per_th"):
        bad = ~(df[column] > 0)
        if bad.any():
            raise DataError("asic catalog", f"must be > 0, got {df.loc[bad, column].iloc[0]}", row=str(df.index[bad][0]), column=column)
    return df


def load_gpu_specs() -> pd.DataFrame:
    """GPU power specs (third-party pages, not NVIDIA datasheets): ``vendor, product, tdp_w, unit, source``."""
    return read_table(bundled_path("gpu_power_specs_thirdparty.csv"))
