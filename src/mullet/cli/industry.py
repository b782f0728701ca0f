"""``mullet contracts`` and ``mullet industry``: public AI/HPC deals and the peers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import EfficiencyOpt, FormatOpt, OutDirOpt, PlotOpt, app, console, err_console

contracts_app = typer.Typer(help="Public AI/HPC deals modelled as contracts, against mining per MW.", no_args_is_help=True)
app.add_typer(contracts_app, name="contracts")


@contracts_app.command("examples")
def contracts_examples_cmd(
    dates: Annotated[str, typer.Option("--dates", help="Days of the hashprice history to compare mining at.")] = "2023-06-01,2024-06-01,2025-06-01",
    efficiency_j_per_th: EfficiencyOpt = 17.5,
    power_usd_per_mwh: Annotated[float, typer.Option("--power-usd-per-mwh", help="Power price for mining margins.")] = 45.0,
    gpu_usd_per_hour: Annotated[float, typer.Option("--gpu-usd-per-hour", help="H100 rental price for the 10 MW claim.")] = 2.0,
    fmt: FormatOpt = OutputFormat.table,
    out: OutDirOpt = None,
) -> None:
    """IREN-Microsoft and Hut 8-Fluidstack per MW-year next to mining; and '10 MW of H100s earn what 100 MW of mining earns'."""
    from mullet._output import emit_tables, require_out_for_csv
    from mullet.contracts import compare_contracts

    require_out_for_csv(fmt, out, ["deals", "gpu_claim"])
    deals, claim = compare_contracts([d.strip() for d in dates.split(",") if d.strip()], efficiency_j_per_th, power_usd_per_mwh, gpu_usd_per_hour)
    tables = {
        "deals": ("Contracted AI revenue per IT MW-year vs mining per MW-year (USD)", deals),
        "gpu_claim": (f"10 MW of H100 GPU cloud at ${gpu_usd_per_hour:g}/GPU-h vs 100 MW of mining at {efficiency_j_per_th:g} J/TH (USD/year)", claim),
    }
    emit_tables(console, err_console, tables, fmt, out)


@app.command("industry")
def industry_cmd(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Facts known on this day (default: all).")] = None,
    company: Annotated[str | None, typer.Option("--company", help="One company.")] = None,
    facts: Annotated[Path | None, typer.Option("--facts", help="Your own facts file (same columns), merged in.")] = None,
    ev: Annotated[Path | None, typer.Option("--ev", help="CSV of company, as_of, enterprise_value_usd for EV per MW.")] = None,
    fmt: FormatOpt = OutputFormat.table,
    plot: PlotOpt = None,
) -> None:
    """The public miners' pivot to AI: MW, contracts, revenue per MW-year, with sources."""
    from mullet.industry import deals, load_enterprise_values, load_facts, peer_table
    from mullet.plot import check_plot_path, plot_ai_vs_power

    if plot is not None:
        check_plot_path(plot)
    data = load_facts(facts)
    evs = load_enterprise_values(ev) if ev is not None else None
    table = peer_table(data, as_of, company, evs)
    d = deals(data, as_of)
    if company is not None and len(d):
        d = d[d["company"] == company]
    emit_frame(console, table, fmt, title=f"Peers{' as of ' + as_of if as_of else ''}: MW, contracted AI revenue [USD/year and USD/IT MW-year]")
    if fmt is OutputFormat.table and len(d):
        emit_frame(console, d, fmt, title="AI/HPC contracts (per MW-year from the finance lease model)")
    if plot is not None:
        err_console.print(f"chart written to {plot_ai_vs_power(table, plot)}")
