"""ERCOT: time zone, hubs and load zones, settlement rules, ancillary products, 4CP, bundled data.

Settlement as ERCOT does it (Nodal Protocols, summarised):

- a load settles real-time energy at its **load zone** settlement point price;
  PPAs and hedges usually settle at a **trading hub**. The difference (basis)
  is the site's, and mullet reports it as its own P&L line;
- ancillary services are awarded **hourly in the day-ahead market** at the
  product's clearing price for capacity (MCPC); the obligation holds for the
  whole hour (all four 15-minute intervals);
- transmission cost (TCOS) is allocated on the load's share of the four
  June-September **coincident peaks** (4CP): the 15-minute interval of each
  month's system peak; the bundled system load is hourly, so mullet uses the
  peak hour as a proxy (stated in the notes);
- local time is Central Prevailing Time (America/Chicago): billing months,
  4CP months and PPA shapes follow it.

Bundled data (sources and licences: ``src/mullet/data/files/SOURCES.md``):
real-time hub SPPs, 15 min, 2021-2024; real-time load-zone SPPs, hourly, 2023
only; day-ahead ancillary MCPCs, hourly, 2022-2024; ERCOT native load, hourly,
2021, 2023, 2024-01..08; EIA-930 ERCO demand, hourly, 2016-2024.
"""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

import pandas as pd

from mullet.data import AS_PRODUCTS, ERCOT_HUBS, ERCOT_LOAD_ZONES, load_as_prices, load_ercot_hub_prices, load_ercot_loadzone_prices, load_system_load
from mullet.data.eia930 import load_eia930_demand
from mullet.markets.base import AncillaryProduct, Market

__all__ = ["ERCOT", "Ercot"]

_NO_FIGURE = (
    "no published per-product deployment statistic was found for this release (ERCOT publishes deployments as "
    "event reports, not as a share of awarded MWh); set ancillary.deployment_fraction_by_product"
)
_DA_HOURLY = "day-ahead market, hourly, at the product's MCPC (NP4-181-ER)"


class Ercot(Market):
    """The Electric Reliability Council of Texas."""

    name: ClassVar[str] = "ERCOT"
    timezone: ClassVar[str] = "America/Chicago"
    hubs: ClassVar[tuple[str, ...]] = ERCOT_HUBS
    load_zones: ClassVar[tuple[str, ...]] = ERCOT_LOAD_ZONES
    hub_of_zone: ClassVar[dict[str, str]] = {"LZ_WEST": "HB_WEST", "LZ_NORTH": "HB_NORTH", "LZ_SOUTH": "HB_SOUTH", "LZ_HOUSTON": "HB_HOUSTON"}
    ancillary_products: ClassVar[dict[str, AncillaryProduct]] = {
        "REGUP": AncillaryProduct(
            "REGUP", "up", _DA_HOURLY, 1.0, None, _NO_FIGURE, "Regulation Up: follows ERCOT's 4-second AGC signal; deployed continuously"
        ),
        "REGDN": AncillaryProduct("REGDN", "down", _DA_HOURLY, 1.0, None, _NO_FIGURE, "Regulation Down: the load consumes more on AGC signal"),
        "RRS": AncillaryProduct(
            "RRS", "up", _DA_HOURLY, 1.0, None, _NO_FIGURE, "Responsive Reserve: load resources trip on under-frequency (59.7 Hz) or on ERCOT's instruction"
        ),
        "ECRS": AncillaryProduct(
            "ECRS", "up", _DA_HOURLY, 1.0, None, _NO_FIGURE, "ERCOT Contingency Reserve Service (from 2023-06-10): 10-minute response, net-load ramps and EEA"
        ),
        "NSPIN": AncillaryProduct("NSPIN", "up", _DA_HOURLY, 1.0, None, _NO_FIGURE, "Non-Spinning Reserve: 30-minute response"),
    }
    coincident_peak_months: ClassVar[tuple[int, ...]] = (6, 7, 8, 9)
    coincident_peaks_per_month: ClassVar[int] = 1
    coincident_peak_interval: ClassVar[str] = "15min"
    coincident_peak_name: ClassVar[str] = "4CP"

    def hub_prices(self) -> pd.DataFrame:
        """Real-time 15-minute hub SPPs, 2021-2024 [USD/MWh] (57 intervals of 2021 absent in the source)."""
        return load_ercot_hub_prices()

    def load_zone_prices(self) -> pd.DataFrame:
        """Real-time hourly load-zone SPPs, 2023 only [USD/MWh].

        The source lists the repeated fall-back hour (01:00 local on 2023-11-05) once, under its
        one local label; that value is applied to both UTC hours of the label (the source's own
        merge of the two, which cannot be undone). No other gap is filled.
        """
        frame = load_ercot_loadzone_prices()
        full = pd.date_range(frame.index[0], frame.index[-1], freq="1h")
        wall = full.tz_convert(self.timezone).tz_localize(None)
        present = full.isin(frame.index)
        repeated = [full[i] for i in range(1, len(full)) if not present[i] and present[i - 1] and wall[i] == wall[i - 1]]
        if repeated:
            frame = frame.reindex(frame.index.union(pd.DatetimeIndex(repeated))).ffill(limit=1)
        return frame

    def ancillary_prices(self) -> pd.DataFrame:
        """Day-ahead MCPCs, hourly, 2022-2024 [USD/MW-h]; ECRS NaN before 2023-06-10."""
        return load_as_prices()[list(AS_PRODUCTS)]

    def system_load(self) -> pd.Series:
        """ERCOT native load [MW], hourly: 2021, 2023, 2024-01..08 (2022 missing)."""
        return _native_load().copy()

    def system_load_history(self) -> pd.Series:
        """EIA-930 ERCO demand [MW], hourly 2016-2024 (241 blank hours are NaN): the training history of 4CP forecasts."""
        return _eia930().copy()


@lru_cache(maxsize=1)
def _native_load() -> pd.Series:
    return load_system_load()["load_mw"]


@lru_cache(maxsize=1)
def _eia930() -> pd.Series:
    return load_eia930_demand("ERCO")


ERCOT = Ercot()
"""The ERCOT market instance."""
