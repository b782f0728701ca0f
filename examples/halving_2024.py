"""The April 2024 halving: hashprice before and after, mining value per MWh by efficiency class, who went under water.

Real data only: 30 days before and after 2024-04-20 from the bundled Coin Metrics history.
"""

from __future__ import annotations

from _common import out_dir

from mullet.network import halving_episode, network_history
from mullet.plot import plot_network_history

POWER_USD_PER_MWH = 45.0


def main() -> None:
    h = halving_episode(power_price_usd_per_mwh=POWER_USD_PER_MWH)
    print(f"hashprice [USD/PH/day]: before {h.loc['before', 'hashprice_usd_per_ph_day']:.1f}, after {h.loc['after', 'hashprice_usd_per_ph_day']:.1f}")
    print(f"hashrate [EH/s]:        before {h.loc['before', 'hashrate_ehs']:.0f}, after {h.loc['after', 'hashrate_ehs']:.0f}")
    for col in [c for c in h.columns if c.startswith("value_usd_per_mwh__")]:
        cls = col.split("__")[1]
        under = bool(h.loc["after", f"under_water__{cls}"])
        flag = f"  UNDER WATER at ${POWER_USD_PER_MWH:g}/MWh" if under else ""
        print(f"  {cls:14s} mining value {h.loc['before', col]:6.1f} -> {h.loc['after', col]:6.1f} USD/MWh{flag}")
    hist = network_history("2024-03-01", "2024-06-30", "week")
    print(f"chart: {plot_network_history(hist, out_dir() / 'halving_2024.png', 17.5)}")


if __name__ == "__main__":
    main()
