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
4. ``L`` at a target rate is found with a bracketing root finder to 1 MW. Rates are
   solved in increasing order, each bracket starting at the previous root, so a larger
   rate never gets a smaller headroom (the rate grows with ``L`` while load stays under
   its thresholds; two nearly equal rates would otherwise order their roots by roundoff).

Missing hours (NaN or absent) are gaps: they count in no year's hours and are
reported per year. Next to the pooled figure the result carries each year's own
figures (:attr:`HeadroomResult.per_year`); ``thresholds="per_year"`` takes each
year's seasonal peaks as that year's thresholds instead of the peaks of all years.
Known load-shed events (ERCOT, February 2021) are named in ``warnings`` when the
data cover them: there, observed load understates demand.

Limits: no transmission constraints, a constant new load, and thresholds taken
from the history itself (the grid is assumed able to serve its past peaks again).
Months and years are those of ``tz`` (ERCOT: Central time).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.optimize import brentq

from mullet.errors import ScenarioError
from mullet.grid.screening import ScreeningResult, screen_load
from mullet.markets.ercot import ERCOT

__all__ = [
    "DEFAULT_SEASONS",
    "KNOWN_LOAD_SHED",
    "BaHeadroom",
    "HeadroomResult",
    "HeadroomRow",
    "LoadShedEvent",
    "SeasonalLoad",
    "ba_table",
    "curtailment_rate",
    "headroom",
    "headroom_by_ba",
    "headroom_from_data",
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


Thresholds = Literal["pooled", "per_year"]


@dataclass(frozen=True)
class LoadShedEvent:
    """A known event in which operators shed firm load, so observed load understates demand."""

    codes: frozenset[str]
    """Balancing-authority codes and names the event applies to (EIA-930 code first)."""
    start_utc: str
    end_utc: str
    description: str


KNOWN_LOAD_SHED: tuple[LoadShedEvent, ...] = (
    LoadShedEvent(
        frozenset({"ERCO", "ERCOT"}),
        "2021-02-15T05:00Z",
        "2021-02-18T18:00Z",
        "Winter Storm Uri: ERCOT ordered up to 20,000 MW of firm load shed on 2021-02-15..18 (FERC-NERC report, November 2021)",
    ),
    LoadShedEvent(
        frozenset({"SWPP", "SPP"}),
        "2021-02-15T00:00Z",
        "2021-02-17T06:00Z",
        "Winter Storm Uri: SPP directed rolling load shed on 2021-02-15 and 2021-02-16 (FERC-NERC report, November 2021)",
    ),
    LoadShedEvent(
        frozenset({"MISO"}),
        "2021-02-16T00:00Z",
        "2021-02-17T06:00Z",
        "Winter Storm Uri: MISO directed load shed in MISO South on 2021-02-16 (FERC-NERC report, November 2021)",
    ),
)
"""Load-shed events checked by :func:`headroom` (extend with your own through ``load_shed_events``)."""


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
    thresholds_by_year: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    """(summer, winter) threshold each year's hours are held to [MW]."""
    expected_hours_per_year: Mapping[int, int] = field(default_factory=dict)
    thresholds: Thresholds = "pooled"
    times_utc: pd.DatetimeIndex | None = None


def _year_hours(year: int, tz: str) -> int:
    a = pd.Timestamp(year=year, month=1, day=1, tz=tz)
    b = pd.Timestamp(year=year + 1, month=1, day=1, tz=tz)
    return int((b - a) / pd.Timedelta("1h"))


def prepare_load(
    load_mw: pd.Series,
    tz: str = ERCOT.timezone,
    seasons: Mapping[int, Season] = DEFAULT_SEASONS,
    min_year_coverage_fraction: float = 0.9,
    thresholds: Thresholds = "pooled",
) -> SeasonalLoad:
    """Thresholds and year split of an hourly load series (tz-aware UTC index, interval start) [MW].

    NaN hours are gaps. Years covering less than ``min_year_coverage_fraction`` of their
    hours are left out of the rates (but with pooled thresholds their peaks still count);
    the notes say so. ``thresholds="per_year"`` holds each year to its own seasonal peaks: the
    year's maximum over the months mapped to each season (a year needs its Jun-Aug and Dec-Feb
    months to be used).
    """
    if not isinstance(load_mw.index, pd.DatetimeIndex) or load_mw.index.tz is None:
        raise ScenarioError("load_mw: needs a tz-aware DatetimeIndex (UTC interval starts)")
    if set(seasons) != set(range(1, 13)) or not set(seasons.values()) <= {"summer", "winter"}:
        raise ScenarioError(f"seasons: got {dict(seasons)}, allowed: every month 1..12 mapped to 'summer' or 'winter'")
    if thresholds not in ("pooled", "per_year"):
        raise ScenarioError(f"thresholds: got {thresholds!r}, allowed: 'pooled' or 'per_year'")
    s = load_mw.dropna().sort_index()
    if s.empty:
        raise ScenarioError("load_mw: empty series")
    local = s.index.tz_convert(tz)
    month = local.month.to_numpy()
    year = local.year.to_numpy()
    values = s.to_numpy(dtype=float)
    notes: list[str] = []
    pooled: dict[str, float] = {}
    for season, months in _PEAK_MONTHS.items():
        sel = np.isin(month, months)
        if not sel.any():
            raise ScenarioError(f"load_mw: no {season} peak months {months} in the data; thresholds need both seasons")
        pooled[season] = float(values[sel].max())
    is_summer = np.array([seasons[m] == "summer" for m in range(1, 13)])[month - 1]
    by_year: dict[int, tuple[float, float]] = {}
    for y in np.unique(year):
        in_y = year == y
        peaks = []
        for season, months in _PEAK_MONTHS.items():
            sel = in_y & np.isin(month, months)
            # per year: the season's peak months must be in the data; the threshold is the year's
            # maximum over every month mapped to the season, so no hour starts above its threshold
            mapped = in_y & (is_summer if season == "summer" else ~is_summer)
            peaks.append(float(values[mapped | sel].max()) if sel.any() else float("nan"))
        by_year[int(y)] = (peaks[0], peaks[1]) if thresholds == "per_year" else (pooled["summer"], pooled["winter"])
    summer_by_hour = np.array([by_year[int(y)][0] for y in year]) if thresholds == "per_year" else np.full(len(year), pooled["summer"])
    winter_by_hour = np.array([by_year[int(y)][1] for y in year]) if thresholds == "per_year" else np.full(len(year), pooled["winter"])
    threshold = np.where(is_summer, summer_by_hour, winter_by_hour)
    hours: dict[int, int] = {}
    expected: dict[int, int] = {}
    used: list[int] = []
    for y in np.unique(year):
        n = int((year == y).sum())
        full = 8784 if pd.Timestamp(year=int(y), month=12, day=31).day_of_year == 366 else 8760
        hours[int(y)] = n
        expected[int(y)] = full
        if n >= min_year_coverage_fraction * full:
            if thresholds == "per_year" and not all(np.isfinite(by_year[int(y)])):
                notes.append(f"{y}: lacks a summer (Jun-Aug) or winter (Dec-Feb) peak month; left out of the rates (per-year thresholds)")
                continue
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
        load_mw=values,
        threshold_mw=threshold.astype(float),
        year=year.astype(np.int64),
        month=month.astype(np.int64),
        hour_index=hour_index,
        years_used=tuple(used),
        hours_per_year=hours,
        summer_threshold_mw=pooled["summer"],
        winter_threshold_mw=pooled["winter"],
        notes=tuple(notes),
        thresholds_by_year=by_year,
        expected_hours_per_year=expected,
        thresholds=thresholds,
        times_utc=pd.DatetimeIndex(s.index),
    )


