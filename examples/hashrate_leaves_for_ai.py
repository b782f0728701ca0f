"""Hashrate leaving for AI: 20% of the network's capacity leaves during 2026. What happens to the miners who stay?

Network simulation from the bundled history's last day; the fleet mix and power-cost distribution are assumptions
(see `mullet.network.SupplyModel`).
"""

from __future__ import annotations

import numpy as np
from _common import out_dir

from mullet.network import parse_event, simulate_network
from mullet.plot import plot_fan

PATHS, YEARS, SEED = 300, 2, 7


def main() -> None:
    base = simulate_network(PATHS, YEARS, seed=SEED)
    exit20 = simulate_network(PATHS, YEARS, [parse_event("ai-exit:0.2:2026-01-01..2026-12-31")], seed=SEED)
    y = base.days.year == 2027
    for label, r in (("no exit", base), ("20% leave in 2026", exit20)):
        print(
            f"{label:18s} 2027 P50: difficulty {np.median(r.difficulty[:, y]) / 1e12:5.0f} T, hashprice {np.median(r.hashprice_usd_per_ph_day[:, y]):5.1f} USD/PH/day, "
            f"margin S19-class {np.median(r.margin_usd_per_mwh['S19-class'][:, y]):6.1f}, S21-class {np.median(r.margin_usd_per_mwh['S21-class'][:, y]):6.1f} USD/MWh"
        )
    fans = {"difficulty, 20% exit": exit20.fan("difficulty"), "hashprice, 20% exit [USD/PH/day]": exit20.fan("hashprice_usd_per_ph_day")}
    print(f"chart: {plot_fan(fans, out_dir() / 'hashrate_leaves_for_ai.png', '20% of hashrate leaves for AI in 2026')}")


if __name__ == "__main__":
    main()
