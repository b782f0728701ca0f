"""The dashboard's HTML pages (server-rendered Jinja templates from ``mullet/web/templates``).

Handlers only fetch from the store or the service, format numbers and render; they hold no business logic.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from mullet.errors import MulletError
from mullet.web.forms import FORM_FIELDS, Overrides, RunRequest, apply_overrides
from mullet.web.jobs import Dashboard

__all__ = ["page", "pages_router"]

_DEFAULTS = {
    "scenario": "default.toml",
    "ai_it_mw": 100,
    "mining_mw": 158,
    "fleet_model": "Antminer S21",
    "ppa_mw": 250,
    "ppa_price_usd_per_mwh": 35,
    "year": 2023,
}
_FORM_MODELS = ("S19", "S21", "M50", "M66")
_PEER_LABELS = {
    "ai_it_mw_contracted": "AI IT MW contracted",
    "ai_mw_planned": "AI MW planned",
    "power_capacity_mw": "power MW",
    "contracted_ai_revenue_usd_per_year": "AI revenue USD/year",
    "contracted_ai_usd_per_mw_year": "USD per IT MW-year",
    "hashrate_ehs": "EH/s",
    "btc_held": "BTC held",
}


def page(name: str, status_code: int = 200, **ctx: Any) -> HTMLResponse:
    """Render template ``name`` of the shared environment (the one the HTML report uses)."""
    from mullet import __version__
    from mullet.report import environment

    return HTMLResponse(environment().get_template(name).render(prefix="", version=__version__, **ctx), status_code=status_code)


def _money(v: Any) -> str:
    return f"{v:,.0f}" if isinstance(v, (int, float)) and v == v else "-"


def pages_router(dash: Dashboard) -> APIRouter:
    """The HTML pages over one :class:`~mullet.web.jobs.Dashboard` (left out of the API schema)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return page("runs.html", title="Runs", runs=dash.runs(), db=str(dash.db))

    @router.get("/runs/{run_id}", response_class=HTMLResponse)
    def run_page(run_id: str) -> HTMLResponse:
        from mullet.report import dispatch_caveats, dispatch_figures, npv_histogram
        from mullet.runs import show_run
        from mullet.store import load_schedule, plan_paths

        rec = show_run(dash.db, dash.check_run_id(run_id))
        summary = rec.summary
        keys = ("run_id", "kind", "status", "scenario_file", "started_utc", "finished_utc", "package_version")
        facts: dict[str, Any] = {k: rec.meta[k] for k in keys}
        assumptions = summary.get("assumptions", {})
        caveats: list[str] = []
        if rec.kind == "dispatch":
            facts.update({k: _money(v) for k, v in summary["pnl"].items()})
            figs = dispatch_figures(load_schedule(dash.db, run_id), summary["pnl"], summary["metrics"], assumptions)
            caveats = dispatch_caveats(assumptions)
        else:
            figs = [("NPV distributions", npv_histogram(plan_paths(dash.db, run_id)))]
            for st in summary.get("strategies", []):
                facts[f"strategy: {st['strategy']}"] = f"NPV P50 {st.get('npv_p50_musd', float('nan')):,.1f} M USD"
        html = [(h, f.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})) for h, f in figs]
        return page("run.html", title=f"Run {run_id}", facts=facts, assumptions=assumptions, notes=rec.notes, caveats=caveats, figures=html, run_id=run_id)

    @router.get("/compare", response_class=HTMLResponse)
    def compare_page(a: str | None = None, b: str | None = None) -> HTMLResponse:
        from mullet.runs import show_run

        rows: list[tuple[str, str, str, str]] = []
        error = message = None
        if a and b:
            try:
                ra, rb = show_run(dash.db, dash.check_run_id(a)), show_run(dash.db, dash.check_run_id(b))
                if ra.kind != rb.kind:
                    message = f"run A is a {ra.kind} run and run B a {rb.kind} run: they share no lines to compare; pick two runs of one kind."
                elif ra.kind == "dispatch":
                    for k in ra.summary["pnl"]:
                        va, vb = ra.summary["pnl"][k], rb.summary["pnl"][k]
                        rows.append((k, _money(va), _money(vb), _money(vb - va)))
                    keys = ("mining_uptime_fraction", "ai_revenue_usd_per_site_mw_year", "ai_revenue_usd_per_it_mw_year", "mining_revenue_usd_per_site_mw_year")
                    for k in (*keys, "peak_import_mw"):
                        va, vb = ra.summary["metrics"].get(k), rb.summary["metrics"].get(k)
                        if va is not None and vb is not None:
                            rows.append((k, f"{va:,.3g}", f"{vb:,.3g}", f"{vb - va:,.3g}"))
                else:
                    sa = {s["strategy"]: s for s in ra.summary.get("strategies", [])}
                    sb = {s["strategy"]: s for s in rb.summary.get("strategies", [])}
                    for name in sorted(sa.keys() & sb.keys()):
                        va, vb = sa[name]["npv_p50_musd"], sb[name]["npv_p50_musd"]
                        rows.append((f"{name}: NPV P50 [M USD]", f"{va:,.1f}", f"{vb:,.1f}", f"{vb - va:,.1f}"))
                    if not rows:
                        message = "the two plan runs share no strategy to compare."
            except MulletError as exc:
                error = str(exc)
        return page("compare.html", title="Compare two runs", runs=dash.runs(), a=a, b=b, rows=rows, error=error, message=message)

    def form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
        from mullet.data import load_asic_catalog

        models = [m for m in load_asic_catalog().sort_values("efficiency_j_per_th").index if any(k in m for k in _FORM_MODELS)]
        choices: dict[str, list[Any]] = {"scenario": dash.scenario_names(), "fleet_model": models, "year": [2022, 2023, 2024]}
        fields = [{"name": name, "label": label, "choices": choices.get(name)} for name, label in FORM_FIELDS]
        return {"fields": fields, "values": values, "errors": errors}

    @router.get("/new", response_class=HTMLResponse)
    def new_page() -> HTMLResponse:
        return page("new.html", title="New run", **form_context(dict(_DEFAULTS), {}))

    @router.post("/new", response_class=HTMLResponse)
    async def new_submit(request: Request) -> Response:
        form = await request.form()
        values = {k: str(form.get(k, "")).strip() for k, _ in FORM_FIELDS}
        errors: dict[str, str] = {}
        ov_data = {k: (values[k] or None) for k in ("ai_it_mw", "mining_mw", "fleet_model", "ppa_mw", "ppa_price_usd_per_mwh", "year")}
        try:
            ov = Overrides.model_validate(ov_data)
        except ValidationError as exc:
            for e in exc.errors():
                errors[str(e["loc"][0])] = e["msg"].removeprefix("Value error, ")
            return page("new.html", status_code=422, title="New run", **form_context(values, errors))
        try:
            from mullet.site import load_scenario

            apply_overrides(load_scenario(dash.scenario_path(values["scenario"])), ov)
            job_id = dash.submit(RunRequest(scenario=values["scenario"], overrides=ov))
        except MulletError as exc:
            msg = " ".join(str(exc).split())
            errors["scenario" if msg.startswith("scenario:") else "form"] = msg
            return page("new.html", status_code=422, title="New run", **form_context(values, errors))
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    @router.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(job_id: str) -> HTMLResponse:
        job = dash.jobs.get(job_id)
        if job is None:
            return page(
                "error.html", status_code=404, title="Unknown job", message=f"job {job_id!r} is unknown (jobs are forgotten when the dashboard restarts)"
            )
        return page("job.html", title=f"Job {job_id} ({job.kind})", job=job, job_id=job_id)

    @router.get("/industry", response_class=HTMLResponse)
    def industry_page() -> HTMLResponse:
        from mullet.industry import deals, load_facts, peer_table, sources
        from mullet.plot import ai_vs_power_figure

        facts = load_facts()
        table = peer_table(facts).drop(columns=["sources"], errors="ignore")
        fig = ai_vs_power_figure(table, "AI vs power capacity by company [MW]")
        fig.update_layout(height=360, margin={"t": 50, "b": 40})
        d = (
            deals(facts)
            .drop(columns=["sources"], errors="ignore")
            .rename(columns={"contract_value_usd": "value USD", "year1_revenue_usd": "year-1 revenue USD", "usd_per_mw_year": "USD per IT MW-year"})
        )
        shown = table.rename(columns=_PEER_LABELS).rename_axis(None)
        return page(
            "industry.html",
            title="Industry tracker",
            table=shown.to_html(float_format=lambda v: f"{v:,.0f}", na_rep="-"),
            chart=fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True}),
            deals=d.to_html(float_format=lambda v: f"{v:,.0f}", na_rep="-", index=False),
            sources=sources(facts).to_dict(orient="records"),
        )

    return router