def _year_rates(prep: SeasonalLoad, new_load_mw: float, years: Sequence[int]) -> FloatArray:
    curtailed = np.maximum(prep.load_mw + new_load_mw - prep.threshold_mw, 0.0)
    return np.array([curtailed[prep.year == y].sum() / (new_load_mw * prep.hours_per_year[y]) for y in years])


def _one_year_rate(prep: SeasonalLoad, year: int, new_load_mw: float) -> float:
    return float(_year_rates(prep, new_load_mw, [year])[0]) if new_load_mw > 0 else 0.0


def curtailment_rate(prep: SeasonalLoad, new_load_mw: float) -> float:
    """Mean over the years used of curtailed MWh / (new load x hours in the year)."""
    if new_load_mw <= 0:
        return 0.0
    return float(np.mean(_year_rates(prep, new_load_mw, prep.years_used)))


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
    per_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per year: hours present and missing, whether the year is used, its thresholds [MW] and,
    per target rate, the rate that year sees at the pooled headroom (``rate_at_pooled_pct_<r>``, percent)
    and the year's own headroom (``headroom_gw_<r>``: the load that gives that year alone the target rate)."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """Known load-shed events inside the data: observed load understates demand there."""
    thresholds: Thresholds = "pooled"

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


def _solve(prep: SeasonalLoad, rate_of: Callable[[float], float], rate: float, tolerance_mw: float, what: str, above_mw: float | None = None) -> float:
    """The new load [MW] at which ``rate_of`` reaches ``rate``, or a ScenarioError in domain words.

    ``above_mw``: the root of a smaller rate. The bracket starts there, so the answer is never below it; where
    ``rate_of(above_mw)`` already reaches ``rate`` (two nearly equal rates, within the root finder's tolerance),
    the answer is ``above_mw`` itself.
    """
    if above_mw is not None and above_mw > 0:
        if rate_of(above_mw) >= rate:
            return above_mw
        return float(brentq(lambda x: rate_of(x) - rate, above_mw, _upper_bracket(prep, rate_of, rate, what), xtol=tolerance_mw / 2))
    lo = tolerance_mw / 10
    at_lo = rate_of(lo)
    if at_lo > rate:
        over = prep.load_mw > prep.threshold_mw
        first = int(np.flatnonzero(over)[0]) if over.any() else None
        where = ""
        if first is not None and prep.times_utc is not None:
            where = (
                f"; load already exceeds its seasonal threshold in {int(over.sum())} hour(s), first {prep.times_utc[first]:%Y-%m-%d %H:%M} UTC "
                f"({prep.load_mw[first]:,.0f} MW > {prep.threshold_mw[first]:,.0f} MW, month {prep.month[first]}): "
                "screen the data for spikes or map that month to the other season"
            )
        pct = f"{at_lo:.2%}" if at_lo < 10 else f"{at_lo * 100:,.0f}%"
        raise ScenarioError(f"rates: no new load is small enough for a {rate * 100:g}% rate in {what}: even {lo:g} MW is curtailed {pct}{where}")
    return float(brentq(lambda x: rate_of(x) - rate, lo, _upper_bracket(prep, rate_of, rate, what), xtol=tolerance_mw / 2))


