"""Results store: every plan run in an embedded DuckDB database, written in one transaction.

Tables: ``runs`` (one row per run: id, input hash, scenario file and text,
package version, UTC timestamps, status, summary JSON) and ``path_results``
(one row per run, strategy and path). A run is inserted with its path results
in a single transaction, so an interrupted write never shows as complete.
DuckDB allows one writing process at a time: a second writer waits and retries,
then fails with a clear error.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from mullet import __version__
from mullet.errors import MulletError

__all__ = [
    "StoreBusyError",
    "append_plan_chunk",
    "begin_plan",
    "check_store_path",
    "compare_runs",
    "export_run",
    "finish_plan",
    "list_runs",
    "load_schedule",
    "open_store",
    "plan_paths",
    "save_dispatch",
    "save_plan",
    "show_run",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    input_hash VARCHAR NOT NULL,
    scenario_file VARCHAR,
    scenario_toml VARCHAR,
    package_version VARCHAR NOT NULL,
    started_utc TIMESTAMPTZ NOT NULL,
    finished_utc TIMESTAMPTZ NOT NULL,
    status VARCHAR NOT NULL,
    summary_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS dispatch_schedules (
    run_id VARCHAR NOT NULL,
    interval_start_utc VARCHAR NOT NULL,
    price_usd_per_mwh DOUBLE,
    mining_mw DOUBLE,
    ai_mw DOUBLE,
    as_offer_mw DOUBLE,
    grid_import_mw DOUBLE,
    four_cp_interval BOOLEAN
);
CREATE TABLE IF NOT EXISTS path_results (
    run_id VARCHAR NOT NULL,
    ai_share DOUBLE NOT NULL,
    conversion_year INTEGER NOT NULL,
    path INTEGER NOT NULL,
    npv_usd DOUBLE,
    revenue_usd DOUBLE,
    irr DOUBLE,
    peak_funding_usd DOUBLE,
    dilution_fraction DOUBLE
);
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS contracted_revenue_usd DOUBLE;
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS ai_revenue_share DOUBLE;
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS payback_years DOUBLE;
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS min_dscr DOUBLE;
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS terminal_value_pv_usd DOUBLE;
ALTER TABLE path_results ADD COLUMN IF NOT EXISTS mean_hashprice_usd_per_ph_day DOUBLE;
"""


class StoreBusyError(MulletError):
    """Another process holds the database."""


def check_store_path(path: str | Path, must_exist: bool = False) -> Path:
    """Say at once, before any computing, what is wrong with a store path.

    Refused: a directory, a missing or read-only parent directory, a file that is not DuckDB or that
    this user cannot read; ``must_exist`` (reads) also refuses a missing file.

    Raises
    ------
    MulletError
        Naming the ``db`` option, the path and what is allowed.
    """
    p = Path(path)
    if p.is_dir():
        raise MulletError(f"db: '{p}' is a folder, not a file; allowed: a database file path such as mullet.duckdb")
    parent = p.parent if str(p.parent) else Path()
    if not p.exists():
        if must_exist:
            raise MulletError(f"db: '{p}' does not exist; run `mullet plan` or `mullet dispatch --db` first, or pass --db")
        if not parent.is_dir():
            raise MulletError(f"db: the directory '{parent}' of '{p}' does not exist; create it or pass another --db")
        if not os.access(parent, os.W_OK):
            raise MulletError(f"db: the directory '{parent}' is not writable; pass another --db")
        return p
    if not os.access(p, os.R_OK):
        raise MulletError(f"db: '{p}' is not readable by this user")
    if p.stat().st_size > 0:
        with p.open("rb") as fh:
            head = fh.read(12)
        if head[8:12] != b"DUCK":
            raise MulletError(f"db: '{p}' exists but is not a DuckDB database; allowed: a DuckDB file or a new path")
    return p


_LOCK_WORDS = ("lock", "Conflicting")


def _connect(p: Path, writable: bool) -> duckdb.DuckDBPyConnection:
    """Connect with this process's one configuration.

    Every connection uses read-write so that DuckDB shares one database instance between a running
    job and concurrent reads; only a file the process cannot write is opened read-only (then no
    writer can exist in this process).
    """
    if not writable and not os.access(p, os.W_OK):
        return duckdb.connect(str(p), read_only=True)
    return duckdb.connect(str(p))


