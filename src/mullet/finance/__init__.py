"""Finance: contracts (one union, vectorised revenue and cost), capital (capex, depreciation, financing, terminal value), metrics.

Conventions: cash flows are yearly, at year end, year 0 first ("now", undiscounted); positive = cash in.
Discounting is ``cf_y / (1 + r)**y``. Money is nominal USD. Defaults carry their source or say they are assumptions.
"""

from __future__ import annotations

from mullet.finance.capital import (
    Capex,
    ConvertibleNote,
    Escalation,
    Financing,
    MiningEconomics,
    TermDebt,
    TerminalValue,
    convertible_outcome,
    straight_line_depreciation,
    terminal_value_usd,
)
from mullet.finance.contracts import (
    ColocationLease,
    Contract,
    ContractRisk,
    GpuCloud,
    LeaseType,
    colocation_revenue_usd,
    contract_examples,
    gpu_cloud_revenue_usd,
    owner_energy_cost_usd,
    simulate_tenancy,
    tenant_energy_reimbursement_usd,
)
from mullet.finance.metrics import cvar, dscr, irr, irr_rows, npv, payback_rows, payback_years

AiLease = ColocationLease
"""Former name of :class:`ColocationLease`."""

__all__ = [
    "AiLease",
    "Capex",
    "ColocationLease",
    "Contract",
    "ContractRisk",
    "ConvertibleNote",
    "Escalation",
    "Financing",
    "GpuCloud",
    "LeaseType",
    "MiningEconomics",
    "TermDebt",
    "TerminalValue",
    "colocation_revenue_usd",
    "contract_examples",
    "convertible_outcome",
    "cvar",
    "dscr",
    "gpu_cloud_revenue_usd",
    "irr",
    "irr_rows",
    "npv",
    "owner_energy_cost_usd",
    "payback_rows",
    "payback_years",
    "simulate_tenancy",
    "straight_line_depreciation",
    "tenant_energy_reimbursement_usd",
    "terminal_value_usd",
]