def _upper_bracket(prep: SeasonalLoad, rate_of: Callable[[float], float], rate: float, what: str) -> float:
    """A new load [MW] at which ``rate_of`` reaches ``rate`` (doubling from the largest threshold), or a ScenarioError."""
    hi = max(float(np.max(prep.threshold_mw)), 1.0)
    for _ in range(60):  # the rate tends to 100% as the new load grows; doubling 60 times is far beyond any grid
        if rate_of(hi) >= rate:
            return hi
        hi *= 2
    raise ScenarioError(f"rates: no new load up to {hi / 1000:,.0f} GW reaches a {rate * 100:g}% rate in {what} (at that size the rate is {rate_of(hi):.2%})")


def _shed_warnings(prep: SeasonalLoad, ba: str | None, events: Sequence[LoadShedEvent]) -> list[str]:
    if ba is None or prep.times_utc is None:
        return []
    out = []
    code = ba.upper()
    for ev in events:
        if code not in ev.codes:
            continue
        a, b = pd.Timestamp(ev.start_utc), pd.Timestamp(ev.end_utc)
        if ((prep.times_utc >= a) & (prep.times_utc < b)).any():
            out.append(
                f"{a.year}: {ev.description}; observed load there understates demand, so this year's thresholds and curtailment "
                f"miss the event (consider per-year results without {a.year})"
            )
    return out


