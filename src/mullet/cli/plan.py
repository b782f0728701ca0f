"""``mullet plan``: NPV distributions of turning a site's MW into AI."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import DbOpt, FormatOpt, app, console, err_console, floats


class AiContract(StrEnum):
    """How the AI share earns: a lease per kW-month, or GPU-hours sold at a declining price."""

    lease = "lease"
    gpu_cloud = "gpu_cloud"


@app.command("plan")
def plan_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file of the site.")],
    paths: Annotated[int, typer.Option("--paths", help="Simulated network paths.", min=1, max=1_000_000)] = 200,
    years: Annotated[int, typer.Option("--years", help="Years planned.", min=1, max=30)] = 10,
    ai_shares: Annotated[str, typer.Option("--ai-shares", help="Shares of the site's MW turned into AI.")] = "0,0.25,0.5,0.75,1",
    conversion_years: Annotated[str, typer.Option("--conversion-years", help="Years the AI load is energised (1 = first).")] = "1,3",
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same numbers.", min=0)] = 0,
    ai_usd_per_kw_month: Annotated[float, typer.Option("--ai-usd-per-kw-month", help="AI lease rate [USD/kW-month of IT].")] = 130.0,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Discount rate [-/year].")] = 0.12,
    exit_ev_usd_per_mw: Annotated[float, typer.Option("--exit-ev-usd-per-mw", help="Sale price of the site per MW.")] = 1_500_000.0,
    ai_contract: Annotated[
        AiContract, typer.Option("--ai-contract", help="lease ($/kW-month) or gpu_cloud (GPU-hours at a declining price).")
    ] = AiContract.lease,
    gpu_usd_per_hour: Annotated[float, typer.Option("--gpu-usd-per-hour", help="GPU rental price in the first AI year (gpu_cloud).")] = 2.0,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT (or MULLET_SCHEDULER).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Local processes (default: all cores).", min=1)] = None,
    db: DbOpt = Path("mullet.duckdb"),
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """NPV distributions of turning a site's MW into AI, by share and year, with pure mining, pure AI, hybrid and exit."""
    import json

    import pandas as pd
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mullet._output import to_jsonable
    from mullet.plan import PlanConfig, input_hash, run_plan
    from mullet.site import load_scenario
    from mullet.store import save_plan

    sc = load_scenario(scenario)
    cfg = PlanConfig(
        paths=paths,
        years=years,
        ai_shares=floats(ai_shares, "ai_shares"),
        conversion_years=[int(v) for v in floats(conversion_years, "conversion_years")],
        seed=seed,
        ai_usd_per_kw_month=ai_usd_per_kw_month,
        discount_rate_fraction=discount_rate,
        exit_ev_usd_per_mw=exit_ev_usd_per_mw,
        ai_contract=ai_contract.value,
        gpu_usd_per_hour=gpu_usd_per_hour,
    )
    started = pd.Timestamp.now(tz="UTC")
    with Progress(TextColumn("plan"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task("chunks", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_plan(sc, cfg, scheduler=scheduler, workers=workers, progress=progress)
    table = result.table()
    strategies = result.strategies()
    share, conv = result.recommended()
    summary = {
        "scenario": sc.name,
        "paths_completed": result.completed_paths,
        "interrupted": result.interrupted,
        "recommended": {"ai_share": share, "conversion_year": conv},
        "strategies": strategies.reset_index().to_dict(orient="records"),
        "table": table.to_dict(orient="records"),
        "notes": result.notes,
    }
    run_id = save_plan(db, result, str(scenario), scenario.read_text(), input_hash(sc, cfg), started, to_jsonable(summary))
    if fmt is OutputFormat.json:
        console.file.write(json.dumps(to_jsonable({"run_id": run_id, **summary}), indent=1) + "\n")
    else:
        cols = ["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "loss_probability"]
        cols += ["revenue_usd_per_mw_year", "irr_p50", "payback_p50_years", "peak_funding_p50_musd", "npv_p50_usd_per_mw"]
        emit_frame(console, table[cols], fmt, title=f"{sc.name}: {result.completed_paths} paths x {years} years, NPV at {discount_rate:.0%} [M USD]")
        emit_frame(
            console, strategies[["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "loss_probability"]], fmt, title="Strategies"
        )
        console.print(f"recommended: {share:.0%} of the site's MW as AI from year {conv}; run {run_id} stored in {db}", markup=False)
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
    if result.interrupted:
        raise typer.Exit(130)
