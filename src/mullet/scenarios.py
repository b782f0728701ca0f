"""Seeded stochastic scenarios: BTC price paths, fees per block, resampled power-price years.

Every generator takes a ``numpy.random.Generator`` (or a seed) so that the same
seed gives the same numbers on any machine (numpy's PCG64 is platform-stable).
Default parameters are fitted to the bundled history by :func:`fit_price_model`
and are shown to the user (``mullet network simulate`` prints them).

BTC drift is an assumption that decides planning answers, so it is chosen by a
:class:`PriceMeasure`: by default a *neutral* drift (the price is expected to grow
at the risk-free rate, a stated field), a drift the user sets, or, as an opt-in,
the historical fit, which is always reported with its standard error
(:attr:`PriceModel.drift_se_per_year`). Fees per block have a spike regime
(a two-state Markov chain fitted to the bundled fee history by :func:`fit_fee_model`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mullet.data import load_network_daily
from mullet.errors import ScenarioError

__all__ = [
    "FeeModel",
    "PriceMeasure",
    "PriceModel",
    "apply_price_measure",
    "fee_spike_days",
    "fit_fee_model",
    "fit_price_model",
    "rng_from",
    "simulate_fees_btc_per_block",
    "simulate_gpu_prices",
    "simulate_prices_usd",
]

FloatArray = npt.NDArray[np.float64]


def rng_from(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A PCG64 generator from a seed (or the generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and seed < 0:
        raise ScenarioError(f"seed: got {seed}, allowed: an integer >= 0")
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class PriceModel:
    """Geometric Brownian motion with Gaussian jumps in log price (Merton), per year.

    ``drift_per_year`` is the mean daily log return x 365 of the diffusion part,
    ``vol_per_year`` its standard deviation x sqrt(365); jumps arrive at
    ``jump_per_year`` with log size ~ N(``jump_mean``, ``jump_sd``).
    """

    drift_per_year: float
    vol_per_year: float
    jump_per_year: float
    jump_mean: float
    jump_sd: float
    fitted_on: str = ""
    drift_se_per_year: float = float("nan")
    """Standard error of the fitted historical drift: body volatility / sqrt(years of data) (NaN if not fitted)."""
    historical_drift_per_year: float = float("nan")
    """The fitted historical log drift, kept when a :class:`PriceMeasure` replaces ``drift_per_year``."""
    measure: str = "historical"
    """Which measure set ``drift_per_year``: ``historical`` (the fit), ``neutral`` or ``user`` (see :class:`PriceMeasure`)."""

    def as_dict(self) -> dict[str, float | str]:
        """Parameters as a plain dict (for display and JSON), with ``expected_growth_per_year``."""
        return {**asdict(self), "expected_growth_per_year": self.expected_growth_per_year}

    @property
    def jump_compensator_per_year(self) -> float:
        """Expected yearly log-price-to-price correction of the jumps: ``jump_per_year x (E[exp(J)] - 1)``."""
        return float(self.jump_per_year * (np.exp(self.jump_mean + self.jump_sd**2 / 2) - 1))

    @property
    def expected_growth_per_year(self) -> float:
        """Continuously compounded growth of the mean price, ``ln E[S_1]/S_0`` per year (drift + vol^2/2 + jumps)."""
        return float(self.drift_per_year + self.vol_per_year**2 / 2 + self.jump_compensator_per_year)

    def describe(self) -> str:
        """One line for users: the measure, the drift, its standard error when historical, vol and jumps."""
        hist = self.historical_drift_per_year if np.isfinite(self.historical_drift_per_year) else self.drift_per_year
        se = f" +/- {self.drift_se_per_year:.1%} (1 s.e.)" if np.isfinite(self.drift_se_per_year) else ""
        return (
            f"BTC price measure {self.measure}: expected growth {self.expected_growth_per_year:.1%}/yr "
            f"(log drift {self.drift_per_year:.1%}/yr); historical log drift {hist:.1%}/yr{se} fitted {self.fitted_on}; "
            f"vol {self.vol_per_year:.1%}/yr, jumps {self.jump_per_year:.1f}/yr of mean {self.jump_mean:+.1%} sd {self.jump_sd:.1%}"
        )


class PriceMeasure(BaseModel):
    """Which BTC drift the price paths use: an assumption that decides planning answers, printed with every result.

    ``kind``:

    - ``neutral`` (default): the mean price grows at ``risk_free_rate_per_year``, the risk-free part of the
      discount rate (a risk-neutral measure: no view on BTC beyond the time value of money).
    - ``user``: the mean price grows at ``expected_growth_per_year``, a view the user states.
    - ``historical``: the drift fitted to the bundled prices (opt-in). Its standard error is about as large as the
      drift itself on 2018-2025 data, so a plan resting on it rests on noise; it is printed with that error.

    Growth rates are continuously compounded growth of the *mean* price, ``ln E[S_t]/S_0`` per year; the
    log drift of the paths is that minus half the variance and the jump compensator. Volatility and jumps stay
    as fitted under every measure.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Annotated[Literal["neutral", "user", "historical"], Field(description="neutral, user or historical (see the class docstring).")] = "neutral"
    risk_free_rate_per_year: Annotated[float, Field(ge=-0.05, le=0.25, description="Risk-free rate, continuously compounded [1/yr] (neutral measure).")] = 0.04
    expected_growth_per_year: Annotated[float | None, Field(ge=-1.0, le=2.0, description="Growth of the mean BTC price [1/yr] (user measure).")] = None

    @model_validator(mode="after")
    def _user_needs_growth(self) -> PriceMeasure:
        if self.kind == "user" and self.expected_growth_per_year is None:
            raise ValueError("expected_growth_per_year: got None with kind='user'; allowed: a number in -1..2")
        return self