def headroom(
    load_mw: pd.Series,
    rates_fraction: Sequence[float] = (0.0025, 0.005, 0.01, 0.05),
    tz: str = ERCOT.timezone,
    seasons: Mapping[int, Season] = DEFAULT_SEASONS,
    min_year_coverage_fraction: float = 0.9,
    tolerance_mw: float = 1.0,
    thresholds: Thresholds = "pooled",
    balancing_authority: str | None = None,
    load_shed_events: Sequence[LoadShedEvent] = KNOWN_LOAD_SHED,
) -> HeadroomResult:
    """Curtailment-enabled headroom of ``load_mw`` at each target curtailment rate.

    Parameters
    ----------
    load_mw
        Hourly system load [MW], tz-aware UTC interval start; NaN or absent hours are gaps.
    rates_fraction
        Target mean annual curtailment rates as fractions (0.005 is 0.5%).
    tz
        Time zone whose calendar defines months (seasons) and years.
    tolerance_mw
        Accuracy of the root finder [MW].
    thresholds
        ``"pooled"`` (Norris et al.: the seasonal peaks of all years) or ``"per_year"``
        (each year held to its own seasonal peaks).
    balancing_authority
        Code or name of the system (``"ERCO"``, ``"ERCOT"``); used to warn of known load shed.
    load_shed_events
        Events to warn of (default :data:`KNOWN_LOAD_SHED`).
    """
    for r in rates_fraction:
        if not 0 < r < 1:
            raise ScenarioError(f"rates: got {r * 100:g}%, allowed: between 0% and 100% (exclusive)")
    prep = prepare_load(load_mw, tz, seasons, min_year_coverage_fraction, thresholds)
    rows: list[HeadroomRow] = []
    years_label = f"the years {prep.years_used[0]}-{prep.years_used[-1]}" if len(prep.years_used) > 1 else f"{prep.years_used[0]}"
    for rate in sorted(rates_fraction):  # increasing: each root brackets the next, so headroom never falls as the rate grows
        previous = rows[-1].new_load_mw if rows else None
        new_load = _solve(prep, lambda x: curtailment_rate(prep, x) if x > 0 else 0.0, rate, tolerance_mw, years_label, previous)
        rows.append(_stats(prep, new_load, rate))
    notes = list(prep.notes)
    per_year = _per_year(prep, rows, tolerance_mw, notes)
    warnings = tuple(_shed_warnings(prep, balancing_authority, load_shed_events))
    return HeadroomResult(rows, prep.summer_threshold_mw, prep.winter_threshold_mw, prep.years_used, tuple(notes), per_year, warnings, thresholds)


def _rate_label(rate: float) -> str:
    return f"{rate * 100:g}pct"


def _per_year(prep: SeasonalLoad, rows: Sequence[HeadroomRow], tolerance_mw: float, notes: list[str]) -> pd.DataFrame:
    records = []
    for y in sorted(prep.hours_per_year):
        own_previous: float | None = None  # rows come in increasing rate: the year's previous own root brackets the next
        rec: dict[str, object] = {
            "year": y,
            "used": y in prep.years_used,
            "hours_present": prep.hours_per_year[y],
            "hours_missing": max(prep.expected_hours_per_year.get(y, 0) - prep.hours_per_year[y], 0),
            "peak_mw": float(prep.load_mw[prep.year == y].max()),
            "summer_threshold_mw": prep.thresholds_by_year[y][0],
            "winter_threshold_mw": prep.thresholds_by_year[y][1],
        }
        for row in rows:
            label = _rate_label(row.rate_fraction)
            if y in prep.years_used:
                rec[f"rate_at_pooled_pct_{label}"] = float(_year_rates(prep, row.new_load_mw, [y])[0]) * 100
                try:
                    own = _solve(prep, partial(_one_year_rate, prep, y), row.rate_fraction, tolerance_mw, str(y), own_previous)
                    own_previous = own
                    rec[f"headroom_gw_{label}"] = own / 1000
                except ScenarioError as exc:
                    rec[f"headroom_gw_{label}"] = float("nan")
                    notes.append(f"{y}: no own headroom at {row.rate_fraction * 100:g}% ({exc})")
            else:
                rec[f"rate_at_pooled_pct_{label}"] = float("nan")
                rec[f"headroom_gw_{label}"] = float("nan")
        records.append(rec)
    return pd.DataFrame(records).set_index("year")


