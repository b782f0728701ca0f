"""Benchmarks (not tests): `make bench` runs them and rewrites benchmarks/RESULTS.md.

1. Dispatch LP, one site-year hourly with every coupling constraint (ramp, demand charge, flexible AI budget,
   4CP, ancillary offers, PPA, interconnect): mullet's sparse build + HiGHS against the same LP built with linopy
   and solved by HiGHS in the same run; objectives must agree to 1e-6.
2. Fast path: site-years per second of the closed-form dispatch over many price/hashprice paths.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mullet.data import load_ercot_hub_prices
from mullet.dispatch import build_inputs, build_lp, greedy_dispatch, solve_lp
from mullet.site import load_scenario

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from linopy_model import solve_with_linopy  # noqa: E402


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_lp(rows: list[str]) -> None:
    from coupled_bench import hourly_site_year  # the same coupled site-year as the coupled benchmark

    x = hourly_site_year()
    assert x.n == 8760 and x.dt_h == 1.0 and not x.separable
    t_build, model = timed(lambda: build_lp(x), 5)
    t_total, sol = timed(lambda: solve_lp(x), 7)
    t_lin, obj_lin = timed(lambda: solve_with_linopy(x), 3)
    obj = sol.objective_usd  # type: ignore[attr-defined]
    rel = abs(obj - obj_lin) / abs(obj_lin)  # type: ignore[operator]
    assert rel < 1e-6, rel
    n_col, n_row = model.lp.num_col_, model.lp.num_row_  # type: ignore[attr-defined]
    rows.append(f"| LP site-year hourly, all couplings ({n_col:,} columns, {n_row:,} rows): mullet build | {t_build * 1e3:.1f} ms | |")
    rows.append(f"| LP site-year: mullet build + HiGHS solve | {t_total:.2f} s | objective ${obj:,.0f} |")
    rows.append(f"| LP site-year: linopy build + HiGHS solve | {t_lin:.2f} s | objective ${obj_lin:,.0f} (rel. diff {rel:.1e}) |")
    rows.append(f"| LP speed-up, end to end | **{t_lin / t_total:.1f}x** | target >= 10x |")


def bench_fast(rows: list[str]) -> None:
    rng = np.random.default_rng(42)
    hub = load_ercot_hub_prices()["HB_WEST"]
    years = [hub.loc[f"{y}-01-01" : f"{y}-12-31"].resample("1h").mean().to_numpy()[:8760] for y in (2022, 2023, 2024)]
    n_paths = 10_000
    price = np.stack([years[i] for i in rng.integers(0, 3, n_paths)])
    value = (rng.lognormal(np.log(120), 0.4, size=(n_paths, 1))[:, :, None] * np.ones((1, 8760, 1))).astype(float)
    as_top = rng.gamma(1.5, 10.0, size=(n_paths, 8760, 1))
    for label, kwargs in (
        ("no ancillary offers", {}),
        ("with ancillary offers (best product per interval precomputed)", dict(as_price_usd_per_mw_h=as_top, max_offer_fraction=0.5, deployment_fraction=0.01)),
    ):
        dt, _ = timed(lambda kw=kwargs: greedy_dispatch(value, price, 300.0, np.zeros(1), np.array([150.0]), value_only=True, **kw), 3)  # type: ignore[misc]
        rows.append(f"| fast path, {n_paths:,} site-years hourly, 1 fleet, {label} | {n_paths / dt:,.0f} site-years/s | target >= 10,000 |")
    dt, _ = timed(lambda: greedy_dispatch(value[:200], price[:200], 300.0, np.zeros(1), np.array([150.0])), 3)
    rows.append(f"| fast path with the full interval schedule returned | {200 / dt:,.0f} site-years/s | |")


def bench_network(rows: list[str]) -> None:
    from mullet.network import simulate_network

    simulate_network(paths=10, years=0.2, seed=0)  # warm the data caches
    cpu0 = time.process_time()
    dt, result = timed(lambda: simulate_network(paths=1000, years=4, seed=1), 1)
    cpu = time.process_time() - cpu0
    blocks = int(result.blocks.sum())  # type: ignore[attr-defined]
    rows.append(f"| network simulation, 1,000 paths x 4 years ({blocks / 1000:,.0f} blocks per path) | {dt:.2f} s | target <= 10 s; {cpu:.2f} s of CPU |")
    from mullet.network import fit_supply_model

    dt, fit = timed(fit_supply_model, 1)
    rows.append(f"| supply fit, {fit.grid_points} grid points x {fit.anchors} anchors, 2016-07..2025-12 (`fit_supply_model`) | {dt:.1f} s | |")  # type: ignore[attr-defined]


def bench_plan(rows: list[str]) -> None:
    import resource

    from mullet.plan import PlanConfig, run_plan

    sc = load_scenario(ROOT / "scenarios/default.toml")
    cfg = PlanConfig(paths=1000, years=10, ai_shares=[0, 0.25, 0.5, 0.75, 1], conversion_years=[1], chunk_paths=50)  # default contract risk on
    assert not cfg.contract.risk.is_zero
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    result = run_plan(sc, cfg)
    dt = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    assert result.completed_paths == 1000
    rows.append(
        f"| plan, 1,000 paths x 10 years x 5 AI shares, risk engine on (tenant default, renewal, construction delay and overrun; "
        f"10,000 hourly 1-MW site-year dispatches + network simulation), local pool of {os.cpu_count()} | "
        f"{dt:.1f} s wall, {cpu:.1f} s CPU in the workers | target <= 60 s |"
    )


def bench_policy(rows: list[str]) -> None:
    """Realtime policy (step() once per interval) over a 15-minute site-year; value-of-foresight table."""
    from mullet.dispatch.foresight import foresight_table
    from mullet.dispatch.policy import run_policy
    from mullet.site import with_fill

    sc = with_fill(load_scenario(ROOT / "scenarios/default.toml"), "ffill")  # 2021 has 57 missing hub intervals (noted)
    x = build_inputs(sc, "2023-01-01", "2023-12-31")
    assert x.n == 35_040
    dt, _ = timed(lambda: run_policy(x), 7)
    cpu = []
    for _ in range(7):
        c0 = time.process_time()
        run_policy(x)
        cpu.append(time.process_time() - c0)
    rows.append(
        f"| realtime policy, 15-min site-year (35,040 x step() + pricing), default site | {dt:.3f} s wall, {statistics.median(cpu):.3f} s CPU "
        "| target <= 0.2 s |"
    )
    t0 = time.perf_counter()
    table, _ = foresight_table(sc, [2021, 2022, 2023, 2024])
    cold = time.perf_counter() - t0
    dt, _ = timed(lambda: foresight_table(sc, [2021, 2022, 2023, 2024]), 3)
    c0 = time.process_time()
    foresight_table(sc, [2021, 2022, 2023, 2024])
    cpu_table = time.process_time() - c0
    assert len(table) == 16
    rows.append(
        f"| value-of-foresight table, 4 years x 4 policies, default site (inputs, 4CP training, LP/fast, policies) | {dt:.1f} s wall, "
        f"{cpu_table:.1f} s CPU (first call in the process: {cold:.1f} s wall, incl. reading data and training) | target <= 10 s |"
    )


def main() -> None:
    if sys.argv[1:] == ["policy"]:
        rows = ["| what | measured | note |", "|---|---|---|"]
        bench_policy(rows)
        print("\n".join(rows))
        return
    rows = ["| what | measured | note |", "|---|---|---|"]
    bench_lp(rows)
    bench_fast(rows)
    bench_network(rows)
    bench_plan(rows)
    bench_policy(rows)
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    head = [
        "# Benchmark results",
        "",
        "Command: `make bench` (runs `benchmarks/run.py`; medians of repeated runs).",
        f"Machine: {os.cpu_count()} cores, {model}, Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}.",
        f"Measured: {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
    ]
    notes = [
        "",
        "Notes:",
        "- The LP is the `cleanspark_measured_hybrid` scenario (ramp limit, demand charge, flexible AI energy budget,",
        "  perfect-foresight 4CP, RRS/ECRS offers, a 7x16 PPA, the interconnect) on hourly means of 2023 HB_NORTH prices.",
        "- mullet builds the CSC matrix directly, offers only each interval's best ancillary product (an exact",
        "  reduction: the products share one capacity and one deployment cost), drops ramp rows that cannot bind, folds",
        "  the interconnect into the bound of the monthly-peak variables, and runs HiGHS dual simplex. The scenario's",
        "  90 MW/h ramp limit binds.",
        "  The linopy model (`benchmarks/linopy_model.py`) is the natural formulation with one offer variable per",
        "  product, solved by HiGHS through linopy's default LP-file interface. Both reach the same optimum.",
        "- The fast path is `greedy_dispatch(..., value_only=True)` on 10,000 hourly site-years at once (paths in",
        "  cache-sized chunks of 16); the ancillary case passes the best product's price per interval, as a sweep that",
        "  reuses price years does. Returning the whole schedule (mining MW and offers per interval) is slower.",
        "- The network simulation steps days, vectorised over paths, with every retarget computed by the integer",
        "  `next_bits`; it includes the price, fee (with spikes) and margin-driven hashrate-supply models (entry, order",
        "  book, retirement). The supply fit replays history once per grid point (vectorised) and scores forecasts",
        "  from every anchor in one batch; `mullet network backtest --out-of-sample` refits it at each of 20 starts.",
        "- Timings on this shared 2-core machine vary by about +/-30% between runs: while the code was being written the",
        "  LP speed-up measured 12.3x-15.0x over three runs of the final code, the fast path with ancillary offers 24,000-37,000",
        "  site-years/s. Run `make bench` on your machine before relying on a figure.",
        "- Policies (`python benchmarks/run.py policy` runs only these): the realtime policy calls `RealtimePolicy.step()` once per",
        "  15-minute interval (the live controller's code path) and prices the schedule with `evaluate()`. The table runs, per year,",
        "  perfect foresight (closed form), realtime, realtime + 4CP calls (ridge forecast fitted on earlier summers, margin tuned",
        "  on earlier summers) and day-ahead ancillary commitment; forecasts shared between years are cached in the process.",
    ]
    text = "\n".join(head + rows + notes) + "\n"
    (Path(__file__).parent / "RESULTS.md").write_text(text)
    print(text)
    from control_bench import update_results as bench_control  # the `mullet control` section (own module)

    bench_control()
    from coupled_bench import update_results as bench_coupled  # the coupled-dispatch section (own module)

    bench_coupled()


if __name__ == "__main__":
    main()
