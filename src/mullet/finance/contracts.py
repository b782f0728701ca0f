"""AI/HPC contracts: one pydantic union of contract types and the vectorised revenue and cost functions every caller uses.

Dispatch (:mod:`mullet.dispatch`), the planner (:mod:`mullet.plan`), the public-deal
examples (:mod:`mullet.contracts`) and the industry tracker compute contract revenue
and the owner's power cost only through the functions here.

Contract types (``kind`` is the discriminator):

- ``colocation``: a lease on contracted IT kW at USD per kW-month (or a total contract value).
  ``lease_type = "triple_net"`` (default; the real deals, e.g. Hut 8-Fluidstack and
  Core Scientific-CoreWeave, are triple-net or power pass-through): the tenant pays its
  energy, so the owner's energy cost of the AI load is reimbursed. ``"gross"``: the owner
  pays the power out of the rent.
- ``gpu_cloud``: the owner buys the GPUs and sells GPU-hours; the owner pays power and GPU capex.

Conventions: yearly amounts are for contract years 1, 2, ... (index 0 = first contract year);
money is nominal USD; power is site power unless the name says IT.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "HOURS_PER_YEAR",
    "ColocationLease",
    "Contract",
    "ContractRisk",
    "GpuCloud",
    "LeaseType",
    "colocation_revenue_usd",
    "contract_examples",
    "gpu_cloud_revenue_usd",
    "owner_energy_cost_usd",
    "simulate_tenancy",
    "tenant_energy_reimbursement_usd",
]

FloatArray = npt.NDArray[np.float64]
HOURS_PER_YEAR = 8760.0
LeaseType = Literal["triple_net", "gross"]
"""triple_net: the tenant pays its energy (pass-through); gross: the owner pays power out of the rent."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ContractRisk(_Model):
    """What a lender models per contract: tenant default, renewal, construction delay and overrun.

    Defaults are "no risk" except where a field says otherwise; the planner prints the values it used.
    """

    default_hazard_per_year: Annotated[float, Field(ge=0, le=1, description="Annual probability that the tenant defaults [-/year].")] = 0.0
    dark_months_after_default: Annotated[float, Field(ge=0, le=120, description="Months without rent after a default, before re-letting [months].")] = 9.0
    relet_rate_fraction: Annotated[
        float, Field(ge=0, le=2, description="Rent of a re-let (after a default or a non-renewal) as a share of the rent it replaces [-].")
    ] = 0.8
    renewal_probability: Annotated[float, Field(ge=0, le=1, description="Probability that the tenant renews at term end at the escalated rent [-].")] = 1.0
    relet_delay_months: Annotated[float, Field(ge=0, le=120, description="Months dark after a non-renewal before a new tenant pays [months].")] = 6.0
    construction_delay_months_mean: Annotated[
        float, Field(ge=0, le=60, description="Mean extra delay to power beyond the planned year, exponential distribution [months].")
    ] = 0.0
    capex_overrun_mean_fraction: Annotated[float, Field(ge=-0.5, le=2, description="Mean capex overrun of the build [-] (lognormal factor).")] = 0.0
    capex_overrun_sd_fraction: Annotated[float, Field(ge=0, le=2, description="Standard deviation of the capex overrun factor [-].")] = 0.0

    @property
    def is_zero(self) -> bool:
        """True when the contract carries no risk at all."""
        return (
            self.default_hazard_per_year == 0
            and self.renewal_probability == 1
            and self.construction_delay_months_mean == 0
            and self.capex_overrun_mean_fraction == 0
            and self.capex_overrun_sd_fraction == 0
        )


