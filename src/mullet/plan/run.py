"""Plan pipeline: cash flows of every (AI share, conversion year) on every simulated path, in chunks, locally or on Dask.

Per path, the strategy's yearly cash flows (year 0 = now, positive = cash in, nominal USD) are::

    AI revenue (contract functions, with tenant default, renewal and construction delay)
    + mining revenue - mining energy (1 MW dispatched hourly by the exact fast path, times the mining MW)
    - owner's energy of the AI load (gross leases and GPU cloud only; triple-net tenants pay their own)
    + PPA settlement - opex - tax - capex (new mining MW, ASIC refresh, AI shell with overrun, GPUs)
    + terminal value in the final year (same basis as exit, or Gordon growth), discounted once.

Chunks get seeds spawned from one ``SeedSequence``, so the result does not depend on where they
run: a local process pool (default), this process (``workers=1``), or a Dask cluster give identical
numbers. With a store (``db``) the run is registered before any computing (a bad path fails at once),
each finished chunk is written in its own transaction, and an interrupted or killed run keeps them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import as_completed as local_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.dispatch.coupled import plan_couplings, plan_year_net_usd
from mullet.errors import ScenarioError
from mullet.finance.capital import convertible_outcome, straight_line_depreciation, terminal_value_usd
from mullet.finance.contracts import ColocationLease, GpuCloud, colocation_revenue_usd, gpu_cloud_revenue_usd, owner_energy_cost_usd, simulate_tenancy
from mullet.finance.metrics import irr_rows, npv, payback_rows
from mullet.plan.config import PlanConfig
from mullet.plan.paths import PathSet, btc_price_model, price_years, simulate_paths
from mullet.plan.result import PATH_COLUMNS, PlanResult
from mullet.site import Scenario

__all__ = ["RiskDraws", "draw_risk", "input_hash", "run_plan", "strategy_cash_flows"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class RiskDraws:
    """Random draws shared by every strategy of a chunk (common random numbers)."""

    occupied_fraction: FloatArray
    """(P, Y) share of each contract year the AI space is let (tenant default, non-renewal)."""
    rent_multiplier: FloatArray
    """(P, Y) rent after re-lets over the contract rent."""
    delay_years: FloatArray
    """(P,) construction delay beyond the planned year to power."""
    overrun_factor: FloatArray
    """(P,) capex overrun factor of the AI build."""


def draw_risk(cfg: PlanConfig, n_paths: int, rng: np.random.Generator) -> RiskDraws:
    """Draw tenancy, construction delay (exponential) and capex overrun (lognormal with the stated mean and sd)."""
    risk = cfg.contract.risk
    term = cfg.contract.term_years if isinstance(cfg.contract, ColocationLease) else float(cfg.years)
    occupied, mult = simulate_tenancy(risk, term, n_paths, cfg.years, rng)
    delay = rng.exponential(risk.construction_delay_months_mean / 12, n_paths) if risk.construction_delay_months_mean > 0 else np.zeros(n_paths)
    m, sd = 1 + risk.capex_overrun_mean_fraction, risk.capex_overrun_sd_fraction
    if sd > 0:
        s2 = np.log1p((sd / m) ** 2)
        overrun = np.exp(rng.normal(np.log(m) - s2 / 2, np.sqrt(s2), n_paths))
    else:
        overrun = np.full(n_paths, m)
    return RiskDraws(occupied, mult, delay, overrun)


def _site(scenario: Scenario) -> tuple[float, float, float, float]:
    """(site MW, existing AI IT MW, existing mining site MW, mining TH/s per site MW)."""
    fleet = scenario.mining[0] if scenario.mining else None
    eff = fleet.efficiency_j_per_th if fleet else 17.5
    cool = fleet.cooling_overhead_fraction if fleet else 0.05
    existing_ai = sum(b.it_load_mw for b in scenario.ai)
    existing_mining = sum(f.site_power_mw for f in scenario.mining)
    return scenario.interconnect.import_limit_mw, existing_ai, existing_mining, 1e6 / eff / (1 + cool)


def strategy_cash_flows(
    scenario: Scenario,
    cfg: PlanConfig,
    p: PathSet,
    risk: RiskDraws,
    share: float,
    conv: int,
    site: tuple[float, float, float, float] | None = None,
) -> tuple[FloatArray, dict[str, FloatArray], dict[str, FloatArray]]:
    """Cash flows (P, Y + 1) of one strategy, their components (each (P, Y + 1), cash sign), and per-path extras.

    ``share`` of the site's MW is AI from plan year ``conv`` (1 = first year); the rest mines.
    ``site`` caches ``_site(scenario)`` across strategies.
    """
    n, years = p.btc_ratio.shape
    site_mw, existing_ai_it, existing_mining, th_per_mw = site or _site(scenario)
    y_idx = np.arange(1, years + 1)
    c = cfg.contract
    r = cfg.discount_rate_fraction
    opex_esc = (1 + cfg.escalation.opex_fraction) ** (y_idx - 1)

    ai_it_target = share * site_mw / cfg.ai_pue
    existing_it = min(existing_ai_it, ai_it_target) if cfg.capex.shell_exists else 0.0
    new_it = ai_it_target - existing_it
    planned_on = np.clip(y_idx - (conv - 1), 0.0, 1.0)  # (Y)
    delayed_on = np.clip(y_idx[None, :] - (conv - 1) - risk.delay_years[:, None], 0.0, 1.0)  # (P, Y)
    it_on = existing_it * planned_on[None, :] + new_it * delayed_on  # (P, Y) energised IT MW
    contract_year = np.maximum(y_idx - conv, 0)
    occ = risk.occupied_fraction[:, np.minimum(contract_year, years - 1)]
    mult = risk.rent_multiplier[:, np.minimum(contract_year, years - 1)]
    mining_mw = site_mw - share * site_mw * (y_idx >= conv)  # (Y): converted MW leave mining in the planned year

    capex = np.zeros((n, years + 1))
    depreciable: dict[str, tuple[FloatArray, float]] = {}
    if isinstance(c, ColocationLease):
        ai_rev = colocation_revenue_usd(c.year1_usd_per_kw_month(), it_on, contract_year[None, :], c.escalator_fraction) * occ * mult
        gpu_capex = np.zeros(years + 1)
    else:
        age = contract_year % c.refresh_years
        gpus_on = it_on * 1000 / c.gpu_power_kw
        ai_rev = gpu_cloud_revenue_usd(gpus_on, p.gpu_usd_per_hour[:, age], c.utilisation_fraction) * occ
        gpu_capex = np.zeros(years + 1)
        n_gpus = ai_it_target * 1000 / c.gpu_power_kw
        for t in range(max(conv - 1, 0), years, c.refresh_years):
            gpu_capex[t] += n_gpus * c.gpu_capex_usd * (1 + cfg.escalation.gpu_price_fraction) ** t
        depreciable["gpu"] = (np.broadcast_to(gpu_capex, (n, years + 1)), float(c.refresh_years))
    ai_energy = -owner_energy_cost_usd(c.owner_pays_power, p.energy_usd_per_mw_firm * it_on * cfg.ai_pue * occ)
    mining_rev = p.mining_gross_usd_per_mw * mining_mw[None, :]
    mining_energy = -p.mining_energy_usd_per_mw * mining_mw[None, :]
    if p.hourly_value_usd_per_mwh is not None and p.hourly_cost_usd_per_mwh is not None:
        # coupled site (ramp limit, demand charge, flexible AI): the exact coupled dispatch of each year replaces the
        # separable margin; mining_energy carries the difference (ramp, demand charge, capping savings)
        ai_site = share * site_mw * planned_on
        for y in range(years):
            net = plan_year_net_usd(scenario, float(mining_mw[y]), float(ai_site[y]), p.hourly_value_usd_per_mwh[:, y], p.hourly_cost_usd_per_mwh[:, y])
            mining_energy[:, y] = net - mining_rev[:, y]
    opex = -(cfg.mining.opex_usd_per_mw_year * mining_mw + cfg.capex.ai_opex_usd_per_mw_year * ai_it_target * planned_on) * opex_esc

    # capex: AI shell (new IT MW only, with overrun), new mining MW in year 0, ASIC refresh, GPUs
    shell = np.zeros((n, years + 1))
    shell[:, max(conv - cfg.capex.time_to_power_years, 0)] = new_it * cfg.capex.ai_shell_usd_per_mw * risk.overrun_factor
    depreciable["shell"] = (shell, cfg.capex.depreciation_years)
    owned_mining = existing_mining if cfg.mining.fleet_exists else 0.0
    new_mining_mw = max(mining_mw.max() - owned_mining, 0.0)
    asic = np.zeros(years + 1)
    site_build = np.zeros(years + 1)
    asic[0] = new_mining_mw * th_per_mw * cfg.mining.asic_capex_usd_per_th
    site_build[0] = new_mining_mw * cfg.mining.site_build_usd_per_mw
    for t in range(cfg.mining.refresh_years, years + 1, cfg.mining.refresh_years):
        asic[t] += mining_mw[t - 1] * th_per_mw * cfg.mining.asic_capex_usd_per_th * (1 + cfg.escalation.asic_price_fraction) ** t
    depreciable["asic"] = (np.broadcast_to(asic, (n, years + 1)), float(cfg.mining.refresh_years))
    depreciable["mining_site"] = (np.broadcast_to(site_build, (n, years + 1)), cfg.capex.depreciation_years)
    capex = shell + asic[None, :] + site_build[None, :] + gpu_capex[None, :]

    ebitda = ai_rev + ai_energy + mining_rev + mining_energy + opex[None, :] + p.ppa_settlement_usd
    depreciation = sum(straight_line_depreciation(v, life) for v, life in depreciable.values())
    tax = -cfg.capex.tax_rate_fraction * np.maximum(ebitda - depreciation, 0.0)
    fcf = np.zeros((n, years + 1))
    fcf[:, 1:] = ebitda + tax
    fcf -= capex
    sustaining = mining_mw[-1] * th_per_mw * cfg.mining.asic_capex_usd_per_th * (1 + cfg.escalation.asic_price_fraction) ** years / cfg.mining.refresh_years
    sustaining += gpu_capex.max() / c.refresh_years if isinstance(c, GpuCloud) else 0.0
    tv = np.zeros((n, years + 1))
    tv[:, years] = terminal_value_usd(cfg.terminal_value, (ebitda + tax)[:, -1] - sustaining, site_mw, cfg.exit_ev_usd_per_mw, r)
    cf = fcf + tv

    def row(x: FloatArray) -> FloatArray:
        out = np.zeros((n, years + 1))
        out[:, 1:] = x
        return out

    components = {
        "ai_revenue_usd": row(ai_rev),
        "mining_revenue_usd": row(mining_rev),
        "mining_energy_usd": row(mining_energy),
        "ai_energy_owner_usd": row(ai_energy),
        "ppa_settlement_usd": row(p.ppa_settlement_usd),
        "opex_usd": row(np.broadcast_to(opex, (n, years))),
        "tax_usd": row(tax),
        "capex_usd": -capex,
        "terminal_value_usd": tv,
    }
    revenue = ai_rev + mining_rev
    extras = {
        "revenue_usd": revenue.sum(axis=1),
        "contracted_revenue_usd": ai_rev.sum(axis=1),
        "ai_revenue_share": ai_rev[:, -1] / np.maximum(revenue[:, -1], 1e-9),
        "cash_available_usd": ebitda + tax,
    }
    return cf, components, extras


def _financing(cfg: PlanConfig, p: PathSet, cash_available: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(min DSCR, dilution) per path: debt service incl. coupons and unconverted principal at maturity; new / (old + new) shares."""
    fin = cfg.financing
    n, years = p.btc_ratio.shape
    y_idx = np.arange(1, years + 1)
    service = np.zeros((n, years))
    for d in fin.debt:
        service += d.service_usd(years)[None, :]
    share_price = fin.share_price_usd * p.btc_ratio**fin.share_beta_to_btc  # (P, Y) year-end share price
    new_shares = np.full(n, fin.equity_raise_usd / fin.equity_price_usd)
    for note in fin.convertibles:
        service += np.where(y_idx <= note.maturity_years, note.principal_usd * note.coupon_fraction, 0.0)[None, :]
        if note.maturity_years <= years:
            shares, cash = convertible_outcome(note, share_price)
            service[:, note.maturity_years - 1] += cash
            new_shares = new_shares + shares
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(service > 0, cash_available / np.where(service > 0, service, 1.0), np.inf)
    min_dscr = ratio.min(axis=1)
    min_dscr = np.where(np.isinf(min_dscr), np.nan, min_dscr)
    return min_dscr, new_shares / (fin.shares_outstanding + new_shares)


