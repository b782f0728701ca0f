"""Fetch what is new since the bundled history and merge it over the bundled files, with provenance.

Sources (public, no key):

- ``mempool``: mempool.space ``/api/v1/mining/hashrate/{period}``: every difficulty adjustment
  and the daily hashrate estimate (the same endpoint the bundled files were saved from).
- ``coinmetrics``: Coin Metrics community API v4 ``timeseries/asset-metrics`` for BTC (``PriceUSD,
  BlkCnt, HashRate, IssTotNtv, FeeTotNtv``; CC BY-NC 4.0, non-commercial). ``difficulty_mean`` is
  derived from ``HashRate`` and ``BlkCnt`` with Coin Metrics' own formula, as in the bundled file.
- ``ercot``: ERCOT MIS public reports (document list ``IceDocListJsonWS``, downloads
  ``mirDownload``): NP6-905-CD (report 12301) real-time 15-minute settlement point prices at the
  trading hubs and at the load zones (kept as hourly means of the four 15-minute prices, the bundled
  load-zone file's layout; quarters of an hour not yet complete wait in ``<dataset>.pending.csv``),
  and NP6-345-CD (report 13101) actual system load by weather zone, hourly. ERCOT
  keeps only the last few days of these reports online, so an update fills from then on.

The bundled files stay read-only. New rows go to a store in the user data directory
(``platformdirs.user_data_dir("mullet")/updates``, or ``$MULLET_DATA_DIR``): one CSV per dataset
holding only rows after the bundled file's last time, and ``provenance.json`` (source, addresses,
retrieval time, rows, first and last time, licence). Every loader in :mod:`mullet.data` reads the
bundled file with the stored rows appended, so every command uses the merged data.

Each response is parsed and validated with the loader's own schema (merged with what is already
there) before anything is written; a truncated or malformed response raises
:class:`UpdateError` and leaves the store as it was. Writes are atomic (temporary file, then
rename) and happen after each page or document, so an interrupted update keeps what it finished
and the next run continues from the store's last time. Requests are spaced by a per-source
minimum interval, and HTTP 429/503 answers are retried after ``Retry-After`` (bounded).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from mullet.errors import MulletError

__all__ = [
    "DATASETS",
    "SOURCES",
    "Dataset",
    "UpdateError",
    "UpdateReport",
    "loadzone_hours",
    "merge_updates",
    "parse_coinmetrics",
    "parse_ercot_load_csv",
    "parse_ercot_loadzone_csv",
    "parse_ercot_spp_csv",
    "parse_mempool_hashrate",
    "status",
    "store_dir",
    "update",
]


class UpdateError(MulletError):
    """An update that could not be fetched or validated; the store is left as it was."""


@dataclass(frozen=True)
class Dataset:
    """A bundled file that updates extend."""

    key: str
    bundled: str
    """File name in ``mullet/data/files``."""
    time_column: str
    source: str
    columns: tuple[str, ...]
    """Columns the store keeps (the time column first), in the bundled file's layout."""
    licence: str


DATASETS: Mapping[str, Dataset] = {
    d.key: d
    for d in (
        Dataset(
            "btc_network_daily",
            "btc_network_daily.csv",
            "date",
            "coinmetrics",
            ("date", "price_usd", "block_count", "difficulty_mean", "hashrate_ths", "issuance_btc", "fees_btc", "difficulty_is_derived", "src"),
            "CC BY-NC 4.0 (Coin Metrics community data, non-commercial)",
        ),
        Dataset(
            "btc_difficulty_adjustments",
            "btc_difficulty_adjustments_mempool.csv",
            "time_utc",
            "mempool",
            ("height", "time_utc", "difficulty", "adjustment"),
            "mempool.space API (on-chain facts)",
        ),
        Dataset("btc_hashrate_mempool_daily", "btc_hashrate_mempool_daily.csv", "date", "mempool", ("date", "hashrate_ths"), "mempool.space API estimate"),
        Dataset(
            "ercot_rtm_hub_spp_15min",
            "ercot_rtm_hub_spp_15min_2021_2024.csv.gz",
            "interval_start_utc",
            "ercot",
            ("interval_start_utc", "interval_end_utc", "HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST"),
            "ERCOT public market data (NP6-905-CD)",
        ),
        Dataset(
            "ercot_rtm_loadzone_spp_hourly",
            "ercot_rtm_loadzone_spp_hourly_2023.csv.gz",
            "interval_start_utc",
            "ercot",
            ("interval_start_utc", "interval_start_cpt", "LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST"),
            "ERCOT public market data (NP6-905-CD; hourly means of the four 15-minute load-zone prices)",
        ),
        Dataset(
            "ercot_system_load_hourly",
            "ercot_native_load_hourly.csv.gz",
            "interval_end_utc",
            "ercot",
            ("interval_end_utc", "COAST", "EAST", "FWEST", "NORTH", "NCENT", "SOUTH", "SCENT", "WEST", "ERCOT", "src"),
            "ERCOT public data (NP6-345-CD actual system load; the bundled history is ERCOT's Native Load report)",
        ),
    )
}
"""Datasets ``mullet data update`` extends, by key."""

