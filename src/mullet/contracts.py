"""Public AI/HPC deals as contracts, and AI against mining per MW at dates of the bundled hashprice history."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mullet.data import load_gpu_specs
from mullet.errors import ScenarioError, warn_implausible
from mullet.finance.contracts import contract_examples
from mullet.network.history import daily_hashprice, utc_day

__all__ = ["GPU_SERVER_OVERHEAD", "compare_contracts", "mining_usd_per_mw_year"]

GPU_SERVER_OVERHEAD = 1.82
"""Server power per GPU over the GPU's own TDP (assumption: an 8-GPU H100 server draws about 10.2 kW for 8 x 700 W GPUs)."""


def mining_usd_per_mw_year(day: str, efficiency_j_per_th: float, power_usd_per_mwh: float = 0.0) -> tuple[float, float]:
    """(revenue, margin) of 1 MW of miners running all year at that day's hashprice [USD/MW-year]."""
    daily = daily_hashprice()
    ts = utc_day(day, "dates")
    if ts not in daily.index:
        raise ScenarioError(f"dates: got {day}, allowed: days within the bundled history {daily.index[0].date()}..{daily.index[-1].date()}")
    hp = float(daily.loc[ts, "hashprice_usd_per_ph_day"])
    ph_per_mw = 1000.0 / efficiency_j_per_th  # 1 MW / (e J/TH) = 1e6/e TH/s
    revenue = hp * ph_per_mw * 365
    return revenue, revenue - power_usd_per_mwh * 8760


def compare_contracts(
    dates: Sequence[str],
    efficiency_j_per_th: float = 17.5,
    power_usd_per_mwh: float = 45.0,
    gpu_usd_per_hour: float = 2.0,
    gpu_utilisation_fraction: float = 0.7,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(deal table, 10-MW-of-H100s claim table).

    Deals give contracted revenue per IT MW-year; mining rows give revenue and
    margin (after ``power_usd_per_mwh``) per MW-year at each date's hashprice.
    The claim compares 10 MW of H100 SXM GPU cloud (GPU count from the bundled
    700 W spec x server overhead) with 100 MW of mining at each date.
    """
    if not dates:
        raise ScenarioError("dates: none given; allowed: one or more days like 2024-06-01")
    if not gpu_usd_per_hour > 0:
        raise ScenarioError(f"gpu_usd_per_hour: got {gpu_usd_per_hour}, allowed: > 0 (H100 rentals were about $1.5-12/GPU-hour in 2023-2025)")
    if gpu_usd_per_hour > 20:
        warn_implausible(f"gpu_usd_per_hour: got {gpu_usd_per_hour:g}, above H100 rentals of about $1.5-12/GPU-hour (2023-2025); used as given")
    if not efficiency_j_per_th > 0:
        raise ScenarioError(f"efficiency_j_per_th: got {efficiency_j_per_th}, allowed: > 0")
    rows = []
    for deal in contract_examples():
        rows.append(
            {
                "what": deal.name,
                "term_years": deal.term_years,
                "contract_value_usd": deal.total_contract_value_usd,
                "year1_revenue_usd": float(deal.yearly_revenue_usd(1)[0]),
                "year1_usd_per_kw_month": deal.year1_usd_per_kw_month(),
                "lease_type": deal.lease_type,
                "usd_per_mw_year": deal.usd_per_mw_year(),
                "margin_usd_per_mw_year": float("nan"),
            }
        )
    for d in dates:
        rev, margin = mining_usd_per_mw_year(d, efficiency_j_per_th, power_usd_per_mwh)
        rows.append(
            {
                "what": f"mining at {efficiency_j_per_th:g} J/TH, hashprice of {d}",
                "term_years": float("nan"),
                "contract_value_usd": float("nan"),
                "year1_revenue_usd": float("nan"),
                "year1_usd_per_kw_month": float("nan"),
                "lease_type": "",
                "usd_per_mw_year": rev,
                "margin_usd_per_mw_year": margin,
            }
        )
    deals = pd.DataFrame(rows).set_index("what")
    specs = load_gpu_specs().set_index("product")
    gpu_kw = float(specs.loc["H100 SXM5", "tdp_w"]) * GPU_SERVER_OVERHEAD / 1000
    gpus = 10_000 / gpu_kw
    gpu_rev = gpus * gpu_usd_per_hour * 8760 * gpu_utilisation_fraction
    claim = []
    for d in dates:
        rev, margin = mining_usd_per_mw_year(d, efficiency_j_per_th, power_usd_per_mwh)
        claim.append(
            {
                "date": d,
                "h100_gpus": round(gpus),
                "gpu_revenue_usd_per_year": gpu_rev,
                "mining_100mw_revenue_usd_per_year": 100 * rev,
                "mining_100mw_margin_usd_per_year": 100 * margin,
                "gpu_over_mining_revenue": gpu_rev / (100 * rev),
            }
        )
    return deals, pd.DataFrame(claim).set_index("date")
