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
    "dispatch_figures",
    "events_figure",
    "fan_figure",
    "headroom_figure",
    "mining_heatmap",
    "npv_histogram",
    "plan_waterfall",
    "pnl_waterfall",
    "price_vs_mining",
    "render_report",
    "report_for_run",
    "report_for_scenario",
    "revenue_per_mw_figure",
    "strategy_npv_histogram",
]

_LABELS = {
    "mining_revenue_usd": "mining",
    "ai_revenue_usd": "AI/HPC",
    "ancillary_revenue_usd": "ancillary / DR",
    "ppa_settlement_usd": "PPA settlement",
    "spot_energy_cost_usd": "spot energy",
    "load_zone_basis_cost_usd": "load-zone basis",
    "retail_adder_cost_usd": "adders",
    "demand_charge_usd": "demand charges",
    "four_cp_charge_usd": "4CP",
    "sla_penalty_usd": "SLA credits",
}
_COSTS = {"spot_energy_cost_usd", "load_zone_basis_cost_usd", "retail_adder_cost_usd", "demand_charge_usd", "four_cp_charge_usd", "sla_penalty_usd"}


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
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=list(grid.columns), y=list(grid.index), colorscale="Viridis", colorbar={"title": "MW"}))
    fig.update_layout(title="Mining load by hour (UTC) and day [MW]", yaxis_title="hour of day (UTC)", template="plotly_white", height=380)
    return fig


def price_vs_mining(schedule: pd.DataFrame, value_column: str | None = None) -> go.Figure:
    """Spot price (log-like axis) with the mining load: mining off when the price spikes."""
    s = schedule
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = s.index.tz_localize(None)
    fig.add_trace(go.Scatter(x=x, y=s["price_usd_per_mwh"], name="spot price [USD/MWh]", line={"width": 1}), secondary_y=False)
    if value_column and value_column in s.columns:
        fig.add_trace(go.Scatter(x=x, y=s[value_column], name="mining value [USD/MWh]", line={"width": 1, "dash": "dot"}), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=s["mining_mw"], name="mining [MW]", fill="tozeroy", line={"width": 0.5}, opacity=0.4), secondary_y=True)
    fig.update_yaxes(title_text="USD/MWh", type="log", secondary_y=False)
    fig.update_yaxes(title_text="MW", secondary_y=True)
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
        ("mining_margin_usd_per_site_mw_year", "mining margin per site MW"),
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
    x = s.index.tz_localize(None)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=s["as_offer_mw"], name="ancillary offer [MW]", line={"width": 1}))
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


def render_report(title: str, sections: Sequence[tuple[str, str | go.Figure]], path: str | Path) -> Path:
    """Write one self-contained HTML file: Plotly's JS inlined once, then each section (HTML or figure)."""
    parts = []
    js_done = False
    for heading, content in sections:
        body = content if isinstance(content, str) else content.to_html(full_html=False, include_plotlyjs=not js_done)
        if not isinstance(content, str):
            js_done = True
        parts.append(f"<section><h2>{html.escape(heading)}</h2>{body}</section>")
    doc = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title><style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{text-align:left}</style></head><body><h1>"
        + html.escape(title)
        + "</h1>"
        + "".join(parts)
        + "<footer><p>Generated by mullet. Data sources and licences: see the README.</p></footer></body></html>"
    )
    p = Path(path)
    p.write_text(doc, encoding="utf-8")
    return p


def dispatch_figures(schedule: pd.DataFrame, pnl: Mapping[str, float], metrics: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """The dispatch charts, in report order: used by the HTML report and by the dashboard's run page."""
    value_cols = [c for c in schedule.columns if c.startswith("mining_value_usd_per_mwh__")]
    return [
        ("P&L waterfall", pnl_waterfall(pnl)),
        ("Mining load by hour and day", mining_heatmap(schedule)),
        ("Price against mining", price_vs_mining(schedule, value_cols[0] if value_cols else None)),
        ("Revenue per MW: AI vs mining", revenue_per_mw_figure(metrics)),
        ("Demand response and 4CP", events_figure(schedule)),
    ]


def _dispatch_sections(result: Any) -> list[tuple[str, str | go.Figure]]:
    summary = ("Site summary", _table({"scenario": result.scenario, "solver": result.solver, **result.pnl}) + _table(result.metrics))
    return [summary, *dispatch_figures(result.schedule, result.pnl, result.metrics)]


def report_for_scenario(scenario: str | Path, out: str | Path, start: str | None = None, end: str | None = None) -> Path:
    """Dispatch a scenario and write its report, with the ERCOT headroom chart."""
    from mullet.dispatch import dispatch

    result = dispatch(scenario, start, end)
    sections = [*_dispatch_sections(result), ("Grid headroom", headroom_figure())]
    return render_report(f"mullet report: {result.scenario}", sections, out)


def report_for_run(db: str | Path, run_id: str, out: str | Path) -> Path:
    """Report of a stored run: a dispatch run's schedule and P&L, or a plan run's NPV distributions and hashprice fan."""
    from mullet.store import load_schedule, plan_paths, show_run

    rec = show_run(db, run_id)
    summary = rec["summary"]
    sections: list[tuple[str, str | go.Figure]] = [("Run", _table({k: v for k, v in rec.items() if k not in ("summary", "scenario_toml")}))]
    if rec["kind"] == "dispatch":
        sections += dispatch_figures(load_schedule(db, run_id), summary["pnl"], summary["metrics"])
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
    return render_report(f"mullet report: run {run_id}", sections, out)
