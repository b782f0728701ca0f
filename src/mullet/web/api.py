"""The dashboard's JSON API.

Its OpenAPI document is its contract: every status code a route can return is documented with its
body, and the suite checks that with Schemathesis.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from mullet.errors import MulletError
from mullet.web.forms import RunRequest
from mullet.web.jobs import ConflictError, Dashboard, JobView, UnknownError

__all__ = ["COMMON_RESPONSES", "ErrorBody", "ValidationErrorBody", "api_router"]


class ErrorBody(BaseModel):
    """Every refusal: one line naming the field, the value and what is allowed."""

    detail: str


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str
    message: str


class ValidationErrorBody(BaseModel):
    """A request that does not match the schema: which fields and why."""

    detail: str
    errors: list[FieldError]


class JobCreated(BaseModel):
    """A queued run."""

    job_id: str


class RunRow(BaseModel):
    """One stored run in the list."""

    run_id: str
    kind: str
    status: str
    started_utc: str
    finished_utc: str
    scenario_file: str | None
    package_version: str
    input_hash: str


class RunDetail(BaseModel):
    """One stored run: metadata and the summary (P&L, metrics and assumptions, or plan strategies)."""

    run_id: str
    kind: str
    status: str
    input_hash: str
    scenario_file: str | None
    package_version: str
    started_utc: str
    finished_utc: str
    summary: dict[str, Any]


class ScheduleRow(BaseModel):
    """One interval of a dispatch schedule (UTC interval start; MW averaged over the interval)."""

    interval_start_utc: str
    price_usd_per_mwh: float | None
    mining_mw: float | None
    ai_mw: float | None
    as_offer_mw: float | None
    grid_import_mw: float | None
    four_cp_interval: bool | None


def _e(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"model": model, "description": description}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _e("Body that is not valid JSON"),
    401: _e("Token missing or wrong (only when the dashboard runs with MULLET_TOKEN)"),
    403: _e("Request from another site, or to a host name the dashboard does not serve"),
    413: _e("Body larger than the limit"),
    422: _e("Invalid input", ValidationErrorBody),
}
RunIdPath = Annotated[str, PathParam(pattern=r"^[0-9a-f]{12}$", description="A stored run id: 12 hexadecimal characters.")]


def api_router(dash: Dashboard) -> APIRouter:
    """The ``/api`` routes over one :class:`~mullet.web.jobs.Dashboard`."""
    api = APIRouter(prefix="/api", responses=COMMON_RESPONSES)

    @api.get("/scenarios")
    def api_scenarios() -> list[str]:
        """Scenario files available to run."""
        return dash.scenario_names()

    @api.post("/runs", status_code=202, responses={404: _e("Unknown scenario"), 429: _e("Too many runs queued; retry later")})
    def api_run(req: RunRequest) -> JobCreated:
        """Start a dispatch or plan run in the background; poll ``/api/jobs/{job_id}``."""
        return JobCreated(job_id=dash.submit(req))

    @api.get("/jobs/{job_id}", responses={404: _e("Unknown job")})
    def api_job(job_id: Annotated[str, PathParam(max_length=64)]) -> JobView:
        """Status and progress of a background run."""
        job = dash.jobs.get(job_id)
        if job is None:
            raise UnknownError(f"job_id: {job_id!r} unknown")
        return JobView(**job.__dict__)

    @api.get("/runs")
    def api_runs() -> list[RunRow]:
        """Stored runs, newest first."""
        return [RunRow(**{k: (v if v is None or isinstance(v, str) else str(v)) for k, v in r.items()}) for r in dash.runs()]

    @api.get("/runs/{run_id}", responses={404: _e("Unknown run")})
    def api_run_detail(run_id: RunIdPath) -> RunDetail:
        """One run's metadata and summary."""
        from mullet.store import show_run

        rec = show_run(dash.db, dash.check_run_id(run_id))
        rec.pop("scenario_toml", None)
        return RunDetail(**rec)

    @api.get("/runs/{run_id}/schedule", responses={404: _e("Unknown run"), 409: _e("Not a dispatch run")})
    def api_schedule(run_id: RunIdPath, limit: Annotated[int, Query(ge=1, le=100_000)] = 2_000) -> list[ScheduleRow]:
        """Interval schedule of a dispatch run (first ``limit`` intervals)."""
        from mullet.store import load_schedule

        dash.check_run_id(run_id)
        try:
            s = load_schedule(dash.db, run_id).head(limit)
        except MulletError as exc:
            raise ConflictError(str(exc)) from None
        frame = s.reset_index().assign(interval_start_utc=lambda d: d["interval_start_utc"].map(lambda t: t.isoformat()))
        return [ScheduleRow(**r) for r in frame.to_dict(orient="records")]

    @api.get(
        "/runs/{run_id}/report",
        response_class=FileResponse,
        responses={200: {"content": {"text/html": {}}, "description": "Self-contained HTML report"}, 404: _e("Unknown run")},
    )
    def api_report(run_id: RunIdPath) -> FileResponse:
        """The self-contained HTML report of a run (the temporary file is removed once sent)."""
        from mullet.report import report_for_run

        folder = Path(tempfile.mkdtemp(prefix="mullet-report-"))
        out = folder / f"mullet-report-{dash.check_run_id(run_id)}.html"
        try:
            report_for_run(dash.db, run_id, out)
        except BaseException:
            _remove(folder)
            raise
        return FileResponse(out, media_type="text/html", filename=out.name, background=BackgroundTask(_remove, folder))

    return api


def _remove(folder: Path) -> None:
    for f in folder.glob("*"):
        f.unlink(missing_ok=True)
    folder.rmdir()
