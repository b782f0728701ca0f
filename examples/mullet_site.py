"""The mullet site: the same ~283 MW as all mining, all AI, and hybrid over 2023 — revenue, margin, peak contribution."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from _common import out_dir

from mullet.dispatch import dispatch
from mullet.grid import site_impact, site_variants
from mullet.site import load_scenario

ROOT = Path(__file__).parents[1]


def main() -> None:
    sc = load_scenario(ROOT / "scenarios/default.toml")
    impact = site_impact(sc).table
    rows = {}
    for name, variant in site_variants(sc).items():
        r = dispatch(variant)
        revenue = r.pnl["mining_revenue_usd"] + r.pnl["ai_revenue_usd"] + r.pnl["ancillary_revenue_usd"]
        rows[name] = (revenue, r.pnl["net_usd"], impact.loc[name, "mean_load_top10_mw"], impact.loc[name, "mean_load_4cp_mw"])
        print(f"{name:16s} revenue ${revenue / 1e6:7.1f}M  net ${r.pnl['net_usd'] / 1e6:7.1f}M  "
              f"load in ERCOT's top 10 h {rows[name][2]:6.1f} MW  in 4CP hours {rows[name][3]:6.1f} MW")  # fmt: skip
    print("note: firm AI leases the whole site at the scenario's colocation rate ($130/kW-month of IT, PUE 1.25)")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    names = list(rows)
    axes[0].bar(names, [rows[n][1] / 1e6 for n in names])
    axes[0].set_ylabel("net P&L 2023 [M USD]")
    axes[1].bar(names, [rows[n][2] for n in names], color="C3")
    axes[1].set_ylabel("mean load in ERCOT's top 10 hours [MW]")
    fig.suptitle("The same site as firm AI, flexible mining and hybrid (ERCOT 2023)")
    fig.tight_layout()
    path = out_dir() / "mullet_site.png"
    fig.savefig(path, dpi=110)
    print(f"chart: {path}")


if __name__ == "__main__":
    main()
