"""``mullet serve`` and ``mullet report``: the dashboard and HTML reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet.cli._common import DbOpt, app, err_console
from mullet.errors import MulletError

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but loopback needs MULLET_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    db: DbOpt = Path("mullet.duckdb"),
    scenarios: Annotated[Path, typer.Option("--scenarios", help="Folder of scenario files the dashboard may run.")] = Path("scenarios"),
) -> None:
    """Run the dashboard (FastAPI + uvicorn): runs, reports, comparison, a scenario form, the industry tracker."""
    import os

    token = os.environ.get("MULLET_TOKEN") or None
    if host not in _LOOPBACK and not token:
        raise MulletError(f"host: got {host!r}, a non-loopback address; allowed: 127.0.0.1, or set MULLET_TOKEN to require a token on every request")
    try:
        import uvicorn

        from mullet.web import create_app
    except ImportError:
        raise MulletError("serve: the dashboard needs its extra; install it with: pip install 'mullet[web]'") from None
    app_ = create_app(db, scenarios, token=token)
    err_console.print(f"mullet dashboard on http://{host}:{port}/ (store {db}, scenarios {scenarios}){'; token required' if token else ''}")
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@app.command("report")
def report_cmd(
    target: Annotated[str, typer.Argument(help="A stored RUN_ID or a SCENARIO.toml file.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (self-contained, works offline).")] = Path("report.html"),
    db: DbOpt = Path("mullet.duckdb"),
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (scenario reports).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day (scenario reports).")] = None,
) -> None:
    """Write one self-contained HTML report of a stored run or a scenario."""
    from mullet.report import report_for_run, report_for_scenario

    if out.suffix.lower() != ".html":
        raise MulletError(f"out: got '{out.name}', allowed: a file ending in .html")
    if target.endswith(".toml"):
        written = report_for_scenario(target, out, start, end)
    else:
        written = report_for_run(db, target, out)
    err_console.print(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB)")
