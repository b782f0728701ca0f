"""Coupled dispatch benchmarks, called by run.py (and runnable alone: `python benchmarks/coupled_bench.py`).

1. The coupled site-year (cleanspark_measured_hybrid: ramp limit, monthly demand charge, flexible-AI budget,
   perfect-foresight 4CP, RRS/ECRS offers) hourly: HiGHS LP and the coupled solver on the same site-year in the
   same run, then the coupled solver over many paths (2022-2024 hub price years x hashprice levels), one process
   and a pool of processes, with LP cross-checks on a sample of paths.
2. Equality with the LP on every shipped scenario (and a coupled variant of each) over full years of real prices.
3. A 1,000-path x 10-year x 5-share plan of the coupled scenario.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from results_file import write_section

from mullet.data import load_ercot_hub_prices
from mullet.dispatch import build_inputs, solve_lp
from mullet.dispatch.coupled import coupled_values, solve_coupled
from mullet.dispatch.inputs import SiteInputs
from mullet.errors import MulletError
from mullet.site import Scenario, load_scenario

ROOT = Path(__file__).parents[1]


def hourly_site_year() -> SiteInputs:
    """The coupled scenario on hourly means of 2023 HB_NORTH prices (as the LP benchmark)."""
    hub = load_ercot_hub_prices()["HB_NORTH"]
    hourly = hub.loc["2023-01-01":"2023-12-31"].resample("1h").mean()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hb_north_hourly_2023.parquet"
        hourly.rename("HB_NORTH").rename_axis("interval_start_utc").reset_index().to_parquet(path)
        sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
        sc = sc.model_copy(update={"power": sc.power.model_copy(update={"price_file": str(path)})})
        return build_inputs(sc)


def path_arrays(x: SiteInputs, n_paths: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-path mining value and energy cost: a 2022-2024 HB_NORTH price year each, hashprice scaled lognormally."""
    rng = np.random.default_rng(seed)
    hub = load_ercot_hub_prices()["HB_NORTH"]
    years = [hub.loc[f"{y}-01-01" : f"{y}-12-31"].resample("1h").mean().ffill().to_numpy()[:8760] for y in (2022, 2023, 2024)]
    price = np.stack([years[i] for i in rng.integers(0, 3, n_paths)])
    cost = price + x.adder_usd_per_mwh + x.cp_hour * x.cp_usd_per_mwh
    value = x.mining_value_usd_per_mwh[None] * rng.lognormal(0.0, 0.4, (n_paths, 1, 1))
    return value, cost


def _chunk(args: tuple[int, int]) -> tuple[int, int, float, float]:
    seed, n = args
    x = hourly_site_year()
    value, cost = path_arrays(x, n, seed)
    coupled_values(x, value[:1], cost[:1])  # load the compiled kernels
    t0, c0 = time.perf_counter(), time.process_time()
    certified = 0
    for i in range(0, n, 500):  # batches of 500 paths, as a planner's chunk
        _, cert = coupled_values(x, value[i : i + 500], cost[i : i + 500])
        certified += int(cert.sum())
    return n, certified, time.process_time() - c0, time.perf_counter() - t0


