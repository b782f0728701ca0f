"""Self-contained HTML reports and the chart figures the dashboard reuses.

Every figure is a Plotly figure built from a pipeline's result; :func:`render_report`
writes one HTML file with Plotly's JavaScript taken from the installed package and
inlined, so the file opens offline.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mullet.dispatch.result import PNL_KEYS

__all__ = [
    "dispatch_caveats",
    "dispatch_figures",
    "environment",
    "events_figure",
    "fan_figure",
    "headroom_figure",
    "mining_heatmap",
    "npv_histogram",
    "plan_waterfall",
    "pnl_waterfall",
    "price_vs_mining",
    "render_report",
    "report_for_dispatch",
    "report_for_run",
    "report_for_scenario",
    "revenue_per_mw_figure",
    "strategy_npv_histogram",
]

_LABELS = {
    "mining_revenue_usd": "mining",
    "ai_revenue_usd": "AI/HPC",
    "ai_energy_reimbursement_usd": "AI energy repaid (NNN)",
    "ancillary_revenue_usd": "ancillary / DR",
    "ppa_settlement_usd": "PPA settlement",
    "spot_energy_cost_usd": "spot energy",
    "load_zone_basis_cost_usd": "load-zone basis",
    "retail_adder_cost_usd": "adders",
    "demand_charge_usd": "demand charges",
    "four_cp_charge_usd": "coincident peaks (4CP/5CP)",
    "sla_penalty_usd": "SLA credits",
}
_COSTS = {"spot_energy_cost_usd", "load_zone_basis_cost_usd", "retail_adder_cost_usd", "demand_charge_usd", "four_cp_charge_usd", "sla_penalty_usd"}


_DISPLAY_DAYS = 31


def _display(schedule: pd.DataFrame) -> pd.DataFrame:
    """The series drawn on a page: the schedule itself up to a month, hourly means beyond (the full schedule is in the Parquet file / store).

    Values are rounded to float32, which is plenty for a chart and halves the page's data.
    """
    numeric = schedule.select_dtypes(include="number")
    span = schedule.index[-1] - schedule.index[0] if len(schedule) > 1 else pd.Timedelta(0)
    if span > pd.Timedelta(days=_DISPLAY_DAYS):
        numeric = numeric.resample("1h").mean()
    return numeric.astype(np.float32)


def _xy(series: pd.Series) -> dict[str, Any]:
    """Trace data of a regular time series: start and step instead of one timestamp per point (a fraction of the bytes)."""
    idx = series.index.tz_localize(None) if getattr(series.index, "tz", None) is not None else series.index
    y = series.to_numpy(dtype=np.float32)
    if len(idx) > 2 and (np.diff(idx.asi8) == idx.asi8[1] - idx.asi8[0]).all():
        return {"x0": idx[0].isoformat(), "dx": (idx[1] - idx[0]) / pd.Timedelta("1ms"), "y": y}
    return {"x": idx, "y": y}


def pnl_waterfall(pnl: Mapping[str, float], title: str = "P&L over the horizon [USD]") -> go.Figure:
    """Revenues up, costs down, net at the end."""
    keys = [k for k in PNL_KEYS if k != "net_usd"]
    values = [-pnl[k] if k in _COSTS else pnl[k] for k in keys]
    fig = go.Figure(
        go.Waterfall(
            x=[_LABELS[k] for k in keys] + ["net"],
            y=[*values, pnl["net_usd"]],
            measure=["relative"] * len(keys) + ["total"],
        )
    )
    fig.update_layout(title=title, template="plotly_white", height=380)
    return fig


def mining_heatmap(schedule: pd.DataFrame) -> go.Figure:
    """Mining load by hour of day (UTC) and day: where the fleet curtailed."""
    hourly = schedule["mining_mw"].resample("1h").mean()
    frame = pd.DataFrame({"day": hourly.index.floor("D").tz_localize(None), "hour": hourly.index.hour, "mw": hourly.to_numpy()})
    grid = frame.pivot_table(index="hour", columns="day", values="mw")
    fig = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(dtype=np.float32),
            x=[d.strftime("%Y-%m-%d") for d in grid.columns],
            y=list(grid.index),
            colorscale="Viridis",
            colorbar={"title": "MW"},
        )
    )
    fig.update_layout(title="Mining load by hour (UTC) and day [MW]", yaxis_title="hour of day (UTC)", template="plotly_white", height=380)
    return fig


def price_vs_mining(schedule: pd.DataFrame, value_column: str | None = None) -> go.Figure:
    """Spot price with the mining load: mining off when the price spikes.

    A linear price axis (a log axis would hide the intervals at or below zero), cut at the 99.5th
    percentile; how many intervals lie above the cut, and the highest price, are written on the chart.
    """
    s = _display(schedule)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(**_xy(s["price_usd_per_mwh"]), name="spot price [USD/MWh]", line={"width": 1}), secondary_y=False)
    if value_column and value_column in s.columns:
        fig.add_trace(go.Scatter(**_xy(s[value_column]), name="mining value [USD/MWh]", line={"width": 1, "dash": "dot"}), secondary_y=False)
    fig.add_trace(go.Scatter(**_xy(s["mining_mw"]), name="mining [MW]", fill="tozeroy", line={"width": 0.5}, opacity=0.4), secondary_y=True)
    fig.update_xaxes(type="date")
    price = schedule["price_usd_per_mwh"].to_numpy(dtype=float)
    low, top = float(np.nanmin(price)), float(np.nanpercentile(price, 99.5))
    above = int((price > top).sum())
    fig.update_yaxes(title_text="USD/MWh", range=[min(low, 0.0) * 1.05, top * 1.05], secondary_y=False)
    fig.update_yaxes(title_text="MW", secondary_y=True)
    nonpositive = float((price <= 0).mean())
    caption = f"{nonpositive:.1%} of intervals at or below $0; {above} interval(s) above ${top:,.0f}/MWh cut off (max ${np.nanmax(price):,.0f})"
    if len(s) < len(schedule):
        caption += "; lines show hourly means"
    fig.add_annotation(text=caption, xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom", showarrow=False, font={"size": 11})
    fig.update_layout(title="Price against mining on/off", template="plotly_white", height=380)
    return fig


def revenue_per_mw_figure(metrics: Mapping[str, Any]) -> go.Figure:
    """Revenue per MW-year of AI and of mining, per site MW and per IT MW (as the industry quotes AI)."""
    names, values = [], []
    for key, label in (
        ("ai_revenue_usd_per_site_mw_year", "AI/HPC per site MW"),
        ("ai_revenue_usd_per_it_mw_year", "AI/HPC per IT MW"),
        ("mining_revenue_usd_per_site_mw_year", "mining per site MW"),
        ("mining_revenue_usd_per_it_mw_year", "mining per IT MW"),
        ("mining_margin_usd_per_site_mw_year", "mining margin per site MW (incl. ancillary, after spot energy)"),
    ):
        v = metrics.get(key)
        if v is not None and np.isfinite(v):
            names.append(label)
            values.append(v)
    fig = go.Figure(go.Bar(x=names, y=values))
    fig.update_layout(title="Revenue per MW-year (site MW) [USD]", template="plotly_white", height=340)
    return fig


def events_figure(schedule: pd.DataFrame) -> go.Figure:
    """Ancillary / demand-response offers and the 4CP peak intervals."""
    s = schedule
    d = _display(s)
    fig = go.Figure()
    fig.add_trace(go.Scatter(**_xy(d["as_offer_mw"]), name="ancillary offer [MW]", line={"width": 1}))
    fig.update_xaxes(type="date")
    x = s.index.tz_localize(None)
    cp = s["four_cp_interval"].astype(bool)
    if cp.any():
        fig.add_trace(
            go.Scatter(
                x=x[cp.to_numpy()], y=s.loc[cp, "grid_import_mw"], mode="markers", name="4CP interval: site import [MW]", marker={"size": 9, "color": "red"}
            )
        )
    fig.update_layout(title="Demand-response offers and 4CP intervals", template="plotly_white", height=340)
    return fig


def npv_histogram(paths: pd.DataFrame) -> go.Figure:
    """NPV distribution across paths for each AI share (first conversion year)."""
    fig = go.Figure()
    first = paths["conversion_year"].min()
    for share, g in paths[paths["conversion_year"] == first].groupby("ai_share"):
        fig.add_trace(go.Histogram(x=g["npv_usd"] / 1e6, name=f"AI {share:.0%}", opacity=0.6, nbinsx=40))
    fig.update_layout(barmode="overlay", title=f"NPV across paths [M USD], AI from year {first}", template="plotly_white", height=380)
    return fig


def strategy_npv_histogram(paths: pd.DataFrame, strategies: pd.DataFrame) -> go.Figure:
    """NPV distribution across paths of each strategy of the table (pure mining, pure AI, hybrid), exit as a line."""
    fig = go.Figure()
    for name, row in strategies.iterrows():
        if name == "exit":
            fig.add_vline(x=float(row["npv_mean_musd"]), line_dash="dash", annotation_text="exit today")
            continue
        g = paths[(paths["ai_share"] == row["ai_share"]) & (paths["conversion_year"] == row["conversion_year"])]
        fig.add_trace(go.Histogram(x=g["npv_usd"] / 1e6, name=f"{name} ({row['ai_share']:.0%}, year {int(row['conversion_year'])})", opacity=0.55, nbinsx=40))
    fig.update_layout(barmode="overlay", title="NPV across paths by strategy [M USD]", template="plotly_white", height=380)
    return fig


def plan_waterfall(waterfall: Mapping[str, Any]) -> go.Figure:
    """Mean present value per path of each cash-flow component of one strategy, adding up to its mean NPV [M USD]."""
    pv = {k: float(v) / 1e6 for k, v in waterfall["pv_usd"].items() if v == v}
    labels = [k.removesuffix("_usd").replace("_", " ") for k in pv]
    fig = go.Figure(go.Waterfall(x=[*labels, "mean NPV"], y=[*pv.values(), sum(pv.values())], measure=["relative"] * len(pv) + ["total"]))
    title = f"Cash-flow waterfall (mean PV, M USD): {waterfall['ai_share']:.0%} AI from year {waterfall['conversion_year']}"
    fig.update_layout(title=title, template="plotly_white", height=380)
    return fig


def fan_figure(fan: pd.DataFrame, title: str) -> go.Figure:
    """P10-P90 band with the median, from a frame with p10/p50/p90 columns."""
    x = fan.index.tz_localize(None) if isinstance(fan.index, pd.DatetimeIndex) and fan.index.tz is not None else fan.index
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=fan["p90"], line={"width": 0}, showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=fan["p10"], fill="tonexty", line={"width": 0}, name="P10-P90"))
    fig.add_trace(go.Scatter(x=x, y=fan["p50"], name="P50"))
    fig.update_layout(title=title, template="plotly_white", height=340)
    return fig


def headroom_figure() -> go.Figure:
    """Curtailment-enabled headroom of the bundled ERCOT load at 0.25-5%."""
    from mullet.data import load_system_load
    from mullet.grid import headroom

    res = headroom(load_system_load()["load_mw"])
    t = res.table()
    fig = go.Figure(go.Bar(x=[f"{r:g}%" for r in t.index], y=t["headroom_gw"], text=[f"{v:.1f} GW" for v in t["headroom_gw"]]))
    fig.update_layout(
        title=f"ERCOT curtailment-enabled headroom (years {', '.join(map(str, res.years_used))})", yaxis_title="GW", template="plotly_white", height=320
    )
    return fig


def _table(rows: Mapping[str, Any]) -> str:
    cells = []
    for k, v in rows.items():
        if isinstance(v, float):
            text = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:,.3g}"
        else:
            text = "-" if v is None else str(v)
        cells.append(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(text)}</td></tr>")
    return "<table>" + "".join(cells) + "</table>"


def environment() -> Any:
    """The Jinja environment of the HTML templates in ``mullet/web/templates`` (shared by the report and the dashboard)."""
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    global _ENV
    if _ENV is None:
        folder = Path(str(resources.files("mullet"))) / "web" / "templates"
        _ENV = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True))
    return _ENV


_ENV: Any = None


def _plotly_js() -> str:
    from importlib import resources

    return (Path(str(resources.files("plotly"))) / "package_data" / "plotly.min.js").read_text(encoding="utf-8")


def render_report(title: str, sections: Sequence[tuple[str, str | go.Figure]], path: str | Path, caveats: Sequence[str] = ()) -> Path:
    """Write one self-contained HTML file (template ``report.html``): Plotly's JS inlined once, then each section (HTML or figure)."""
    from mullet import __version__

    parts = [(h, c if isinstance(c, str) else c.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True})) for h, c in sections]
    doc = environment().get_template("report.html").render(title=title, sections=parts, caveats=list(caveats), plotly_js=_plotly_js(), version=__version__)
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p


