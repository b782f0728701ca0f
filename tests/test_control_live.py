"""The live page: served behind the dashboard's token, reading the controller's status file and audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from mullet.control.audit import AuditLog, AuditRow
from mullet.control.run import status_path, write_status
from mullet.web import create_app

ROOT = Path(__file__).parents[1]


def test_live_page_and_api_follow_the_controller_and_need_the_token(tmp_path: Path) -> None:
    db = tmp_path / "m.duckdb"
    audit = AuditLog(db, "r1")
    t = datetime(2023, 8, 24, 0, 30, tzinfo=UTC)
    audit.append(
        [
            AuditRow(
                "decision",
                t,
                target_mw=0.0,
                commanded_mw=0.0,
                confirmed_mw=0.7,
                detail={"reason": "price 258.61 vs strikes", "signals": {"price_usd_per_mwh": 258.61}},
            ),
            AuditRow("confirmation", t, target_mw=0.0, commanded_mw=0.0, confirmed_mw=0.003, ok=True),
        ]
    )
    write_status(
        status_path(db),
        {"run_id": "r1", "mode": "replay 120x", "miners": 200, "responsive": 199, "asleep": 199, "readback_site_mw": 0.003, "not_responding": ["emulated-7"]},
    )
    client = TestClient(create_app(db, ROOT / "scenarios", token="s3cret"))
    assert client.get("/live").status_code == 401
    assert client.get("/api/live").status_code == 401
    headers = {"Authorization": "Bearer s3cret"}
    page = client.get("/live", headers=headers)
    assert page.status_code == 200 and "Live control" in page.text and "/api/live" in page.text
    snap = client.get("/api/live", headers=headers).json()
    assert snap["live"]["not_responding"] == ["emulated-7"]
    kinds = [r["kind"] for r in snap["decisions"]]
    assert kinds == ["decision", "confirmation"]
    assert snap["decisions"][0]["interval_start_utc"] == "2023-08-24T00:30:00+00:00"
    assert snap["decisions"][1]["price_usd_per_mwh"] == 258.61  # carried to the confirmation for the chart


def test_live_api_without_a_controller_is_empty(tmp_path: Path) -> None:
    client = TestClient(create_app(tmp_path / "none.duckdb", ROOT / "scenarios"), base_url="http://127.0.0.1")
    assert client.get("/api/live").json() == {"live": None, "decisions": []}
