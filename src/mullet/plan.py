"""Capacity planning: how many of a site's MW to turn into AI/HPC, when, and at what risk.

For each simulated path (BTC price, difficulty and hashprice from
:func:`mullet.network.simulate_network`, a power-price year resampled from the
bundled ERCOT hub prices, a GPU-price decline) and each candidate AI share and
conversion year, the site is dispatched year by year with the exact fast path
(mining is the flexible back behind firm AI; the dispatch is separable), and the
yearly cash flows give NPV, IRR, payback, funding need, DSCR and dilution.

Paths run in chunks with seeds spawned from one ``SeedSequence``, so the result
does not depend on where the chunks run: a local process pool (default) or a
Dask cluster (``scheduler="tcp://host:port"``) give identical numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mullet.bitcoin.hashprice import mining_value_usd_per_mwh
from mullet.data import load_ercot_hub_prices
from mullet.dispatch.fast import greedy_dispatch
from mullet.errors import ScenarioError
from mullet.finance import Capex, Financing, MiningEconomics, convertible_outcome, npv
from mullet.scenarios import fit_price_model, simulate_gpu_prices
from mullet.site import Scenario

__all__ = ["PlanConfig", "PlanResult", "StrategyKey", "run_plan"]

FloatArray = npt.NDArray[np.float64]
STRATEGY_NAMES = ("pure mining", "pure AI", "hybrid", "exit")


class PlanConfig(BaseModel):
    """Everything a plan needs besides the site scenario. Defaults are assumptions unless a source is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paths: Annotated[int, Field(ge=1, le=1_000_000, description="Simulated paths.")] = 200
    years: Annotated[int, Field(ge=1, le=30, description="Planning horizon [years], starting 2026.")] = 10
    ai_shares: Annotated[list[float], Field(description="Candidate shares of the site's MW turned into AI (0..1).")] = [0.0, 0.25, 0.5, 0.75, 1.0]
    conversion_years: Annotated[list[int], Field(description="Candidate years (1 = first plan year) when AI load is energised.")] = [1, 3]
    seed: Annotated[int, Field(ge=0)] = 0
    discount_rate_fraction: Annotated[float, Field(gt=-0.5, le=1, description="Discount rate [-/year] (assumption).")] = 0.12
    exit_ev_usd_per_mw: Annotated[float, Field(ge=0, description="Sale price of the site [USD per MW of interconnect] (assumption).")] = 1_500_000.0
    ai_usd_per_kw_month: Annotated[float, Field(gt=0, le=5_000, description="AI lease rate on IT kW [USD/kW-month] (assumption).")] = 130.0
    ai_lease_term_years: Annotated[float, Field(gt=0, le=30, description="Lease term; renewed at the escalated rate after it.")] = 10.0
    ai_escalator_fraction: Annotated[float, Field(ge=0, le=0.2)] = 0.03
    ai_pue: Annotated[float, Field(ge=1, le=3)] = 1.25
    ai_contract: Annotated[
        Literal["lease", "gpu_cloud"], Field(description="lease: USD/kW-month on IT MW; gpu_cloud: the operator sells GPU-hours at a declining price.")
    ] = "lease"
    gpu_usd_per_hour: Annotated[float, Field(gt=0, le=100, description="GPU rental price in the first AI year [USD/GPU-hour].")] = 2.0
    gpu_utilisation_fraction: Annotated[float, Field(ge=0, le=1)] = 0.7
    gpu_power_kw: Annotated[float, Field(gt=0, le=20, description="IT power per GPU incl. its server share [kW] (an 8-GPU H100 server: ~10.2 kW).")] = 1.275
    gpu_capex_usd: Annotated[float, Field(ge=0, description="Capex per GPU incl. server and network [USD] (assumption).")] = 35_000.0
    gpu_refresh_years: Annotated[int, Field(ge=1, le=10, description="GPUs replaced every this many years.")] = 5
    gpu_price_decline_per_year: Annotated[float, Field(ge=0, lt=1, description="Mean yearly decline of GPU rental prices (assumption).")] = 0.15
    gpu_price_vol_per_year: Annotated[float, Field(ge=0, le=2, description="Volatility of GPU rental prices per year (assumption).")] = 0.20
    price_years: Annotated[list[int], Field(description="ERCOT hub price years resampled for each path-year.")] = [2022, 2023, 2024]
    chunk_paths: Annotated[int, Field(ge=1, le=10_000, description="Paths per task.")] = 50
    mining: MiningEconomics = MiningEconomics()
    capex: Capex = Capex()
    financing: Financing = Financing()

    @model_validator(mode="after")
    def _check(self) -> PlanConfig:
        if not self.ai_shares or any(not 0 <= s <= 1 for s in self.ai_shares):
            raise ValueError(f"ai_shares: got {self.ai_shares}, allowed: one or more values between 0 and 1")
        if not self.conversion_years or any(not 1 <= c <= self.years for c in self.conversion_years):
            raise ValueError(f"conversion_years: got {self.conversion_years}, allowed: years 1..{self.years}")
        if any(y not in (2021, 2022, 2023, 2024) for y in self.price_years):
            raise ValueError(f"price_years: got {self.price_years}, allowed: bundled years 2021..2024")
        return self