def _subtitle(assumptions: Mapping[str, Any] | None) -> str:
    if not assumptions:
        return ""
    start = str(assumptions.get("horizon_start_utc", ""))[:10]
    end = pd.Timestamp(assumptions["horizon_end_utc"]) - pd.Timedelta(days=1) if assumptions.get("horizon_end_utc") else None
    horizon = f"{start}..{end.date() if end is not None else ''} UTC"
    return f"{assumptions.get('settlement_point', '')}, {horizon}, {assumptions.get('interval_minutes', '')}-min; perfect foresight (an upper bound)"


def dispatch_caveats(assumptions: Mapping[str, Any] | None) -> list[str]:
    """What a reader must know before acting on a dispatch's numbers."""
    if not assumptions:
        return ["This run was stored without its assumptions (made by an older mullet): horizon and settlement point are in the run's summary only."]
    return [
        f"Horizon {_subtitle(assumptions).split(', ', 1)[1].split(';')[0]} at settlement point {assumptions.get('settlement_point')}; "
        f"prices: {assumptions.get('prices')}.",
        f"Foresight: {assumptions.get('foresight')}.",
        f"Gaps in input series: {assumptions.get('gaps')}. Hashprice: {assumptions.get('hashprice')}.",
    ]


def dispatch_figures(
    schedule: pd.DataFrame, pnl: Mapping[str, float], metrics: Mapping[str, Any], assumptions: Mapping[str, Any] | None = None
) -> list[tuple[str, go.Figure]]:
    """The dispatch charts, in report order: used by the HTML report and by the dashboard's run page.

    Each chart's title carries the settlement point, the horizon and the foresight caveat when ``assumptions`` are known.
    """
    value_cols = [c for c in schedule.columns if c.startswith("mining_value_usd_per_mwh__")]
    figs = [
        ("P&L waterfall", pnl_waterfall(pnl)),
        ("Mining load by hour and day", mining_heatmap(schedule)),
        ("Price against mining", price_vs_mining(schedule, value_cols[0] if value_cols else None)),
        ("Revenue per MW: AI vs mining", revenue_per_mw_figure(metrics)),
        ("Demand response and 4CP", events_figure(schedule)),
    ]
    sub = _subtitle(assumptions)
    if sub:
        for _, fig in figs:
            fig.update_layout(title={"text": f"{fig.layout.title.text}<br><sup>{html.escape(sub)}</sup>"}, margin={"t": 80})
    return figs