class ColocationLease(_Model):
    """A colocation lease on contracted IT MW: rate per kW-month (or a total contract value), escalator, prepayment, lease type."""

    kind: Literal["colocation"] = "colocation"
    name: str = "ai-lease"
    contracted_it_mw: Annotated[float | None, Field(gt=0, le=10_000, description="Contracted IT load [MW]; none: set by the plan's AI share.")] = None
    term_years: Annotated[float, Field(gt=0, le=30, description="Contract term [years].")] = 10.0
    usd_per_kw_month: Annotated[float | None, Field(gt=0, le=5_000, description="Rate on contracted IT kW [USD/kW-month].")] = None
    total_contract_value_usd: Annotated[float | None, Field(gt=0, description="Total contract value [USD], instead of a rate.")] = None
    escalator_fraction: Annotated[float, Field(ge=0, le=0.2, description="Yearly rent escalator [-].")] = 0.03
    prepayment_fraction: Annotated[float, Field(ge=0, le=1, description="Share of the contract value paid up front [-].")] = 0.0
    ramp_in: Annotated[list[float], Field(description="Share of contracted MW billed in contract years 1, 2, ... (then 1).")] = []
    lease_type: Annotated[LeaseType, Field(description="triple_net: tenant pays its energy (default, as in the public deals); gross: owner pays power.")] = (
        "triple_net"
    )
    renewal_options: Annotated[int, Field(ge=0, le=5, description="Renewal options of the same term (the plan uses risk.renewal_probability).")] = 0
    counterparty_backstop: Annotated[bool, Field(description="A creditworthy party guarantees the payments (e.g. Google for Fluidstack).")] = False
    risk: ContractRisk = ContractRisk()

    @model_validator(mode="after")
    def _check(self) -> ColocationLease:
        if (self.usd_per_kw_month is None) == (self.total_contract_value_usd is None):
            raise ValueError("usd_per_kw_month/total_contract_value_usd: give exactly one")
        if self.total_contract_value_usd is not None and self.contracted_it_mw is None:
            raise ValueError("contracted_it_mw: missing; allowed: > 0 when total_contract_value_usd is given")
        if any(not 0 <= r <= 1 for r in self.ramp_in):
            raise ValueError(f"ramp_in: got {self.ramp_in}, allowed: shares between 0 and 1")
        return self

    @property
    def owner_pays_power(self) -> bool:
        """True for a gross lease (the owner pays the tenant's energy)."""
        return self.lease_type == "gross"

    def _ramp(self, years: int) -> FloatArray:
        ramp = np.ones(years)
        k = min(len(self.ramp_in), years)
        ramp[:k] = self.ramp_in[:k]
        return ramp

    def year1_usd_per_kw_month(self) -> float:
        """Contract-year-1 rate [USD/kW-month]; with a total contract value it solves ``sum(rate x escalator^y x ramp_y x in_term_y) = value``."""
        if self.usd_per_kw_month is not None:
            return self.usd_per_kw_month
        assert self.total_contract_value_usd is not None and self.contracted_it_mw is not None
        full = int(np.ceil(self.term_years))
        y = np.arange(full)
        shape = colocation_revenue_usd(1.0, self.contracted_it_mw, y, self.escalator_fraction) * self._ramp(full) * np.clip(self.term_years - y, 0, 1)
        return float(self.total_contract_value_usd / shape.sum())

    def yearly_revenue_usd(self, years: int, it_mw: float | None = None) -> FloatArray:
        """Billed revenue in contract years 1..``years`` (zero after the term; a partial last year prorated)."""
        mw = it_mw if it_mw is not None else self.contracted_it_mw
        if mw is None:
            raise ValueError("contracted_it_mw: missing; allowed: > 0, or pass it_mw")
        y = np.arange(years)
        billed = colocation_revenue_usd(self.year1_usd_per_kw_month(), mw, y, self.escalator_fraction)
        return np.asarray(billed * self._ramp(years) * np.clip(self.term_years - y, 0.0, 1.0))

    def cash_usd(self, years: int) -> FloatArray:
        """Cash received in years 0..``years``: the prepayment in year 0, then billings net of the prepayment drawn down pro rata."""
        billed = self.yearly_revenue_usd(years)
        total = float(self.yearly_revenue_usd(int(np.ceil(self.term_years))).sum())
        out = np.zeros(years + 1)
        out[0] = self.prepayment_fraction * total
        out[1:] = billed * (1 - self.prepayment_fraction)
        return out

    def usd_per_mw_year(self) -> float:
        """Average contracted revenue per IT MW per contract year [USD/MW-year]."""
        assert self.contracted_it_mw is not None
        full = int(np.ceil(self.term_years))
        return float(self.yearly_revenue_usd(full).sum() / self.term_years / self.contracted_it_mw)

    def revenue_usd_per_hour(self, it_mw: float) -> float:
        """Rent per hour at the contract-year-1 rate [USD/h] (what dispatch books for a year's hours)."""
        return float(colocation_revenue_usd(self.year1_usd_per_kw_month(), it_mw, 0, 0.0)) / HOURS_PER_YEAR


