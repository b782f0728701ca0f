"""``mullet plan``: risk-aware NPV distributions of turning a site's MW into AI, with the criterion and assumptions stated."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from mullet._output import OutputFormat, emit_frame
from mullet.cli._common import DbOpt, FormatOpt, app, console, err_console, floats, progress_bar


class AiContract(StrEnum):
    """The AI contract of converted MW."""

    lease = "lease"
    gpu_cloud = "gpu_cloud"


class LeaseType(StrEnum):
    """Who pays the tenant's power."""

    triple_net = "triple_net"
    gross = "gross"


class BtcDrift(StrEnum):
    """The BTC price measure."""

    neutral = "neutral"
    user = "user"
    historical = "historical"


class TerminalMethod(StrEnum):
    """How the site is valued at the horizon."""

    ev_per_mw = "ev_per_mw"
    gordon = "gordon"
    none = "none"


class Criterion(StrEnum):
    """How the recommendation is chosen."""

    mean = "mean"
    p50 = "p50"
    cvar = "cvar"


@app.command("plan")
def plan_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML file of the site.")],
    paths: Annotated[int, typer.Option("--paths", min=1, max=1_000_000, help="Simulated paths.")] = 200,
    years: Annotated[int, typer.Option("--years", min=1, max=30, help="Planning horizon [years].")] = 10,
    ai_shares: Annotated[str, typer.Option("--ai-shares", help="Shares of the site's MW turned into AI.")] = "0,0.25,0.5,0.75,1",
    conversion_years: Annotated[str, typer.Option("--conversion-years", help="Years the AI load is energised (1 = first).")] = "1,3",
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the simulation (same seed, same numbers on any machine).")] = 0,
    ai_usd_per_kw_month: Annotated[float, typer.Option("--ai-usd-per-kw-month", help="AI lease rate [USD/kW-month of IT].")] = 130.0,
    lease_type: Annotated[
        LeaseType, typer.Option("--lease-type", help="triple_net (tenant pays its energy) or gross (owner pays power).")
    ] = LeaseType.triple_net,
    default_hazard: Annotated[float, typer.Option("--default-hazard", help="Tenant default probability [-/year].")] = 0.02,
    discount_rate: Annotated[float, typer.Option("--discount-rate", help="Discount rate [-/year].")] = 0.12,
    btc_drift: Annotated[
        BtcDrift, typer.Option("--btc-drift", help="neutral (mean BTC price grows at the risk-free rate), historical (fit, opt-in) or user.")
    ] = BtcDrift.neutral,
    btc_growth: Annotated[float | None, typer.Option("--btc-growth", help="Growth of the mean BTC price [1/yr] (with --btc-drift user).")] = None,
    risk_free_rate: Annotated[float, typer.Option("--risk-free-rate", help="Risk-free part of the discount rate [1/yr]; the neutral BTC drift.")] = 0.04,
    terminal_value: Annotated[TerminalMethod, typer.Option("--terminal-value", help="ev_per_mw (exit's basis), gordon or none.")] = TerminalMethod.ev_per_mw,
    exit_ev_usd_per_mw: Annotated[float, typer.Option("--exit-ev-usd-per-mw", help="Sale price of the site per MW.")] = 1_500_000.0,
    criterion: Annotated[Criterion, typer.Option("--criterion", help="mean, p50 or cvar: how the recommendation is chosen.")] = Criterion.mean,
    max_loss_probability: Annotated[float, typer.Option("--max-loss-probability", help="Largest P(NPV < 0) a recommendation may have.")] = 0.25,
    ai_contract: Annotated[
        AiContract, typer.Option("--ai-contract", help="lease ($/kW-month) or gpu_cloud (sell GPU-hours at a declining price).")
    ] = AiContract.lease,
    gpu_usd_per_hour: Annotated[float, typer.Option("--gpu-usd-per-hour", help="GPU rental price in the first AI year (gpu_cloud).")] = 2.0,
    sensitivity: Annotated[bool, typer.Option("--sensitivity", help="Also compute the tornado of the recommended strategy's mean NPV.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write the waterfall, NPV distributions (and tornado) to FILE.png.")] = None,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler tcp://HOST:PORT (or MULLET_SCHEDULER).")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="Local processes (default: all cores).", min=1)] = None,
    db: DbOpt = Path("mullet.duckdb"),
    fmt: FormatOpt = OutputFormat.table,
) -> None:
    """Risk-aware NPV of turning a site's MW into AI, by share and year, with pure mining, pure AI, hybrid and exit."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from mullet.finance.contracts import ColocationLease, GpuCloud
    from mullet.plan import DEFAULT_RISK, PlanConfig, run_plan
    from mullet.site import load_scenario

    sc = load_scenario(scenario)
    risk = DEFAULT_RISK.model_copy(update={"default_hazard_per_year": default_hazard})
    if ai_contract is AiContract.gpu_cloud:
        contract: ColocationLease | GpuCloud = GpuCloud(usd_per_gpu_hour=gpu_usd_per_hour, risk=risk)
    else:
        contract = ColocationLease.model_validate({"usd_per_kw_month": ai_usd_per_kw_month, "lease_type": lease_type.value, "risk": risk.model_dump()})
    cfg = PlanConfig.model_validate(
        {
            "paths": paths,
            "years": years,
            "ai_shares": floats(ai_shares, "ai_shares"),
            "conversion_years": [int(v) for v in floats(conversion_years, "conversion_years")],
            "seed": seed,
            "contract": contract.model_dump(),
            "discount_rate_fraction": discount_rate,
            "price_measure": {"kind": btc_drift.value, "risk_free_rate_per_year": risk_free_rate, "expected_growth_per_year": btc_growth},
            "terminal_value": {"method": terminal_value.value},
            "exit_ev_usd_per_mw": exit_ev_usd_per_mw,
            "criterion": criterion.value,
            "max_loss_probability": max_loss_probability,
        }
    )
    with progress_bar(TextColumn("plan"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("chunks", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_plan(
            sc, cfg, scheduler=scheduler, workers=workers, progress=progress, db=db, scenario_file=str(scenario), scenario_toml=scenario.read_text()
        )
    summary = result.summary_json(sc.name)
    tornado = None
    if sensitivity and not result.interrupted and result.completed_paths:
        from mullet.plan.sensitivity import tornado as run_tornado

        tornado = run_tornado(sc, cfg, result)
        summary["sensitivity"] = tornado.reset_index().to_dict(orient="records")
    if plot is not None and result.completed_paths:
        from mullet.plot import plot_plan

        plot_plan(result, plot, tornado)
    if fmt is OutputFormat.json:
        console.file.write(json.dumps({"run_id": result.run_id, **summary}, indent=1, default=str) + "\n")
    else:
        table = result.table()
        if not table.empty:
            cols = ["ai_share", "conversion_year", "npv_p10_musd", "npv_p50_musd", "npv_p90_musd", "npv_mean_musd", "npv_cvar10_musd", "loss_probability"]
            cols += ["irr_p50", "payback_p50_years", "peak_funding_p50_musd"]
            emit_frame(console, table[cols], fmt, title=f"{sc.name}: {result.completed_paths} paths x {years} years, NPV at {discount_rate:.0%} [M USD]")
        emit_frame(console, result.summary(), fmt, title="Strategies")
        if fmt is OutputFormat.table:
            rec = result.recommended()
            what = "exit (sell the site today)" if rec is None else f"{rec[0]:.0%} of the site's MW as AI from year {rec[1]}"
            console.print(f"recommended: {what}; criterion: {result.criterion_text()}", markup=False)
            if rec is not None:
                wf = result.waterfall(*rec) / 1e6
                console.print("waterfall of the recommended strategy (mean PV, M USD): " + ", ".join(f"{k} {v:+,.0f}" for k, v in wf.items()), markup=False)
            if tornado is not None:
                emit_frame(console, tornado, fmt, title="Sensitivity of the recommended strategy's mean NPV [M USD]")
            console.print(f"run {result.run_id} stored in {db}", markup=False)
        for note in result.notes:
            err_console.print(f"note: {note}", markup=False)
    if result.interrupted:
        err_console.print(f"interrupted: kept {result.completed_paths} of {paths} paths in run {result.run_id} of {db} (status 'interrupted')", markup=False)
        raise typer.Exit(130)