StrategyKey = tuple[float, int]
"""(AI share, conversion year)."""


@dataclass
class PlanResult:
    """Per-path outcomes of every (AI share, conversion year) plus the exit, and their summaries."""

    config: PlanConfig
    site_mw: float
    npv_usd: dict[StrategyKey, FloatArray]
    revenue_usd: dict[StrategyKey, FloatArray]
    """Total revenue over the horizon per path (AI + mining gross + ancillary-free)."""
    ai_revenue_share: dict[StrategyKey, FloatArray]
    contracted_revenue_usd: dict[StrategyKey, FloatArray]
    """AI revenue over the horizon per path (lease billings, or GPU-hours sold)."""
    payback_years: dict[StrategyKey, FloatArray]
    peak_funding_usd: dict[StrategyKey, FloatArray]
    min_dscr: dict[StrategyKey, FloatArray]
    dilution_fraction: dict[StrategyKey, FloatArray]
    irr: dict[StrategyKey, FloatArray]
    exit_npv_usd: float
    completed_paths: int
    mean_hashprice_usd_per_ph_day: FloatArray = field(default_factory=lambda: np.zeros(0))
    """Mean simulated hashprice of each path over the horizon."""
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """One row per (AI share, conversion year): NPV quantiles, probability of loss, revenue per MW-year, dilution."""
        rows = []
        years = self.config.years
        for (share, conv), v in self.npv_usd.items():
            rows.append(
                {
                    "ai_share": share,
                    "conversion_year": conv,
                    "npv_p10_musd": np.percentile(v, 10) / 1e6,
                    "npv_p50_musd": np.percentile(v, 50) / 1e6,
                    "npv_p90_musd": np.percentile(v, 90) / 1e6,
                    "npv_mean_musd": float(v.mean()) / 1e6,
                    "npv_p50_usd_per_mw": float(np.percentile(v, 50)) / self.site_mw,
                    "loss_probability": float((v < 0).mean()),
                    "revenue_usd_per_mw_year": float(self.revenue_usd[(share, conv)].mean() / self.site_mw / years),
                    "ai_revenue_share_last_year": float(np.median(self.ai_revenue_share[(share, conv)])),
                    "irr_p50": float(np.nanpercentile(self.irr[(share, conv)], 50)) if np.isfinite(self.irr[(share, conv)]).any() else float("nan"),
                    "peak_funding_p50_musd": float(np.percentile(self.peak_funding_usd[(share, conv)], 50)) / 1e6,
                    "payback_p50_years": float(np.nanpercentile(self.payback_years[(share, conv)], 50))
                    if np.isfinite(self.payback_years[(share, conv)]).any()
                    else float("nan"),
                    "min_dscr_p50": float(np.nanpercentile(self.min_dscr[(share, conv)], 50))
                    if np.isfinite(self.min_dscr[(share, conv)]).any()
                    else float("nan"),
                    "dilution_mean_fraction": float(self.dilution_fraction[(share, conv)].mean()),
                }
            )
        return pd.DataFrame(rows)

    def recommended(self) -> StrategyKey:
        """The (AI share, conversion year) with the highest median (P50) NPV: robust to the heavy right tail of BTC prices."""
        return max(self.npv_usd, key=lambda k: float(np.median(self.npv_usd[k])))

    def strategies(self) -> pd.DataFrame:
        """Pure mining, pure AI, the best hybrid, and exit (sale at ``exit_ev_usd_per_mw``)."""
        t = self.table().set_index(["ai_share", "conversion_year"])
        best = lambda frame: frame["npv_p50_musd"].idxmax()  # noqa: E731
        picks: dict[str, Any] = {}
        mining = t[t.index.get_level_values(0) == 0.0]
        ai = t[t.index.get_level_values(0) == 1.0]
        hybrid = t[(t.index.get_level_values(0) > 0) & (t.index.get_level_values(0) < 1)]
        for name, frame in (("pure mining", mining), ("pure AI", ai), ("hybrid", hybrid)):
            if len(frame):
                key = best(frame)
                picks[name] = {"ai_share": key[0], "conversion_year": int(key[1]), **frame.loc[key].to_dict()}
        exit_musd = self.exit_npv_usd / 1e6
        picks["exit"] = {
            "ai_share": float("nan"),
            "conversion_year": 0,
            "npv_p10_musd": exit_musd,
            "npv_p50_musd": exit_musd,
            "npv_p90_musd": exit_musd,
            "npv_mean_musd": exit_musd,
            "loss_probability": 0.0,
        }
        out = pd.DataFrame(picks).T.rename_axis("strategy")
        out["conversion_year"] = out["conversion_year"].astype(int)
        return out.infer_objects()