class GpuCloud(_Model):
    """Selling GPU-hours: the owner buys the GPUs (capex, refreshed), pays the power and sells hours at a declining price."""

    kind: Literal["gpu_cloud"] = "gpu_cloud"
    name: str = "gpu-cloud"
    gpus: Annotated[int | None, Field(gt=0, description="GPU count; none: set by the plan's AI share.")] = None
    usd_per_gpu_hour: Annotated[float, Field(gt=0, le=100, description="Rental price of a new GPU in its first year [USD/GPU-hour].")] = 2.0
    utilisation_fraction: Annotated[float, Field(ge=0, le=1, description="Share of GPU-hours sold [-].")] = 0.7
    gpu_power_kw: Annotated[float, Field(gt=0, le=20, description="IT power per GPU incl. its server share [kW] (8-GPU H100 server: ~10.2 kW).")] = 1.275
    gpu_capex_usd: Annotated[float, Field(ge=0, description="Capex per GPU incl. server and network [USD] (assumption).")] = 35_000.0
    refresh_years: Annotated[int, Field(ge=1, le=10, description="GPUs replaced (and depreciated) every this many years.")] = 5
    price_decline_per_year: Annotated[float, Field(ge=0, lt=1, description="Mean yearly decline of a GPU's rental price with its age (assumption).")] = 0.15
    price_vol_per_year: Annotated[float, Field(ge=0, le=2, description="Volatility of GPU rental prices per year (assumption).")] = 0.20
    risk: ContractRisk = ContractRisk()

    owner_pays_power: bool = True
    """GPU cloud: the owner always pays the power."""

    @model_validator(mode="after")
    def _check(self) -> GpuCloud:
        if not self.owner_pays_power:
            raise ValueError("owner_pays_power: got False, allowed: True for gpu_cloud (the owner runs the GPUs)")
        return self

    def it_mw(self, gpus: float | None = None) -> float:
        """IT load of the fleet [MW]."""
        n = gpus if gpus is not None else self.gpus
        if n is None:
            raise ValueError("gpus: missing; allowed: > 0, or pass gpus")
        return float(n) * self.gpu_power_kw / 1000

    def yearly_revenue_usd(self, years: int) -> FloatArray:
        """Revenue in contract years 1..``years`` at the mean price path (declining with GPU age, reset at each refresh)."""
        assert self.gpus is not None
        age = np.arange(years) % self.refresh_years
        return gpu_cloud_revenue_usd(self.gpus, self.usd_per_gpu_hour * (1 - self.price_decline_per_year) ** age, self.utilisation_fraction)

    def revenue_usd_per_hour(self, gpus: float) -> float:
        """Revenue per hour at full service and the first-year price [USD/h]."""
        return float(gpu_cloud_revenue_usd(gpus, self.usd_per_gpu_hour, self.utilisation_fraction)) / HOURS_PER_YEAR


Contract = Annotated[ColocationLease | GpuCloud, Field(discriminator="kind")]
"""Any AI/HPC contract; add a type to the union and to the functions below."""


# --- vectorised revenue and cost (the one place) --------------------------------------------------------------------


def colocation_revenue_usd(
    usd_per_kw_month: float | FloatArray, it_mw: float | FloatArray, contract_year: int | npt.ArrayLike, escalator_fraction: float | FloatArray
) -> FloatArray:
    """Yearly rent [USD]: ``usd_per_kw_month x 12 x 1000 x it_mw x (1 + escalator)^contract_year`` (contract_year 0 = first year); broadcasts."""
    return np.asarray(np.asarray(usd_per_kw_month) * 12.0 * 1000.0 * np.asarray(it_mw) * (1 + np.asarray(escalator_fraction)) ** np.asarray(contract_year))