def _chunk(scenario_json: str, config_json: str, chunk_index: int, n_paths: int, entropy: int, first_path: int) -> dict[str, Any]:
    """Simulate ``n_paths`` paths and return the tidy per-path rows and component sums of every strategy (runs in a worker)."""
    sc = Scenario.model_validate_json(scenario_json)
    cfg = PlanConfig.model_validate_json(config_json)
    paths_seed, risk_seed = np.random.SeedSequence(entropy=entropy, spawn_key=(chunk_index,)).spawn(2)
    p = simulate_paths(sc, cfg, n_paths, np.random.default_rng(paths_seed))
    risk = draw_risk(cfg, n_paths, np.random.default_rng(risk_seed))  # its own stream: the same draws whatever the market paths
    r = cfg.discount_rate_fraction
    disc = (1 + r) ** -np.arange(cfg.years + 1)
    site = _site(sc)
    rows, comps, flows = [], [], []
    for share in cfg.ai_shares:
        for conv in cfg.conversion_years:
            cf, components, extras = strategy_cash_flows(sc, cfg, p, risk, share, conv, site)
            min_dscr, dilution = _financing(cfg, p, extras["cash_available_usd"])
            tv_pv = components["terminal_value_usd"][:, -1] * disc[-1]
            rows.append(
                pd.DataFrame(
                    {
                        "ai_share": share,
                        "conversion_year": conv,
                        "path": np.arange(first_path, first_path + n_paths, dtype=np.int64),
                        "npv_usd": np.asarray(npv(r, cf)),
                        "revenue_usd": extras["revenue_usd"],
                        "contracted_revenue_usd": extras["contracted_revenue_usd"],
                        "ai_revenue_share": extras["ai_revenue_share"],
                        "irr": irr_rows(cf),
                        "payback_years": payback_rows(cf - components["terminal_value_usd"]),
                        "peak_funding_usd": np.maximum(-np.min(np.cumsum(cf - components["terminal_value_usd"], axis=1), axis=1), 0.0),
                        "min_dscr": min_dscr,
                        "dilution_fraction": dilution,
                        "terminal_value_pv_usd": tv_pv,
                        "mean_hashprice_usd_per_ph_day": p.mean_hashprice_usd_per_ph_day,
                    }
                )
            )
            for name, v in components.items():
                comps.append({"ai_share": share, "conversion_year": conv, "component": name, "pv_usd_sum": float((v @ disc).sum()), "paths": n_paths})
                flows.append(
                    pd.DataFrame({"ai_share": share, "conversion_year": conv, "component": name, "year": np.arange(cfg.years + 1), "usd_sum": v.sum(axis=0)})
                )
    return {"paths": n_paths, "rows": pd.concat(rows, ignore_index=True)[list(PATH_COLUMNS)], "components": pd.DataFrame(comps), "flows": pd.concat(flows)}


