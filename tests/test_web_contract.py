"""The dashboard API keeps its OpenAPI contract (Schemathesis, in-process), and the guard's checks hold.

Schemathesis generates valid and invalid requests from the OpenAPI document and runs its default
checks (no server errors, documented status codes, content types and headers, response bodies that
match the schema, invalid data rejected, valid data accepted). Examples are bounded to keep the suite
fast. Running jobs is replaced by a no-op here (the queue still fills and answers 429); real jobs are
tested in test_web.py.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from mullet.web import create_app  # noqa: E402

ROOT = Path(__file__).parents[1]
BASE = "http://127.0.0.1:8000"

_APP = create_app(Path(tempfile.mkdtemp(prefix="mullet-st-")) / "st.duckdb", ROOT / "scenarios", allowed_hosts={"testserver", "127.0.0.1", "localhost"})
_APP.dashboard._execute = lambda job_id, req: None  # see the module docstring
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_its_openapi_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(tmp_path / "w.duckdb", ROOT / "scenarios"), base_url=BASE)


def test_cross_site_posts_are_refused_even_on_loopback(client: TestClient) -> None:
    body = {"scenario": "default.toml", "start": "2023-08-01", "end": "2023-08-01"}
    evil = client.post("/api/runs", json=body, headers={"Origin": "http://evil.example"})
    assert evil.status_code == 403 and evil.json()["detail"].startswith("origin: got 'http://evil.example'")
    form = {"scenario": "default.toml", "ai_it_mw": "10", "mining_mw": "10", "fleet_model": "Antminer S21", "ppa_mw": "0", "ppa_price_usd_per_mwh": "30"}
    assert client.post("/new", data=form | {"year": "2023"}, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert client.post("/new", data=form | {"year": "2023"}, headers={"Origin": "null"}).status_code == 403
    same = client.post("/api/runs", json=body, headers={"Origin": BASE, "Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 202
    assert client.get("/api/scenarios", headers={"Origin": "http://evil.example"}).status_code == 200  # reads carry no state change


def test_foreign_host_names_are_refused_without_a_token(tmp_path: Path) -> None:
    c = TestClient(create_app(tmp_path / "h.duckdb", ROOT / "scenarios"), base_url="http://rebound.example:8000")
    r = c.get("/api/scenarios")
    assert r.status_code == 403 and r.json()["detail"].startswith("host: got 'rebound.example:8000'")
    assert TestClient(create_app(tmp_path / "h.duckdb", ROOT / "scenarios"), base_url="http://localhost:8000").get("/").status_code == 200
    assert TestClient(create_app(tmp_path / "h.duckdb", ROOT / "scenarios"), base_url="http://[::1]:8000").get("/").status_code == 200


def test_report_download_leaves_no_temp_file_and_reads_coexist_with_a_job(client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = client.post("/api/runs", json={"scenario": "default.toml", "start": "2023-08-01", "end": "2023-08-01"})
    job_id = r.json()["job_id"]
    deadline = time.monotonic() + 120
    while client.get(f"/api/jobs/{job_id}").json()["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
    run_id = client.get(f"/api/jobs/{job_id}").json()["run_id"]
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # this test's own temporary folder (other workers download reports too)
    # a second job writes to the store while pages and the API read it
    second = client.post("/api/runs", json={"scenario": "default.toml", "start": "2023-08-01", "end": "2023-08-07"}).json()["job_id"]
    statuses: list[int] = []

    def read() -> None:
        for _ in range(15):
            statuses.append(client.get(f"/api/runs/{run_id}").status_code)
            statuses.append(client.get("/api/runs").status_code)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    report = client.get(f"/api/runs/{run_id}/report")
    for t in readers:
        t.join()
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert set(statuses) == {200}
    assert list(temp.iterdir()) == []
    while client.get(f"/api/jobs/{second}").json()["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.get(f"/api/jobs/{second}").json()["status"] == "done"


def test_api_docs_are_offline_and_compare_says_why_it_is_empty(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200 and "POST /api/runs" in docs.text
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    ids = []
    for body in ({"kind": "dispatch", "start": "2023-08-01", "end": "2023-08-01"}, {"kind": "plan", "paths": 4, "years": 2}):
        job_id = client.post("/api/runs", json={"scenario": "default.toml", **body}).json()["job_id"]
        deadline = time.monotonic() + 180
        while (job := client.get(f"/api/jobs/{job_id}").json())["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job["status"] == "done", job
        ids.append(job["run_id"])
    page = client.get("/compare", params={"a": ids[0], "b": ids[1]})
    assert page.status_code == 200 and "run A is a dispatch run and run B a plan run" in page.text
    assert "not in the store" in client.get("/compare", params={"a": ids[0], "b": "0123456789ab"}).text


def test_method_not_allowed_lists_every_allowed_method(client: TestClient) -> None:
    r = client.put("/api/runs", json={})
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "POST"}


def test_serve_works_from_any_folder_with_the_bundled_scenarios(tmp_path: Path) -> None:
    from mullet.web import bundled_scenarios

    bundled = sorted(p.name for p in bundled_scenarios().glob("*.toml"))
    assert bundled == sorted(p.name for p in (ROOT / "scenarios").glob("*.toml"))
    for name in bundled:  # the shipped copies are the repository's examples, byte for byte
        assert (bundled_scenarios() / name).read_bytes() == (ROOT / "scenarios" / name).read_bytes()
    c = TestClient(create_app(tmp_path / "any.duckdb"), base_url=BASE)
    assert "default.toml" in c.get("/api/scenarios").json()
