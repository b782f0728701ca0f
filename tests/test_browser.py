"""The dashboard in a real browser: Playwright driving Debian's Chromium (skipped with a message when it is absent)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium: browser tests skipped (.ci/run installs it with apt-get)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    uvicorn = pytest.importorskip("uvicorn")
    from mullet.web import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(tmp_path / "b.duckdb", ROOT / "scenarios"), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


def test_run_default_scenario_from_the_form(server: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server}/new")
        page.fill("#ai_it_mw", "100")
        page.select_option("#year", "2023")
        page.click("#run-button")
        page.wait_for_url("**/runs/*", timeout=180_000)
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        charts = page.locator(".js-plotly-plot").count()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard_run.png"), full_page=False)
        page.locator("h2").nth(1).scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -20)")
        page.screenshot(path=str(ARTIFACTS / "dashboard_charts.png"), full_page=False)
        page.goto(f"{server}/industry")
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "dashboard_industry.png"))
        browser.close()
    assert charts >= 5
    assert errors == []


def test_report_opens_offline_with_every_chart(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from mullet.report import report_for_scenario

    out = report_for_scenario(ROOT / "scenarios/default.toml", tmp_path / "report.html", "2023-08-01", "2023-08-07")
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
        rendered = page.locator(".js-plotly-plot .main-svg").count()
        plots = page.locator(".js-plotly-plot").count()
        browser.close()
    assert plots == 6  # waterfall, heatmap, price vs mining, revenue per MW, events, headroom
    assert rendered >= plots
    assert errors == []


def _browser(sync_api):  # type: ignore[no-untyped-def]
    return sync_api.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    )


def test_every_page_fits_a_laptop_screen_offline_and_clean(server: str) -> None:
    """At 1366x768: no horizontal overflow, no console errors, no request leaving the server."""
    sync_api = pytest.importorskip("playwright.sync_api")
    import json
    import urllib.request

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        req = urllib.request.Request(f"{server}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    def get(path: str) -> dict[str, object]:
        with urllib.request.urlopen(f"{server}{path}", timeout=30) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]

    runs = []
    for body in ({"kind": "dispatch", "start": "2023-08-01", "end": "2023-08-03"}, {"kind": "plan", "paths": 4, "years": 2}):
        job_id = post("/api/runs", {"scenario": "default.toml", **body})["job_id"]
        deadline = time.monotonic() + 180
        while (job := get(f"/api/jobs/{job_id}"))["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert job["status"] == "done", job
        runs.append(job["run_id"])
    pages = ["/", f"/runs/{runs[0]}", f"/runs/{runs[1]}", f"/compare?a={runs[0]}&b={runs[1]}", "/new", f"/jobs/{job_id}", "/industry", "/docs"]
    problems: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        current = [""]
        page.on("console", lambda msg: problems.append(f"{current[0]}: console {msg.text}") if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(f"{current[0]}: {exc}"))
        page.on("request", lambda req: None if req.url.startswith((server, "data:", "about:")) else problems.append(f"{current[0]}: request to {req.url}"))
        for path in pages:
            current[0] = path
            page.goto(f"{server}{path}", wait_until="networkidle")
            if page.locator(".js-plotly-plot").count():
                page.wait_for_selector(".js-plotly-plot .main-svg", timeout=60_000)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 1366:
                problems.append(f"{path}: page is {width} px wide at a 1366 px window")
        ARTIFACTS.mkdir(exist_ok=True)
        page.goto(f"{server}/industry", wait_until="networkidle")
        page.screenshot(path=str(ARTIFACTS / "dashboard_industry_1366.png"))
        browser.close()
    assert problems == []
