"""Realisable 4CP (and PJM 5CP) calls: a day-ahead load forecast trained on past years only, a same-day update, a tuned margin.

ERCOT allocates transmission cost on a load's share of the four June-September
monthly system peaks (4CP). Knowing the peak hours in advance is hindsight;
a site calls "4CP alerts" from what it knows:

- **day ahead**: a ridge regression of hourly system load on the same hour one,
  two and seven days before, the previous day's peak, hour of day, weekend and
  month (fitted only on summers before the scored year);
- **same day**: by noon local time the morning's load is known; the afternoon
  forecast is scaled by actual / forecast morning load;
- **call**: an hour is an alert hour when its forecast is at least ``1 - margin``
  of the reference peak: the month's peak so far (actual, through the previous
  day), or early in a month the lowest monthly summer peak of the previous year.

PJM's 5CP (the five highest daily peaks of June-September) uses the same forecast and
tuning; its reference peak is the season's fifth-highest daily peak so far, never below the
previous season's fifth (:attr:`mullet.markets.base.Market.coincident_peak_basis`).

The margin is tuned on earlier summers (least cost of missed peaks plus curtailed
hours) and scored on a later one: peaks caught out of 4, hours curtailed.
All series are hourly, tz-aware UTC interval starts.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from mullet.errors import ScenarioError
from mullet.markets.base import Market

__all__ = [
    "FourCPCallConfig",
    "FourCPScore",
    "LoadForecast",
    "call_alerts",
    "fit_load_forecast",
    "forecast_load",
    "load_key",
    "realisable_alerts",
    "score_alerts",
    "tune_margin",
]

FloatArray = npt.NDArray[np.float64]


class FourCPCallConfig(BaseModel):
    """Settings of the realisable 4CP call. Printed with every result they decide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ridge_lambda: float = Field(1.0, ge=0, description="Ridge penalty on the standardised features [-].")
    margins: tuple[float, ...] = Field(
        (0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08), description="Candidate margins below the reference peak tried in tuning [-]."
    )
    tune_years: int = Field(3, ge=1, le=8, description="Summers before the scored year on which the margin is tuned.")
    missed_peak_cost_usd_per_mw: float = Field(15_000.0, gt=0, description="Cost of one missed peak per MW of load left on (rate x 1000 / 4) [USD/MW].")
    curtail_cost_usd_per_mwh: float = Field(40.0, ge=0, description="Assumed mining margin lost per curtailed MWh, for tuning only (assumption) [USD/MWh].")
    same_day_update: bool = Field(True, description="Scale the afternoon forecast by the morning's actual / forecast load.")


@dataclass(frozen=True)
class FourCPScore:
    """How a set of alerts did in one summer."""

    year: int
    peaks_caught: int
    peaks: int
    alert_hours: int
    margin: float


@dataclass(frozen=True)
class _Calendar:
    year: npt.NDArray[np.int64]
    month: npt.NDArray[np.int64]
    hour: npt.NDArray[np.int64]
    day: npt.NDArray[np.int64]
    """Local day number (days since 1970-01-01 local)."""