def apply_price_measure(model: PriceModel, measure: PriceMeasure | None = None) -> PriceModel:
    """``model`` with its drift set by ``measure`` (default: neutral at 4%/yr); vol and jumps unchanged.

    The fitted drift is kept in ``historical_drift_per_year`` (with its standard error) so it can be printed.
    """
    measure = measure or PriceMeasure()
    hist = model.historical_drift_per_year if np.isfinite(model.historical_drift_per_year) else model.drift_per_year
    if measure.kind == "historical":
        return replace(model, drift_per_year=hist, historical_drift_per_year=hist, measure="historical")
    growth = measure.risk_free_rate_per_year if measure.kind == "neutral" else float(measure.expected_growth_per_year)  # type: ignore[arg-type]
    drift = growth - model.vol_per_year**2 / 2 - model.jump_compensator_per_year
    return replace(model, drift_per_year=drift, historical_drift_per_year=hist, measure=measure.kind)


def fit_price_model(start: str = "2018-01-01", end: str | None = None, prices: pd.Series | None = None, jump_sigmas: float = 4.0) -> PriceModel:
    """Fit :class:`PriceModel` to daily prices: returns beyond ``jump_sigmas`` robust sigmas are jumps.

    Robust sigma is 1.4826 x the median absolute deviation of daily log returns.
    """
    p = load_network_daily()["price_usd"] if prices is None else prices
    p = p.loc[start:end] if end is not None else p.loc[start:]
    if len(p) < 60:
        raise ScenarioError(f"start/end: got {len(p)} days of prices, allowed: at least 60 to fit a price model")
    r = np.diff(np.log(p.to_numpy(dtype=float)))
    med = np.median(r)
    sigma = 1.4826 * np.median(np.abs(r - med))
    jumps = np.abs(r - med) > jump_sigmas * sigma
    years = len(r) / 365.0
    body = r[~jumps]
    jr = r[jumps]
    vol = float(body.std(ddof=1) * np.sqrt(365))
    return PriceModel(
        drift_per_year=float(body.mean() * 365),
        vol_per_year=vol,
        jump_per_year=float(jumps.sum() / years),
        jump_mean=float(jr.mean()) if len(jr) else 0.0,
        jump_sd=float(jr.std(ddof=1)) if len(jr) > 1 else 0.0,
        fitted_on=f"{p.index[0].date()}..{p.index[-1].date()}",
        drift_se_per_year=vol / float(np.sqrt(years)),
        historical_drift_per_year=float(body.mean() * 365),
        measure="historical",
    )


