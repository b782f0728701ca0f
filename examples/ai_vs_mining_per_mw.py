"""Revenue per MW, AI vs mining: do 10 MW of H100s earn what 100 MW of mining earns?

Sources: IREN-Microsoft ($9.7B over 5 years, ~200 MW IT, 20% prepaid) and Hut 8-Fluidstack ($7B over 15 years,
245 MW, 3% escalator) as announced by the companies; mining from the bundled Coin Metrics hashprice history.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _common import out_dir

from mullet.contracts import compare_contracts

DATES = ["2021-11-10", "2023-06-01", "2024-06-01", "2025-06-01"]


def main() -> None:
    deals, claim = compare_contracts(DATES, efficiency_j_per_th=17.5, power_usd_per_mwh=45.0, gpu_usd_per_hour=2.0)
    print("Revenue per MW-year [USD]")
    for name, row in deals.iterrows():
        print(f"  {name:60s} {row['usd_per_mw_year'] / 1e6:6.2f}M")
    print("10 MW of H100s (GPU cloud, $2/GPU-h, 70% utilised) vs 100 MW of S21-class mining, revenue per year")
    for day, row in claim.iterrows():
        print(
            f"  {day}: GPUs ${row['gpu_revenue_usd_per_year'] / 1e6:6.1f}M  mining ${row['mining_100mw_revenue_usd_per_year'] / 1e6:6.1f}M  ratio {row['gpu_over_mining_revenue']:.2f}"
        )
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar([n.split(" (")[0] for n in deals.index], deals["usd_per_mw_year"] / 1e6, color=["C1", "C1"] + ["C0"] * len(DATES))
    ax.set_ylabel("M USD per MW-year")
    ax.set_title("Contracted AI revenue per IT MW-year vs mining revenue per MW-year")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.tight_layout()
    path = out_dir() / "ai_vs_mining_per_mw.png"
    fig.savefig(path, dpi=110)
    print(f"chart: {path}")


if __name__ == "__main__":
    main()
