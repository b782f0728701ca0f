"""The append-only audit log of the controller, in the DuckDB store.

One table, ``control_audit``; rows are only ever inserted. Every append is its own committed transaction and the
connection is closed after it, so a killed controller (kill -9) loses nothing already appended, and other
processes (``mullet control status``, the dashboard) can read between appends. The decision of an interval is
written *before* its first command goes out (intent first), then each wave's commands, then their confirmations.
Timestamps: ``interval_start_utc`` is the UTC start of the decision interval; ``logged_at_utc`` the wall time of
the append.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from mullet.errors import MulletError

__all__ = ["AuditLog", "AuditRow"]

_SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS control_audit_seq;
CREATE TABLE IF NOT EXISTS control_audit (
    seq BIGINT DEFAULT nextval('control_audit_seq') PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    logged_at_utc TIMESTAMPTZ NOT NULL,
    interval_start_utc TIMESTAMPTZ,
    kind VARCHAR NOT NULL,          -- start, signal, decision, wave, command, confirmation, watchdog, stop
    miner_id VARCHAR,
    action VARCHAR,
    target_mw DOUBLE,
    commanded_mw DOUBLE,
    confirmed_mw DOUBLE,
    ok BOOLEAN,
    detail VARCHAR                  -- JSON: signals, reasons, errors
);
"""

_COLUMNS = ("run_id", "logged_at_utc", "interval_start_utc", "kind", "miner_id", "action", "target_mw", "commanded_mw", "confirmed_mw", "ok", "detail")


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit record (see the module docstring for the columns)."""

    kind: str
    interval_start_utc: datetime | None = None
    miner_id: str | None = None
    action: str | None = None
    target_mw: float | None = None
    commanded_mw: float | None = None
    confirmed_mw: float | None = None
    ok: bool | None = None
    detail: dict[str, Any] | None = None


class AuditLog:
    """Append-only audit log of one controller run.

    Parameters
    ----------
    path : str or Path
        DuckDB file (created if missing).
    run_id : str
        Identifier of this controller run.
    wait_s : float
        How long an append waits for another process's lock before failing [s].
    """

    def __init__(self, path: str | Path, run_id: str, wait_s: float = 10.0):
        self.path = Path(path)
        self.run_id = run_id
        self.wait_s = wait_s
        with self._connect() as con:
            con.execute(_SCHEMA)

    def _connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.wait_s
        delay = 0.01
        for _ in range(10_000):
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.IOException as exc:
                if time.monotonic() > deadline:
                    raise MulletError(f"audit_db: '{self.path}' is locked by another process ({exc})") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        raise MulletError(f"audit_db: '{self.path}' could not be opened")

    def append(self, rows: Sequence[AuditRow]) -> None:
        """Insert ``rows`` in one committed transaction."""
        if not rows:
            return
        now = datetime.now(UTC)
        values = [
            (
                self.run_id,
                now,
                r.interval_start_utc,
                r.kind,
                r.miner_id,
                r.action,
                r.target_mw,
                r.commanded_mw,
                r.confirmed_mw,
                r.ok,
                json.dumps(r.detail, default=str, sort_keys=True) if r.detail is not None else None,
            )
            for r in rows
        ]
        import pyarrow as pa

        table = pa.Table.from_pylist([dict(zip(_COLUMNS, v, strict=True)) for v in values])
        with self._connect() as con:
            con.register("audit_rows", table)
            con.execute(f"INSERT INTO control_audit ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)} FROM audit_rows")

    def read(self, kinds: Sequence[str] | None = None, all_runs: bool = False) -> list[dict[str, Any]]:
        """Rows of this run (or of every run), oldest first."""
        return read_audit(self.path, None if all_runs else self.run_id, kinds)


def read_audit(path: str | Path, run_id: str | None = None, kinds: Sequence[str] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Audit rows from ``path`` (of one run, or all), oldest first; the newest ``limit`` when given."""
    p = Path(path)
    if not p.exists():
        return []
    where, params = [], []
    if run_id is not None:
        where.append("run_id = ?")
        params.append(run_id)
    if kinds:
        where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
        params.extend(kinds)
    sql = "SELECT * FROM control_audit" + (" WHERE " + " AND ".join(where) if where else "")
    sql = f"SELECT * FROM ({sql} ORDER BY seq DESC LIMIT {int(limit)}) ORDER BY seq" if limit else sql + " ORDER BY seq"
    deadline = time.monotonic() + 10.0
    for _ in range(1000):
        try:
            with duckdb.connect(str(p), read_only=True) as con:
                if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'control_audit'").fetchone()[0]:  # type: ignore[index]
                    return []
                cur = con.execute(sql, params)
                cols = [c[0] for c in cur.description or []]
                return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise MulletError(f"audit_db: '{p}' stays locked by another process") from None
            time.sleep(0.05)
    return []