def gpu_cloud_revenue_usd(
    gpus: float | npt.ArrayLike, usd_per_gpu_hour: float | npt.ArrayLike, utilisation_fraction: float, hours: float = HOURS_PER_YEAR
) -> FloatArray:
    """GPU-hours sold times price [USD]: ``gpus x price x utilisation x hours``; broadcasts."""
    return np.asarray(np.asarray(gpus) * np.asarray(usd_per_gpu_hour) * utilisation_fraction * hours)


def owner_energy_cost_usd(owner_pays_power: bool, energy_cost_usd: float | FloatArray) -> FloatArray:
    """The owner's share of the AI load's energy cost: all of it for gross leases and GPU cloud, none for triple-net."""
    return np.asarray(energy_cost_usd, dtype=float) * (1.0 if owner_pays_power else 0.0)


def tenant_energy_reimbursement_usd(owner_pays_power: bool, energy_cost_usd: float | FloatArray) -> FloatArray:
    """What a triple-net tenant pays back for the energy the owner bought for it (zero for gross and GPU cloud).

    Where the owner buys the AI load's energy (dispatch books the whole site's import), a
    triple-net lease's P&L is rent + this reimbursement - energy: the tenant's energy nets out.
    """
    return np.asarray(energy_cost_usd, dtype=float) * (0.0 if owner_pays_power else 1.0)


def simulate_tenancy(risk: ContractRisk, term_years: float, paths: int, years: int, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """(occupied fraction, rent multiplier) per path and contract year, both shape (paths, years).

    Each contract year a let tenant defaults with probability ``default_hazard_per_year``
    (at the start of the year); the space is then dark for ``dark_months_after_default`` and
    re-let at ``relet_rate_fraction`` of the rent. At each term end the tenant renews with
    ``renewal_probability`` (same rent path), else the space is dark ``relet_delay_months``
    and re-let at ``relet_rate_fraction``. A re-let tenant carries the same risks.
    The rent multiplier applies on top of the escalated contract rent.
    """
    occupied = np.ones((paths, years))
    multiplier = np.ones((paths, years))
    if risk.default_hazard_per_year == 0 and risk.renewal_probability == 1:
        return occupied, multiplier
    dark = np.zeros(paths)
    mult = np.ones(paths)
    since_start = np.zeros(paths)  # years since the current tenancy started
    term = max(term_years, 1e-9)
    for y in range(years):
        let = dark <= 0
        renew_due = let & (since_start >= term - 1e-9)
        leaves = renew_due & (rng.random(paths) >= risk.renewal_probability)
        defaults = let & ~leaves & (rng.random(paths) < risk.default_hazard_per_year)
        dark = np.where(leaves, risk.relet_delay_months, np.where(defaults, risk.dark_months_after_default, dark))
        mult = np.where(leaves | defaults, mult * risk.relet_rate_fraction, mult)
        since_start = np.where(leaves | defaults | renew_due, 0.0, since_start)
        lost = np.clip(dark, 0.0, 12.0)
        occupied[:, y] = 1.0 - lost / 12.0
        multiplier[:, y] = mult
        dark = np.maximum(dark - 12.0, 0.0)
        since_start = since_start + 1.0
    return occupied, multiplier


def contract_examples() -> list[ColocationLease]:
    """Public deals modelled as leases (sources in the README and the industry facts file).

    IREN-Microsoft is GPU cloud services (IREN owns the GPUs); it is modelled by its contract
    value per IT MW, which is what the deal discloses.
    """
    return [
        ColocationLease(
            name="IREN-Microsoft (GPU cloud services, Childress)",
            contracted_it_mw=200,
            term_years=5,
            total_contract_value_usd=9.7e9,
            escalator_fraction=0.0,
            prepayment_fraction=0.2,
        ),
        ColocationLease(
            name="Hut 8-Fluidstack (River Bend, Google backstop)",
            contracted_it_mw=245,
            term_years=15,
            total_contract_value_usd=7.0e9,
            escalator_fraction=0.03,
            counterparty_backstop=True,
        ),
    ]