SOURCES = ("mempool", "coinmetrics", "ercot")
MEMPOOL_URL = "https://mempool.space/api/v1/mining/hashrate/{period}"
COINMETRICS_URL = "https://community-api.coinmetrics.io/v4/timeseries/asset-metrics"
ERCOT_LIST_URL = "https://www.ercot.com/misapp/servlets/IceDocListJsonWS"
ERCOT_DOWNLOAD_URL = "https://www.ercot.com/misdownload/servlets/mirDownload"
ERCOT_REPORTS = {"ercot_rtm_hub_spp_15min": 12301, "ercot_rtm_loadzone_spp_hourly": 12301, "ercot_system_load_hourly": 13101}
"""The ERCOT report each dataset is read from (one download of a NP6-905-CD document serves hubs and load zones)."""
_MIN_INTERVAL_S = {"mempool": 1.0, "coinmetrics": 6.5, "ercot": 0.5}
"""Spacing of requests per source [s] (Coin Metrics' community limit is 10 requests per 6 seconds per IP; we stay far below)."""
_MAX_PAGES = 200
_MAX_DOCS = 800
_RETRIES = 3


def store_dir() -> Path:
    """Where updates live: ``$MULLET_DATA_DIR`` or the platform's user data directory for mullet."""
    env = os.environ.get("MULLET_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("mullet", appauthor=False)) / "updates"


def _store_file(ds: Dataset, root: Path) -> Path:
    return root / f"{ds.key}.csv"


def _read_provenance(root: Path) -> dict[str, Any]:
    p = root / "provenance.json"
    if not p.exists():
        return {}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UpdateError(f"{p}: unreadable provenance ({exc}); move the folder away to start over") from exc
    return doc if isinstance(doc, dict) else {}


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _times(col: pd.Series) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(col, utc=True, format="ISO8601"))


def merge_updates(name: str, bundled: pd.DataFrame, root: Path | None = None) -> pd.DataFrame:
    """The bundled table ``name`` with the stored rows that come after its last time appended (raw layout)."""
    ds = next((d for d in DATASETS.values() if d.bundled == name), None)
    if ds is None:
        return bundled
    path = _store_file(ds, root or store_dir())
    if not path.exists():
        return bundled
    stored = pd.read_csv(path, dtype={c: str for c in ("src",)})
    if stored.empty:
        return bundled
    last = _times(bundled[ds.time_column]).max()
    newer = stored[np.asarray(_times(stored[ds.time_column]) > last)]
    if newer.empty:
        return bundled
    return pd.concat([bundled, newer], ignore_index=True)


def _validate_merged(ds: Dataset, merged_new: pd.DataFrame, source: str) -> None:
    """Validate bundled + store + new rows with the loader's own schema; raise UpdateError on any problem."""
    from mullet import data

    try:
        bundled = data.read_table(data.bundled_path(ds.bundled))
        frame = pd.concat([bundled, merged_new[np.asarray(_times(merged_new[ds.time_column]) > _times(bundled[ds.time_column]).max())]], ignore_index=True)
        schema = _SCHEMAS[ds.key]()
        if ds.key == "ercot_system_load_hourly":
            frame = frame.assign(interval_start_utc=_times(frame["interval_end_utc"]) - pd.Timedelta("1h"))
        data._validated(frame, f"{source} (merged over {ds.bundled})", schema)
    except MulletError as exc:
        raise UpdateError(f"rejected, nothing written: {exc}") from exc


def _schema_network() -> Any:
    from mullet.data import _NETWORK

    return _NETWORK


def _schema_simple(time_column: str, columns: Mapping[str, str], freq: str | None) -> Callable[[], Any]:
    def make() -> Any:
        from mullet.data import _Schema

        return _Schema(time_column, dict(columns), freq=freq)

    return make