def simulate_prices_usd(model: PriceModel, start_price_usd: float, days: int, paths: int, seed: int | np.random.Generator | None = None) -> FloatArray:
    """Daily BTC price paths, shape (paths, days); day 0 is ``start_price_usd`` times one day's move."""
    if start_price_usd <= 0 or days <= 0 or paths <= 0:
        raise ScenarioError(f"price paths: got start {start_price_usd}, days {days}, paths {paths}; allowed: all > 0")
    rng = rng_from(seed)
    dt = 1 / 365.0
    diffusion = rng.normal(model.drift_per_year * dt, model.vol_per_year * np.sqrt(dt), size=(paths, days))
    n_jumps = rng.poisson(model.jump_per_year * dt, size=(paths, days))
    jumps = n_jumps * model.jump_mean + np.sqrt(n_jumps) * model.jump_sd * rng.standard_normal((paths, days))
    return np.asarray(start_price_usd * np.exp(np.cumsum(diffusion + jumps, axis=1)))


@dataclass(frozen=True)
class FeeModel:
    """Fees per block [BTC]: lognormal around a median, AR(1) persistence of the log deviation per day, and spikes.

    Spikes are a second regime of a two-state Markov chain on days: a calm day turns into a spike day with
    probability ``spike_start_per_day``, a spike day stays one with ``spike_stay_per_day``; on spike days
    the log fee is raised by N(``spike_log_mean``, ``spike_log_sd``) (drawn per day). ``spike_start_per_day = 0``
    turns spikes off.
    """

    median_btc_per_block: float
    log_sd: float
    persistence: float
    fitted_on: str = ""
    spike_start_per_day: float = 0.0
    spike_stay_per_day: float = 0.0
    spike_log_mean: float = 0.0
    spike_log_sd: float = 0.0
    spikes_fitted_on: str = ""

    @property
    def spike_share_of_days(self) -> float:
        """Long-run share of spike days of the Markov chain: ``start / (start + 1 - stay)``."""
        leave = 1 - self.spike_stay_per_day
        return float(self.spike_start_per_day / (self.spike_start_per_day + leave)) if self.spike_start_per_day > 0 else 0.0


def fee_spike_days(network: pd.DataFrame | None = None, spike_sigmas: float = 3.0, baseline_days: int = 90) -> pd.DataFrame:
    """Fee spike days of the longest contiguous run of known-fee days (2023-02-18 onward in the bundled data).

    Returns, per day with a baseline, ``log_fee_btc_per_block``, ``excess`` (log fee per block minus its trailing
    ``baseline_days`` median) and ``spike`` (excess above ``spike_sigmas`` robust sigmas, 1.4826 x the median
    absolute deviation of the excess). Index: UTC day.
    """
    n = load_network_daily() if network is None else network
    known_all = n[n["fees_known"]]
    if len(known_all) < 30:
        raise ScenarioError(f"days: only {len(known_all)} days with known fees; allowed: at least 30")
    gap = known_all.index.to_series().diff() != pd.Timedelta(days=1)
    run_id = gap.cumsum()
    run = known_all[run_id == run_id.value_counts().idxmax()]
    x = pd.Series(np.log((run["fees_btc"] / run["block_count"]).to_numpy(dtype=float)), index=run.index)
    base = x.rolling(baseline_days, min_periods=min(baseline_days, 30)).median()
    excess = (x - base).dropna()
    sigma = 1.4826 * float(np.median(np.abs(excess - np.median(excess))))
    spike = excess > spike_sigmas * sigma if sigma > 0 else excess > np.inf
    return pd.DataFrame({"log_fee_btc_per_block": x.reindex(excess.index), "excess": excess, "spike": spike})


