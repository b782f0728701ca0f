"""Charts: static PNG with matplotlib, interactive self-contained HTML with Plotly.

Plot functions take the frames the pipelines return and a file path whose
suffix chooses the format (``.png`` or ``.html``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mullet.errors import ScenarioError
from mullet.markets.ercot import ERCOT

if TYPE_CHECKING:
    from mullet.dispatch.result import DispatchResult
    from mullet.grid.headroom import HeadroomResult
    from mullet.plan.result import PlanResult

__all__ = [
    "Series",
    "ai_vs_power_figure",
    "check_plot_path",
    "plot_ai_vs_power",
    "plot_dispatch",
    "plot_fan",
    "plot_headroom",
    "plot_lines",
    "plot_network_history",
    "plot_plan",
]

Series = tuple[str, str, str]
"""(column, label, panel title) of one line; lines with the same panel title share a panel."""


def check_plot_path(path: str | Path) -> Path:
    """Validate a chart path (``.png`` or ``.html`` in an existing folder) before any work is done."""
    p = Path(path)
    if p.suffix.lower() not in (".png", ".html"):
        raise ScenarioError(f"plot: got '{p.name}', allowed: a file ending in .png or .html")
    if not p.parent.exists():
        raise ScenarioError(f"plot: folder '{p.parent}' does not exist")
    return p


def plot_lines(
    df: pd.DataFrame, lines: list[Series], path: str | Path, title: str, stacked_panels: tuple[str, ...] = (), symlog_panels: tuple[str, ...] = ()
) -> Path:
    """Plot ``lines`` of ``df`` (indexed by time) in panels; ``stacked_panels`` are stacked areas, ``symlog_panels`` use a symlog y axis."""
    p = check_plot_path(path)
    panels: list[str] = []
    for _, _, panel in lines:
        if panel not in panels:
            panels.append(panel)
    x = df.index.tz_convert("UTC").tz_localize(None) if isinstance(df.index, pd.DatetimeIndex) and df.index.tz is not None else df.index
    if p.suffix.lower() == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(len(panels), 1, figsize=(10, 3.2 * len(panels)), sharex=True, squeeze=False)
        for ax, panel in zip(axes[:, 0], panels, strict=True):
            chosen = [(c, label) for c, label, pn in lines if pn == panel]
            if panel in stacked_panels:
                ax.stackplot(x, *[df[c].to_numpy() for c, _ in chosen], labels=[label for _, label in chosen], step="post", alpha=0.8)
            else:
                for c, label in chosen:
                    ax.plot(x, df[c].to_numpy(), label=label, drawstyle="steps-post")
            ax.set_ylabel(panel)
            if panel in symlog_panels:
                ax.set_yscale("symlog", linthresh=100)
            ax.grid(alpha=0.3)
            ax.legend(loc="upper right", fontsize=8)
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator()
        axes[-1, 0].xaxis.set_major_locator(locator)
        axes[-1, 0].xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes[0, 0].set_title(title)
        axes[-1, 0].set_xlabel("UTC")
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(panels), cols=1, shared_xaxes=True, subplot_titles=panels)
    for row, panel in enumerate(panels, start=1):
        for c, label, pn in lines:
            if pn != panel:
                continue
            stack = "stack" if panel in stacked_panels else None
            fig.add_trace(
                go.Scatter(x=x, y=df[c], name=label, line_shape="hv", stackgroup=stack, mode="lines"),
                row=row,
                col=1,
            )
    for row, panel in enumerate(panels, start=1):
        if panel in symlog_panels:
            fig.update_yaxes(type="log", row=row, col=1)
    fig.update_layout(title=title, height=320 * len(panels), template="plotly_white")
    fig.write_html(p, include_plotlyjs=True, full_html=True)
    return p


def plot_network_history(history: pd.DataFrame, path: str | Path, efficiency_j_per_th: float) -> Path:
    """Hashprice (subsidy and fee parts, stacked), mining value per MWh and BTC price over time."""
    lines: list[Series] = [
        ("hashprice_subsidy_usd_per_ph_day", "subsidy part", "hashprice [USD/PH/day]"),
        ("hashprice_fees_usd_per_ph_day", "fee part", "hashprice [USD/PH/day]"),
        ("mining_value_usd_per_mwh", f"at {efficiency_j_per_th:g} J/TH", "mining value [USD/MWh]"),
        ("price_usd", "BTC price", "price [USD/BTC]"),
    ]
    return plot_lines(history, lines, path, "Bitcoin network history (mullet)", stacked_panels=("hashprice [USD/PH/day]",))


def plot_dispatch(result: DispatchResult, path: str | Path, days: int = 14) -> Path:
    """Spot price against mining value, and the site's load stack, over the horizon's most volatile ``days``.

    The window is the ``days``-long stretch with the highest price standard deviation,
    where curtailment decisions show best.
    """
    s = result.schedule
    per_day = s["price_usd_per_mwh"].resample("D").std()
    window = per_day.rolling(days, min_periods=1).sum()
    end = window.idxmax() + pd.Timedelta(days=1)
    view = s.loc[max(s.index[0], end - pd.Timedelta(days=days)) : end - pd.Timedelta(seconds=1)].copy()
    value_cols = [c for c in s.columns if c.startswith("mining_value_usd_per_mwh__")]
    lines: list[Series] = [("price_usd_per_mwh", "spot price", "USD/MWh")]
    lines += [(c, "mining value " + c.split("__")[1], "USD/MWh") for c in value_cols]
    lines += [("ai_mw", "AI/HPC", "site load [MW]"), ("mining_mw", "mining", "site load [MW]")]
    if "as_offer_mw" in s.columns and s["as_offer_mw"].any():
        lines.append(("as_offer_mw", "ancillary offer", "offers [MW]"))
    title = f"Site dispatch, {view.index[0]:%Y-%m-%d}..{view.index[-1]:%Y-%m-%d} UTC (most volatile {days} days)"
    return plot_lines(view, lines, path, title, stacked_panels=("site load [MW]",), symlog_panels=("USD/MWh",))


def plot_headroom(load_mw: pd.Series, result: HeadroomResult, path: str | Path, tz: str = ERCOT.timezone) -> Path:
    """Load duration curve of the system, with the seasonal thresholds and the load plus each headroom ``L``.

    The top 500 hours are shown on a second panel, where curtailment happens.
    """
    p = check_plot_path(path)
    from mullet.grid.headroom import prepare_load

    prep = prepare_load(load_mw, tz)
    base = np.sort(prep.load_mw)[::-1]
    curves = {"system load": base}
    for row in result.rows:
        curves[f"+ {row.new_load_mw / 1000:.1f} GW ({row.rate_fraction * 100:g}%)"] = np.sort(prep.load_mw + row.new_load_mw)[::-1]
    hours = np.arange(1, len(base) + 1)
    if p.suffix.lower() == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for ax, n in zip(axes, (len(base), 500), strict=True):
            for label, curve in curves.items():
                ax.plot(hours[:n], curve[:n] / 1000, label=label, lw=1.2)
            ax.axhline(result.summer_threshold_mw / 1000, color="k", ls="--", lw=1, label="summer threshold")
            ax.axhline(result.winter_threshold_mw / 1000, color="grey", ls=":", lw=1, label="winter threshold")
            ax.set_xlabel("hours, sorted by load")
            ax.set_ylabel("GW")
            ax.grid(alpha=0.3)
        axes[0].set_title("Load duration curve with added flexible load")
        axes[1].set_title("Top 500 hours")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p
    import plotly.graph_objects as go

    fig = go.Figure()
    for label, curve in curves.items():
        fig.add_trace(go.Scatter(x=hours, y=curve / 1000, name=label, mode="lines"))
    fig.add_hline(y=result.summer_threshold_mw / 1000, line_dash="dash", annotation_text="summer threshold")
    fig.add_hline(y=result.winter_threshold_mw / 1000, line_dash="dot", annotation_text="winter threshold")
    fig.update_layout(title="Load duration curve with added flexible load", xaxis_title="hours, sorted by load", yaxis_title="GW", template="plotly_white")
    fig.write_html(p, include_plotlyjs=True, full_html=True)
    return p


def plot_fan(fans: dict[str, pd.DataFrame], path: str | Path, title: str) -> Path:
    """One panel per series: P10, P50 and P90 across simulated paths (each frame has p10/p50/p90 columns)."""
    frame = pd.DataFrame({f"{name}__{q}": fan[q] for name, fan in fans.items() for q in ("p10", "p50", "p90")})
    lines: list[Series] = [(f"{name}__{q}", q.upper(), name) for name in fans for q in ("p10", "p50", "p90")]
    return plot_lines(frame, lines, path, title)


def plot_plan(result: PlanResult, path: str | Path, tornado: pd.DataFrame | None = None) -> Path:
    """Plan chart (PNG): cash-flow waterfall of the recommended strategy, NPV distributions of all strategies, and the tornado if given."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = check_plot_path(path)
    if p.suffix.lower() != ".png":
        raise ScenarioError(f"plot: got '{p.name}', allowed: a .png file for plan charts")
    rec = result.recommended()
    key = rec or (max(result.config.ai_shares), min(result.config.conversion_years))
    panels = 3 if tornado is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 5))
    wf = result.waterfall(*key).fillna(0.0) / 1e6
    start = np.concatenate([[0.0], np.cumsum(wf.to_numpy())[:-1]])
    colors = ["tab:green" if v >= 0 else "tab:red" for v in wf]
    axes[0].bar(range(len(wf)), wf.to_numpy(), bottom=start, color=colors)
    axes[0].bar([len(wf)], [wf.sum()], color="tab:blue")
    axes[0].set_xticks(range(len(wf) + 1), [c.removesuffix("_usd").replace("_", " ") for c in wf.index] + ["NPV"], rotation=60, ha="right")
    axes[0].set_ylabel("mean present value [M USD]")
    label = "exit wins; pure AI shown" if rec is None else f"recommended: {key[0]:.0%} AI from year {key[1]}"
    axes[0].set_title(f"Waterfall ({label})")
    strategies = result.strategies()
    for name, row in strategies.iterrows():
        if name == "exit":
            axes[1].axvline(row["npv_mean_musd"], color="k", ls="--", label="exit (today)")
            continue
        v = result.npv(float(row["ai_share"]), int(row["conversion_year"])) / 1e6
        axes[1].hist(v, bins=40, histtype="step", label=f"{name} ({row['ai_share']:.0%}, yr {int(row['conversion_year'])})")
    axes[1].set_xlabel("NPV [M USD]")
    axes[1].set_title("NPV distributions by strategy")
    axes[1].legend(fontsize=8)
    if tornado is not None:
        t = tornado.iloc[::-1]
        base = float(t["npv_base_musd"].iloc[0])
        y = np.arange(len(t))
        axes[2].barh(y, t["npv_low_musd"] - base, left=base, color="tab:red", label="first value of the label")
        axes[2].barh(y, t["npv_high_musd"] - base, left=base, color="tab:green", label="second value")
        axes[2].set_yticks(y, [str(i).replace("$", r"\$") for i in t.index], fontsize=8)  # no mathtext between dollar signs
        axes[2].axvline(base, color="k", lw=0.8)
        axes[2].set_xlabel("mean NPV [M USD]")
        axes[2].set_title("Sensitivity (tornado)")
        axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p