def _dispatch_sections(run: Any) -> list[tuple[str, str | go.Figure]]:
    result = run.result
    summary = ("Site summary", _table({"scenario": result.scenario, "solver": result.solver, **result.pnl}) + _table(result.metrics))
    sections: list[tuple[str, str | go.Figure]] = [summary, ("Assumptions", _table(run.assumptions))]
    if result.notes:
        sections.append(("Notes", "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) + "</ul>"))
    return [*sections, *dispatch_figures(result.schedule, result.pnl, result.metrics, run.assumptions)]


def report_for_dispatch(run: Any, out: str | Path) -> Path:
    """Write the report of a :class:`~mullet.runs.DispatchRun`, with the ERCOT headroom chart."""
    sections = [*_dispatch_sections(run), ("Grid headroom", headroom_figure())]
    return render_report(f"mullet report: {run.result.scenario}", sections, out, caveats=dispatch_caveats(run.assumptions))


def report_for_scenario(scenario: str | Path, out: str | Path, start: str | None = None, end: str | None = None) -> Path:
    """Dispatch a scenario (through :func:`mullet.runs.run_dispatch`) and write its report."""
    from mullet.runs import run_dispatch

    return report_for_dispatch(run_dispatch(scenario, start, end), out)


def report_for_run(db: str | Path, run_id: str, out: str | Path) -> Path:
    """Report of a stored run: a dispatch run's schedule and P&L, or a plan run's NPV distributions and hashprice fan."""
    from mullet.store import load_schedule, plan_paths, show_run

    rec = show_run(db, run_id)
    summary = rec["summary"]
    sections: list[tuple[str, str | go.Figure]] = [("Run", _table({k: v for k, v in rec.items() if k not in ("summary", "scenario_toml")}))]
    caveats: list[str] = []
    if rec["kind"] == "dispatch":
        assumptions = summary.get("assumptions")
        caveats = dispatch_caveats(assumptions)
        if assumptions:
            sections.append(("Assumptions", _table(assumptions)))
        sections += dispatch_figures(load_schedule(db, run_id), summary["pnl"], summary["metrics"], assumptions)
    else:
        from mullet.network import simulate_network

        paths = plan_paths(db, run_id)
        strategies = pd.DataFrame(summary["strategies"]).set_index("strategy")
        sections += [
            ("Assumptions that decide the answer", _table(summary.get("assumptions", {}))),
            ("Recommendation", html.escape(f"{summary.get('recommended')}; criterion: {summary.get('criterion', 'highest P50 NPV (older run)')}")),
            ("Strategies", strategies.to_html(float_format=lambda v: f"{v:,.3g}")),
        ]
        if summary.get("waterfall", {}).get("pv_usd"):
            sections.append(("Cash-flow waterfall", plan_waterfall(summary["waterfall"])))
        if "npv_cvar10_musd" in strategies.columns:
            sections.append(("NPV distributions by strategy", strategy_npv_histogram(paths, strategies)))
        else:
            sections.append(("NPV distributions", npv_histogram(paths)))
        years = int(paths["conversion_year"].max()) if len(paths) else 4
        sim = simulate_network(paths=200, years=max(years, 2), seed=0)
        sections.append(("Hashprice fan (network model, 200 paths, seed 0)", fan_figure(sim.fan("hashprice_usd_per_ph_day"), "Hashprice [USD/PH/day]")))
    sections.append(("Grid headroom", headroom_figure()))
    return render_report(f"mullet report: run {run_id}", sections, out, caveats=caveats)
