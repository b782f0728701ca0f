"""``mullet grid``: curtailment-enabled headroom and a site against system peaks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import FormatOpt, PlotOpt, app, console, err_console, time_zone
from mullet.errors import MulletError
from mullet.markets.ercot import ERCOT
from mullet.runs import Fill

grid_app = typer.Typer(help="Grid impact: curtailment-enabled headroom, and a site against system peaks.", no_args_is_help=True)
app.add_typer(grid_app, name="grid")


def _rates(text: str) -> list[float]:
    try:
        values = [float(v) / 100 for v in text.split(",") if v.strip()]
    except ValueError:
        raise MulletError(f"rates: got {text!r}, allowed: comma-separated percentages like 0.25,0.5,1,5") from None
    if not values:
        raise MulletError(f"rates: got {text!r}, allowed: at least one percentage")
    return values


@grid_app.command("headroom")
def grid_headroom_cmd(
    load: Annotated[
        Path | None,
        typer.Option(
            "--load",
            help="Hourly demand: EIA-930 API JSON or BALANCE CSV, or CSV/Parquet with interval_start_utc (or interval_end_utc) and one column per BA; "
            "default: bundled raw EIA-930 ERCO 2016-2024.",
        ),
    ] = None,
    column: Annotated[
        str | None, typer.Option("--column", help="Balancing authorities (columns), comma-separated, e.g. ERCO,PJM,MISO; default: all in the file.")
    ] = None,
    rates: Annotated[str, typer.Option("--rates", help="Target curtailment rates, percent, comma-separated.")] = "0.25,0.5,1,5",
    tz: Annotated[str, typer.Option("--tz", help="Time zone whose calendar defines seasons (months) and years.", callback=time_zone)] = ERCOT.timezone,
    screen: Annotated[
        bool, typer.Option("--screen/--no-screen", help="Screen impossible values first (Ruggles et al. 2020); flagged hours become gaps.")
    ] = True,
    impute: Annotated[bool, typer.Option("--impute", help="Fill gaps and flagged hours with the diurnal template (estimates, labelled).")] = False,
    per_year_thresholds: Annotated[
        bool, typer.Option("--per-year-thresholds", help="Hold each year to its own seasonal peaks instead of the peaks of all years.")
    ] = False,
    screening_report: Annotated[Path | None, typer.Option("--screening-report", help="Write every flagged hour (raw value, label) to this CSV.")] = None,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """How much constant new load a grid absorbs if it accepts some curtailment (Norris et al. 2025), pooled and per year."""
    import pandas as pd

    from mullet._output import to_jsonable
    from mullet.grid import ba_table, headroom_from_data
    from mullet.plot import check_plot_path, plot_headroom

    if plot is not None:
        check_plot_path(plot)
    if impute and not screen:
        raise MulletError("impute: --impute needs screening (drop --no-screen)")
    columns = [c.strip() for c in column.split(",") if c.strip()] if column else None
    runs = headroom_from_data(load, columns, _rates(rates), screen=screen, impute=impute, thresholds="per_year" if per_year_thresholds else "pooled", tz=tz)
    if screening_report is not None:
        frames = [r.screening.flagged().assign(balancing_authority=r.balancing_authority) for r in runs if r.screening is not None]
        if frames:
            pd.concat(frames).rename_axis("interval_start_utc").to_csv(screening_report)
    if fmt is OutputFormat.json:
        doc = {
            r.balancing_authority: {
                "pooled": r.result.table().reset_index().to_dict(orient="records"),
                "per_year": r.result.per_year.reset_index().to_dict(orient="records"),
                "summer_threshold_mw": r.result.summer_threshold_mw,
                "winter_threshold_mw": r.result.winter_threshold_mw,
                "thresholds": r.result.thresholds,
                "years_used": list(r.result.years_used),
                "screening": r.screening.report(tz).reset_index().to_dict(orient="records") if r.screening is not None else None,
                "warnings": list(r.result.warnings),
                "notes": list(r.result.notes) + (list(r.screening.notes) if r.screening is not None else []),
            }
            for r in runs
        }
        if len(runs) > 1:
            doc["TOTAL"] = {"table": ba_table({r.balancing_authority: r.result for r in runs}).reset_index().to_dict(orient="records")}
        console.file.write(json.dumps(to_jsonable(doc), indent=1) + "\n")
    elif len(runs) > 1:
        table = ba_table({r.balancing_authority: r.result for r in runs})
        emit_frame(console, table, fmt, title="Curtailment-enabled headroom per balancing authority [GW]; TOTAL is the sum of the BAs")
    else:
        r = runs[0]
        res = r.result
        title = (
            f"{r.balancing_authority}: curtailment-enabled headroom; thresholds {res.summer_threshold_mw:,.0f} MW (summer), "
            f"{res.winter_threshold_mw:,.0f} MW (winter){' per year' if res.thresholds == 'per_year' else ''}; "
            f"years {res.years_used[0]}-{res.years_used[-1]} pooled"
        )
        emit_frame(console, res.table(), fmt, title=title)
        if fmt is OutputFormat.table:
            per_year = res.per_year.rename(columns=lambda c: c.replace("rate_at_pooled_pct_", "pooled_rate_pct_").replace("headroom_gw_", "own_headroom_gw_"))
            per_year = per_year.drop(columns=["hours_present"]).set_axis(per_year.index.astype(str), axis=0)
            emit_frame(console, per_year, fmt, title="Per year: the rate each year sees at the pooled headroom [%], and each year's own headroom [GW]")
    for r in runs:
        prefix = f"{r.balancing_authority}: " if len(runs) > 1 else ""
        if r.screening is not None and fmt is OutputFormat.table:
            rep = r.screening.report(tz)
            counts = {k: int(v) for k, v in rep.drop(columns=["hours", "OKAY"]).sum().items() if v}
            err_console.print(f"{prefix}screened: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing flagged"), markup=False)
        for note in (*r.result.notes, *(r.screening.notes if r.screening is not None else ())):
            err_console.print(f"{prefix}note: {note}", markup=False)
        for warning in r.result.warnings:
            err_console.print(f"{prefix}warning: {warning}", markup=False)
    if plot is not None:
        r = runs[0]
        err_console.print(f"chart written to {plot_headroom(r.load_mw, r.result, plot, tz)}")


@grid_app.command("impact")
def grid_impact_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day, inclusive.")] = None,
    rate: Annotated[float, typer.Option("--headroom-rate", help="Curtailment rate [%] of the headroom the site is compared with.")] = 0.5,
    emissions: Annotated[Path | None, typer.Option("--emissions", help="Hourly emission factors CSV/Parquet (emission_factor_t_per_mwh).")] = None,
    fill: Annotated[
        Fill | None, typer.Option("--fill", help="Gaps in prices, hashprice or ancillary files: error, or ffill (fill from the previous interval, noted).")
    ] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The site's MW as firm AI, as flexible mining and as its hybrid: load at system peaks, headroom used, emissions."""
    from mullet.grid import load_emission_factors, site_impact

    factors = load_emission_factors(emissions) if emissions is not None else None
    result = site_impact(scenario, start, end, rate / 100, factors, None if fill is None else fill.value)
    title = f"Site vs system over {result.hours_compared:,} h; site {result.site_mw:,.1f} MW; headroom at {rate:g}% curtailment {result.headroom_mw:,.0f} MW"
    emit_frame(console, result.table, fmt, title=title)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