@contextmanager
def open_store(path: str | Path, read_only: bool = False, wait_s: float = 30.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (and, for writes, create) the store.

    Connection policy: one configuration per process (see :func:`_connect`), so a dashboard job that writes
    and page requests that read coexist; a store locked by another process is retried for ``wait_s``;
    any other problem with the path (missing, a folder, not DuckDB) fails at once.
    """
    p = check_store_path(path, must_exist=read_only)
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            con = _connect(p, writable=not read_only)
            break
        except duckdb.IOException as exc:
            if not any(w in str(exc) for w in _LOCK_WORDS):
                raise MulletError(f"db: '{p}' cannot be opened ({' '.join(str(exc).split())})") from None
            if time.monotonic() > deadline:
                raise StoreBusyError(f"db: '{p}' is locked by another process; retry when it finishes") from None
            time.sleep(delay)
            delay = min(delay * 2, 1.0)
    try:
        try:
            con.execute(_SCHEMA)  # idempotent; a store made by another tool or version gets the tables it lacks
        except duckdb.Error:
            if not read_only:
                raise
        yield con
    finally:
        con.close()


def begin_plan(path: str | Path, scenario_file: str | None, scenario_toml: str | None, input_hash: str, assumptions: dict[str, Any]) -> str:
    """Register a plan run (status ``running``, its assumptions in the summary) before computing; return its id.

    Fails at once when the path cannot hold the store. Chunks are added by :func:`append_plan_chunk`
    and the run is closed by :func:`finish_plan`; a killed run stays ``running`` with the chunks it finished.
    """
    check_store_path(path)
    run_id = uuid.uuid4().hex[:12]
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    with open_store(path) as con:
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, "plan", input_hash, scenario_file, scenario_toml, __version__, now, now, "running", json.dumps({"assumptions": assumptions}, default=str)],
        )
    return run_id


def append_plan_chunk(path: str | Path, run_id: str, rows: pd.DataFrame) -> None:
    """Write one finished chunk's per-path rows (columns of ``mullet.plan.result.PATH_COLUMNS``) in one transaction."""
    frame = rows.copy()
    frame.insert(0, "run_id", run_id)
    with open_store(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("chunk_rows", frame)
            con.execute("INSERT INTO path_results BY NAME SELECT * FROM chunk_rows")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def finish_plan(path: str | Path, run_id: str, status: str, summary: dict[str, Any]) -> None:
    """Close a plan run: its status (``complete`` or ``interrupted``), finish time and summary."""
    with open_store(path) as con:
        con.execute(
            "UPDATE runs SET status = ?, finished_utc = ?, summary_json = ? WHERE run_id = ?",
            [status, pd.Timestamp.now(tz="UTC").to_pydatetime(), json.dumps(summary, default=str), run_id],
        )


def save_plan(
    path: str | Path, result: Any, scenario_file: str | None, scenario_toml: str | None, input_hash: str, started_utc: pd.Timestamp, summary: dict[str, Any]
) -> str:
    """Write a finished :class:`~mullet.plan.PlanResult` (per-path rows and summary) in one transaction; return the run id."""
    check_store_path(path)
    run_id = uuid.uuid4().hex[:12]
    summary = {"assumptions": result.config.assumptions(), **summary}  # every stored plan records its assumptions
    frame = result.paths.copy()
    frame.insert(0, "run_id", run_id)
    status = "interrupted" if result.interrupted else "complete"
    with open_store(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("plan_rows", frame)
            con.execute("INSERT INTO path_results BY NAME SELECT * FROM plan_rows")
            values = [run_id, "plan", input_hash, scenario_file, scenario_toml, __version__]
            values += [started_utc.to_pydatetime(), pd.Timestamp.now(tz="UTC").to_pydatetime(), status, json.dumps(summary, default=str)]
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    return run_id


def save_dispatch(
    path: str | Path,
    result: Any,
    scenario_file: str | None,
    scenario_toml: str | None,
    input_hash: str,
    started_utc: pd.Timestamp,
    extra: dict[str, Any] | None = None,
) -> str:
    """Write a dispatch run (summary and interval schedule) in one transaction; return the run id.

    ``extra`` (for example the run's assumptions and full inputs) is stored in the summary next to the result's keys.
    """
    run_id = uuid.uuid4().hex[:12]
    s = result.schedule
    sched = pd.DataFrame(
        {
            "run_id": run_id,
            "interval_start_utc": [t.isoformat() for t in s.index],
            "price_usd_per_mwh": s["price_usd_per_mwh"].to_numpy(),
            "mining_mw": s["mining_mw"].to_numpy(),
            "ai_mw": s["ai_mw"].to_numpy(),
            "as_offer_mw": s["as_offer_mw"].to_numpy(),
            "grid_import_mw": s["grid_import_mw"].to_numpy(),
            "four_cp_interval": s["four_cp_interval"].to_numpy(dtype=bool),
        }
    )
    summary = json.loads(json.dumps({**result.summary(), **(extra or {})}, default=float))
    _write_run(path, _RunMeta(run_id, "dispatch", input_hash, scenario_file, scenario_toml, started_utc, "complete", summary), "dispatch_schedules", sched)
    return run_id


@dataclass(frozen=True)
class _RunMeta:
    run_id: str
    kind: str
    input_hash: str
    scenario_file: str | None
    scenario_toml: str | None
    started_utc: pd.Timestamp
    status: str
    summary: dict[str, Any]


def _write_run(path: str | Path, meta: _RunMeta, table: str, rows: pd.DataFrame) -> None:
    """Insert a run's detail rows into ``table`` and its ``runs`` row in one transaction (all or nothing)."""
    with open_store(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("detail_rows", rows)
            con.execute(f"INSERT INTO {table} SELECT * FROM detail_rows")  # table is one of two constants, never user input
            values = [meta.run_id, meta.kind, meta.input_hash, meta.scenario_file, meta.scenario_toml, __version__]
            values += [meta.started_utc.to_pydatetime(), pd.Timestamp.now(tz="UTC").to_pydatetime(), meta.status, json.dumps(meta.summary)]
            con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def load_schedule(path: str | Path, run_id: str) -> pd.DataFrame:
    """The stored interval schedule of a dispatch run, indexed by UTC interval start."""
    show_run(path, run_id)
    with open_store(path, read_only=True) as con:
        df = _frame(con, "SELECT * EXCLUDE (run_id) FROM dispatch_schedules WHERE run_id = ? ORDER BY interval_start_utc", [run_id])
    if df.empty:
        raise MulletError(f"run_id: {run_id!r} has no schedule (it is not a dispatch run)")
    df.index = pd.DatetimeIndex(pd.to_datetime(df.pop("interval_start_utc"), utc=True), name="interval_start_utc")
    return df


def plan_paths(path: str | Path, run_id: str) -> pd.DataFrame:
    """Per-path results of a plan run."""
    show_run(path, run_id)
    with open_store(path, read_only=True) as con:
        return _frame(
            con,
            "SELECT ai_share, conversion_year, path, npv_usd, revenue_usd FROM path_results WHERE run_id = ? ORDER BY ai_share, conversion_year, path",
            [run_id],
        )


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Query result as a DataFrame, built from rows (DuckDB's own ``.df()`` trips pandas deprecation warnings)."""
    cur = con.execute(sql, params or [])
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def list_runs(path: str | Path) -> pd.DataFrame:
    """All runs, newest first."""
    with open_store(path, read_only=True) as con:
        return _frame(
            con,
            "SELECT run_id, kind, status, CAST(started_utc AS VARCHAR) AS started_utc, CAST(finished_utc AS VARCHAR) AS finished_utc, "
            "scenario_file, package_version, input_hash FROM runs ORDER BY runs.started_utc DESC",
        )


def show_run(path: str | Path, run_id: str) -> dict[str, Any]:
    """One run's metadata and summary."""
    with open_store(path, read_only=True) as con:
        row = _frame(
            con,
            "SELECT run_id, kind, status, input_hash, scenario_file, scenario_toml, package_version, CAST(started_utc AS VARCHAR) AS started_utc, "
            "CAST(finished_utc AS VARCHAR) AS finished_utc, summary_json FROM runs WHERE run_id = ?",
            [run_id],
        )
    if row.empty:
        raise MulletError(f"run_id: got {run_id!r}, not in the store; see `mullet runs list`")
    rec = row.iloc[0].to_dict()
    rec["summary"] = json.loads(rec.pop("summary_json"))
    return rec


def compare_runs(path: str | Path, run_a: str, run_b: str) -> pd.DataFrame:
    """Per (AI share, conversion year): mean and P50 NPV of two runs side by side [M USD]."""
    for r in (run_a, run_b):
        show_run(path, r)
    with open_store(path, read_only=True) as con:
        return _frame(
            con,
            """
            SELECT ai_share, conversion_year,
                   avg(npv_usd) FILTER (WHERE run_id = ?) / 1e6 AS npv_mean_musd_a,
                   avg(npv_usd) FILTER (WHERE run_id = ?) / 1e6 AS npv_mean_musd_b,
                   median(npv_usd) FILTER (WHERE run_id = ?) / 1e6 AS npv_p50_musd_a,
                   median(npv_usd) FILTER (WHERE run_id = ?) / 1e6 AS npv_p50_musd_b
            FROM path_results WHERE run_id IN (?, ?)
            GROUP BY ai_share, conversion_year ORDER BY ai_share, conversion_year
            """,
            [run_a, run_b, run_a, run_b, run_a, run_b],
        )


def export_run(path: str | Path, run_id: str, out: str | Path) -> Path:
    """Write one run's per-path results to CSV or Parquet (by suffix)."""
    show_run(path, run_id)
    o = Path(out)
    with open_store(path, read_only=True) as con:
        df = _frame(con, "SELECT * FROM path_results WHERE run_id = ? ORDER BY ai_share, conversion_year, path", [run_id])
    if o.suffix.lower() == ".parquet":
        df.to_parquet(o)
    elif o.suffix.lower() == ".csv":
        df.to_csv(o, index=False)
    else:
        raise MulletError(f"out: got '{o.name}', allowed: a .csv or .parquet file")
    return o
