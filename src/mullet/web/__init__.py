"""The mullet dashboard: a FastAPI app with a JSON API and server-rendered pages.

It only calls the pipelines (dispatch, plan, report, industry) and the results
store; it holds no business logic. Security: bound to 127.0.0.1 by default (the
CLI refuses another address unless ``MULLET_TOKEN`` is set, and the app then
requires the token on every request), request bodies are size-limited, inputs
are validated by pydantic, scenario names are resolved only inside the
configured scenario folder, and errors never carry stack traces.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import tempfile
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import pandas as pd
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mullet.errors import MulletError, ScenarioError
from mullet.markets.ercot import ERCOT
from mullet.web.live import register_live
from mullet.web.templates import TEMPLATES

__all__ = ["Overrides", "RunRequest", "apply_overrides", "create_app"]

_SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.toml$")
_RUN_ID = re.compile(r"^[0-9a-f]{12}$")


class Overrides(BaseModel):
    """Key numbers of a scenario a user may change from the dashboard."""

    model_config = ConfigDict(extra="forbid")

    ai_it_mw: Annotated[float | None, Field(ge=0, le=2_000, description="AI IT load [MW]; 0 removes AI.")] = None
    mining_mw: Annotated[float | None, Field(ge=0, le=5_000, description="Mining site power [MW]; 0 removes mining.")] = None
    ppa_price_usd_per_mwh: Annotated[float | None, Field(ge=-100, le=1_000, description="Fixed PPA price [USD/MWh].")] = None
    ppa_mw: Annotated[float | None, Field(ge=0, le=5_000, description="PPA volume [MW]; 0 removes the PPA.")] = None
    fleet_model: Annotated[str | None, Field(description="ASIC model from the bundled catalog.")] = None
    year: Annotated[int | None, Field(ge=2022, le=2024, description="Year of ERCOT prices (UTC calendar year).")] = None

    @field_validator("fleet_model")
    @classmethod
    def _known_model(cls, v: str | None) -> str | None:
        if v is None:
            return v
        from mullet.data import load_asic_catalog

        if v not in load_asic_catalog().index:
            raise ValueError(f"got {v!r}, not in the bundled ASIC catalog")
        return v


class RunRequest(BaseModel):
    """Body of ``POST /api/runs``."""

    model_config = ConfigDict(extra="forbid")

    scenario: Annotated[str, Field(max_length=100, description="Scenario file name in the scenario folder, e.g. default.toml.")]
    kind: Literal["dispatch", "plan"] = "dispatch"
    start: Annotated[str | None, Field(max_length=10)] = None
    end: Annotated[str | None, Field(max_length=10)] = None
    overrides: Overrides | None = None
    paths: Annotated[int, Field(ge=1, le=2_000)] = 50
    years: Annotated[int, Field(ge=1, le=20)] = 5


def apply_overrides(scenario: Any, ov: Overrides) -> tuple[Any, list[str]]:
    """A new scenario with the overrides applied (validated); notes say what else had to change."""
    from mullet.data import load_asic_catalog
    from mullet.site import parse_scenario

    data = scenario.model_dump(mode="json")
    notes: list[str] = []
    if ov.ai_it_mw is not None:
        if ov.ai_it_mw == 0:
            data["ai"] = []
        elif data["ai"]:
            data["ai"][0]["it_load_mw"] = ov.ai_it_mw
            if data["ai"][0].get("contract") == "gpu_cloud":
                data["ai"][0]["gpus"] = max(1, round(ov.ai_it_mw * 1e6 / data["ai"][0]["gpu_power_w"]))
                data["ai"][0]["it_load_mw"] = data["ai"][0]["gpus"] * data["ai"][0]["gpu_power_w"] / 1e6
        else:
            data["ai"] = [{"name": "ai", "it_load_mw": ov.ai_it_mw}]
    if ov.fleet_model is not None and data["mining"]:
        fleet = data["mining"][0]
        site_mw = scenario.mining[0].site_power_mw
        fleet.update({"model": ov.fleet_model, "hashrate_ths_per_unit": None, "power_w_per_unit": None})
        power_w = float(load_asic_catalog().loc[ov.fleet_model, "power_w"])
        fleet["units"] = max(1, round(site_mw * 1e6 / (power_w * (1 + fleet["cooling_overhead_fraction"]))))
    if ov.mining_mw is not None:
        if ov.mining_mw == 0:
            data["mining"] = []
        else:
            if not data["mining"]:
                data["mining"] = [{"name": "mining", "model": ov.fleet_model or "Antminer S21", "units": 1}]
            fleet = data["mining"][0]
            if fleet.get("model"):
                power_w = float(load_asic_catalog().loc[fleet["model"], "power_w"])
            else:
                power_w = float(fleet["power_w_per_unit"])
            fleet["units"] = max(1, round(ov.mining_mw * 1e6 / (power_w * (1 + fleet.get("cooling_overhead_fraction", 0.05)))))
    if ov.ppa_mw is not None or ov.ppa_price_usd_per_mwh is not None:
        ppas = data["power"]["ppas"]
        if ov.ppa_mw == 0:
            data["power"]["ppas"] = []
        else:
            if not ppas:
                ppas.append({"name": "ppa", "power_mw": ov.ppa_mw or 100.0, "price_usd_per_mwh": ov.ppa_price_usd_per_mwh or 40.0})
            if ov.ppa_mw is not None:
                ppas[0]["power_mw"] = ov.ppa_mw
            if ov.ppa_price_usd_per_mwh is not None:
                ppas[0]["price_usd_per_mwh"] = ov.ppa_price_usd_per_mwh
    if ov.year is not None:
        data["start"], data["end"] = f"{ov.year}-01-01", f"{ov.year}-12-31"
        if (
            ov.year not in ERCOT.peak_years(ERCOT.system_load())
            and data["power"]["four_cp"]["mode"] != "none"
            and data["power"]["four_cp"]["rate_usd_per_kw_year"] > 0
        ):
            data["power"]["four_cp"]["mode"] = "none"
            notes.append(f"4CP ignored: the bundled ERCOT load has no June-September {ov.year}")
        lz = data["power"].get("load_settlement_point")
        if lz in ERCOT.load_zones and not ERCOT.covers(lz, pd.Timestamp(f"{ov.year}-01-01", tz="UTC"), pd.Timestamp(f"{ov.year + 1}-01-01", tz="UTC")):
            data["power"]["load_zone_fallback"] = "hub"
            notes.append(f"load settled at {data['power'].get('settlement_point', 'HB_WEST')}: no bundled {lz} prices for {ov.year}")
    site = sum(b.get("it_load_mw", 0) * b.get("pue", 1.25) for b in data["ai"])
    if site > data["interconnect"]["import_limit_mw"]:
        data["interconnect"]["import_limit_mw"] = site
        notes.append(f"interconnect raised to the firm AI load, {site:.0f} MW")
    return parse_scenario(data, "overrides"), notes


@dataclass
class Job:
    kind: str
    status: str = "queued"
    progress: float = 0.0
    run_id: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


class _Guard:
    """ASGI middleware: request body size limit and the access token."""

    def __init__(self, app: Any, token: str | None, max_body_bytes: int) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        set_cookie = False
        if self.token:
            supplied = None
            auth = headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                supplied = auth[7:].strip()
            if supplied is None and "cookie" in headers:
                morsel = SimpleCookie(headers["cookie"]).get("mullet_token")
                supplied = morsel.value if morsel else None
            if supplied is None:
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                if "token" in query:
                    supplied = query["token"][0]
                    set_cookie = True
            if supplied is None or not secrets.compare_digest(supplied, self.token):
                await _send_json(send, 401, {"detail": "token: missing or wrong; send 'Authorization: Bearer <MULLET_TOKEN>'"})
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _send_json(send, 413, {"detail": f"body: larger than the limit of {self.max_body} bytes"})
            return
        received = 0

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise _TooLarge
            return message

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if set_cookie and message["type"] == "http.response.start":
                cookie = f"mullet_token={self.token}; HttpOnly; SameSite=Strict; Path=/"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_cookie)
        except _TooLarge:
            await _send_json(send, 413, {"detail": f"body: larger than the limit of {self.max_body} bytes"})


class _TooLarge(Exception):
    pass


async def _send_json(send: Any, status: int, body: dict[str, Any]) -> None:
    import json

    payload = json.dumps(body).encode()
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]}
    )
    await send({"type": "http.response.body", "body": payload})


_FORM_FIELDS = [
    ("scenario", "Scenario"),
    ("ai_it_mw", "AI IT load [MW]"),
    ("mining_mw", "Mining site power [MW]"),
    ("fleet_model", "Fleet model"),
    ("ppa_mw", "PPA volume [MW]"),
    ("ppa_price_usd_per_mwh", "PPA price [USD/MWh]"),
    ("year", "Year of ERCOT prices"),
]


def create_app(db: str | Path = "mullet.duckdb", scenario_dir: str | Path = "scenarios", token: str | None = None, max_body_bytes: int = 64 * 1024) -> Any:
    """Build the dashboard app (wrapped in the security middleware)."""
    from mullet.store import list_runs, load_schedule, plan_paths, save_dispatch, save_plan, show_run

    db_path = Path(db)
    folder = Path(scenario_dir).resolve()
    if not folder.is_dir():
        raise ScenarioError(f"scenarios: folder '{scenario_dir}' does not exist")
    jobs: dict[str, Job] = {}
    lock = threading.Lock()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mullet-job")
    env = Environment(loader=DictLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    api = FastAPI(title="mullet", description="Hybrid AI + Bitcoin-mining site economics: dispatch, plan, report.", version="0.1.0")

    def page(name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
        return HTMLResponse(env.get_template(name).render(prefix="", **ctx), status_code=status_code)

    def scenario_names() -> list[str]:
        return sorted(p.name for p in folder.glob("*.toml") if _SCENARIO_NAME.match(p.name))

    def scenario_path(name: str) -> Path:
        if not _SCENARIO_NAME.match(name):
            raise ScenarioError(f"scenario: got {name!r}, allowed: a file name like default.toml from {scenario_names()}")
        p = (folder / name).resolve()
        if not p.is_relative_to(folder) or not p.is_file():
            raise ScenarioError(f"scenario: got {name!r}, allowed: one of {scenario_names()}")
        return p

    def runs() -> list[dict[str, Any]]:
        if not db_path.exists():
            return []
        return list_runs(db_path).to_dict(orient="records")

    def check_run_id(run_id: str) -> str:
        if not _RUN_ID.match(run_id):
            raise ScenarioError(f"run_id: got {run_id!r}, allowed: 12 hexadecimal characters")
        return run_id

    def execute(job_id: str, req: RunRequest) -> None:
        from mullet.dispatch import dispatch
        from mullet.plan import PlanConfig, input_hash, run_plan
        from mullet.site import load_scenario

        job = jobs[job_id]
        job.status = "running"
        try:
            path = scenario_path(req.scenario)
            sc = load_scenario(path)
            if req.overrides is not None:
                sc, notes = apply_overrides(sc, req.overrides)
                job.notes += notes
            started = pd.Timestamp.now(tz="UTC")
            if req.kind == "dispatch":
                result = dispatch(sc, req.start, req.end)
                result.notes += job.notes
                job.progress = 0.9
                digest = hashlib.sha256((sc.model_dump_json() + f"|{req.start}|{req.end}").encode()).hexdigest()
                job.run_id = save_dispatch(db_path, result, req.scenario, path.read_text(), digest, started)
            else:
                cfg = PlanConfig(paths=req.paths, years=req.years, conversion_years=[1])

                def progress(done: int, total: int) -> None:
                    job.progress = done / total

                planned = run_plan(sc, cfg, workers=1, progress=progress)
                summary = {"scenario": sc.name, "strategies": planned.strategies().reset_index().to_dict(orient="records"), "notes": planned.notes}
                from mullet._output import to_jsonable

                job.run_id = save_plan(db_path, planned, req.scenario, path.read_text(), input_hash(sc, cfg), started, to_jsonable(summary))
            job.progress = 1.0
            job.status = "done"
        except MulletError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception:
            job.status, job.error = "failed", "internal error while running the job"

    def start_job(req: RunRequest) -> str:
        scenario_path(req.scenario)  # fail fast on a bad name
        job_id = uuid.uuid4().hex[:12]
        with lock:
            jobs[job_id] = Job(kind=req.kind)
        executor.submit(execute, job_id, req)
        return job_id

    @api.exception_handler(MulletError)
    async def _domain_error(_: Request, exc: MulletError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse({"detail": "invalid input", "errors": errors}, status_code=422)

    @api.exception_handler(Exception)
    async def _internal_error(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": "internal error"}, status_code=500)

    @api.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        js = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
        return FileResponse(js, media_type="application/javascript")

    @api.get("/api/scenarios")
    def api_scenarios() -> list[str]:
        """Scenario files available to run."""
        return scenario_names()

    @api.post("/api/runs", status_code=202)
    def api_run(req: RunRequest) -> dict[str, str]:
        """Start a dispatch or plan run in the background; poll ``/api/jobs/{job_id}``."""
        return {"job_id": start_job(req)}

    @api.get("/api/jobs/{job_id}")
    def api_job(job_id: str) -> dict[str, Any]:
        """Status and progress of a background run."""
        job = jobs.get(job_id)
        if job is None:
            return JSONResponse({"detail": f"job_id: {job_id!r} unknown"}, status_code=404)  # type: ignore[return-value]
        return job.__dict__

    @api.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        """Stored runs, newest first."""
        return [{k: (str(v) if not isinstance(v, (int, float, str)) or v != v else v) for k, v in r.items()} for r in runs()]

    @api.get("/api/runs/{run_id}")
    def api_run_detail(run_id: str) -> dict[str, Any]:
        """One run's metadata and summary."""
        rec = show_run(db_path, check_run_id(run_id))
        rec.pop("scenario_toml", None)
        return rec

    @api.get("/api/runs/{run_id}/schedule")
    def api_schedule(run_id: str, limit: Annotated[int, Field(ge=1, le=100_000)] = 2_000) -> list[dict[str, Any]]:
        """Interval schedule of a dispatch run (first ``limit`` intervals)."""
        s = load_schedule(db_path, check_run_id(run_id)).head(limit)
        return s.reset_index().assign(interval_start_utc=lambda d: d["interval_start_utc"].astype(str)).to_dict(orient="records")

    @api.get("/api/runs/{run_id}/report", response_class=FileResponse)
    def api_report(run_id: str) -> FileResponse:
        """The self-contained HTML report of a run."""
        from mullet.report import report_for_run

        out = Path(tempfile.mkdtemp()) / f"mullet-report-{check_run_id(run_id)}.html"
        report_for_run(db_path, run_id, out)
        return FileResponse(out, media_type="text/html", filename=out.name)

    @api.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return page("runs.html", title="Runs", runs=runs(), db=str(db_path))

    @api.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(run_id: str) -> HTMLResponse:
        from mullet.report import dispatch_figures, npv_histogram

        rec = show_run(db_path, check_run_id(run_id))
        summary = rec["summary"]
        facts = {k: rec[k] for k in ("run_id", "kind", "status", "scenario_file", "started_utc", "finished_utc", "package_version")}
        figs = []
        if rec["kind"] == "dispatch":
            s = load_schedule(db_path, run_id)
            facts.update({k: f"{v:,.0f}" for k, v in summary["pnl"].items()})
            facts["notes"] = "; ".join(summary.get("notes", []))
            figs = dispatch_figures(s, summary["pnl"], summary["metrics"])
        else:
            figs = [("NPV distributions", npv_histogram(plan_paths(db_path, run_id)))]
            for st in summary.get("strategies", []):
                facts[f"strategy: {st['strategy']}"] = f"NPV P50 {st.get('npv_p50_musd', float('nan')):,.1f} M USD"
        html = [(h, f.to_html(full_html=False, include_plotlyjs=False)) for h, f in figs]
        return page("run.html", title=f"Run {run_id}", facts=facts, figures=html, run_id=run_id)

    @api.get("/compare", response_class=HTMLResponse)
    def compare_page(a: str | None = None, b: str | None = None) -> HTMLResponse:
        rows: list[tuple[str, str, str, str]] = []
        error = None
        if a and b:
            try:
                ra, rb = show_run(db_path, check_run_id(a))["summary"], show_run(db_path, check_run_id(b))["summary"]
                if "pnl" in ra and "pnl" in rb:
                    for k in ra["pnl"]:
                        va, vb = ra["pnl"][k], rb["pnl"][k]
                        rows.append((k, f"{va:,.0f}", f"{vb:,.0f}", f"{vb - va:,.0f}"))
                    for k in (
                        "mining_uptime_fraction",
                        "ai_revenue_usd_per_site_mw_year",
                        "ai_revenue_usd_per_it_mw_year",
                        "mining_revenue_usd_per_site_mw_year",
                        "peak_import_mw",
                    ):
                        va, vb = ra["metrics"].get(k), rb["metrics"].get(k)
                        if va is not None and vb is not None:
                            rows.append((k, f"{va:,.3g}", f"{vb:,.3g}", f"{vb - va:,.3g}"))
                else:
                    sa = {s["strategy"]: s for s in ra.get("strategies", [])}
                    sb = {s["strategy"]: s for s in rb.get("strategies", [])}
                    for name in sa.keys() & sb.keys():
                        va, vb = sa[name]["npv_p50_musd"], sb[name]["npv_p50_musd"]
                        rows.append((f"{name}: NPV P50 [M USD]", f"{va:,.1f}", f"{vb:,.1f}", f"{vb - va:,.1f}"))
            except MulletError as exc:
                error = str(exc)
        return page("compare.html", title="Compare two runs", runs=runs(), a=a, b=b, rows=rows, error=error)

    def form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        from mullet.data import load_asic_catalog

        models = [m for m in load_asic_catalog().sort_values("efficiency_j_per_th").index if "S19" in m or "S21" in m or "M50" in m or "M66" in m]
        fields = []
        for name, label in _FORM_FIELDS:
            choices = scenario_names() if name == "scenario" else models if name == "fleet_model" else [2022, 2023, 2024] if name == "year" else None
            fields.append({"name": name, "label": label, "choices": choices})
        return {"fields": fields, "values": values, "errors": errors}

    @api.get("/new", response_class=HTMLResponse)
    def new_page() -> HTMLResponse:
        defaults = {
            "scenario": "default.toml",
            "ai_it_mw": 100,
            "mining_mw": 158,
            "fleet_model": "Antminer S21",
            "ppa_mw": 250,
            "ppa_price_usd_per_mwh": 35,
            "year": 2023,
        }
        return page("new.html", title="New run", **form_context(defaults, {}))

    @api.post("/new", response_class=HTMLResponse)
    async def new_submit(request: Request) -> Response:
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k, _ in _FORM_FIELDS}
        errors: dict[str, str] = {}
        ov_data = {k: (values[k] or None) for k in ("ai_it_mw", "mining_mw", "fleet_model", "ppa_mw", "ppa_price_usd_per_mwh", "year")}
        try:
            ov = Overrides.model_validate(ov_data)
        except ValidationError as exc:
            for e in exc.errors():
                errors[str(e["loc"][0])] = e["msg"].removeprefix("Value error, ")
            return page("new.html", status_code=422, title="New run", **form_context(values, errors))
        try:
            sc_path = scenario_path(values["scenario"])
            from mullet.site import load_scenario

            apply_overrides(load_scenario(sc_path), ov)
        except MulletError as exc:
            msg = str(exc)
            target = "scenario" if msg.startswith("scenario:") else "form"
            errors[target] = msg
            return page("new.html", status_code=422, title="New run", **form_context(values, errors))
        job_id = start_job(RunRequest(scenario=values["scenario"], overrides=ov))
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @api.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(job_id: str) -> HTMLResponse:
        job = jobs.get(job_id)
        if job is None:
            return page("runs.html", status_code=404, title="Unknown job", runs=runs(), db=str(db_path))
        return page("job.html", title=f"Job {job_id} ({job.kind})", job=job, job_id=job_id)

    @api.get("/industry", response_class=HTMLResponse)
    def industry_page() -> HTMLResponse:
        from mullet.industry import ai_vs_power_figure, deals, load_facts, peer_table

        facts = load_facts()
        table = peer_table(facts)
        fig = ai_vs_power_figure(table, "AI vs power capacity by company [MW]")
        return page(
            "industry.html",
            title="Industry tracker",
            table=table.to_html(float_format=lambda v: f"{v:,.0f}", na_rep="-"),
            chart=fig.to_html(full_html=False, include_plotlyjs=False),
            deals=deals(facts).to_html(float_format=lambda v: f"{v:,.0f}", na_rep="-", index=False),
        )

    register_live(api, db_path)  # the live control page (mullet.web.live)
    guarded = _Guard(api, token, max_body_bytes)
    guarded.fastapi = api  # type: ignore[attr-defined]
    return guarded
