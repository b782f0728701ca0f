"""``mullet serve`` and ``mullet report``: the dashboard and HTML reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet.cli._common import DbOpt, app, err_console
from mullet.errors import MulletError
from mullet.runs import Fill

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@app.command("serve")
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to bind; anything but loopback needs MULLET_TOKEN.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port to listen on.", min=1, max=65535)] = 8000,
    db: DbOpt = Path("mullet.duckdb"),
    scenarios: Annotated[
        Path | None, typer.Option("--scenarios", help="Folder of scenario files the dashboard may run (default: the bundled examples).")
    ] = None,
) -> None:
    """Run the dashboard (FastAPI + uvicorn): runs, reports, comparison, a scenario form, the industry tracker."""
    import os

    from mullet.store import check_store_path

    token = os.environ.get("MULLET_TOKEN") or None
    if host not in _LOOPBACK and not token:
        raise MulletError(f"host: got {host!r}, a non-loopback address; allowed: 127.0.0.1, or set MULLET_TOKEN to require a token on every request")
    check_store_path(db)
    try:
        import uvicorn

        from mullet.web import bundled_scenarios, create_app
    except ImportError:
        raise MulletError("serve: the dashboard needs its extra; install it with: pip install 'mullet[web]'") from None
    folder = scenarios if scenarios is not None else bundled_scenarios()
    app_ = create_app(db, folder, token=token, allowed_hosts={*_LOOPBACK, host})
    err_console.print(f"mullet dashboard on http://{host}:{port}/ (store {db}, scenarios {folder}){'; token required' if token else ''}", markup=False)
    uvicorn.run(app_, host=host, port=port, log_level="warning")


@app.command("report")
def report_cmd(
    target: Annotated[str, typer.Argument(help="A stored RUN_ID or a SCENARIO.toml file.")],
    out: Annotated[Path, typer.Option("--out", help="HTML file to write (self-contained, works offline).")] = Path("report.html"),
    db: DbOpt = Path("mullet.duckdb"),
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (scenario reports).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day (scenario reports).")] = None,
    fill: Annotated[Fill | None, typer.Option("--fill", help="Gaps in input series (scenario reports): error, or ffill (noted).")] = None,
) -> None:
    """Write one self-contained HTML report of a stored run or a scenario."""
    from mullet.runs import write_report

    written = write_report(target, out, db, start, end, fill)
    err_console.print(f"report written to {written} ({written.stat().st_size / 1e6:.1f} MB)", markup=False, highlight=False)
