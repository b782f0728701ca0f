"""``mullet grid``: curtailment-enabled headroom and a site against system peaks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import FormatOpt, PlotOpt, app, console, err_console, time_zone
from mullet.errors import MulletError

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
    load: Annotated[Path | None, typer.Option("--load", help="Hourly system load CSV/Parquet (interval_start_utc + column); default: bundled ERCOT.")] = None,
    column: Annotated[str, typer.Option("--column", help="Load column of --load [MW].")] = "ERCOT",
    rates: Annotated[str, typer.Option("--rates", help="Target curtailment rates, percent, comma-separated.")] = "0.25,0.5,1,5",
    tz: Annotated[str, typer.Option("--tz", help="Time zone whose months define the seasons.", callback=time_zone)] = "America/Chicago",
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """How much constant new load the grid absorbs if it accepts some curtailment (Norris et al. 2025)."""
    from mullet.data import load_system_load
    from mullet.grid import headroom
    from mullet.plot import check_plot_path, plot_headroom

    if plot is not None:
        check_plot_path(plot)
    series = load_system_load(load, column)["load_mw"]
    result = headroom(series, _rates(rates), tz=tz)
    title = (
        f"Curtailment-enabled headroom; thresholds {result.summer_threshold_mw:,.0f} MW (summer), "
        f"{result.winter_threshold_mw:,.0f} MW (winter); years {', '.join(map(str, result.years_used))}"
    )
    emit_frame(console, result.table(), fmt, title=title)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
    if plot is not None:
        err_console.print(f"chart written to {plot_headroom(series, result, plot, tz)}")


@grid_app.command("impact")
def grid_impact_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file.")],
    start: Annotated[str | None, typer.Option("--start", help="First UTC day (default: the scenario's).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last UTC day, inclusive.")] = None,
    rate: Annotated[float, typer.Option("--headroom-rate", help="Curtailment rate [%] of the headroom the site is compared with.")] = 0.5,
    emissions: Annotated[Path | None, typer.Option("--emissions", help="Hourly emission factors CSV/Parquet (emission_factor_t_per_mwh).")] = None,
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """The site's MW as firm AI, as flexible mining and as its hybrid: load at system peaks, headroom used, emissions."""
    from mullet.grid import load_emission_factors, site_impact

    factors = load_emission_factors(emissions) if emissions is not None else None
    result = site_impact(scenario, start, end, rate / 100, factors)
    title = f"Site vs system over {result.hours_compared:,} h; site {result.site_mw:,.1f} MW; headroom at {rate:g}% curtailment {result.headroom_mw:,.0f} MW"
    emit_frame(console, result.table, fmt, title=title)
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False)