_SCHEMAS: Mapping[str, Callable[[], Any]] = {
    "btc_network_daily": _schema_network,
    "btc_difficulty_adjustments": _schema_simple("time_utc", {"height": "nonneg", "difficulty": "nonneg", "adjustment": "nonneg"}, None),
    "btc_hashrate_mempool_daily": _schema_simple("date", {"hashrate_ths": "nonneg"}, "1D"),
    "ercot_rtm_hub_spp_15min": _schema_simple(
        "interval_start_utc", dict.fromkeys(("HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST"), "finite"), "15min"
    ),
    "ercot_rtm_loadzone_spp_hourly": _schema_simple(
        "interval_start_utc", dict.fromkeys(("LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST"), "finite"), "1h"
    ),
    "ercot_system_load_hourly": _schema_simple("interval_start_utc", {"ERCOT": "nonneg"}, "1h"),
}


def _merge_store(ds: Dataset, new: pd.DataFrame, root: Path, source: str, urls: Iterable[str], extra: Mapping[str, Any] | None = None) -> int:
    """Merge ``new`` rows into the store of ``ds`` (validated first); returns the number of rows added or revised."""
    new = new.loc[:, list(ds.columns)]
    path = _store_file(ds, root)
    old = pd.read_csv(path, dtype={"src": str}) if path.exists() else pd.DataFrame(columns=list(ds.columns))
    key_new = _times(new[ds.time_column])
    if key_new.has_duplicates:
        raise UpdateError(f"rejected, nothing written: {source} repeats the time {key_new[key_new.duplicated()][0]} with different rows")
    if len(old):
        key_old = _times(old[ds.time_column])
        keep = old[~key_old.isin(key_new)]
        merged = pd.concat([keep, new], ignore_index=True) if len(keep) else new.reset_index(drop=True)
    else:
        merged = new.reset_index(drop=True)
    merged = merged.iloc[np.argsort(_times(merged[ds.time_column]).asi8, kind="stable")].reset_index(drop=True)
    changed = len(merged) - len(old) + int(len(old) and _times(old[ds.time_column]).isin(key_new).sum())
    _validate_merged(ds, merged, source)
    _atomic_write(path, merged.to_csv(index=False))
    prov = _read_provenance(root)
    times = _times(merged[ds.time_column])
    prov[ds.key] = {
        "file": path.name,
        "extends": ds.bundled,
        "source": ds.source,
        "urls": sorted(set(prov.get(ds.key, {}).get("urls", [])) | set(urls))[-20:],
        "retrieved_utc": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rows": len(merged),
        "first_utc": times.min().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "last_utc": times.max().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licence": ds.licence,
        **(extra or {}),
    }
    _atomic_write(root / "provenance.json", json.dumps(prov, indent=1, sort_keys=True))
    from mullet import data

    data._BUNDLED_CACHE.clear()
    return changed


# ---------------------------------------------------------------- parsers (pure)


def _decode(content: bytes, source: str) -> Any:
    try:
        return json.loads(content)
    except ValueError as exc:
        raise UpdateError(f"rejected, nothing written: {source} is not complete JSON (truncated or malformed: {exc})") from exc


def _field(row: Mapping[str, Any], name: str, source: str, i: int) -> float:
    value = row.get(name) if isinstance(row, Mapping) else None
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise UpdateError(f"rejected, nothing written: {source} row {i}: field '{name}' is {value!r}, expected a number") from None
    if not np.isfinite(out):
        raise UpdateError(f"rejected, nothing written: {source} row {i}: field '{name}' is {value!r}, expected a finite number")
    return out


