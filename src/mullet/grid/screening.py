"""Screening of hourly demand for impossible values, after Ruggles et al. (2020).

Ruggles, Farnham, Tong & Caldeira, "Developing reliable hourly electricity demand
data through screening and imputation", Scientific Data 7, 155 (2020). The filters
run in the paper's order, each on what the previous ones left, and each flagged
hour becomes a gap (NaN) labelled with the first filter that caught it:

Step 1 (the value alone)
    ``MISSING`` (blank in the source), ``NEG_OR_ZERO``, ``IDENTICAL_RUN`` (the third
    and later hours of a run of equal values), ``GLOBAL_DEM`` (at least 10 x the
    series median) and ``GLOBAL_DEM_PLUS_MINUS`` (the hour on each side of one).
Step 2 (the value against its neighbours and its own seasonal envelope)
    ``LOCAL_DEM_UP`` / ``LOCAL_DEM_DOWN``: above ``M48 x h + 3.5 IQR`` or below
    ``M48 x h - 2.5 IQR``, where ``M48`` is the 48-hour centred moving median, ``h``
    the diurnal template (1 + median over the same hour of the 10 days on each side
    of the deviation from ``M48``, over the 480-hour moving median) and IQR the
    240-hour moving interquartile range of demand minus ``M48``;
    ``DELTA``: a spike, up or down against both neighbours by more than 2 x the
    240-hour moving IQR of hour-to-hour changes;
    ``SINGLE_DELTA``: a jump from the last good hour by more than 5 x that IQR whose
    change relative to the template is also above 15 x its global IQR, scanned
    forwards then backwards (the hour further from its template is the one flagged).

Not implemented: the paper's last filter (``ANOMALOUS_REGION``, good hours stranded
inside stretches where more than 15% of hours were flagged) and its MICE
imputation. ``impute=True`` here fills each gap with the screened series' 480-hour
moving median plus the median deviation from it at the same hour of the 10 days on
each side: an estimate labelled as such (``imputed``), not the paper's MICE.

Input and output: hourly series [MW] on a tz-aware UTC index of interval starts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.errors import ScenarioError

__all__ = ["FLAGS", "ScreeningParams", "ScreeningResult", "screen_load"]

FLAGS = (
    "MISSING",
    "NEG_OR_ZERO",
    "IDENTICAL_RUN",
    "GLOBAL_DEM",
    "GLOBAL_DEM_PLUS_MINUS",
    "LOCAL_DEM_UP",
    "LOCAL_DEM_DOWN",
    "DELTA",
    "SINGLE_DELTA",
)
"""Screening labels in the order the filters run (``OKAY`` for an hour that passed)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScreeningParams:
    """Selection parameters; the defaults are Ruggles et al.'s (2020)."""

    short_window_hours: int = 48
    """Width of the short moving median ``M48``."""
    iqr_window_hours: int = 240
    """Width of the moving IQRs (5 days on each side)."""
    template_days: int = 10
    """Days on each side for the diurnal template; the long median is 2 x this many days wide."""
    global_multiplier: float = 10.0
    local_up_multiplier: float = 3.5
    local_down_multiplier: float = 2.5
    delta_multiplier: float = 2.0
    single_delta_multiplier: float = 5.0
    single_delta_relative_multiplier: float = 15.0


