"""Seeded stochastic scenarios: BTC price paths, fees per block, resampled power-price years.

Every generator takes a ``numpy.random.Generator`` (or a seed) so that the same
seed gives the same numbers on any machine (numpy's PCG64 is platform-stable).
Default parameters are fitted to the bundled history by :func:`fit_price_model`
and are shown to the user (``mullet network simulate`` prints them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.data import load_network_daily
from mullet.errors import ScenarioError

__all__ = [
    "FeeModel",
    "PriceModel",
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

    def as_dict(self) -> dict[str, float | str]:
        """Parameters as a plain dict (for display and JSON)."""
        return asdict(self)


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
    return PriceModel(
        drift_per_year=float(body.mean() * 365),
        vol_per_year=float(body.std(ddof=1) * np.sqrt(365)),
        jump_per_year=float(jumps.sum() / years),
        jump_mean=float(jr.mean()) if len(jr) else 0.0,
        jump_sd=float(jr.std(ddof=1)) if len(jr) > 1 else 0.0,
        fitted_on=f"{p.index[0].date()}..{p.index[-1].date()}",
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
    """Fees per block [BTC]: lognormal around a median, with AR(1) persistence of the log deviation per day."""

    median_btc_per_block: float
    log_sd: float
    persistence: float
    fitted_on: str = ""


def fit_fee_model(days: int = 365, network: pd.DataFrame | None = None) -> FeeModel:
    """Fit :class:`FeeModel` to the last ``days`` days with known fees in the bundled history."""
    n = load_network_daily() if network is None else network
    known = n[n["fees_known"]].tail(days)
    if len(known) < 30:
        raise ScenarioError(f"days: only {len(known)} days with known fees; allowed: at least 30")
    x = np.log((known["fees_btc"] / known["block_count"]).to_numpy(dtype=float))
    dev = x - np.median(x)
    phi = float(np.clip(np.corrcoef(dev[:-1], dev[1:])[0, 1], 0.0, 0.999))
    return FeeModel(float(np.exp(np.median(x))), float(dev.std(ddof=1)), phi, f"{known.index[0].date()}..{known.index[-1].date()}")


def simulate_fees_btc_per_block(model: FeeModel, days: int, paths: int, seed: int | np.random.Generator | None = None) -> FloatArray:
    """Daily fees per block [BTC], shape (paths, days)."""
    rng = rng_from(seed)
    eps = rng.standard_normal((paths, days)) * model.log_sd * np.sqrt(1 - model.persistence**2)
    dev = np.empty((paths, days))
    dev[:, 0] = rng.standard_normal(paths) * model.log_sd
    for d in range(1, days):
        dev[:, d] = model.persistence * dev[:, d - 1] + eps[:, d]
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