def input_hash(scenario: Scenario, cfg: PlanConfig) -> str:
    """SHA-256 of the scenario and plan configuration (JSON, sorted keys)."""
    blob = json.dumps({"scenario": scenario.model_dump(mode="json"), "plan": cfg.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _notes(scenario: Scenario, cfg: PlanConfig) -> list[str]:
    _, _, used, price_notes = price_years(scenario, cfg.price_years)
    ps = scenario.power
    where = (
        ps.settlement_point if ps.load_settlement_point in (None, ps.settlement_point) else f"load at {ps.load_settlement_point}, PPAs at {ps.settlement_point}"
    )
    notes = [
        f"power prices: {where}, years {list(used)} (of {cfg.price_years} requested) resampled per path-year"
        + (f" ({'; '.join(price_notes)})" if price_notes else "")
        + ", "
        + f"escalated {cfg.escalation.power_fraction:.1%}/yr; opex {cfg.escalation.opex_fraction:.1%}/yr; "
        + f"ASIC $/TH {cfg.escalation.asic_price_fraction:+.0%}/yr",
        btc_price_model(cfg)[1],
    ]
    c = cfg.contract
    rk = c.risk
    if isinstance(c, ColocationLease):
        notes.append(
            f"AI contract: colocation {c.lease_type} at ${c.year1_usd_per_kw_month():g}/kW-month of IT, "
            f"+{c.escalator_fraction:.0%}/yr, {c.term_years:g}-year term"
            + ("; the tenant pays its energy" if c.lease_type == "triple_net" else "; the owner pays the tenant's power")
        )
    else:
        notes.append(
            f"AI contract: GPU cloud at ${c.usd_per_gpu_hour:g}/GPU-h falling {c.price_decline_per_year:.0%}/yr with GPU age (vol {c.price_vol_per_year:.0%}), "
            f"{c.utilisation_fraction:.0%} utilised, ${c.gpu_capex_usd:,.0f} per GPU every {c.refresh_years} years; the owner pays power"
        )
    notes.append(
        f"AI risk: tenant default {rk.default_hazard_per_year:.1%}/yr ({rk.dark_months_after_default:g} months dark, re-let at {rk.relet_rate_fraction:.0%}), "
        f"renewal {rk.renewal_probability:.0%}, construction delay mean {rk.construction_delay_months_mean:g} months, "
        f"capex overrun mean {rk.capex_overrun_mean_fraction:+.0%} "
        f"(sd {rk.capex_overrun_sd_fraction:.0%})"
    )
    tv = cfg.terminal_value
    tv_text = {
        "ev_per_mw": f"EV ${cfg.exit_ev_usd_per_mw / 1e6:.2f}M per MW at the horizon (the exit's basis)",
        "gordon": f"Gordon growth {tv.growth_fraction:.1%} on the final year's free cash flow",
        "none": "none",
    }[tv.method]
    notes.append(
        f"terminal value: {tv_text}, discounted once at {cfg.discount_rate_fraction:.0%}; exit sells today at ${cfg.exit_ev_usd_per_mw / 1e6:.2f}M per MW"
    )
    notes.append(
        "capex: "
        + ("the scenario's fleet exists (not charged); " if cfg.mining.fleet_exists else "every mining MW is bought; ")
        + ("its AI IT MW are built; " if cfg.capex.shell_exists else "")
        + f"new mining MW at ${cfg.mining.asic_capex_usd_per_th:g}/TH + ${cfg.mining.site_build_usd_per_mw / 1e6:.2f}M/MW, "
        + f"shells ${cfg.capex.ai_shell_usd_per_mw / 1e6:g}M per IT MW"
    )
    notes.append(
        "ancillary revenue and shaped PPAs are not in the plan; converted MW stop mining in the planned year and are idle during a construction delay; "
        f"tax {cfg.capex.tax_rate_fraction:.0%} on each year's positive taxable profit (no loss carry-forward); project cash flows are unlevered"
    )
    couplings = plan_couplings(scenario)
    notes.append(
        f"site dispatch: coupled solver, exact ({', '.join(couplings)} honoured; the LP where it cannot certify a path-year); the AI load in it "
        "is the planned MW (construction delays and vacancy are not in the dispatch) and its capping savings (energy and peak avoided, net of SLA "
        "credits) go to the owner as under a gross lease; mining_energy_usd carries the coupled margin's difference from the separable one"
        if couplings
        else "site dispatch: exact closed-form fast path (the site is separable)"
    )
    return notes


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """In the main thread, turn SIGTERM into KeyboardInterrupt so a terminated plan stops like Ctrl-C."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _worker_init() -> None:
    """Workers ignore SIGINT (the parent stops them) and die with their parent (Linux: PR_SET_PDEATHSIG)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def run_plan(
    scenario: Scenario,
    cfg: PlanConfig,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    db: str | Path | None = None,
    scenario_file: str | None = None,
    scenario_toml: str | None = None,
) -> PlanResult:
    """Run the plan: chunks of paths on a local process pool, in this process (``workers=1``), or on Dask.

    ``scheduler`` is a Dask scheduler address (``tcp://host:port``), else the ``MULLET_SCHEDULER``
    environment variable, else local. ``progress(done, total)`` is called as chunks finish. With
    ``db`` the run is registered in the store before computing and every finished chunk is written
    at once. Ctrl-C or SIGTERM stops cleanly: workers are stopped, finished chunks are kept and the
    result (and stored run) is marked ``interrupted``.
    """
    from mullet.store import append_plan_chunk, begin_plan, check_store_path, finish_plan

    if db is not None:
        check_store_path(db)  # a bad path fails before any data is loaded
    if not scenario.mining and not scenario.ai:
        raise ScenarioError("scenario: nothing to plan")
    notes = _notes(scenario, cfg)  # also checks that the price years exist before any work
    run_id = begin_plan(db, scenario_file, scenario_toml, input_hash(scenario, cfg), cfg.assumptions()) if db is not None else None
    scheduler = scheduler or os.environ.get("MULLET_SCHEDULER") or None
    sizes = [min(cfg.chunk_paths, cfg.paths - i) for i in range(0, cfg.paths, cfg.chunk_paths)]
    starts = list(range(0, cfg.paths, cfg.chunk_paths))
    sc_json, cfg_json = scenario.model_dump_json(), cfg.model_dump_json()
    tasks = [(sc_json, cfg_json, i, n, cfg.seed, s) for i, (n, s) in enumerate(zip(sizes, starts, strict=True))]
    results: dict[int, dict[str, Any]] = {}
    interrupted = False

    def done(i: int, value: dict[str, Any]) -> None:
        results[i] = value
        if run_id is not None:
            append_plan_chunk(db, run_id, value["rows"])  # type: ignore[arg-type]
        if progress is not None:
            progress(len(results), len(tasks))

    with _sigterm_as_interrupt():
        try:
            if scheduler:
                try:
                    from distributed import Client, as_completed
                except ImportError:
                    raise ScenarioError("scheduler: Dask is not installed; install the extra: pip install 'mullet[cluster]'") from None

                with Client(scheduler, timeout="10s") as client:
                    futures = {client.submit(_chunk, *t, pure=False): i for i, t in enumerate(tasks)}
                    try:
                        for fut in as_completed(list(futures)):
                            done(futures[fut], fut.result())
                    except KeyboardInterrupt:
                        interrupted = True
                        client.cancel(list(futures))
            elif workers == 1 or len(tasks) == 1:
                for i, t in enumerate(tasks):
                    done(i, _chunk(*t))
            else:
                pool = ProcessPoolExecutor(max_workers=min(workers or os.cpu_count() or 1, len(tasks)), initializer=_worker_init)
                try:
                    futs: dict[Future[dict[str, Any]], int] = {pool.submit(_chunk, *t): i for i, t in enumerate(tasks)}
                    for fut in local_completed(futs):
                        done(futs[fut], fut.result())
                except KeyboardInterrupt:
                    interrupted = True
                    for proc in list(getattr(pool, "_processes", {}).values()):
                        proc.terminate()
                    pool.shutdown(wait=False, cancel_futures=True)
                else:
                    pool.shutdown(wait=True)
        except KeyboardInterrupt:
            interrupted = True
    ordered = [results[i] for i in sorted(results)]
    if interrupted:
        kept = sum(r["paths"] for r in ordered)
        notes.append(f"interrupted: {len(ordered)} of {len(tasks)} chunks finished ({kept} of {cfg.paths} paths kept)")
    result = PlanResult.from_chunks(ordered, cfg, scenario.interconnect.import_limit_mw, interrupted, notes)
    if run_id is not None:
        result.run_id = run_id
        finish_plan(db, run_id, "interrupted" if interrupted else "complete", result.summary_json(scenario.name))  # type: ignore[arg-type]
    return result
