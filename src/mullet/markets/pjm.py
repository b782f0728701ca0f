"""PJM: time zone, trading hubs, the 5CP/NSPL peak-charge rule, bundled samples.

What PJM charges a large load for its peaks (a summary; the tariff and the
utility's retail rates govern):

- **Capacity (RPM)**: a load's capacity obligation is its **peak load
  contribution (PLC)**, set from its load in the **5CP** hours: the five highest
  daily peak hours of PJM RTO load in the summer period (June 1 - September 30),
  one per day, in the summer before the delivery year. The obligation is billed
  every day of the delivery year at the zone's capacity price [USD/MW-day].
- **Transmission (NITS)**: billed on the **network service peak load (NSPL)**,
  the load at the transmission zone's annual peak hour (**1CP**), at the zone's
  network integration rate [USD/MW-year].

Both rules are :data:`PEAK_CHARGE_RULE`, a documented field of :class:`Pjm`
(``Pjm.peak_charge_rule``). The rates differ by zone and delivery year and none is
bundled: they are ``None`` and a user must supply them.

**What dispatch charges** (issue 15): the 5CP obligation, through the same
coincident-peak path as ERCOT's 4CP (``coincident_peak_basis = "season"``: the
five highest daily peaks of June-September of the load in
``power.four_cp.load_file``, the zone's or the RTO's). The scenario's
``power.four_cp.rate_usd_per_kw_year`` is the rate on that obligation
[USD/kW-year]: a capacity price of ``c`` USD/MW-day is ``c x 365 / 1000``; add
the zone's NITS rate where the utility sets the NSPL on the same five peaks.
A NITS charge on a *1CP* NSPL (one hour, of the zone's own load) is not charged
by dispatch: its hour is :meth:`Pjm.one_cp_intervals`. Modes as for 4CP:
``perfect`` (the five hours known: hindsight, an upper bound), ``forecast``
(curtail above a threshold) and the realisable ``realtime_4cp`` policy
(a load forecast trained on earlier summers; :mod:`mullet.dispatch.fourcp`).
The 5CP and 1CP hours of a load series are :meth:`Pjm.five_cp_intervals` and
:meth:`Pjm.one_cp_intervals`.

Bundled data (sources and licences: ``src/mullet/data/files/SOURCES.md``), samples only:
real-time hourly LMPs at WESTERN HUB and DOMINION HUB, 2025-05-01 04:00 to
2025-05-02 23:00 UTC (PJM Data Miner 2 ``rt_hrl_lmps``, read through the
gridstatus-shaped loader), and EIA-930 PJM demand, 2024-07-01..19 (Eastern
days). Not bundled: load-zone (transmission zone) prices and loads, ancillary
prices (regulation, reserves), capacity and transmission rates. For a real study
bring your own prices (a gridstatus-shaped file of whole years as ``power.price_file``:
dispatch and plan read it directly) and load (``power.four_cp.load_file``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, Literal

import pandas as pd

from mullet.data import bundled_path
from mullet.data.eia930 import read_eia930
from mullet.data.gridstatus import load_gridstatus_prices, pjm_dataminer_to_gridstatus
from mullet.errors import ScenarioError
from mullet.markets.base import AncillaryProduct, Market

__all__ = ["PEAK_CHARGE_RULE", "PJM", "PeakChargeRule", "Pjm"]

PJM_LOAD_FILE = "eia930_demand_hourly_PJM_2024-07-01_2024-07-19.csv"


@dataclass(frozen=True)
class PeakChargeRule:
    """How a market charges a load for its share of system peaks.

    Attributes
    ----------
    name
        Short name, e.g. ``"5CP/NSPL"``.
    capacity_peaks
        Number of peak hours (one per day) that set the capacity obligation (PJM: 5).
    capacity_months
        Local months in which those peaks are looked for (PJM: June-September).
    capacity_basis
        The rule in words.
    capacity_rate_usd_per_mw_day
        Capacity price applied to the obligation [USD/MW-day]; ``None``: zone- and year-specific, not bundled.
    transmission_basis
        The transmission rule in words.
    transmission_rate_usd_per_mw_year
        Network integration rate on the NSPL [USD/MW-year]; ``None``: zone-specific, not bundled.
    source
        Where the rule is documented.
    """

    name: str
    capacity_peaks: int
    capacity_months: tuple[int, ...]
    capacity_basis: str
    capacity_rate_usd_per_mw_day: float | None
    transmission_basis: str
    transmission_rate_usd_per_mw_year: float | None
    source: str


PEAK_CHARGE_RULE = PeakChargeRule(
    name="5CP/NSPL",
    capacity_peaks=5,
    capacity_months=(6, 7, 8, 9),
    capacity_basis=(
        "peak load contribution: the load's mean over the five highest daily peak hours of PJM RTO load, June 1 - September 30, "
        "one per day (5CP), scaled by the zone; billed every day of the next delivery year at the zone's capacity price"
    ),
    capacity_rate_usd_per_mw_day=None,
    transmission_basis="network service peak load: the load at its transmission zone's annual peak hour (1CP), billed at the zone's NITS rate",
    transmission_rate_usd_per_mw_year=None,
    source="PJM Manual 19 (load forecasting: 5CP and zonal peaks) and the PJM Open Access Transmission Tariff (NITS on NSPL)",
)


@lru_cache(maxsize=1)
def _hub_prices() -> pd.DataFrame:
    return load_gridstatus_prices(pjm_dataminer_to_gridstatus())


@lru_cache(maxsize=1)
def _load() -> pd.Series:
    return read_eia930(bundled_path(PJM_LOAD_FILE), "PJM")["PJM"].rename("load_mw")


class Pjm(Market):
    """PJM Interconnection (the bundled data are samples; see the module docstring)."""

    name: ClassVar[str] = "PJM"
    timezone: ClassVar[str] = "America/New_York"
    hubs: ClassVar[tuple[str, ...]] = ("WESTERN HUB", "DOMINION HUB")
    load_zones: ClassVar[tuple[str, ...]] = ()
    hub_of_zone: ClassVar[dict[str, str]] = {}
    ancillary_products: ClassVar[dict[str, AncillaryProduct]] = {}
    """None bundled: PJM's regulation and reserve products are not modelled here."""
    coincident_peak_months: ClassVar[tuple[int, ...]] = PEAK_CHARGE_RULE.capacity_months
    """June-September (local): where the 5CP daily peaks are looked for (:attr:`peak_charge_rule`)."""
    coincident_peak_basis: ClassVar[Literal["month", "season"]] = "season"
    coincident_peaks_per_season: ClassVar[int] = PEAK_CHARGE_RULE.capacity_peaks
    coincident_peak_interval: ClassVar[str] = "1h"
    coincident_peak_name: ClassVar[str] = "5CP"
    peak_charge_rule: ClassVar[PeakChargeRule] = PEAK_CHARGE_RULE

    def hub_prices(self) -> pd.DataFrame:
        """Real-time hourly LMPs [USD/MWh], 2025-05-01 04:00 to 2025-05-02 23:00 UTC (a sample)."""
        return _hub_prices().copy()

    def load_zone_prices(self) -> pd.DataFrame:
        """No zone prices are bundled: a frame on the hub-price grid with no columns."""
        return _hub_prices()[[]].copy()

    def ancillary_prices(self) -> pd.DataFrame:
        """No ancillary prices are bundled: a frame on the hub-price grid with no columns."""
        return _hub_prices()[[]].copy()

    def system_load(self) -> pd.Series:
        """EIA-930 PJM demand [MW], hourly UTC interval starts, 2024-07-01..19 Eastern (a sample)."""
        return _load().copy()

    def five_cp_intervals(self, load_mw: pd.Series, weekdays_only: bool = False) -> pd.DatetimeIndex:
        """UTC starts of the 5CP hours in ``load_mw``: per local year, the five highest daily peak hours of June-September.

        One hour per local day (the day's peak), then the ``capacity_peaks`` largest days
        (:meth:`~mullet.markets.base.Market.season_peaks`). A summer that the data cover only in part gives the
        5CP *of what is there* (say so when quoting it). ``weekdays_only`` drops Saturdays and Sundays, for a
        tariff that excludes them (check yours; NERC holidays are not known here).
        """
        if load_mw.dropna().empty:
            raise ScenarioError("load_mw: no load values to find 5CP hours in")
        peaks = self.season_peaks(load_mw, weekdays_only=weekdays_only)
        if len(peaks) == 0:
            raise ScenarioError(f"load_mw: no hours in the 5CP months {self.peak_charge_rule.capacity_months} (local {self.timezone})")
        return peaks

    def one_cp_intervals(self, load_mw: pd.Series) -> pd.DatetimeIndex:
        """UTC start of each local year's single peak hour of ``load_mw`` (the NSPL hour when ``load_mw`` is a zone's load)."""
        s = load_mw.dropna()
        if s.empty:
            raise ScenarioError("load_mw: no load values to find the peak hour in")
        local = self.local(pd.DatetimeIndex(s.index))
        return pd.DatetimeIndex(sorted(s.groupby(local.year).idxmax())).tz_convert("UTC")

    def peak_load_contribution_mw(self, site_load_mw: pd.Series, system_load_mw: pd.Series) -> float:
        """A site's 5CP peak load contribution [MW]: its mean load in the system's 5CP hours (before zonal scaling).

        Raises
        ------
        ScenarioError
            When the site's series lacks any of the 5CP hours.
        """
        hours = self.five_cp_intervals(system_load_mw)
        missing = hours.difference(site_load_mw.dropna().index)
        if len(missing):
            raise ScenarioError(f"site_load_mw: no value at the 5CP hour(s) {[str(t) for t in missing[:5]]} (UTC interval starts)")
        return float(site_load_mw.loc[hours].mean())


PJM = Pjm()
"""The PJM market module instance."""
