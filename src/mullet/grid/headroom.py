"""Curtailment-enabled headroom: how much constant new load a system absorbs if it accepts some curtailment.

Method of Norris et al., "Rethinking Load Growth" (Duke University Nicholas
Institute, 2025), applied to an hourly system-load series:

1. Seasonal thresholds: the maximum load of June-August and of December-February
   over all the years given. April-May and September-October use the summer
   threshold, November and March the winter one (configurable).
2. A constant new load ``L`` is curtailed each hour by
   ``max(0, load + L - threshold)``.
3. A year's curtailment rate is curtailed MWh / (``L`` x hours in that year); rates
   are computed per year and averaged over the years.
4. ``L`` at a target rate is found with a bracketing root finder to 1 MW.

Limits: no transmission constraints, a constant new load, and thresholds taken
from the history itself (the grid is assumed able to serve its past peaks again).
Months are those of ``tz`` (ERCOT: Central time).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import brentq

from mullet.errors import ScenarioError
from mullet.markets.ercot import ERCOT

__all__ = [
    "DEFAULT_SEASONS",
    "HeadroomResult",
    "HeadroomRow",
    "SeasonalLoad",
    "curtailment_rate",
    "headroom",
    "prepare_load",
]

Season = Literal["summer", "winter"]
DEFAULT_SEASONS: Mapping[int, Season] = {
    1: "winter",
    2: "winter",
    3: "winter",
    4: "summer",
    5: "summer",
    6: "summer",
    7: "summer",
    8: "summer",
    9: "summer",
    10: "summer",
    11: "winter",
    12: "winter",
}
"""Which threshold each month uses (Norris et al.)."""
_PEAK_MONTHS: Mapping[Season, tuple[int, ...]] = {"summer": (6, 7, 8), "winter": (12, 1, 2)}
_QUARTER_SEASON = {12: "winter", 1: "winter", 2: "winter", 3: "spring", 4: "spring", 5: "spring", 6: "summer", 7: "summer", 8: "summer"}

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SeasonalLoad:
    """Hourly load with its thresholds, split into the years used for rates."""

    load_mw: FloatArray
    threshold_mw: FloatArray
    year: npt.NDArray[np.int64]
    month: npt.NDArray[np.int64]
    hour_index: npt.NDArray[np.int64]
    """Hours since the first hour: consecutive hours differ by 1 (used for event durations)."""
    years_used: tuple[int, ...]
    hours_per_year: Mapping[int, int]
    summer_threshold_mw: float
    winter_threshold_mw: float
    notes: tuple[str, ...]


def prepare_load(
    load_mw: pd.Series,
    tz: str = ERCOT.timezone,
    seasons: Mapping[int, Season] = DEFAULT_SEASONS,
    min_year_coverage_fraction: float = 0.9,
) -> SeasonalLoad:
    """Thresholds and year split of an hourly load series (tz-aware UTC index, interval start) [MW].

    Years covering less than ``min_year_coverage_fraction`` of their hours are left
    out of the rates (but their peaks still count for the thresholds); the notes say so.
    """
    if not isinstance(load_mw.index, pd.DatetimeIndex) or load_mw.index.tz is None:
        raise ScenarioError("load_mw: needs a tz-aware DatetimeIndex (UTC interval starts)")
    if set(seasons) != set(range(1, 13)) or not set(seasons.values()) <= {"summer", "winter"}:
        raise ScenarioError(f"seasons: got {dict(seasons)}, allowed: every month 1..12 mapped to 'summer' or 'winter'")
    s = load_mw.dropna().sort_index()
    if s.empty:
        raise ScenarioError("load_mw: empty series")
    local = s.index.tz_convert(tz)
    month = local.month.to_numpy()
    year = local.year.to_numpy()
    notes: list[str] = []
    thresholds: dict[str, float] = {}
    for season, months in _PEAK_MONTHS.items():
        sel = np.isin(month, months)
        if not sel.any():
            raise ScenarioError(f"load_mw: no {season} peak months {months} in the data; thresholds need both seasons")
        thresholds[season] = float(s.to_numpy()[sel].max())
    threshold = np.where(np.array([seasons[m] for m in month]) == "summer", thresholds["summer"], thresholds["winter"])
    hours: dict[int, int] = {}
    used: list[int] = []
    for y in np.unique(year):
        n = int((year == y).sum())
        full = 8784 if pd.Timestamp(year=int(y), month=12, day=31).day_of_year == 366 else 8760
        hours[int(y)] = n
        if n >= min_year_coverage_fraction * full:
            used.append(int(y))
            if n < full:
                notes.append(f"{y}: {full - n} of {full} hours missing; rate computed on the {n} hours present")
        else:
            notes.append(f"{y}: only {n} of {full} hours ({n / full:.0%}); left out of the rates (its peaks still set thresholds)")
    if not used:
        raise ScenarioError(f"load_mw: no year covers {min_year_coverage_fraction:.0%} of its hours; nothing to compute rates on")
    step = pd.Timedelta("1h").value
    hour_index = ((s.index.as_unit("ns").asi8 - s.index.as_unit("ns").asi8[0]) // step).astype(np.int64)
    return SeasonalLoad(
        load_mw=s.to_numpy(dtype=float),
        threshold_mw=threshold.astype(float),
        year=year.astype(np.int64),
        month=month.astype(np.int64),
        hour_index=hour_index,
        years_used=tuple(used),
        hours_per_year=hours,
        summer_threshold_mw=thresholds["summer"],
        winter_threshold_mw=thresholds["winter"],
        notes=tuple(notes),
    )


def curtailment_rate(prep: SeasonalLoad, new_load_mw: float) -> float:
    """Mean over the years used of curtailed MWh / (new load x hours in the year)."""
    if new_load_mw <= 0:
        return 0.0
    curtailed = np.maximum(prep.load_mw + new_load_mw - prep.threshold_mw, 0.0)
    rates = [curtailed[prep.year == y].sum() / (new_load_mw * prep.hours_per_year[y]) for y in prep.years_used]
    return float(np.mean(rates))


@dataclass(frozen=True)
class HeadroomRow:
    """Headroom at one curtailment rate."""

    rate_fraction: float
    new_load_mw: float
    curtailment_hours_per_year: float
    mean_event_hours: float
    """Mean length of a run of consecutive curtailed hours."""
    share_hours_50pct_on_fraction: float
    """Share of curtailment hours in which at least 50% of the new load stays on."""
    share_hours_75pct_on_fraction: float
    share_hours_90pct_on_fraction: float
    season_share_fraction: Mapping[str, float]
    """Share of curtailment hours in winter (Dec-Feb), spring (Mar-May), summer (Jun-Aug), fall (Sep-Nov)."""
    achieved_rate_fraction: float


@dataclass(frozen=True)
class HeadroomResult:
    """Headroom table plus the thresholds and years behind it."""

    rows: list[HeadroomRow]
    summer_threshold_mw: float
    winter_threshold_mw: float
    years_used: tuple[int, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self) -> pd.DataFrame:
        """One row per rate, unit-suffixed columns."""
        out = []
        for r in self.rows:
            out.append(
                {
                    "rate_pct": r.rate_fraction * 100,
                    "headroom_gw": r.new_load_mw / 1000,
                    "curtailment_hours_per_year": r.curtailment_hours_per_year,
                    "mean_event_hours": r.mean_event_hours,
                    "hours_50pct_on_fraction": r.share_hours_50pct_on_fraction,
                    "hours_75pct_on_fraction": r.share_hours_75pct_on_fraction,
                    "hours_90pct_on_fraction": r.share_hours_90pct_on_fraction,
                    **{f"{k}_hours_fraction": v for k, v in r.season_share_fraction.items()},
                }
            )
        return pd.DataFrame(out).set_index("rate_pct")


def _stats(prep: SeasonalLoad, new_load_mw: float, rate: float) -> HeadroomRow:
    curtailed = np.maximum(prep.load_mw + new_load_mw - prep.threshold_mw, 0.0)
    in_years = np.isin(prep.year, prep.years_used)
    hit = (curtailed > 0) & in_years
    n_hit = int(hit.sum())
    events = 0
    if n_hit:
        idx = prep.hour_index[hit]
        events = int(1 + np.sum(np.diff(idx) > 1))
    on_share = 1 - curtailed[hit] / new_load_mw if n_hit else np.array([])
    seasons = np.array([_QUARTER_SEASON.get(int(m), "fall") for m in prep.month[hit]])
    split = {name: float(np.mean(seasons == name)) if n_hit else 0.0 for name in ("winter", "spring", "summer", "fall")}
    return HeadroomRow(
        rate_fraction=rate,
        new_load_mw=new_load_mw,
        curtailment_hours_per_year=n_hit / len(prep.years_used),
        mean_event_hours=n_hit / events if events else 0.0,
        share_hours_50pct_on_fraction=float(np.mean(on_share >= 0.5)) if n_hit else 1.0,
        share_hours_75pct_on_fraction=float(np.mean(on_share >= 0.75)) if n_hit else 1.0,
        share_hours_90pct_on_fraction=float(np.mean(on_share >= 0.9)) if n_hit else 1.0,
        season_share_fraction=split,
        achieved_rate_fraction=curtailment_rate(prep, new_load_mw),
    )


def headroom(
    load_mw: pd.Series,
    rates_fraction: Sequence[float] = (0.0025, 0.005, 0.01, 0.05),
    tz: str = ERCOT.timezone,
    seasons: Mapping[int, Season] = DEFAULT_SEASONS,
    min_year_coverage_fraction: float = 0.9,
    tolerance_mw: float = 1.0,
) -> HeadroomResult:
    """Curtailment-enabled headroom of ``load_mw`` at each target curtailment rate.

    Parameters
    ----------
    load_mw
        Hourly system load [MW], tz-aware UTC interval start.
    rates_fraction
        Target mean annual curtailment rates as fractions (0.005 is 0.5%).
    tolerance_mw
        Accuracy of the root finder [MW].
    """
    for r in rates_fraction:
        if not 0 < r < 1:
            raise ScenarioError(f"rates: got {r * 100:g}%, allowed: between 0% and 100% (exclusive)")
    prep = prepare_load(load_mw, tz, seasons, min_year_coverage_fraction)
    hi = float(np.max(prep.threshold_mw))  # at this size the rate is far above any sensible target
    rows = []
    for rate in sorted(rates_fraction):
        if curtailment_rate(prep, hi) < rate:
            raise ScenarioError(f"rates: {rate * 100:g}% is not reached even by a new load as large as the peak ({hi:,.0f} MW)")
        new_load = brentq(lambda x, r=rate: curtailment_rate(prep, x) - r, tolerance_mw / 10, hi, xtol=tolerance_mw / 2)
        rows.append(_stats(prep, float(new_load), rate))
    return HeadroomResult(rows, prep.summer_threshold_mw, prep.winter_threshold_mw, prep.years_used, prep.notes)
