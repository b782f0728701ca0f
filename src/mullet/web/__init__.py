"""The mullet dashboard: a FastAPI app with a JSON API and server-rendered pages.

Layout: :mod:`~mullet.web.guard` (Host, token, Origin and body-size checks), :mod:`~mullet.web.forms`
(inputs), :mod:`~mullet.web.jobs` (background runs through :mod:`mullet.runs`), :mod:`~mullet.web.api`
(JSON routes, documented by the OpenAPI schema) and :mod:`~mullet.web.pages` (HTML from the Jinja files
in ``templates/``, whose base the HTML report shares). It holds no business logic.

Security: bound to 127.0.0.1 by default (the CLI refuses another address unless ``MULLET_TOKEN`` is set,
and the app then requires the token on every request); without a token only loopback host names are
served; state-changing requests from another site are refused; bodies are size-limited; inputs are
validated by pydantic; scenario names resolve only inside the scenario folder; errors never carry
stack traces. The API documentation is served from the package (no CDN).

This module imports the web framework only inside :func:`create_app`, so that :mod:`mullet.web.forms`
stays usable without the ``web`` extra.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mullet.web.forms import Overrides, RunRequest, apply_overrides

__all__ = ["Overrides", "RunRequest", "apply_overrides", "bundled_scenarios", "create_app"]


def bundled_scenarios() -> Path:
    """The example scenario folder shipped inside the package (the default of ``mullet serve``)."""
    from importlib import resources

    return Path(str(resources.files("mullet") / "scenarios"))


def _status_of(exc: Exception) -> int:
    from mullet.web.jobs import ConflictError, QueueFullError, UnknownError

    if isinstance(exc, UnknownError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, QueueFullError):
        return 429
    return 422


def create_app(
    db: str | Path = "mullet.duckdb",
    scenario_dir: str | Path | None = None,
    token: str | None = None,
    max_body_bytes: int = 64 * 1024,
    allowed_hosts: Iterable[str] | None = None,
    max_queued_jobs: int = 4,
) -> Any:
    """Build the dashboard app, wrapped in the :class:`~mullet.web.guard.Guard` middleware.

    Parameters
    ----------
    db
        DuckDB results store.
    scenario_dir
        Folder of scenarios the dashboard may run; default: the bundled examples.
    token
        Require this token on every request (needed to serve a non-loopback address).
    max_body_bytes
        Largest request body.
    allowed_hosts
        Host names served without a token; default: loopback names.
    max_queued_jobs
        Runs queued or running at once; more get HTTP 429.
    """
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
    from starlette.exceptions import HTTPException

    from mullet import __version__
    from mullet.errors import MulletError
    from mullet.web.api import api_router
    from mullet.web.guard import Guard
    from mullet.web.jobs import Dashboard
    from mullet.web.pages import page, pages_router

    dash = Dashboard(db, scenario_dir if scenario_dir is not None else bundled_scenarios(), max_queued=max_queued_jobs)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        dash.shutdown()

    app = FastAPI(
        title="mullet",
        description="Hybrid AI + Bitcoin-mining site economics: dispatch, plan, report.",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.dashboard = dash
    routers = [api_router(dash), pages_router(dash)]

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api") or request.url.path == "/openapi.json"

    def refuse(request: Request, status: int, detail: str, field: str = "", headers: dict[str, str] | None = None) -> Response:
        if wants_json(request):
            body: dict[str, Any] = {"detail": detail}
            if status == 422:
                body["errors"] = [{"field": field, "message": detail}]
            return JSONResponse(body, status_code=status, headers=headers)
        response = page("error.html", status_code=status, title="Not possible", message=detail)
        response.headers.update(headers or {})
        return response

    @app.exception_handler(MulletError)
    async def _domain_error(request: Request, exc: MulletError) -> Response:
        text = " ".join(str(exc).split())
        return refuse(request, _status_of(exc), text, text.split(":", 1)[0] if ":" in text else "")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]} for e in exc.errors()]
        if not wants_json(request):
            return page("error.html", status_code=422, title="Not possible", message="; ".join(f"{e['field']}: {e['message']}" for e in errors))
        return JSONResponse({"detail": "invalid input", "errors": errors}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette lists only the first matching route's methods
            allowed: set[str] = set()
            for route in [*app.router.routes, *(r for router in routers for r in router.routes)]:
                regex = getattr(route, "path_regex", None)
                if regex is not None and regex.match(request.url.path):
                    allowed |= set(getattr(route, "methods", None) or ())
            headers["Allow"] = ", ".join(sorted(allowed))
        detail = exc.detail if isinstance(exc.detail, str) else "request not possible"
        if exc.status_code == 404:
            detail = f"path: {request.url.path!r} does not exist"
        return refuse(request, exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _internal_error(request: Request, __: Exception) -> Response:
        return refuse(request, 500, "internal error")

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        from importlib import resources

        js = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
        return FileResponse(js, media_type="application/javascript")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        """The API reference rendered from the OpenAPI document, served offline."""
        schema = app.openapi()
        ops = []
        for path, methods in schema["paths"].items():
            for method, op in methods.items():
                params = [f"{p['name']} ({p['in']})" for p in op.get("parameters", [])]
                ref = op["requestBody"]["content"]["application/json"]["schema"].get("$ref", "") if "requestBody" in op else ""
                responses = {code: r.get("description", "") for code, r in op.get("responses", {}).items()}
                summary = op.get("description") or op.get("summary", "")
                body = "JSON body: " + ref.rsplit("/", 1)[-1] if ref else ""
                ops.append({"method": method.upper(), "path": path, "summary": summary, "params": params, "body": body, "responses": responses})
        return page("docs.html", title="API reference", ops=ops)

    for router in routers:
        app.include_router(router)
    from mullet.web.live import register_live

    register_live(app, dash.db)  # the live control page (mullet.web.live)

    guarded = Guard(app, token, max_body_bytes, allowed_hosts)
    guarded.fastapi = app  # type: ignore[attr-defined]
    guarded.dashboard = dash  # type: ignore[attr-defined]
    return guarded