def _features(load: pd.Series, market: Market) -> tuple[pd.DataFrame, _Calendar]:
    """Features known the day before each hour (UTC hourly index)."""
    s = load.asfreq("1h")
    local = market.local(pd.DatetimeIndex(s.index))
    cal = _Calendar(
        local.year.to_numpy().astype(np.int64),
        local.month.to_numpy().astype(np.int64),
        local.hour.to_numpy().astype(np.int64),
        (local.tz_localize(None).as_unit("s").asi8 // 86_400).astype(np.int64),
    )
    day_max = s.groupby(cal.day).transform("max")
    f = pd.DataFrame(index=s.index)
    f["lag24"] = s.shift(24)
    f["lag48"] = s.shift(48)
    f["lag168"] = s.shift(168)
    f["prev_day_max"] = day_max.shift(24)
    for h in range(24):
        f[f"h{h}"] = (cal.hour == h).astype(float)
    f["weekend"] = (local.day_of_week >= 5).astype(float)
    for m in market.coincident_peak_months:
        f[f"m{m}"] = (cal.month == m).astype(float)
    return f, cal


def load_key(load: pd.Series, market: Market) -> tuple[str, int, int]:
    """A cheap identity of a load series for caches: market, length and a hash of 512 evenly spaced values."""
    return (market.name, len(load), int(pd.util.hash_pandas_object(load.iloc[:: max(1, len(load) // 512)]).sum()))


_FEATURE_CACHE: dict[tuple[str, int, int], tuple[pd.DataFrame, _Calendar]] = {}


def _cached_features(load: pd.Series, market: Market) -> tuple[pd.DataFrame, _Calendar]:
    key = load_key(load, market)
    if key not in _FEATURE_CACHE:
        _FEATURE_CACHE.clear()
        _FEATURE_CACHE[key] = _features(load, market)
    return _FEATURE_CACHE[key]


@dataclass(frozen=True)
class LoadForecast:
    """Fitted ridge forecast: standardisation and coefficients."""

    columns: list[str]
    mean: FloatArray
    scale: FloatArray
    coef: FloatArray
    intercept: float
    trained_years: tuple[int, ...]


def fit_load_forecast(load: pd.Series, market: Market, years: list[int], config: FourCPCallConfig | None = None) -> LoadForecast:
    """Fit the day-ahead ridge forecast on the peak months of ``years`` only."""
    cfg = config or FourCPCallConfig()
    f, cal = _cached_features(load, market)
    y = load.asfreq("1h")
    keep = np.isin(cal.year, years) & np.isin(cal.month, list(market.coincident_peak_months))
    x = f[keep]
    t = y[keep]
    ok = x.notna().all(axis=1).to_numpy() & t.notna().to_numpy()
    if ok.sum() < 24 * 30:
        raise ScenarioError(f"four_cp: too little load history to fit a forecast on {years}; allowed: years with summer load")
    xa, ta = x[ok].to_numpy(), t[ok].to_numpy()
    mean, scale = xa.mean(axis=0), xa.std(axis=0)
    scale[scale == 0] = 1.0
    z = (xa - mean) / scale
    # einsum rather than BLAS: a 33 x 33 normal matrix, and BLAS thread pools stall on a shared machine
    gram = np.einsum("ij,ik->jk", z, z)
    coef = np.linalg.solve(gram + cfg.ridge_lambda * np.eye(z.shape[1]), np.einsum("ij,i->j", z, ta - ta.mean()))
    return LoadForecast(list(x.columns), mean, scale, coef, float(ta.mean()), tuple(years))


def forecast_load(model: LoadForecast, load: pd.Series, market: Market, same_day_update: bool = True) -> pd.Series:
    """Hourly forecast [MW] of ``load``'s hours from day-ahead features (plus the same-day noon update)."""
    f, cal = _cached_features(load, market)
    z = (f[model.columns].to_numpy() - model.mean) / model.scale
    pred = pd.Series(np.einsum("ij,j->i", z, model.coef) + model.intercept, index=f.index)
    if same_day_update:
        y = load.asfreq("1h")
        morning = (cal.hour >= 6) & (cal.hour < 12)
        act = y.where(morning).groupby(cal.day).transform("mean")
        fc = pred.where(morning).groupby(cal.day).transform("mean")
        ratio = (act / fc).where(lambda r: r.notna(), 1.0)
        afternoon = cal.hour >= 12
        pred = pred.where(~afternoon, pred * ratio.to_numpy())
    return pred


def call_alerts(forecast: pd.Series, load: pd.Series, market: Market, margin: float) -> pd.Series:
    """Boolean hourly alerts: forecast >= (1 - margin) x reference peak, in peak months only.

    The reference is the month's actual peak through the previous local day, and never below the lowest
    monthly peak-month peak of the previous year (known), so a month's first days are not all alerts.
    For a seasonal rule (PJM 5CP) it is the k-th highest daily peak of the season through the previous
    local day, never below the previous season's k-th highest.
    """
    reference, in_months = _reference(load, market)
    fc = forecast.reindex(reference.index).to_numpy()
    alert = in_months & (np.nan_to_num(fc, nan=-np.inf) >= (1 - margin) * np.nan_to_num(reference.to_numpy(), nan=np.inf))
    return pd.Series(alert, index=reference.index)


_REF_CACHE: dict[tuple[str, int, int], tuple[pd.Series, npt.NDArray[np.bool_]]] = {}


def _reference(load: pd.Series, market: Market) -> tuple[pd.Series, npt.NDArray[np.bool_]]:
    key = load_key(load, market)
    if key in _REF_CACHE:
        return _REF_CACHE[key]
    y = load.asfreq("1h")
    local = market.local(pd.DatetimeIndex(y.index))
    in_months = np.isin(local.month, list(market.coincident_peak_months))
    day = pd.DatetimeIndex(local.normalize().tz_localize(None))
    daily = y.groupby(day).max()
    if market.coincident_peak_basis == "season":
        ref_daily, floor_by_year = _season_reference(daily, market)
        ref = ref_daily.reindex(day).to_numpy()
    else:
        month_key = daily.index.year * 12 + daily.index.month
        mtd = daily.groupby(month_key).cummax().groupby(month_key).shift(1)
        ref = mtd.reindex(day).to_numpy()
        summer = y[in_months]
        sl = local[in_months]
        monthly = summer.groupby([sl.year, sl.month]).max()
        floor_by_year = monthly.groupby(level=0).min()
    prev_floor = pd.Series(local.year - 1).map(floor_by_year).to_numpy(dtype=float)
    out = (pd.Series(np.fmax(ref, prev_floor), index=y.index), in_months)
    _REF_CACHE.clear()
    _REF_CACHE[key] = out
    return out


def _season_reference(daily: pd.Series, market: Market) -> tuple[pd.Series, pd.Series]:
    """Reference peaks of a seasonal rule (PJM 5CP) on a local naive daily index.

    Per local day: the k-th highest daily peak of the season's earlier days (NaN before k days);
    per year: the k-th highest daily peak of its whole season (the next year's floor).
    """
    k = market.coincident_peaks_per_season
    season = daily[daily.index.month.isin(list(market.coincident_peak_months)) & daily.notna().to_numpy()]
    ref = pd.Series(np.nan, index=daily.index)
    floor: dict[int, float] = {}
    for year, grp in season.groupby(season.index.year):
        top: list[float] = []
        for when, value in grp.items():
            if len(top) >= k:
                ref[when] = top[-k]
            bisect.insort(top, float(value))
        if len(top) >= k:
            floor[int(year)] = top[-k]
    return ref, pd.Series(floor, dtype=float)


def score_alerts(alerts: pd.Series, peaks: pd.DatetimeIndex, year: int, market: Market, margin: float) -> FourCPScore:
    """Peaks of ``year`` caught by ``alerts`` and the number of alert hours in its peak months."""
    local = market.local(peaks)
    yp = peaks[local.year == year]
    caught = int(alerts.reindex(yp, fill_value=False).sum())
    start = pd.Timestamp(f"{year}-{min(market.coincident_peak_months):02d}-01", tz=market.timezone).tz_convert("UTC")
    end = pd.Timestamp(f"{year}-{max(market.coincident_peak_months):02d}-01", tz=market.timezone) + pd.offsets.MonthBegin(1)
    window = alerts[(alerts.index >= start) & (alerts.index < end.tz_convert("UTC"))]
    return FourCPScore(year, caught, len(yp), int(window.sum()), margin)


_PEAK_CACHE: dict[tuple[str, int, int], pd.DatetimeIndex] = {}


def _cached_peaks(load: pd.Series, market: Market) -> pd.DatetimeIndex:
    key = load_key(load, market)
    if key not in _PEAK_CACHE:
        _PEAK_CACHE.clear()
        _PEAK_CACHE[key] = market.peak_intervals(load)
    return _PEAK_CACHE[key]


_FORECAST_CACHE: dict[tuple[object, ...], tuple[LoadForecast, pd.Series]] = {}


def _cached_forecast(load: pd.Series, market: Market, years: tuple[int, ...], cfg: FourCPCallConfig, model_only: bool = False) -> Any:
    """Forecast of ``load`` by a model fitted on ``years`` (shared by every scored year that tunes on them)."""
    key = (*load_key(load, market), years, cfg.model_dump_json())
    if key not in _FORECAST_CACHE:
        model = fit_load_forecast(load, market, list(years), cfg)
        _FORECAST_CACHE[key] = (model, forecast_load(model, load, market, cfg.same_day_update))
    model, fc = _FORECAST_CACHE[key]
    return model if model_only else fc


def tune_margin(load: pd.Series, market: Market, year: int, config: FourCPCallConfig | None = None) -> tuple[float, LoadForecast]:
    """Margin of least tuning cost on the ``tune_years`` summers before ``year``, and the forecast for ``year``.

    Each tuning summer is forecast by a model fitted only on the summers before it; the returned
    model is fitted on every summer before ``year`` (never ``year`` itself).
    """
    cfg = config or FourCPCallConfig()
    years_before = sorted(y for y in market.peak_years(load) if y < year)
    if len(years_before) < 2:
        raise ScenarioError(f"four_cp: no load history before {year} to train on; allowed: years after the first bundled one")
    peaks = _cached_peaks(load, market)
    tune = [y for y in years_before[-cfg.tune_years :] if any(p < y for p in years_before)]
    forecasts = {y: _cached_forecast(load, market, tuple(p for p in years_before if p < y), cfg) for y in tune}
    best_margin, best_cost = cfg.margins[0], np.inf
    for m in cfg.margins:
        cost = 0.0
        for y in tune:
            s = score_alerts(call_alerts(forecasts[y], load, market, m), peaks, y, market, m)
            cost += (s.peaks - s.peaks_caught) * cfg.missed_peak_cost_usd_per_mw + s.alert_hours * cfg.curtail_cost_usd_per_mwh
        if cost < best_cost - 1e-9:
            best_margin, best_cost = m, cost
    return best_margin, _cached_forecast(load, market, tuple(years_before), cfg, model_only=True)


def realisable_alerts(
    market: Market, year: int, config: FourCPCallConfig | None = None, load_mw: pd.Series | None = None
) -> tuple[pd.Series, FourCPScore, list[str]]:
    """Hourly coincident-peak alerts (ERCOT 4CP, PJM 5CP) for ``year`` from history before it, their score, and notes.

    ``load_mw`` is the load whose peaks set the charge [MW], hourly UTC interval starts (e.g. a scenario's
    ``power.four_cp.load_file``); default the market's official system load where bundled, its longer history elsewhere.
    """
    cfg = config or FourCPCallConfig()
    if load_mw is None:
        load_mw = market.system_load().combine_first(market.system_load_history())
    load = load_mw.asfreq("1h")
    margin, model = tune_margin(load, market, year, cfg)
    fc = _cached_forecast(load, market, model.trained_years, cfg)
    alerts = call_alerts(fc, load, market, margin)
    score = score_alerts(alerts, _cached_peaks(load, market), year, market, margin)
    notes = [
        f"{market.coincident_peak_name} calls for {year} (no hindsight): ridge day-ahead load forecast fitted on "
        f"{model.trained_years[0]}-{model.trained_years[-1]} summers"
        f"{' with a same-day noon update' if cfg.same_day_update else ''}, margin {margin:.1%} tuned on {cfg.tune_years} earlier summers "
        f"(missed peak {cfg.missed_peak_cost_usd_per_mw:,.0f} USD/MW vs curtailment {cfg.curtail_cost_usd_per_mwh:g} USD/MWh, an assumption); "
        f"caught {score.peaks_caught} of {score.peaks} peaks with {score.alert_hours} alert hours"
    ]
    return alerts, score, notes
