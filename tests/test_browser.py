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