def plot_ai_vs_power(table: pd.DataFrame, path: str | Path, title: str = "AI/HPC MW vs power capacity by company") -> Path:
    """Bar chart per company: contracted AI IT MW, planned AI MW, and the rest of the stated power capacity."""
    p = check_plot_path(path)
    t = table.fillna({"ai_it_mw_contracted": 0.0, "ai_mw_planned": 0.0})
    rest = (t["power_capacity_mw"] - t["ai_it_mw_contracted"] - t["ai_mw_planned"]).clip(lower=0).fillna(0.0)
    if p.suffix.lower() == ".png":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(10, 4.5))
        x = np.arange(len(t))
        ax.bar(x, t["ai_it_mw_contracted"], label="AI/HPC contracted (IT MW)", color="C1")
        ax.bar(x, t["ai_mw_planned"], bottom=t["ai_it_mw_contracted"], label="AI/HPC planned", color="C1", alpha=0.45)
        ax.bar(
            x, rest, bottom=t["ai_it_mw_contracted"] + t["ai_mw_planned"], label="rest of stated power capacity (mining or uncontracted)", color="C0", alpha=0.6
        )
        ax.set_xticks(x, t.index, rotation=20)
        ax.set_ylabel("MW")
        ax.set_title(title)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(p, dpi=110)
        plt.close(fig)
        return p
    ai_vs_power_figure(table, title).write_html(p, include_plotlyjs=True, full_html=True)
    return p


def ai_vs_power_figure(table: pd.DataFrame, title: str = "AI/HPC MW vs power capacity by company") -> Any:
    """Plotly stacked bars per company: AI contracted, AI planned, rest of stated power capacity [MW]."""
    import plotly.graph_objects as go

    t = table.fillna({"ai_it_mw_contracted": 0.0, "ai_mw_planned": 0.0})
    rest = (t["power_capacity_mw"] - t["ai_it_mw_contracted"] - t["ai_mw_planned"]).clip(lower=0).fillna(0.0)
    fig = go.Figure()
    fig.add_bar(x=list(t.index), y=t["ai_it_mw_contracted"], name="AI/HPC contracted (IT MW)")
    fig.add_bar(x=list(t.index), y=t["ai_mw_planned"], name="AI/HPC planned")
    fig.add_bar(x=list(t.index), y=rest, name="rest of stated power capacity")
    fig.update_layout(barmode="stack", title=title, yaxis_title="MW", template="plotly_white")
    return fig