def fit_fee_model(days: int = 365, network: pd.DataFrame | None = None, spike_sigmas: float = 3.0, baseline_days: int = 90) -> FeeModel:
    """Fit :class:`FeeModel`: level and AR(1) body to the last ``days`` days with known fees, spikes to all of them.

    Only the longest contiguous run of known-fee days is used (in the bundled data 2023-02-18 onward; the 22 known
    days of January 2014 are left out). Spike days are those of :func:`fee_spike_days`; the Markov chain's
    probabilities are the observed transition frequencies; the spike size is the mean and sd of the excess on spike
    days. Spike days are left out of the body's fit. With fewer than 30 known days nothing can be fitted (a clear
    error).
    """
    n = load_network_daily() if network is None else network
    spikes = fee_spike_days(n, spike_sigmas, baseline_days)
    known_all = n[n["fees_known"]]
    gap = known_all.index.to_series().diff() != pd.Timedelta(days=1)
    run_id = gap.cumsum()
    run = known_all[run_id == run_id.value_counts().idxmax()]
    spike = spikes["spike"].to_numpy()
    excess = spikes["excess"]
    calm_next = spike[1:][~spike[:-1]]
    spike_next = spike[1:][spike[:-1]]
    start_p = float(calm_next.mean()) if len(calm_next) else 0.0
    stay_p = float(spike_next.mean()) if len(spike_next) else 0.0
    sizes = excess.to_numpy()[spike] if spike.any() else np.zeros(0)

    known = run.tail(days)
    if len(known) < 30:
        raise ScenarioError(f"days: only {len(known)} days with known fees; allowed: at least 30")
    is_spike = pd.Series(spike, index=excess.index).reindex(known.index, fill_value=False).to_numpy()
    x = np.log((known["fees_btc"] / known["block_count"]).to_numpy(dtype=float))
    dev = x - np.median(x[~is_spike])
    calm = ~is_spike[:-1] & ~is_spike[1:]
    phi = float(np.clip(np.corrcoef(dev[:-1][calm], dev[1:][calm])[0, 1], 0.0, 0.999))
    return FeeModel(
        float(np.exp(np.median(x[~is_spike]))),
        float(dev[~is_spike].std(ddof=1)),
        phi,
        f"{known.index[0].date()}..{known.index[-1].date()}",
        spike_start_per_day=start_p,
        spike_stay_per_day=stay_p,
        spike_log_mean=float(sizes.mean()) if len(sizes) else 0.0,
        spike_log_sd=float(sizes.std(ddof=1)) if len(sizes) > 1 else 0.0,
        spikes_fitted_on=f"{excess.index[0].date()}..{excess.index[-1].date()}: {int(spike.sum())} spike days of {len(spike)}",
    )


def simulate_fees_btc_per_block(model: FeeModel, days: int, paths: int, seed: int | np.random.Generator | None = None) -> FloatArray:
    """Daily fees per block [BTC], shape (paths, days): the AR(1) body times the spike regime's multiplier."""
    rng = rng_from(seed)
    eps = rng.standard_normal((paths, days)) * model.log_sd * np.sqrt(1 - model.persistence**2)
    dev = np.empty((paths, days))
    dev[:, 0] = rng.standard_normal(paths) * model.log_sd
    for d in range(1, days):
        dev[:, d] = model.persistence * dev[:, d - 1] + eps[:, d]
    if model.spike_start_per_day > 0:
        u = rng.random((paths, days))
        size = model.spike_log_mean + model.spike_log_sd * rng.standard_normal((paths, days))
        state = u[:, 0] < model.spike_share_of_days  # start in the chain's stationary distribution
        regime = np.empty((paths, days), dtype=bool)
        regime[:, 0] = state
        for d in range(1, days):
            state = np.where(state, u[:, d] < model.spike_stay_per_day, u[:, d] < model.spike_start_per_day)
            regime[:, d] = state
        dev = dev + np.where(regime, np.maximum(size, 0.0), 0.0)
    return np.asarray(model.median_btc_per_block * np.exp(dev))


def simulate_gpu_prices(
    start_usd_per_gpu_hour: float,
    decline_per_year: float,
    vol_per_year: float,
    years: int,
    paths: int,
    seed: int | np.random.Generator | None = None,
) -> FloatArray:
    """Yearly mean GPU rental price paths [USD/GPU-hour], shape (paths, years); year 0 is the start price.

    Lognormal around a steady decline: ``start x (1 - decline)^y x exp(vol W_y - vol^2 y / 2)``, so the
    mean path is the deterministic decline (the decline and volatility are assumptions to set).
    """
    if start_usd_per_gpu_hour <= 0 or not 0 <= decline_per_year < 1 or vol_per_year < 0:
        raise ScenarioError(
            f"gpu prices: got start {start_usd_per_gpu_hour}, decline {decline_per_year}, vol {vol_per_year}; allowed: start > 0, 0 <= decline < 1, vol >= 0"
        )
    rng = rng_from(seed)
    y = np.arange(years)
    walk = np.cumsum(rng.standard_normal((paths, max(years - 1, 0))), axis=1)  # W_1 .. W_{years-1}
    w = np.concatenate([np.zeros((paths, 1)), walk], axis=1)  # W_0 = 0
    return np.asarray(start_usd_per_gpu_hour * (1 - decline_per_year) ** y * np.exp(vol_per_year * w - vol_per_year**2 * y / 2))
