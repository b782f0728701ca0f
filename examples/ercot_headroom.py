"""ERCOT headroom: how much constant new load fits if it accepts 0.25-5% curtailment (Norris et al. 2025 method).

Years used: 2021 and 2023 (2024 has only January-August and is left out of the rates; 2022 is not bundled).
Caveats: one bus (no transmission limits), constant new load, thresholds = past peaks.
"""

from __future__ import annotations

from _common import out_dir

from mullet.data import load_system_load
from mullet.grid import headroom
from mullet.plot import plot_headroom


def main() -> None:
    load = load_system_load()["load_mw"]
    result = headroom(load)
    print(f"thresholds: summer {result.summer_threshold_mw:,.0f} MW, winter {result.winter_threshold_mw:,.0f} MW; years {result.years_used}")
    for row in result.rows:
        print(
            f"  {row.rate_fraction:6.2%}: {row.new_load_mw / 1000:5.2f} GW, {row.curtailment_hours_per_year:6.0f} h/yr curtailed, mean event {row.mean_event_hours:4.1f} h"
        )
    for note in result.notes:
        print(f"  note: {note}")
    print(f"chart: {plot_headroom(load, result, out_dir() / 'ercot_headroom.png')}")


if __name__ == "__main__":
    main()