def parse_mempool_hashrate(payload: Any, source: str = "mempool.space") -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(difficulty_adjustments, hashrate_daily)`` in the bundled layouts from a ``/mining/hashrate/{period}`` answer."""
    if not isinstance(payload, dict) or not isinstance(payload.get("hashrates"), list) or not isinstance(payload.get("difficulty"), list):
        raise UpdateError(f"rejected, nothing written: {source} answer lacks the lists 'hashrates' and 'difficulty'")
    diff = [
        {
            "height": int(_field(r, "height", source, i)),
            "time_utc": pd.Timestamp(int(_field(r, "time", source, i)), unit="s", tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
            "difficulty": _field(r, "difficulty", source, i),
            "adjustment": _field(r, "adjustment", source, i),
        }
        for i, r in enumerate(payload["difficulty"])
    ]
    rate = [
        {
            "date": pd.Timestamp(int(_field(r, "timestamp", source, i)), unit="s", tz="UTC").strftime("%Y-%m-%d"),
            "hashrate_ths": _field(r, "avgHashrate", source, i) / 1e12,
        }
        for i, r in enumerate(payload["hashrates"])
    ]
    return pd.DataFrame(diff, columns=["height", "time_utc", "difficulty", "adjustment"]), pd.DataFrame(rate, columns=["date", "hashrate_ths"])


def parse_coinmetrics(payload: Any, source: str = "Coin Metrics") -> pd.DataFrame:
    """One page of ``timeseries/asset-metrics`` (BTC, daily) in the layout of ``btc_network_daily.csv``."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise UpdateError(f"rejected, nothing written: {source} answer has no 'data' list")
    rows = []
    for i, r in enumerate(payload["data"]):
        when = str(r.get("time", "")) if isinstance(r, Mapping) else ""
        if len(when) < 10:
            raise UpdateError(f"rejected, nothing written: {source} row {i}: field 'time' is {when!r}, expected an ISO time")
        blocks = _field(r, "BlkCnt", source, i)
        hashrate = _field(r, "HashRate", source, i)
        fees = r.get("FeeTotNtv")
        rows.append(
            {
                "date": when[:10],
                "price_usd": _field(r, "PriceUSD", source, i),
                "block_count": int(blocks),
                "difficulty_mean": hashrate * 1e12 * 86400 / (blocks * 2**32) if blocks > 0 else np.nan,
                "hashrate_ths": hashrate,
                "issuance_btc": _field(r, "IssTotNtv", source, i),
                "fees_btc": _field(r, "FeeTotNtv", source, i) if fees is not None else np.nan,
                "difficulty_is_derived": True,
                "src": "coinmetrics_community_api_v4",
            }
        )
    return pd.DataFrame(rows, columns=list(DATASETS["btc_network_daily"].columns))


def _read_zip_csv(content: bytes, source: str) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            names = [n for n in z.namelist() if n.lower().endswith(".csv")]
            if not names:
                raise UpdateError(f"rejected, nothing written: {source}: no CSV inside the ZIP")
            text = z.read(names[0]).decode("utf-8")
    except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError) as exc:
        raise UpdateError(f"rejected, nothing written: {source} is not a complete ZIP (truncated or malformed: {exc})") from exc
    try:
        return pd.read_csv(io.StringIO(text), dtype=str)
    except ValueError as exc:
        raise UpdateError(f"rejected, nothing written: {source}: unreadable CSV ({exc})") from exc