def bench_coupled(rows: list[str]) -> None:
    x = hourly_site_year()
    assert x.n == 8760 and not x.separable
    lp_times, co_times = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        lp = solve_lp(x)
        lp_times.append(time.perf_counter() - t0)
    solve_coupled(x)  # compile or load the cached kernels
    for _ in range(7):
        t0 = time.perf_counter()
        co = solve_coupled(x)
        co_times.append(time.perf_counter() - t0)
    t_lp, t_co = float(np.median(lp_times)), float(np.median(co_times))
    rel = abs(co.objective_usd - lp.objective_usd) / abs(lp.objective_usd)
    assert rel < 1e-6 and co.certified, rel
    what = "coupled site-year hourly (ramp + demand charge + flexible AI + 4CP + RRS/ECRS), HiGHS LP, same run"
    rows.append(f"| {what} | {t_lp * 1e3:.0f} ms | objective ${lp.objective_usd:,.0f} |")
    rows.append(
        f"| same site-year, coupled solver | {t_co * 1e3:.1f} ms | objective ${co.objective_usd:,.0f} (rel. diff {rel:.1e}), "
        f"budget multiplier ${co.multiplier_usd_per_mwh:,.2f}/MWh; **{t_lp / t_co:,.0f}x** the LP |"
    )

    # many paths, one process: wall and CPU time
    n_paths = 1000
    value, cost = path_arrays(x, n_paths, 7)
    coupled_values(x, value[:1], cost[:1])
    t0, c0 = time.perf_counter(), time.process_time()
    obj, cert = coupled_values(x, value, cost)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # LP cross-check on a sample of paths (exact equality to 1e-6, and the LP's own time on them)
    lp_path_times = []
    for i in np.random.default_rng(0).choice(n_paths, 5, replace=False):
        xi = replace(x, mining_value_usd_per_mwh=value[i], price_usd_per_mwh=x.price_usd_per_mwh + (cost[i] - x.energy_cost_usd_per_mwh))
        t1 = time.perf_counter()
        ref = solve_lp(xi).objective_usd
        lp_path_times.append(time.perf_counter() - t1)
        assert abs(obj[i] - ref) <= 1e-6 * abs(ref), (i, obj[i], ref)
    lp_rate = 1.0 / float(np.median(lp_path_times))
    rows.append(
        f"| coupled solver, {n_paths:,} hourly site-years (2022-2024 price years x hashprice levels), 1 process | "
        f"{n_paths / wall:,.0f} site-years/s wall, {n_paths / cpu:,.0f} per CPU-second | "
        f"{int(cert.sum()):,} of {n_paths:,} certified; LP on 5 sampled paths: equal to 1e-6, {lp_rate:.1f} site-years/s |"
    )
    # a pool of processes (as the planner runs): wall time incl. each worker loading the cached kernels
    workers = os.cpu_count() or 1
    n_big = 10_000
    sizes = [n_big // workers] * workers
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_chunk, [(100 + i, n) for i, n in enumerate(sizes)]))
    wall_pool = time.perf_counter() - t0
    done = sum(p[0] for p in parts)
    cert_pool = sum(p[1] for p in parts)
    cpu_pool = sum(p[2] for p in parts)
    wall_solve = max(p[3] for p in parts)  # the slowest worker's solving time, start-up excluded
    rows.append(
        f"| coupled solver, {done:,} hourly site-years, pool of {workers} processes | **{done / wall_solve:,.0f} site-years/s** wall while solving "
        f"({done / wall_pool:,.0f}/s incl. worker start-up: data, price years, kernel load), {done / cpu_pool:,.0f} per CPU-second in the kernel; "
        f"{cert_pool:,} certified | target >= 1,000 site-years/s and > 100x the LP: {done / wall_solve / lp_rate:,.0f}x the LP in one process, "
        f"{done / wall_solve / (workers * lp_rate):,.0f}x an LP pool of {workers} |"
    )


def _variant(sc: Scenario) -> Scenario:
    """A ramp limit on the first fleet (half its power per hour) and at least a $2/kW-month demand charge."""
    fleets = [f.model_copy(update={"ramp_mw_per_h": f.site_power_mw / 2}) if i == 0 else f for i, f in enumerate(sc.mining)]
    power = sc.power.model_copy(update={"demand_charge_usd_per_kw_month": max(sc.power.demand_charge_usd_per_kw_month, 2.0)})
    return sc.model_copy(update={"mining": fleets, "power": power})


def bench_coupled_scenarios(rows: list[str]) -> list[str]:
    """Every shipped scenario and its coupled variant over each full year 2021-2024 on hourly hub prices."""
    hub = load_ercot_hub_prices()
    checked, skipped, worst, t_lp, t_co = 0, [], 0.0, 0.0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "scenarios").glob("*.toml")):
            base = load_scenario(path)
            sp = base.power.settlement_point
            price_file = Path(tmp) / f"{sp}.parquet"
            hub[sp].resample("1h").mean().dropna().rename(sp).rename_axis("interval_start_utc").reset_index().to_parquet(price_file)
            power = {"price_file": str(price_file), "missing_intervals": "ffill", "load_settlement_point": None}
            base = base.model_copy(update={"power": base.power.model_copy(update=power)})
            for year in (2021, 2022, 2023, 2024):
                sc0 = base if year >= 2022 else base.model_copy(update={"ancillary": base.ancillary.model_copy(update={"products": []})})
                for label, sc in (("as shipped", sc0), ("coupled variant", _variant(sc0))):
                    try:
                        x = build_inputs(sc, f"{year}-01-01", f"{year}-12-31")
                    except MulletError as err:
                        skipped.append(f"{path.stem} {year} {label}: {str(err)[:100]}")
                        continue
                    t0 = time.perf_counter()
                    lp = solve_lp(x)
                    t1 = time.perf_counter()
                    co = solve_coupled(x)
                    t2 = time.perf_counter()
                    t_lp += t1 - t0
                    t_co += t2 - t1
                    rel = abs(co.objective_usd - lp.objective_usd) / max(1.0, abs(lp.objective_usd))
                    assert co.certified and rel < 1e-6, (path.stem, year, label, rel)
                    worst = max(worst, rel)
                    checked += 1
    rows.append(
        f"| coupled vs LP: every shipped scenario and its coupled variant, full years 2021-2024, hourly hub prices | {checked} site-years equal "
        f"(largest rel. diff {worst:.1e}) | LP {t_lp:.0f} s, coupled {t_co:.1f} s in total; {len(skipped)} skipped for missing data |"
    )
    return skipped