@dataclass(frozen=True)
class ScreeningResult:
    """Screened load, the label of every hour, and what was imputed."""

    raw_mw: pd.Series
    """The input on a complete hourly grid (hours the input lacked are NaN)."""
    load_mw: pd.Series
    """Screened load: flagged hours NaN, or template estimates where ``imputed``."""
    flag: pd.Series
    """``OKAY`` or the first filter that caught the hour (see :data:`FLAGS`)."""
    imputed: pd.Series
    """True where ``load_mw`` is an imputed estimate, not a measurement."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def report(self, tz: str = "UTC") -> pd.DataFrame:
        """Hours per calendar year of ``tz`` and per label, with ``imputed`` and ``left_as_gap`` counts."""
        year = self.flag.index.tz_convert(tz).year
        counts = pd.crosstab(year, self.flag.to_numpy()).reindex(columns=["OKAY", *FLAGS], fill_value=0)
        counts.index.name = "year"
        counts.insert(0, "hours", counts.sum(axis=1))
        counts["imputed"] = self.imputed.groupby(year).sum().to_numpy()
        counts["left_as_gap"] = self.load_mw.isna().groupby(year).sum().to_numpy()
        return counts.astype(np.int64)

    def flagged(self) -> pd.DataFrame:
        """Every hour that did not pass (blanks included): raw value and label."""
        bad = self.flag != "OKAY"
        return pd.DataFrame({"raw_mw": self.raw_mw[bad], "flag": self.flag[bad], "imputed_mw": self.load_mw[bad].where(self.imputed[bad])})


def _rolling_median(x: pd.Series, width: int) -> pd.Series:
    return x.rolling(width, min_periods=1, center=True).median()


def _rolling_iqr(x: pd.Series, width: int) -> pd.Series:
    w = x.rolling(width, min_periods=1, center=True)
    return w.quantile(0.75) - w.quantile(0.25)


def _template(d: pd.Series, p: ScreeningParams) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``M48``, ``M480`` and the diurnal template ``h`` of ``d`` (NaN skipped)."""
    m_short = _rolling_median(d, p.short_window_hours)
    m_long = _rolling_median(d, p.template_days * 24 * 2)
    dev = d - m_short
    shifted = np.column_stack([dev.shift(24 * k).to_numpy() for k in range(-p.template_days, p.template_days + 1)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows inside long gaps
        med = np.nanmedian(shifted, axis=1)
    h = 1.0 + pd.Series(med, index=d.index) / m_long
    return m_short, m_long, h


def _single_delta(d: FloatArray, r: FloatArray, r_long: FloatArray, iqr_delta: FloatArray, limit_rel: float, multiplier: float) -> npt.NDArray[np.bool_]:
    """Ruggles' single-sided delta scan: forwards (keeping the hour nearer its template), then backwards."""
    flagged = np.zeros(len(d), dtype=bool)
    far = np.fmax(np.abs(1.0 - r), np.abs(1.0 - r_long))
    for order in (range(len(d)), range(len(d) - 1, -1, -1)):
        forward = order.step == 1
        prev = -1
        for i in order:
            if np.isnan(d[i]) or flagged[i]:
                continue
            if prev < 0:
                prev = i
                continue
            jump = abs(d[prev] - d[i]) > iqr_delta[i] * multiplier and abs(r[prev] - r[i]) > limit_rel
            if not jump:
                prev = i
            elif forward and far[i] < far[prev]:
                prev = i  # the previous hour is the odd one; the backward pass catches it
            else:
                flagged[i] = True
    return flagged


def screen_load(load_mw: pd.Series, params: ScreeningParams | None = None, *, impute: bool = False) -> ScreeningResult:
    """Screen an hourly demand series [MW] (tz-aware UTC interval starts) for impossible values.

    Parameters
    ----------
    load_mw
        Hourly demand; missing hours may be absent rows or NaN.
    params
        Selection thresholds (default: Ruggles et al. 2020).
    impute
        Fill flagged and missing hours with the diurnal template of the screened series
        (labelled in ``imputed``); default leaves them as gaps.
    """
    p = params or ScreeningParams()
    if not isinstance(load_mw.index, pd.DatetimeIndex) or load_mw.index.tz is None:
        raise ScenarioError("load_mw: needs a tz-aware DatetimeIndex (UTC interval starts)")
    s = load_mw.sort_index()
    if s.index.has_duplicates:
        raise ScenarioError(f"load_mw: duplicate hour {s.index[s.index.duplicated()][0]}; allowed: one value per hour")
    if s.dropna().empty:
        raise ScenarioError("load_mw: no values to screen")
    idx = pd.date_range(s.index[0].tz_convert("UTC"), s.index[-1].tz_convert("UTC"), freq="1h")
    if len(idx) and not s.index.tz_convert("UTC").isin(idx).all():
        raise ScenarioError("load_mw: times must be on the hour (hourly interval starts)")
    raw = s.tz_convert("UTC").reindex(idx).astype(float)
    raw.index.name = "interval_start_utc"
    d = raw.to_numpy().copy()
    flag = np.where(np.isnan(d), "MISSING", "OKAY").astype(object)

    def mark(sel: npt.NDArray[np.bool_], label: str) -> None:
        sel = sel & (flag == "OKAY")
        flag[sel] = label
        d[sel] = np.nan

    mark(d <= 0, "NEG_OR_ZERO")
    same1 = np.r_[False, d[1:] == d[:-1]]
    same2 = np.r_[False, False, d[2:] == d[:-2]]
    mark(same1 & same2, "IDENTICAL_RUN")
    median = float(np.nanmedian(d))
    glob = d >= p.global_multiplier * median
    mark(glob, "GLOBAL_DEM")
    hit = np.flatnonzero(flag == "GLOBAL_DEM")
    near = np.zeros(len(d), dtype=bool)
    near[np.clip(np.r_[hit - 1, hit + 1], 0, len(d) - 1)] = True
    mark(near, "GLOBAL_DEM_PLUS_MINUS")

    ds = pd.Series(d, index=idx)
    m_short, m_long, h = _template(ds, p)
    iqr_dem = _rolling_iqr(ds - m_short, p.iqr_window_hours).to_numpy()
    delta_pre = ds.diff().to_numpy()
    delta_post = ds.diff(-1).to_numpy()
    iqr_delta = _rolling_iqr(pd.Series(delta_pre, index=idx), p.iqr_window_hours).to_numpy()
    expected = (m_short * h).to_numpy()
    r = d / expected
    r_long = d / (m_long * h).to_numpy()
    dr = np.diff(r)
    iqr_r = float(np.nanpercentile(dr, 75) - np.nanpercentile(dr, 25)) if np.isfinite(dr).any() else np.nan

    with np.errstate(invalid="ignore"):
        mark(d >= expected + p.local_up_multiplier * iqr_dem, "LOCAL_DEM_UP")
        mark(d <= expected - p.local_down_multiplier * iqr_dem, "LOCAL_DEM_DOWN")
        lim = p.delta_multiplier * iqr_delta
        spike = ((delta_pre > lim) & (delta_post > lim)) | ((delta_pre < -lim) & (delta_post < -lim))
        mark(spike, "DELTA")
    mark(_single_delta(d, r, r_long, iqr_delta, p.single_delta_relative_multiplier * iqr_r, p.single_delta_multiplier), "SINGLE_DELTA")

    screened = pd.Series(d, index=idx, name=load_mw.name)
    imputed = pd.Series(False, index=idx)
    notes: list[str] = []
    n_flag = int((flag != "OKAY").sum() - (flag == "MISSING").sum())
    if n_flag:
        notes.append(f"screening flagged {n_flag} hour(s) as suspect (Ruggles et al. 2020 filters); they are gaps now (--screening-report lists them)")
    if impute:
        # same-hour deviations of the 10 days on each side, around the 480-hour median (a gap moves it least)
        m_l = _rolling_median(screened, p.template_days * 24 * 2)
        dev = screened - m_l
        shifted = np.column_stack([dev.shift(24 * k).to_numpy() for k in range(-p.template_days, p.template_days + 1) if k])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows inside long gaps
            estimate = m_l.to_numpy() + np.nanmedian(shifted, axis=1)
        fill = np.isnan(d) & np.isfinite(estimate)
        screened = screened.where(~fill, estimate)
        imputed = pd.Series(fill, index=idx)
        left = int(np.isnan(screened.to_numpy()).sum())
        notes.append(f"imputed {int(fill.sum())} hour(s) from the diurnal template (estimates, not measurements)" + (f"; {left} left as gaps" if left else ""))
    return ScreeningResult(raw, screened, pd.Series(flag, index=idx, name="flag"), imputed, tuple(notes))
