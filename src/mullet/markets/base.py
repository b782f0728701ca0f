"""What a market module provides: the contract every ISO/RTO module of :mod:`mullet.markets` fulfils.

A market is one module holding one subclass of :class:`Market` plus its
bundled data files (in ``src/mullet/data/files``, listed in ``SOURCES.md``).
Dispatch, plan, grid and web ask the market for everything market-specific:
time zone, settlement points, ancillary products, coincident-peak rules, price
data and billing calendars. Nothing else names an ISO.

Adding a market (e.g. PJM)
--------------------------
1. Bundle its data files and document them in ``SOURCES.md`` and the README.
2. Write ``src/mullet/markets/<name>.py`` with a ``Market`` subclass that sets
   the class attributes below and implements the abstract loaders
   (:meth:`Market.hub_prices`, :meth:`Market.load_zone_prices`,
   :meth:`Market.ancillary_prices`, :meth:`Market.system_load`). Prices are
   frames indexed by tz-aware UTC interval starts at a fixed interval (15 min
   or hourly), one column per settlement point, USD/MWh; ancillary prices are
   hourly USD/MW-h, one column per product.
3. Register an instance in :data:`mullet.markets.MARKETS`.
4. Add a ``TestYourMarket(BaseMarketTest)`` class in ``tests/test_markets.py``:
   the shared tests check the contract (time zone, point lists, coverage
   honesty, UTC interval-start indexes, peak intervals, billing months).

Conventions: all time series are tz-aware UTC interval starts; local time only
appears through :meth:`Market.local` (billing months, peak months, PPA shapes).
Where a figure has no published source, it is ``None`` with ``source`` saying
so: a user must then supply it, never a silent default.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from mullet.errors import ScenarioError

__all__ = ["AncillaryProduct", "Market", "PointKind"]

PointKind = Literal["hub", "load_zone"]


@dataclass(frozen=True)
class AncillaryProduct:
    """One ancillary-service product a flexible load can sell.

    Attributes
    ----------
    name
        The market's product code (e.g. ``RRS``).
    direction
        ``up``: the load curtails when deployed (the only kind mining can offer); ``down``: it consumes more.
    award
        How awards are made, e.g. ``"day-ahead, hourly"``.
    award_interval_h
        Length of one award: the obligation holds for every model interval inside it [h].
    deployment_fraction
        Expected share of awarded MWh actually deployed (curtailed) [-]; ``None``
        when no published figure was found (the scenario must then set it).
    deployment_source
        Where ``deployment_fraction`` comes from, or why it is missing.
    description
        One line on what the product is.
    """

    name: str
    direction: Literal["up", "down"]
    award: str
    award_interval_h: float
    deployment_fraction: float | None
    deployment_source: str
    description: str


class Market(ABC):
    """An electricity market: identity, settlement points, products, peak rules, data.

    Subclasses set the class attributes and implement the abstract loaders.
    """

    name: ClassVar[str]
    """Short name, e.g. ``ERCOT``."""
    timezone: ClassVar[str]
    """IANA time zone of the market's local (prevailing) time."""
    hubs: ClassVar[tuple[str, ...]]
    """Trading hubs (where PPAs and hedges usually settle)."""
    load_zones: ClassVar[tuple[str, ...]]
    """Load zones (where loads settle)."""
    hub_of_zone: ClassVar[dict[str, str]]
    """The hub nearest each load zone (for a PPA default); zones without one are absent."""
    ancillary_products: ClassVar[dict[str, AncillaryProduct]]
    """Products by code."""
    coincident_peak_months: ClassVar[tuple[int, ...]]
    """Local months with a transmission coincident-peak charge (empty: none)."""
    coincident_peaks_per_month: ClassVar[int] = 1
    """Peak intervals counted per month."""
    coincident_peak_interval: ClassVar[str] = "15min"
    """Length of the official peak interval (the bundled load may be coarser; see :meth:`peak_intervals`)."""
    coincident_peak_basis: ClassVar[Literal["month", "season"]] = "month"
    """How peaks are picked: ``month``, the ``coincident_peaks_per_month`` highest intervals of each peak month
    (ERCOT's 4CP); ``season``, the ``coincident_peaks_per_season`` highest *daily* peaks (one hour per local day)
    of each local year's peak months (PJM's 5CP)."""
    coincident_peaks_per_season: ClassVar[int] = 0
    """Peak days counted per season when ``coincident_peak_basis`` is ``season``."""
    coincident_peak_name: ClassVar[str] = "coincident peak"
    """Short name of the rule in notes, e.g. ``4CP``."""

    # --- data (implemented per market) --------------------------------------------------------

    @abstractmethod
    def hub_prices(self) -> pd.DataFrame:
        """Real-time prices at the hubs [USD/MWh]: UTC interval starts, one column per hub."""

    @abstractmethod
    def load_zone_prices(self) -> pd.DataFrame:
        """Real-time prices at the load zones [USD/MWh]: UTC interval starts, one column per zone."""

    @abstractmethod
    def ancillary_prices(self) -> pd.DataFrame:
        """Day-ahead capacity clearing prices [USD/MW-h]: hourly UTC interval starts, one column per product."""

    @abstractmethod
    def system_load(self) -> pd.Series:
        """System load [MW]: hourly UTC interval starts (may have documented gaps)."""

    def system_load_history(self) -> pd.Series:
        """A longer system-load history [MW], hourly UTC interval starts (default: :meth:`system_load`).

        Used to train forecasts and to fill years the official load lacks (noted where used).
        """
        return self.system_load()

    # --- shared behaviour ------------------------------------------------------------------------

    @property
    def settlement_points(self) -> tuple[str, ...]:
        """Every settlement point with bundled prices: hubs then load zones."""
        return self.hubs + self.load_zones

    def point_kind(self, point: str) -> PointKind:
        """``hub`` or ``load_zone``; raises :class:`ScenarioError` for an unknown point."""
        if point in self.hubs:
            return "hub"
        if point in self.load_zones:
            return "load_zone"
        raise ScenarioError(f"settlement point: got {point!r}, not a {self.name} hub or load zone; allowed: {list(self.settlement_points)}")

    def point_kind_or_none(self, point: str) -> PointKind | None:
        """``hub``, ``load_zone`` or ``None`` for a point this market does not list (a user's own column)."""
        return "hub" if point in self.hubs else "load_zone" if point in self.load_zones else None

    def prices(self, point: str) -> pd.Series:
        """Real-time price series of one settlement point [USD/MWh], UTC interval starts."""
        frame = self.hub_prices() if self.point_kind(point) == "hub" else self.load_zone_prices()
        return frame[point]

    def coverage(self, point: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last interval start with a bundled price at ``point`` (UTC)."""
        s = self.prices(point)
        return s.index[0], s.index[-1]

    def covers(self, point: str, start: pd.Timestamp, end: pd.Timestamp) -> bool:
        """True when the bundled prices of ``point`` span ``start`` (inclusive) .. ``end`` (exclusive), UTC."""
        first, last = self.coverage(point)
        return bool(start >= first and end <= last + pd.Timedelta(hours=1))

    def local(self, index: pd.DatetimeIndex) -> pd.DatetimeIndex:
        """``index`` (UTC) in the market's local time."""
        return index.tz_convert(self.timezone)

    def billing_month(self, index: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
        """(T) local billing month of each UTC interval start, as ``year * 12 + month - 1``.

        Utilities bill demand charges by local calendar month: an interval
        starting 2023-08-01 03:00 UTC (22:00 on 31 July in Texas) belongs to July.
        """
        loc = self.local(index)
        return (loc.year * 12 + loc.month - 1).to_numpy().astype(np.int64)

    def calendar_year(self, index: pd.DatetimeIndex) -> npt.NDArray[np.int64]:
        """(T) local calendar year of each UTC interval start (annual budgets, annual charges)."""
        return self.local(index).year.to_numpy().astype(np.int64)

    def peak_months(self, index: pd.DatetimeIndex) -> npt.NDArray[np.bool_]:
        """(T) True where the local month has a coincident-peak charge."""
        return np.isin(self.local(index).month, list(self.coincident_peak_months))

    @property
    def coincident_peaks_per_year(self) -> int:
        """Peak intervals a year's coincident-peak obligation averages over (ERCOT 4CP: 4, PJM 5CP: 5); 0: no such charge.

        The obligation is the load's mean over them, so a charge of ``rate`` [USD/MW-year] costs
        ``rate / coincident_peaks_per_year`` per MWh consumed in a peak hour.
        """
        if self.coincident_peak_basis == "season":
            return self.coincident_peaks_per_season if self.coincident_peak_months else 0
        return len(self.coincident_peak_months) * self.coincident_peaks_per_month

    def peak_intervals(self, load_mw: pd.Series, min_hours_per_month: int = 24 * 25) -> pd.DatetimeIndex:
        """UTC starts of the coincident-peak intervals in ``load_mw``, per :attr:`coincident_peak_basis`.

        ``month``: the highest interval(s) of each peak month; ``season``: the highest daily peaks of each
        local year's peak months, one per day. ``load_mw`` is indexed by UTC interval starts. Months with
        fewer than ``min_hours_per_month`` hours of data are left out (``season``: the whole year is), not guessed.
        With hourly load this is an hourly proxy of a 15-minute official peak.
        """
        s = load_mw.dropna()
        if s.empty:
            return pd.DatetimeIndex([], tz="UTC")
        if self.coincident_peak_basis == "season":
            return self.season_peaks(s, self.peak_years(s, min_hours_per_month))
        loc = self.local(pd.DatetimeIndex(s.index))
        step_h = float(pd.Series(s.index).diff().median() / pd.Timedelta("1h")) if len(s) > 1 else 1.0
        keep = np.isin(loc.month, list(self.coincident_peak_months))
        s, loc = s[keep], loc[keep]
        peaks: list[pd.Timestamp] = []
        for _, grp in s.groupby([loc.year, loc.month]):
            if len(grp) * step_h < min_hours_per_month:
                continue
            peaks += list(grp.nlargest(self.coincident_peaks_per_month).index)
        return pd.DatetimeIndex(sorted(peaks), tz="UTC") if peaks else pd.DatetimeIndex([], tz="UTC")

    def season_peaks(self, load_mw: pd.Series, years: set[int] | None = None, weekdays_only: bool = False) -> pd.DatetimeIndex:
        """UTC starts of the ``coincident_peaks_per_season`` highest daily peaks of each local year's peak months.

        One hour per local day (the day's peak), then the largest days of each year in ``years`` (default:
        every year in ``load_mw``; a season the data cover in part gives the peaks *of what is there*).
        ``weekdays_only`` drops Saturdays and Sundays, for a tariff that excludes them.
        """
        s = load_mw.dropna()
        if s.empty:
            return pd.DatetimeIndex([], tz="UTC")
        local = self.local(pd.DatetimeIndex(s.index))
        keep = np.isin(local.month, list(self.coincident_peak_months))
        if years is not None:
            keep &= np.isin(local.year, sorted(years))
        if weekdays_only:
            keep &= local.dayofweek < 5
        s, local = s[keep], local[keep]
        if s.empty:
            return pd.DatetimeIndex([], tz="UTC")
        daily = s.groupby(local.date).idxmax()
        peaks: list[pd.Timestamp] = []
        day_year = pd.Series([d.year for d in daily.index], index=daily.index)
        for _, days in daily.groupby(day_year):
            peaks += list(s[days.to_numpy()].nlargest(self.coincident_peaks_per_season).index)
        return pd.DatetimeIndex(sorted(peaks)).tz_convert("UTC")

    def peak_years(self, load_mw: pd.Series, min_hours_per_month: int = 24 * 25) -> set[int]:
        """Local years in which every coincident-peak month has at least ``min_hours_per_month`` hours of ``load_mw``."""
        s = load_mw.dropna()
        loc = self.local(pd.DatetimeIndex(s.index))
        counts = pd.Series(1, index=loc).groupby([loc.year, loc.month]).size()
        years = {int(y) for y, _ in counts.index}
        return {y for y in years if all(counts.get((y, mo), 0) >= min_hours_per_month for mo in self.coincident_peak_months)}

    def product(self, name: str) -> AncillaryProduct:
        """One ancillary product by code; raises :class:`ScenarioError` for an unknown code."""
        if name not in self.ancillary_products:
            raise ScenarioError(f"ancillary.products: got {name!r}, not a {self.name} product; allowed: {list(self.ancillary_products)}")
        return self.ancillary_products[name]