# --- one chunk of paths ----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _price_years(settlement_point: str, years: tuple[int, ...]) -> FloatArray:
    """Hourly mean hub prices for each UTC year, 8760 hours each (a leap day is dropped), gaps filled from the previous hour."""
    hub = load_ercot_hub_prices()[settlement_point]
    out = []
    for y in years:
        hourly = hub.loc[f"{y}-01-01" : f"{y}-12-31"].resample("1h").mean()
        full = pd.date_range(f"{y}-01-01", periods=8784 if y % 4 == 0 else 8760, freq="1h", tz="UTC")
        hourly = hourly.reindex(full).ffill().bfill()
        values = hourly.to_numpy()
        if len(values) == 8784:
            values = np.delete(values, np.s_[59 * 24 : 60 * 24])  # Feb 29
        out.append(values)
    return np.stack(out)


def _chunk(scenario_json: str, config_json: str, chunk_index: int, n_paths: int, entropy: int) -> dict[str, Any]:
    """Simulate ``n_paths`` paths and return per-path metrics for every strategy (runs in a worker)."""
    from mullet.network.simulate import SupplyModel, simulate_network

    sc = Scenario.model_validate_json(scenario_json)
    cfg = PlanConfig.model_validate_json(config_json)
    seq = np.random.SeedSequence(entropy=entropy, spawn_key=(chunk_index,))
    rng = np.random.default_rng(seq)
    net = simulate_network(paths=n_paths, years=cfg.years, seed=rng, supply=SupplyModel())
    years = cfg.years
    site_mw = sc.interconnect.import_limit_mw
    fleet = sc.mining[0] if sc.mining else None
    eff = fleet.efficiency_j_per_th if fleet else 17.5
    pool = fleet.pool_fee_fraction if fleet else 0.02
    cool = fleet.cooling_overhead_fraction if fleet else 0.05
    adder = sc.power.retail_adder_usd_per_mwh
    cp_rate = sc.power.four_cp.rate_usd_per_kw_year
    ppa_mw = sum(p.power_mw for p in sc.power.ppas if p.shape == "flat")
    ppa_cost = sum(p.power_mw * p.price_usd_per_mwh for p in sc.power.ppas if p.shape == "flat")
    prices = _price_years(sc.power.settlement_point, tuple(cfg.price_years))
    which = rng.integers(0, len(cfg.price_years), size=(n_paths, years))
    day_of_year = (np.arange(8760) // 24).clip(max=364)

    # per path-year hourly mining value and spot price; gross mining value per MW when it runs
    values: list[FloatArray] = []
    costs: list[FloatArray] = []
    gross_per_mw = np.zeros((n_paths, years))
    mean_price = np.zeros((n_paths, years))
    ppa_settle = np.zeros((n_paths, years))
    for y in range(years):
        hp = net.hashprice_usd_per_ph_day[:, y * 365 : (y + 1) * 365]
        value = mining_value_usd_per_mwh(hp[:, day_of_year], eff) * (1 - pool) / (1 + cool)  # (paths, 8760)
        price = prices[which[:, y]]
        values.append(value[..., None])
        costs.append(price + adder)
        gross_per_mw[:, y] = (value * (value > price + adder)).sum(axis=1)
        mean_price[:, y] = price.mean(axis=1)
        ppa_settle[:, y] = (price * ppa_mw).sum(axis=1) - ppa_cost * 8760
    btc_ratio = net.price_usd[:, -1] / net.price_usd[:, 0]
    gpu_price = simulate_gpu_prices(cfg.gpu_usd_per_hour, cfg.gpu_price_decline_per_year, cfg.gpu_price_vol_per_year, years, n_paths, rng)

    out: dict[str, Any] = {"paths": n_paths, "strategies": {}, "mean_hashprice": net.hashprice_usd_per_ph_day[:, : years * 365].mean(axis=1)}
    r = cfg.discount_rate_fraction
    fin = cfg.financing
    share_price_end = fin.share_price_usd * btc_ratio**fin.share_beta_to_btc
    for share in cfg.ai_shares:
        for conv in cfg.conversion_years:
            y_idx = np.arange(1, years + 1)
            ai_on = (y_idx >= conv).astype(float)
            ai_site_mw = share * site_mw * ai_on  # (years,)
            ai_it_mw = ai_site_mw / cfg.ai_pue
            mining_mw = site_mw - ai_site_mw
            contract_year = np.maximum(y_idx - conv, 0)
            gpus = ai_it_mw * 1000 / cfg.gpu_power_kw  # (years,)
            if cfg.ai_contract == "lease":
                ai_rev = np.broadcast_to(cfg.ai_usd_per_kw_month * 12 * 1000 * ai_it_mw * (1 + cfg.ai_escalator_fraction) ** contract_year, (n_paths, years))
                gpu_capex = np.zeros(years + 1)
            else:
                ai_rev = gpus[None, :] * gpu_price[:, contract_year] * cfg.gpu_utilisation_fraction * 8760
                gpu_capex = np.zeros(years + 1)
                n_gpus = share * site_mw / cfg.ai_pue * 1000 / cfg.gpu_power_kw
                for y in range(max(conv - 1, 0), years, cfg.gpu_refresh_years):
                    gpu_capex[y] += n_gpus * cfg.gpu_capex_usd
            # the site dispatch for every path and year (exact fast path): mining is the flexible back of the remaining MW
            mining_margin = np.zeros((n_paths, years))
            for y in range(years):
                if mining_mw[y] > 0:
                    room = float(mining_mw[y])
                    mining_margin[:, y] = greedy_dispatch(values[y], costs[y], room, np.zeros(1), np.array([room]), value_only=True).value_usd
            ai_energy = (mean_price + adder) * 8760 * ai_site_mw[None, :] + cp_rate * 1000 * ai_site_mw[None, :]
            opex = cfg.mining.opex_usd_per_mw_year * mining_mw + cfg.capex.ai_opex_usd_per_mw_year * ai_it_mw
            th = mining_mw * 1e6 / eff / (1 + cool)
            refresh = np.where(y_idx % max(round(cfg.mining.refresh_years), 1) == 0, cfg.mining.asic_capex_usd_per_th * th, 0.0)
            ai_capex_total = cfg.capex.ai_shell_usd_per_mw * share * site_mw / cfg.ai_pue
            capex_year = max(conv - cfg.capex.time_to_power_years, 0)
            ebitda = ai_rev + mining_margin - ai_energy - opex[None, :] + ppa_settle
            depreciation = ai_capex_total / cfg.capex.depreciation_years * (y_idx > capex_year) + refresh / cfg.mining.refresh_years
            depreciation = depreciation + np.convolve(gpu_capex, np.ones(cfg.gpu_refresh_years) / cfg.gpu_refresh_years)[1 : years + 1]
            tax = cfg.capex.tax_rate_fraction * np.maximum(ebitda - depreciation[None, :], 0.0)
            cf = np.zeros((n_paths, years + 1))
            cf[:, 1:] = ebitda - tax - refresh[None, :]
            cf[:, capex_year] -= ai_capex_total
            cf -= gpu_capex[None, :]
            npv_usd = np.asarray(npv(r, cf))
            # financing
            service = np.zeros(years)
            for d in fin.debt:
                service += d.service_usd(years)
            for note in fin.convertibles:
                service += np.where(y_idx <= note.maturity_years, note.principal_usd * note.coupon_fraction, 0.0)
            cash_avail = ebitda - tax
            with np.errstate(divide="ignore", invalid="ignore"):
                dscr = np.where(service[None, :] > 0, cash_avail / np.where(service > 0, service, 1.0)[None, :], np.nan)
            min_dscr = np.nanmin(np.where(np.isnan(dscr), np.inf, dscr), axis=1)
            min_dscr = np.where(np.isinf(min_dscr), np.nan, min_dscr)
            new_shares = fin.equity_raise_usd / fin.equity_price_usd * np.ones(n_paths) if fin.equity_raise_usd else np.zeros(n_paths)
            for note in fin.convertibles:
                shares, _ = convertible_outcome(note, share_price_end)
                new_shares = new_shares + shares
            gross_mining = gross_per_mw * mining_mw[None, :]
            revenue = ai_rev + gross_mining
            out["strategies"][f"{share}|{conv}"] = {
                "npv_usd": npv_usd,
                "revenue_usd": revenue.sum(axis=1),
                "ai_revenue_share": ai_rev[:, -1] / np.maximum(revenue[:, -1], 1e-9),
                "contracted_revenue_usd": ai_rev.sum(axis=1),
                "payback_years": _payback_rows(cf),
                "peak_funding_usd": np.maximum(-np.min(np.cumsum(cf, axis=1), axis=1), 0.0),
                "min_dscr": min_dscr,
                "dilution_fraction": new_shares / fin.shares_outstanding,
                "irr": _irr_rows(cf),
            }
    return out


def _payback_rows(cf: FloatArray) -> FloatArray:
    """Years until cumulative cash turns non-negative for good, per row (interpolated; NaN if never)."""
    cum = np.cumsum(cf, axis=1)
    negative = cum < 0
    n = cf.shape[1]
    last_neg = n - 1 - np.argmax(negative[:, ::-1], axis=1)
    idx = np.arange(cf.shape[0])
    nxt = np.minimum(last_neg + 1, n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = -cum[idx, last_neg] / cf[idx, nxt]
    out = np.where(negative.any(axis=1), last_neg + frac, 0.0)
    return np.where(cum[:, -1] < 0, np.nan, out)


def _irr_rows(cf: FloatArray) -> FloatArray:
    """IRR of each row by vectorised bisection on [-0.99, 10]; NaN where NPV does not change sign there."""
    lo = np.full(cf.shape[0], -0.99)
    hi = np.full(cf.shape[0], 10.0)
    f = lambda rate: (cf * (1 + rate[:, None]) ** -np.arange(cf.shape[1])).sum(axis=1)  # noqa: E731
    f_lo, f_hi = f(lo), f(hi)
    ok = np.sign(f_lo) != np.sign(f_hi)
    for _ in range(80):
        mid = (lo + hi) / 2
        f_mid = f(mid)
        left = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(left, mid, lo)
        f_lo = np.where(left, f_mid, f_lo)
        hi = np.where(left, hi, mid)
    return np.where(ok, (lo + hi) / 2, np.nan)


# --- orchestration ------------------------------------------------------------------------------------------


def _merge(parts: list[dict[str, Any]], cfg: PlanConfig, site_mw: float, interrupted: bool, notes: list[str]) -> PlanResult:
    keys = [(s, c) for s in cfg.ai_shares for c in cfg.conversion_years]
    fields = (
        "npv_usd",
        "revenue_usd",
        "ai_revenue_share",
        "contracted_revenue_usd",
        "payback_years",
        "peak_funding_usd",
        "min_dscr",
        "dilution_fraction",
        "irr",
    )
    merged: dict[str, dict[StrategyKey, FloatArray]] = {f: {} for f in fields}
    for key in keys:
        tag = f"{key[0]}|{key[1]}"
        for f in fields:
            merged[f][key] = np.concatenate([p["strategies"][tag][f] for p in parts]) if parts else np.zeros(0)
    return PlanResult(
        config=cfg,
        site_mw=site_mw,
        exit_npv_usd=cfg.exit_ev_usd_per_mw * site_mw,
        completed_paths=int(sum(p["paths"] for p in parts)),
        mean_hashprice_usd_per_ph_day=np.concatenate([p["mean_hashprice"] for p in parts]) if parts else np.zeros(0),
        interrupted=interrupted,
        notes=notes,
        **merged,
    )


def input_hash(scenario: Scenario, cfg: PlanConfig) -> str:
    """SHA-256 of the scenario and plan configuration (JSON, sorted keys)."""
    blob = json.dumps({"scenario": scenario.model_dump(mode="json"), "plan": cfg.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_plan(
    scenario: Scenario,
    cfg: PlanConfig,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PlanResult:
    """Run the plan: chunks of paths on a local process pool, in this process (``workers=1``), or on Dask.

    ``scheduler`` is a Dask scheduler address (``tcp://host:port``), else the
    ``MULLET_SCHEDULER`` environment variable, else local. ``progress(done, total)``
    is called as chunks finish. Ctrl-C stops cleanly: finished chunks are kept and
    the result is marked ``interrupted``.
    """
    if not scenario.mining and not scenario.ai:
        raise ScenarioError("scenario: nothing to plan")
    scheduler = scheduler or os.environ.get("MULLET_SCHEDULER") or None
    sizes = [min(cfg.chunk_paths, cfg.paths - i) for i in range(0, cfg.paths, cfg.chunk_paths)]
    sc_json, cfg_json = scenario.model_dump_json(), cfg.model_dump_json()
    tasks = [(sc_json, cfg_json, i, n, cfg.seed) for i, n in enumerate(sizes)]
    results: dict[int, dict[str, Any]] = {}
    interrupted = False
    notes = [
        f"hashprice from the network simulation (supply model defaults); power prices resampled from ERCOT {scenario.power.settlement_point} {cfg.price_years}",
        "AI load is firm and pays its energy at the year's mean price plus adders and 4CP on its MW; mining dispatches on the rest (exact fast path)",
        "leases renew at the escalated rate after their term; ancillary revenue and shaped PPAs are not in the plan",
    ]
    pm = fit_price_model()
    notes.append(
        f"BTC price model fitted on {pm.fitted_on}: drift {pm.drift_per_year:.1%}/yr, vol {pm.vol_per_year:.1%}/yr, "
        f"{pm.jump_per_year:.1f} jumps/yr (mean {pm.jump_mean:+.1%}, sd {pm.jump_sd:.1%})"
    )
    if cfg.ai_contract == "gpu_cloud":
        notes.append(
            f"GPU cloud: ${cfg.gpu_usd_per_hour:g}/GPU-h falling {cfg.gpu_price_decline_per_year:.0%}/yr on average (vol {cfg.gpu_price_vol_per_year:.0%}), "
            f"{cfg.gpu_utilisation_fraction:.0%} utilised, ${cfg.gpu_capex_usd:,.0f} per GPU every {cfg.gpu_refresh_years} years"
        )

    def done(i: int, value: dict[str, Any]) -> None:
        results[i] = value
        if progress is not None:
            progress(len(results), len(tasks))

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
            with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
                futs: dict[Future[dict[str, Any]], int] = {pool.submit(_chunk, *t): i for i, t in enumerate(tasks)}
                try:
                    from concurrent.futures import as_completed as local_completed

                    for fut in local_completed(futs):
                        done(futs[fut], fut.result())
                except KeyboardInterrupt:
                    interrupted = True
                    for f in futs:
                        f.cancel()
                    pool.shutdown(wait=False, cancel_futures=True)
    except KeyboardInterrupt:
        interrupted = True
    ordered = [results[i] for i in sorted(results)]
    if interrupted:
        notes.append(f"interrupted: {len(ordered)} of {len(tasks)} chunks finished")
    return _merge(ordered, cfg, scenario.interconnect.import_limit_mw, interrupted, notes)


PlanStatus = Literal["complete", "interrupted"]