def _need(df: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UpdateError(f"rejected, nothing written: {source} lacks column(s) {missing}")


def _local_to_utc(day: pd.Series, start_offset: pd.Series, dst_flag: pd.Series, source: str) -> pd.DatetimeIndex:
    """Local Central-time interval starts (day + offset) -> UTC; DSTFlag 'Y' marks the repeated (standard-time) hour."""
    try:
        local = pd.to_datetime(day, format="%m/%d/%Y") + start_offset
    except ValueError as exc:
        raise UpdateError(f"rejected, nothing written: {source}: bad delivery date ({exc})") from exc
    first = (dst_flag.fillna("N").str.upper() != "Y").to_numpy()
    return pd.DatetimeIndex(local).tz_localize("America/Chicago", ambiguous=first, nonexistent="raise").tz_convert("UTC")


def _spp_quarters(raw: pd.DataFrame, points: list[str], what: str, source: str) -> pd.DataFrame:
    """NP6-905-CD rows of ``points`` -> wide 15-minute prices (UTC interval-start index, one column per point); empty when none."""
    _need(raw, ("DeliveryDate", "DeliveryHour", "DeliveryInterval", "SettlementPointName", "SettlementPointPrice"), source)
    df = raw[raw["SettlementPointName"].isin(points)].copy()
    if df.empty:
        return pd.DataFrame(columns=points, index=pd.DatetimeIndex([], tz="UTC"), dtype=float)
    hour = pd.to_numeric(df["DeliveryHour"], errors="coerce")
    interval = pd.to_numeric(df["DeliveryInterval"], errors="coerce")
    price = pd.to_numeric(df["SettlementPointPrice"], errors="coerce")
    bad = hour.isna() | interval.isna() | price.isna() | ~hour.between(1, 24) | ~interval.between(1, 4)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise UpdateError(f"rejected, nothing written: {source} row {i + 2}: hour/interval/price {df.iloc[i].to_dict()} out of range or not numbers")
    offset = pd.to_timedelta((hour - 1) * 60 + (interval - 1) * 15, unit="min")
    start = _local_to_utc(df["DeliveryDate"], offset, df.get("DSTFlag", pd.Series("N", index=df.index)), source)
    long = pd.DataFrame({"t": start, "point": df["SettlementPointName"].to_numpy(), "p": price.to_numpy()})
    if long.duplicated(["t", "point"]).any():
        raise UpdateError(f"rejected, nothing written: {source} has a {what} price twice for one interval")
    return long.pivot(index="t", columns="point", values="p").reindex(columns=points)


def parse_ercot_spp_csv(raw: pd.DataFrame, source: str = "ERCOT NP6-905-CD") -> pd.DataFrame:
    """NP6-905-CD rows (``DeliveryDate, DeliveryHour, DeliveryInterval, SettlementPointName, SettlementPointPrice, DSTFlag``) -> hub columns."""
    hubs = list(DATASETS["ercot_rtm_hub_spp_15min"].columns[2:])
    wide = _spp_quarters(raw, hubs, "hub", source)
    if wide.empty:
        raise UpdateError(f"rejected, nothing written: {source} has no trading-hub rows ({', '.join(hubs)})")
    out = pd.DataFrame(
        {
            "interval_start_utc": wide.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interval_end_utc": (wide.index + pd.Timedelta("15min")).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    for hub in hubs:
        out[hub] = wide[hub].to_numpy()
    return out


def parse_ercot_loadzone_csv(raw: pd.DataFrame, source: str = "ERCOT NP6-905-CD") -> pd.DataFrame:
    """NP6-905-CD load-zone rows -> 15-minute prices [USD/MWh]: UTC interval-start index, one column per load zone.

    A document without load-zone rows gives an empty frame; an interval that lists some zones but not all is rejected.
    """
    zones = list(DATASETS["ercot_rtm_loadzone_spp_hourly"].columns[2:])
    wide = _spp_quarters(raw, zones, "load-zone", source)
    partial = wide.isna().any(axis=1)
    if partial.any():
        t = wide.index[partial.to_numpy()][0]
        missing = [z for z in zones if pd.isna(wide.loc[t, z])]
        raise UpdateError(f"rejected, nothing written: {source}: interval {t} (UTC start) lacks load zone(s) {missing}")
    return wide


def loadzone_hours(quarters: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hourly means of the hours whose four 15-minute prices are all there, and the quarters of the other hours.

    Returns ``(hourly, pending)``: ``hourly`` in the bundled load-zone layout (``interval_start_utc``,
    ``interval_start_cpt``, one column per zone); ``pending`` the 15-minute rows of hours not complete yet.
    """
    hour = quarters.index.floor("1h")
    counts = pd.Series(1, index=quarters.index).groupby(hour).size()
    complete = counts.index[counts.to_numpy() == 4]
    done = hour.isin(complete)
    means = quarters[done].groupby(hour[done]).mean()
    out = pd.DataFrame(
        {
            "interval_start_utc": means.index.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "interval_start_cpt": means.index.tz_convert("America/Chicago").strftime("%Y-%m-%d %H:%M"),
        }
    )
    for zone in quarters.columns:
        out[zone] = means[zone].to_numpy()
    return out, quarters[~done]


_LOAD_MAP = {
    "COAST": "COAST",
    "EAST": "EAST",
    "FAR_WEST": "FWEST",
    "NORTH": "NORTH",
    "NORTH_C": "NCENT",
    "SOUTHERN": "SOUTH",
    "SOUTH_C": "SCENT",
    "WEST": "WEST",
    "TOTAL": "ERCOT",
}


def parse_ercot_load_csv(raw: pd.DataFrame, source: str = "ERCOT NP6-345-CD") -> pd.DataFrame:
    """NP6-345-CD rows (``OperDay, HourEnding, COAST .. TOTAL, DSTFlag``) -> the native-load layout (``interval_end_utc``, zones, ``ERCOT``)."""
    _need(raw, ("OperDay", "HourEnding", *_LOAD_MAP), source)
    he = pd.to_numeric(raw["HourEnding"].astype(str).str.split(":").str[0], errors="coerce")
    if he.isna().any() or not he.between(1, 24).all():
        i = int(np.flatnonzero((he.isna() | ~he.between(1, 24)).to_numpy())[0])
        raise UpdateError(f"rejected, nothing written: {source} row {i + 2}: HourEnding {raw['HourEnding'].iloc[i]!r}, expected 01:00..24:00")
    start = _local_to_utc(raw["OperDay"], pd.to_timedelta(he - 1, unit="h"), raw.get("DSTFlag", pd.Series("N", index=raw.index)), source)
    out = pd.DataFrame({"interval_end_utc": (start + pd.Timedelta("1h")).strftime("%Y-%m-%dT%H:%M:%SZ")})
    for src_col, col in _LOAD_MAP.items():
        values = pd.to_numeric(raw[src_col], errors="coerce")
        if values.isna().any():
            i = int(np.flatnonzero(values.isna().to_numpy())[0])
            raise UpdateError(f"rejected, nothing written: {source} row {i + 2}, column '{src_col}': {raw[src_col].iloc[i]!r} is not a number")
        out[col] = values.to_numpy()
    out["src"] = "ercot_np6_345_cd_actual_system_load"
    return out


# ---------------------------------------------------------------- HTTP driver


class _Http:
    """GET with per-source spacing, bounded retries on 429/503, and one-line errors when offline."""

    def __init__(self, client: httpx.Client, min_interval_s: Mapping[str, float]):
        self.client = client
        self.min_interval_s = min_interval_s
        self._last: dict[str, float] = {}
        self.urls: list[str] = []

    def get(self, source: str, url: str, params: Mapping[str, Any] | None = None) -> httpx.Response:
        for attempt in range(_RETRIES + 1):
            wait = self.min_interval_s.get(source, 0.0) - (time.monotonic() - self._last.get(source, -1e9))
            if wait > 0:
                time.sleep(wait)
            self._last[source] = time.monotonic()
            try:
                resp = self.client.get(url, params=params)
            except httpx.TransportError as exc:
                host = httpx.URL(url).host
                raise UpdateError(
                    f"{source}: cannot reach {host} ({type(exc).__name__}: {exc}); offline? nothing was changed, commands keep using the data they had"
                ) from exc
            self.urls.append(str(resp.request.url) if resp.request is not None else url)
            if resp.status_code in (429, 503) and attempt < _RETRIES:
                retry = resp.headers.get("Retry-After", "")
                time.sleep(min(float(retry), 60.0) if retry.replace(".", "", 1).isdigit() else 2.0 * (attempt + 1))
                continue
            if resp.status_code != 200:
                raise UpdateError(f"{source}: {url} answered HTTP {resp.status_code}: {resp.text[:200]!r}")
            return resp
        raise UpdateError(f"{source}: {url} still rate-limited after {_RETRIES} retries; try again later")


@dataclass(frozen=True)
class UpdateReport:
    """What an update changed, per dataset."""

    rows_changed: Mapping[str, int]
    notes: tuple[str, ...]


Progress = Callable[[str, int, int | None], None]
"""``progress(step, done, total)``: called after each request."""


def _last_time(ds: Dataset, root: Path) -> pd.Timestamp:
    from mullet import data

    merged = merge_updates(ds.bundled, data.read_table(data.bundled_path(ds.bundled)), root)
    return _times(merged[ds.time_column]).max()


def _mempool_period(since: pd.Timestamp, now: pd.Timestamp) -> str:
    days = (now - since).days
    for period, limit in (("1m", 28), ("3m", 89), ("6m", 180), ("1y", 364), ("2y", 729), ("3y", 1094)):
        if days <= limit:
            return period
    return "all"


def _update_mempool(http: _Http, root: Path, since: pd.Timestamp | None, progress: Progress) -> dict[str, int]:
    diff_ds, rate_ds = DATASETS["btc_difficulty_adjustments"], DATASETS["btc_hashrate_mempool_daily"]
    start = since if since is not None else min(_last_time(diff_ds, root), _last_time(rate_ds, root))
    now = pd.Timestamp.now(tz="UTC")
    url = MEMPOOL_URL.format(period=_mempool_period(start, now))
    resp = http.get("mempool", url)
    diff, rate = parse_mempool_hashrate(_decode(resp.content, url), url)
    progress("mempool", 1, 1)
    diff = diff[np.asarray(_times(diff["time_utc"]) >= start)]
    rate = rate[np.asarray(_times(rate["date"]) >= start.floor("D"))]
    out = {}
    out[diff_ds.key] = _merge_store(diff_ds, diff, root, url, [url]) if len(diff) else 0
    out[rate_ds.key] = _merge_store(rate_ds, rate, root, url, [url]) if len(rate) else 0
    return out


def _update_coinmetrics(http: _Http, root: Path, since: pd.Timestamp | None, progress: Progress) -> dict[str, int]:
    ds = DATASETS["btc_network_daily"]
    start = since if since is not None else _last_time(ds, root) + pd.Timedelta("1D")
    params: dict[str, Any] | None = {
        "assets": "btc",
        "metrics": "PriceUSD,BlkCnt,HashRate,IssTotNtv,FeeTotNtv",
        "frequency": "1d",
        "start_time": start.strftime("%Y-%m-%d"),
        "page_size": 1000,
        "paging_from": "start",
    }
    url: str | None = COINMETRICS_URL
    changed = 0
    for page in range(_MAX_PAGES):
        assert url is not None
        resp = http.get("coinmetrics", url, params)
        payload = _decode(resp.content, url)
        frame = parse_coinmetrics(payload, url)
        frame = frame[frame["date"] < pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")]  # today is not complete yet
        if len(frame):
            changed += _merge_store(ds, frame, root, "Coin Metrics community API", [COINMETRICS_URL])
        progress("coinmetrics", page + 1, None)
        url = payload.get("next_page_url")
        params = None
        if not url:
            break
    return {ds.key: changed}


def _ercot_documents(http: _Http, report: int) -> list[dict[str, Any]]:
    resp = http.get("ercot", ERCOT_LIST_URL, {"reportTypeId": report})
    doc = _decode(resp.content, f"ERCOT document list {report}")
    try:
        items = doc["ListDocsByRptTypeRes"]["DocumentList"]
        docs = [d["Document"] for d in items]
    except (KeyError, TypeError) as exc:
        raise UpdateError(f"rejected, nothing written: ERCOT document list {report} lacks ListDocsByRptTypeRes.DocumentList[].Document ({exc})") from exc
    csvs = [d for d in docs if str(d.get("FriendlyName", "")).lower().endswith("_csv") and d.get("DocID")]
    return sorted(csvs, key=lambda d: str(d.get("PublishDate", "")))


def _remember(root: Path, key: str, extra: Mapping[str, Any]) -> None:
    """Record in the provenance that a document was read (nothing new in it), so a resumed run does not fetch it again."""
    prov = _read_provenance(root)
    prov.setdefault(key, {}).update(extra)
    _atomic_write(root / "provenance.json", json.dumps(prov, indent=1, sort_keys=True))


def _pending_file(ds: Dataset, root: Path) -> Path:
    return root / f"{ds.key}.pending.csv"


def _merge_loadzones(quarters: pd.DataFrame, name: str, url: str, root: Path, last: pd.Timestamp, extra: Mapping[str, Any]) -> int:
    """Load-zone quarters of one NP6-905-CD document (:func:`parse_ercot_loadzone_csv`) -> hourly rows merged into the store.

    Hours not complete yet wait in the pending file.
    """
    ds = DATASETS["ercot_rtm_loadzone_spp_hourly"]
    pending_path = _pending_file(ds, root)
    if pending_path.exists():
        pending = pd.read_csv(pending_path)
        pending.index = _times(pending.pop("interval_start_utc"))
        quarters = pd.concat([pending, quarters])
        quarters = quarters[~quarters.index.duplicated(keep="last")].sort_index()  # a republished interval replaces the older one
    quarters = quarters[quarters.index.floor("1h") > last]  # hours already held stay as they are
    hourly, waiting = loadzone_hours(quarters)
    changed = _merge_store(ds, hourly, root, name, [url], extra) if len(hourly) else 0
    if not len(hourly):
        _remember(root, ds.key, extra)
    if len(waiting) or pending_path.exists():
        out = waiting.copy()
        out.index = out.index.strftime("%Y-%m-%dT%H:%M:%SZ")
        _atomic_write(pending_path, out.rename_axis("interval_start_utc").to_csv())
    return changed


def _update_ercot(http: _Http, root: Path, since: pd.Timestamp | None, progress: Progress) -> dict[str, int]:
    out: dict[str, int] = {}
    prov = _read_provenance(root)
    for report in dict.fromkeys(ERCOT_REPORTS.values()):
        keys = [k for k, r in ERCOT_REPORTS.items() if r == report]
        last = {k: since if since is not None else _last_time(DATASETS[k], root) for k in keys}
        seen = {k: str(prov.get(k, {}).get("last_publish_date", "")) for k in keys}
        docs = [d for d in _ercot_documents(http, report) if str(d.get("PublishDate", "")) > min(seen.values())][:_MAX_DOCS]
        changed = dict.fromkeys(keys, 0)
        for i, d in enumerate(docs):
            name = f"ERCOT report {report} document {d['DocID']} ({d.get('FriendlyName')})"
            url = f"{ERCOT_DOWNLOAD_URL}?doclookupId={d['DocID']}"
            resp = http.get("ercot", ERCOT_DOWNLOAD_URL, {"doclookupId": d["DocID"]})
            raw = _read_zip_csv(resp.content, name)
            published = str(d.get("PublishDate", ""))
            extra = {"last_publish_date": published}
            todo = [k for k in keys if published > seen[k]]
            parsers = {"ercot_rtm_hub_spp_15min": parse_ercot_spp_csv, "ercot_rtm_loadzone_spp_hourly": parse_ercot_loadzone_csv}
            parsed = {k: parsers.get(k, parse_ercot_load_csv)(raw, name) for k in todo}  # every part checked before any is written
            for key in todo:
                ds = DATASETS[key]
                if key == "ercot_rtm_loadzone_spp_hourly":
                    changed[key] += _merge_loadzones(parsed[key], name, url, root, last[key], extra)
                    continue
                frame = parsed[key]
                frame = frame[np.asarray(_times(frame[ds.time_column]) > last[key])]
                if len(frame):
                    changed[key] += _merge_store(ds, frame, root, name, [url], extra)
                else:
                    _remember(root, key, extra)
            progress(f"ercot {report}", i + 1, len(docs))
        out.update(changed)
    return out


def update(
    sources: Iterable[str] = SOURCES,
    since: str | pd.Timestamp | None = None,
    *,
    client: httpx.Client | None = None,
    root: Path | None = None,
    progress: Progress | None = None,
    min_interval_s: Mapping[str, float] | None = None,
) -> UpdateReport:
    """Fetch new rows from each source and merge them into the store (see the module docstring).

    Parameters
    ----------
    sources
        Any of ``"mempool"``, ``"coinmetrics"``, ``"ercot"``.
    since
        First UTC day to fetch (default: right after the last time already held, bundled or stored).
    client
        An ``httpx.Client`` (tests pass one with a ``MockTransport``); default a new one with a 30 s timeout.
    root
        Store directory (default :func:`store_dir`).
    """
    chosen = list(dict.fromkeys(sources))
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise UpdateError(f"source: got {','.join(chosen) or 'nothing'}, allowed: any of {', '.join(SOURCES)}")
    start = None
    if since is not None:
        try:
            start = pd.Timestamp(since)
        except ValueError:
            raise UpdateError(f"since: got {since!r}, allowed: a date like 2026-01-01") from None
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
    target = root or store_dir()
    own = client is None
    http = _Http(client or httpx.Client(timeout=30.0, headers={"User-Agent": "mullet-data-update"}, follow_redirects=True), min_interval_s or _MIN_INTERVAL_S)
    report = progress or (lambda step, done, total: None)
    changed: dict[str, int] = {}
    try:
        for src in chosen:
            fn = {"mempool": _update_mempool, "coinmetrics": _update_coinmetrics, "ercot": _update_ercot}[src]
            changed.update(fn(http, target, start, report))
    finally:
        if own:
            http.client.close()
    notes = []
    if "coinmetrics" in chosen:
        notes.append("Coin Metrics community data is CC BY-NC 4.0: non-commercial use only")
    if "ercot" in chosen:
        notes.append("ERCOT load after the bundled history is NP6-345-CD actual system load, not ERCOT's settled Native Load report")
    return UpdateReport(changed, tuple(notes))


def status(root: Path | None = None) -> pd.DataFrame:
    """Coverage per dataset: bundled first/last time, stored rows after it, merged last time, source, retrieval time."""
    from mullet import data

    target = root or store_dir()
    prov = _read_provenance(target)
    rows = []
    for ds in DATASETS.values():
        bundled = data.read_table(data.bundled_path(ds.bundled))
        bt = _times(bundled[ds.time_column])
        merged = merge_updates(ds.bundled, bundled, target)
        mt = _times(merged[ds.time_column])
        p = prov.get(ds.key, {})
        rows.append(
            {
                "dataset": ds.key,
                "source": ds.source,
                "bundled_first_utc": bt.min(),
                "bundled_last_utc": bt.max(),
                "updated_rows": len(merged) - len(bundled),
                "merged_last_utc": mt.max(),
                "retrieved_utc": p.get("retrieved_utc", ""),
                "licence": ds.licence,
            }
        )
    return pd.DataFrame(rows).set_index("dataset")