def headroom_by_ba(
    loads_mw: Mapping[str, pd.Series],
    rates_fraction: Sequence[float] = (0.0025, 0.005, 0.01),
    **kwargs: object,
) -> tuple[pd.DataFrame, dict[str, HeadroomResult]]:
    """Headroom [GW] of several balancing authorities, one row each, and their sum (``TOTAL``).

    Each BA is computed on its own (its own thresholds and years), as in Norris et al.'s
    table; the total is the sum of the BAs' headrooms, not the headroom of their combined load.
    Keyword arguments go to :func:`headroom` (``balancing_authority`` is set to each key).
    """
    if not loads_mw:
        raise ScenarioError("column: no balancing authority given")
    results = {ba: headroom(series, rates_fraction, balancing_authority=ba, **kwargs) for ba, series in loads_mw.items()}  # type: ignore[arg-type]
    return ba_table(results), results


def ba_table(results: Mapping[str, HeadroomResult]) -> pd.DataFrame:
    """One row per balancing authority (headroom [GW] at each rate, peak, years) and a ``TOTAL`` row (the sum)."""
    rows = []
    for ba, res in results.items():
        rec: dict[str, object] = {"balancing_authority": ba}
        for r in res.rows:
            rec[f"headroom_gw_{_rate_label(r.rate_fraction)}"] = r.new_load_mw / 1000
        rec["peak_gw"] = max(res.summer_threshold_mw, res.winter_threshold_mw) / 1000
        rec["years"] = f"{res.years_used[0]}-{res.years_used[-1]}" if len(res.years_used) > 1 else str(res.years_used[0])
        rows.append(rec)
    table = pd.DataFrame(rows).set_index("balancing_authority")
    total: dict[str, object] = {c: table[c].sum() for c in table.columns if c.startswith("headroom_gw_") or c == "peak_gw"}
    total["years"] = ""
    table.loc["TOTAL"] = pd.Series(total)
    return table


@dataclass(frozen=True)
class BaHeadroom:
    """Headroom of one balancing authority with the screening behind it."""

    balancing_authority: str
    result: HeadroomResult
    load_mw: pd.Series
    """The series the headroom was computed on (screened, maybe imputed), interval start UTC [MW]."""
    screening: ScreeningResult | None


def headroom_from_data(
    path: str | Path | None = None,
    columns: Sequence[str] | None = None,
    rates_fraction: Sequence[float] = (0.0025, 0.005, 0.01, 0.05),
    *,
    screen: bool = True,
    impute: bool = False,
    thresholds: Thresholds = "pooled",
    tz: str = ERCOT.timezone,
) -> list[BaHeadroom]:
    """Read hourly demand, screen it and compute headroom for each balancing authority.

    ``path`` is any layout :func:`mullet.data.eia930.read_eia930` reads (EIA-930 API JSON,
    BALANCE CSV, a file with ``interval_start_utc`` and one column per BA); ``None`` is
    the bundled raw EIA-930 ERCO demand 2016-2024. ``columns`` picks BAs (default: all).
    """
    from mullet.data.eia930 import load_eia930_demand, read_eia930

    if path is None:
        if columns and [c.upper() for c in columns] in (["ERCOT"],):
            columns = ["ERCO"]  # the bundled file is ERCOT's EIA-930 demand (BA code ERCO)
        if columns and list(columns) != ["ERCO"]:
            raise ScenarioError(f"column: got {','.join(columns)}; the bundled EIA-930 file has only 'ERCO' (pass --load for other BAs)")
        frame = load_eia930_demand("ERCO").rename("ERCO").to_frame()
    else:
        frame = read_eia930(path, list(columns) if columns else None)
    out = []
    for ba in frame.columns:
        series = frame[ba]
        screened = screen_load(series, impute=impute) if screen else None
        load = screened.load_mw if screened is not None else series
        res = headroom(load, rates_fraction, tz=tz, thresholds=thresholds, balancing_authority=str(ba))
        out.append(BaHeadroom(str(ba), res, load, screened))
    return out