def bench_coupled_plan(rows: list[str]) -> None:
    import resource

    from mullet.plan import PlanConfig, run_plan

    sc = load_scenario(ROOT / "scenarios/cleanspark_measured_hybrid.toml")
    cfg = PlanConfig(paths=1000, years=10, ai_shares=[0, 0.25, 0.5, 0.75, 1], conversion_years=[1], chunk_paths=50)
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = run_plan(sc, cfg)
    dt = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    assert result.completed_paths == 1000
    assert any(n.startswith("site dispatch: coupled solver") for n in result.notes)
    rows.append(
        f"| plan of the coupled scenario (ramp + demand charge + flexible AI honoured), 1,000 paths x 10 years x 5 AI shares "
        f"(50,000 coupled hourly site-years + network simulation), local pool of {os.cpu_count()} | {dt:.1f} s wall, {cpu:.1f} s CPU in the workers | "
        "target <= 120 s |"
    )


START, END = "<!-- coupled-bench:start -->", "<!-- coupled-bench:end -->"
RESULTS = Path(__file__).parent / "RESULTS.md"


def update_results(plan: bool = True) -> None:
    """Measure and replace the coupled-dispatch section of RESULTS.md (the rest of the file is left alone)."""
    rows = ["| what | measured | note |", "|---|---|---|"]
    bench_coupled(rows)
    skipped = bench_coupled_scenarios(rows)
    if plan:
        bench_coupled_plan(rows)
    load = os.getloadavg()[0]
    head = [
        START,
        "## Coupled dispatch (issue 16: ramp limit, demand charge, flexible AI at planning speed)",
        "",
        "Command: `python benchmarks/coupled_bench.py` (also run by `make bench`).",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}, numpy {np.__version__}; "
        f"shared with other jobs while measured (load average {load:.1f} at the end): figures under load.",
        f"Measured: {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
    ]
    notes = [
        "",
        "Notes:",
        "- The coupled site-year is the LP benchmark's: `cleanspark_measured_hybrid` on hourly means of 2023 HB_NORTH",
        "  prices; HiGHS and the coupled solver run on it in the same process, one after the other.",
        "- Paths: each is a 2022, 2023 or 2024 HB_NORTH hourly price year with the 2023 scenario's adders, 4CP hours and",
        "  ancillary prices, and the 2023 mining value scaled by a lognormal factor (sd 0.4); five of them are re-solved by",
        "  HiGHS in the run and must agree to 1e-6. Per CPU-second figures count the kernel's process time only.",
        "- The 15-minute bundled prices carry hourly day-ahead ancillary awards that hold through 4 intervals: that couples",
        "  the quarter hours of each hour, outside the coupled solver's structure, so `solver='auto'` keeps the LP there",
        "  (the scenario sweep and the plan run hourly, where an award is one interval).",
        "- Where the time goes (profiled 2026-12-02 on this machine, shared): a year's DP is ~0.55 ms. Every path-year",
        "  costs one DP at the unshaved peaks and one optimality test of the peaks (~0.3 ms: one-interval pieces of the",
        "  relaxation in closed form, a short DP per ramp-bound stretch); a path whose peaks move adds a model step",
        "  (every moving month at once), a re-solve of the moving pieces only (their neighbours taken in where the join",
        "  breaks the ramp) and an incremental test of the changed months. The flexible budget's multiplier is exact",
        "  from the dearest hours in these runs (one inner solve). Per path-year in the kernel: ~0.9-1.0 ms on these",
        "  benchmark paths (the 6-hour first local month is shaved), ~1.5 ms mean (0.9 median, p90 3 ms) on the",
        "  plan's path-years, where most months are shaved in later years; preparing the arrays adds ~0.3 ms.",
        "- Before this round (same machine, idle): 7.2 ms per site-year, 133/s in one process, 256/s on a pool of 2,",
        "  the 1,000 x 10 x 5 plan in 352.7 s (a golden-section search per set of months over full-year DPs).",
        "- The ratio to the LP is given against HiGHS in one process (the LP's rate on sampled paths in the same run)",
        "  and against a pool of LPs on every core; the pool rate counts the slowest worker's solving time (start-up",
        "  excluded) and, in brackets, the wall time including start-up.",
        *[f"- skipped for missing data: {s}" for s in skipped],
        END,
    ]
    section = "\n".join(head + rows + notes)
    write_section(RESULTS, START, END, section)
    print(section)


if __name__ == "__main__":
    import sys

    update_results(plan="--no-plan" not in sys.argv[1:])
