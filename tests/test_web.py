"""Dashboard API and pages with FastAPI's test client: runs, validation, token, body limit, path traversal."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from mullet.web import create_app  # noqa: E402

ROOT = Path(__file__).parents[1]


def wait(client: TestClient, job_id: str, timeout_s: float = 120) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("job did not finish")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(tmp_path / "web.duckdb", ROOT / "scenarios"), base_url="http://127.0.0.1:8000")


def test_valid_run_is_stored_and_shown(client: TestClient) -> None:
    assert "default.toml" in client.get("/api/scenarios").json()
    r = client.post("/api/runs", json={"scenario": "default.toml", "start": "2023-08-01", "end": "2023-08-02", "overrides": {"ppa_price_usd_per_mwh": 20}})
    assert r.status_code == 202
    job = wait(client, r.json()["job_id"])
    assert job["status"] == "done", job
    run_id = str(job["run_id"])
    detail = client.get(f"/api/runs/{run_id}").json()
    assert detail["kind"] == "dispatch" and detail["summary"]["pnl"]["net_usd"] != 0
    assert len(client.get(f"/api/runs/{run_id}/schedule", params={"limit": 10}).json()) == 10
    assert [r["run_id"] for r in client.get("/api/runs").json()] == [run_id]
    page = client.get(f"/runs/{run_id}")
    assert page.status_code == 200 and "plotly-graph-div" in page.text
    assert client.get("/").status_code == 200
    assert "Compare" in client.get("/compare", params={"a": run_id, "b": run_id}).text
    assert client.get("/industry").status_code == 200
    report = client.get(f"/api/runs/{run_id}/report")
    assert report.status_code == 200 and "plotly" in report.text[:5_000_000].lower()
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").json()["info"]["title"] == "mullet"


def test_invalid_input_names_the_field(client: TestClient) -> None:
    r = client.post("/api/runs", json={"scenario": "default.toml", "overrides": {"ai_it_mw": -5, "fleet_model": "Antminer S99"}})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"overrides.ai_it_mw", "overrides.fleet_model"}
    form = client.post(
        "/new",
        data={
            "scenario": "default.toml",
            "ai_it_mw": "lots",
            "mining_mw": "100",
            "fleet_model": "Antminer S21",
            "ppa_mw": "0",
            "ppa_price_usd_per_mwh": "30",
            "year": "2023",
        },
    )
    assert form.status_code == 422
    assert 'id="error-ai_it_mw"' in form.text and "Traceback" not in form.text


def test_form_runs_a_scenario(client: TestClient) -> None:
    data = {
        "scenario": "default.toml",
        "ai_it_mw": "50",
        "mining_mw": "120",
        "fleet_model": "Antminer S21 Pro",
        "ppa_mw": "100",
        "ppa_price_usd_per_mwh": "30",
        "year": "2022",
    }
    r = client.post("/new", data=data, follow_redirects=False)
    assert r.status_code == 303
    job = wait(client, r.headers["location"].rsplit("/", 1)[1])
    assert job["status"] == "done", job
    assert any("4CP ignored" in n for n in job["notes"])  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["../pyproject.toml", "..%2Fpyproject.toml", "/etc/passwd", "default.toml/../../x.toml", "a" * 90 + ".toml"])
def test_path_traversal_is_refused(client: TestClient, name: str) -> None:
    r = client.post("/api/runs", json={"scenario": name})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["scenario"]


def test_unknown_scenario_is_404_naming_the_choices(client: TestClient) -> None:
    r = client.post("/api/runs", json={"scenario": "nope.toml"})
    assert r.status_code == 404 and r.json()["detail"].startswith("scenario: got 'nope.toml'") and "default.toml" in r.json()["detail"]


def test_oversized_body_is_refused(client: TestClient) -> None:
    r = client.post("/api/runs", content=b'{"scenario": "' + b"x" * 70_000 + b'"}', headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_token_required_on_every_request(tmp_path: Path) -> None:
    c = TestClient(create_app(tmp_path / "t.duckdb", ROOT / "scenarios", token="s3cret"), base_url="http://127.0.0.1:8000")
    for path in ("/", "/api/runs", "/api/scenarios", "/docs"):
        r = c.get(path)
        assert r.status_code == 401 and "token" in r.json()["detail"]
    assert c.get("/api/scenarios", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert c.get("/api/scenarios", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = c.get("/", params={"token": "s3cret"})
    assert first.status_code == 200
    assert c.get("/api/scenarios").status_code == 200  # the cookie set by the first page load


def test_errors_carry_no_stack_trace(client: TestClient) -> None:
    r = client.get("/api/runs/zzzz")
    assert r.status_code == 422 and "Traceback" not in r.text
    assert client.get("/api/runs/0123456789ab").status_code == 404


def test_cli_serve_refuses_other_hosts_without_token_and_report_writes_html(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "MULLET_TOKEN"}
    out = subprocess.run([sys.executable, "-m", "mullet.cli", "serve", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2 and "MULLET_TOKEN" in out.stderr
    rep = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "report", "scenarios/default.toml", "--out", str(tmp_path / "r.html"), "--start", "2023-08-01", "--end", "2023-08-02"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )  # fmt: skip
    assert rep.returncode == 0, rep.stderr
    text = (tmp_path / "r.html").read_text()
    assert text.count('class="plotly-graph-div"') == 6
    assert "<script src=" not in text  # Plotly is inlined, nothing loaded from elsewhere
