"""Finance: contracts, capex, financing, and the metrics a board asks for (NPV, IRR, payback, DSCR, dilution).

Conventions: cash flows are yearly, at year end, year 1 first; positive = cash in.
Discounting is ``cf_y / (1 + r)**y``; year 0 is "now" (capex paid up front).
Money is nominal USD. Defaults carry their source or say they are assumptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mullet.errors import ScenarioError

__all__ = [
    "AiLease",
    "Capex",
    "ConvertibleNote",
    "Financing",
    "GpuCloud",
    "MiningEconomics",
    "TermDebt",
    "contract_examples",
    "convertible_outcome",
    "dscr",
    "irr",
    "npv",
    "payback_years",
]

FloatArray = npt.NDArray[np.float64]
HOURS_PER_YEAR = 8760.0


def npv(rate: float, cash_flows: Sequence[float] | FloatArray) -> FloatArray | float:
    """Net present value of ``cash_flows[..., y]`` for y = 0, 1, ... at ``rate`` per year (year 0 undiscounted)."""
    cf = np.asarray(cash_flows, dtype=float)
    if rate <= -1:
        raise ScenarioError(f"discount_rate: got {rate}, allowed: > -1")
    factors = (1 + rate) ** -np.arange(cf.shape[-1])
    out = cf @ factors
    return float(out) if np.ndim(out) == 0 else np.asarray(out)


def irr(cash_flows: Sequence[float] | FloatArray, lo: float = -0.99, hi: float = 10.0) -> float:
    """Internal rate of return: the rate where NPV is 0, found by bisection (NaN when NPV has no sign change)."""
    cf = np.asarray(cash_flows, dtype=float)
    f_lo, f_hi = npv(lo, cf), npv(hi, cf)
    if not np.isfinite(f_lo) or not np.isfinite(f_hi) or np.sign(f_lo) == np.sign(f_hi):
        return float("nan")
    for _ in range(200):
        mid = (lo + hi) / 2
        f_mid = npv(mid, cf)
        if np.sign(f_mid) == np.sign(f_lo):
            lo, f_lo = mid, f_mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return (lo + hi) / 2


def payback_years(cash_flows: Sequence[float] | FloatArray) -> float:
    """Years until cumulative cash turns non-negative for good (interpolated within the year); NaN if never."""
    cf = np.asarray(cash_flows, dtype=float)
    cum = np.cumsum(cf)
    if cum[-1] < 0:
        return float("nan")
    negative = np.flatnonzero(cum < 0)
    if len(negative) == 0:
        return 0.0
    y = int(negative[-1])  # last year still under water
    return float(y + (-cum[y]) / cf[y + 1])


def dscr(cash_available: FloatArray, debt_service: FloatArray) -> FloatArray:
    """Debt service coverage ratio per year: cash available for debt service / debt service (NaN without service)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(debt_service > 0, cash_available / np.where(debt_service > 0, debt_service, 1.0), np.nan)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AiLease(_Model):
    """An AI/HPC lease on contracted IT MW: price per kW-month (or a total contract value), escalator, prepayment."""

    name: str = "ai-lease"
    contracted_it_mw: Annotated[float, Field(gt=0, le=10_000, description="Contracted IT load [MW].")]
    term_years: Annotated[float, Field(gt=0, le=30, description="Contract term [years].")]
    usd_per_kw_month: Annotated[float | None, Field(gt=0, le=5_000, description="Rate on contracted IT kW [USD/kW-month].")] = None
    total_contract_value_usd: Annotated[float | None, Field(gt=0, description="Total contract value [USD], instead of a rate.")] = None
    escalator_fraction: Annotated[float, Field(ge=0, le=0.2, description="Yearly price escalator [-].")] = 0.0
    prepayment_fraction: Annotated[float, Field(ge=0, le=1, description="Share of the contract value paid up front [-].")] = 0.0
    ramp_in: Annotated[list[float], Field(description="Share of contracted MW billed in years 1, 2, ... (then 1).")] = []
    renewal_options: Annotated[int, Field(ge=0, le=5, description="Renewal options of the same term (not exercised in NPV).")] = 0
    counterparty_backstop: Annotated[bool, Field(description="A creditworthy party guarantees the payments (e.g. Google for Fluidstack).")] = False

    @model_validator(mode="after")
    def _check(self) -> AiLease:
        if (self.usd_per_kw_month is None) == (self.total_contract_value_usd is None):
            raise ValueError("usd_per_kw_month/total_contract_value_usd: give exactly one")
        if any(not 0 <= r <= 1 for r in self.ramp_in):
            raise ValueError(f"ramp_in: got {self.ramp_in}, allowed: shares between 0 and 1")
        return self

    def yearly_revenue_usd(self, years: int) -> FloatArray:
        """Billed revenue in contract years 1..``years`` (zero after the term; partial last year prorated).

        With a total contract value, the year-1 rate solves ``sum(rate x escalator^y x ramp_y) = value``.
        """
        y = np.arange(years)
        ramp = np.ones(years)
        ramp[: min(len(self.ramp_in), years)] = self.ramp_in[:years]
        in_term = np.clip(self.term_years - y, 0.0, 1.0)
        shape = (1 + self.escalator_fraction) ** y * ramp * in_term
        if self.usd_per_kw_month is not None:
            base = self.usd_per_kw_month * self.contracted_it_mw * 1000 * 12
        else:
            full = int(np.ceil(self.term_years))
            yy = np.arange(full)
            rr = np.ones(full)
            rr[: min(len(self.ramp_in), full)] = self.ramp_in[:full]
            total_shape = ((1 + self.escalator_fraction) ** yy * rr * np.clip(self.term_years - yy, 0, 1)).sum()
            assert self.total_contract_value_usd is not None
            base = self.total_contract_value_usd / total_shape
        return np.asarray(base * shape)

    def cash_usd(self, years: int) -> FloatArray:
        """Cash received in years 0..``years``: the prepayment in year 0, then billings net of the prepayment drawn down pro rata."""
        billed = self.yearly_revenue_usd(years)
        total = billed.sum() if self.total_contract_value_usd is None else self.total_contract_value_usd
        prepay = self.prepayment_fraction * total
        out = np.zeros(years + 1)
        out[0] = prepay
        out[1:] = billed * (1 - self.prepayment_fraction)
        return out

    def usd_per_mw_year(self) -> float:
        """Average contracted revenue per IT MW per contract year [USD/MW-year]."""
        full = int(np.ceil(self.term_years))
        return float(self.yearly_revenue_usd(full).sum() / self.term_years / self.contracted_it_mw)


class GpuCloud(_Model):
    """Selling GPU-hours: the operator owns the GPUs."""

    gpus: Annotated[int, Field(gt=0)]
    usd_per_gpu_hour: Annotated[float, Field(gt=0, le=100)]
    utilisation_fraction: Annotated[float, Field(ge=0, le=1)] = 0.7
    gpu_power_kw: Annotated[float, Field(gt=0, le=20, description="IT power per GPU incl. its server share [kW].")] = 1.275
    gpu_capex_usd: Annotated[float, Field(ge=0, description="Capex per GPU incl. server and network [USD].")] = 35_000.0
    depreciation_years: Annotated[float, Field(gt=0, le=10)] = 5.0
    price_decline_per_year: Annotated[float, Field(ge=0, le=0.9, description="Yearly decline of the GPU-hour price (assumption).")] = 0.15

    @property
    def it_mw(self) -> float:
        """IT load of the fleet [MW]."""
        return self.gpus * self.gpu_power_kw / 1000

    def yearly_revenue_usd(self, years: int) -> FloatArray:
        """Revenue in years 1..``years`` with the price declining each year."""
        y = np.arange(years)
        return np.asarray(self.gpus * self.usd_per_gpu_hour * self.utilisation_fraction * HOURS_PER_YEAR * (1 - self.price_decline_per_year) ** y)


class MiningEconomics(_Model):
    """Mining capex and refresh."""

    asic_capex_usd_per_th: Annotated[float, Field(ge=0, le=200, description="New ASIC price [USD/TH] (assumption: ~$15/TH for S21-class in 2025).")] = 15.0
    refresh_years: Annotated[float, Field(gt=0, le=20, description="Fleet replaced every this many years.")] = 4.0
    opex_usd_per_mw_year: Annotated[float, Field(ge=0, description="Non-power opex of mining [USD/MW-year] (assumption).")] = 60_000.0


class Capex(_Model):
    """Build and conversion costs. Ranges from public reporting; every default is overridable."""

    mining_site_usd_per_mw: Annotated[float, Field(ge=0, description="Mining site build [USD/MW]; public reporting: about $0.3-0.8M/MW.")] = 550_000.0
    ai_shell_usd_per_mw: Annotated[float, Field(ge=0, description="AI/HPC shell per IT MW, excluding GPUs [USD/MW]; public reporting: about $8-10M/MW.")] = (
        9_000_000.0
    )
    time_to_power_years: Annotated[int, Field(ge=0, le=5, description="Years from capex to energised AI load.")] = 1
    ai_opex_usd_per_mw_year: Annotated[float, Field(ge=0, description="Non-power AI opex per IT MW [USD/MW-year] (assumption).")] = 150_000.0
    tax_rate_fraction: Annotated[float, Field(ge=0, le=0.6, description="Tax on positive taxable profit [-].")] = 0.21
    depreciation_years: Annotated[float, Field(gt=0, le=40, description="Straight-line depreciation of capex [years].")] = 15.0


class TermDebt(_Model):
    """An amortising term loan drawn in year 0."""

    principal_usd: Annotated[float, Field(gt=0)]
    rate_fraction: Annotated[float, Field(ge=0, le=0.5)]
    years: Annotated[int, Field(gt=0, le=30)]

    def service_usd(self, horizon: int) -> FloatArray:
        """Yearly level payment (annuity) in years 1..``horizon``."""
        r = self.rate_fraction
        pay = self.principal_usd / self.years if r == 0 else self.principal_usd * r / (1 - (1 + r) ** -self.years)
        out = np.zeros(horizon)
        out[: min(self.years, horizon)] = pay
        return out


class ConvertibleNote(_Model):
    """A convertible note: coupons yearly; at maturity converted into shares if the share price is above the conversion price, else repaid."""

    principal_usd: Annotated[float, Field(gt=0)]
    coupon_fraction: Annotated[float, Field(ge=0, le=0.3)]
    conversion_price_usd: Annotated[float, Field(gt=0)]
    maturity_years: Annotated[int, Field(gt=0, le=30)]


class Financing(_Model):
    """How the capex is funded."""

    debt: list[TermDebt] = []
    convertibles: list[ConvertibleNote] = []
    equity_raise_usd: Annotated[float, Field(ge=0)] = 0.0
    equity_price_usd: Annotated[float, Field(gt=0)] = 10.0
    shares_outstanding: Annotated[float, Field(gt=0, description="Shares before the plan.")] = 300e6
    share_price_usd: Annotated[float, Field(gt=0, description="Share price today.")] = 12.0
    share_beta_to_btc: Annotated[float, Field(ge=0, le=5, description="Share price moves as (BTC price ratio)^beta (assumption).")] = 1.0


def convertible_outcome(note: ConvertibleNote, share_price_at_maturity_usd: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """(new shares, cash repaid) at maturity for each share price: converted when the price is above conversion."""
    price = np.asarray(share_price_at_maturity_usd, dtype=float)
    converted = price > note.conversion_price_usd
    shares = np.where(converted, note.principal_usd / note.conversion_price_usd, 0.0)
    cash = np.where(converted, 0.0, note.principal_usd)
    return shares, cash


def contract_examples() -> list[AiLease]:
    """Public deals modelled as leases (sources in the README and the industry facts file)."""
    return [
        AiLease(
            name="IREN-Microsoft (GPU cloud services, Childress)",
            contracted_it_mw=200,
            term_years=5,
            total_contract_value_usd=9.7e9,
            prepayment_fraction=0.2,
        ),
        AiLease(
            name="Hut 8-Fluidstack (River Bend, Google backstop)",
            contracted_it_mw=245,
            term_years=15,
            total_contract_value_usd=7.0e9,
            escalator_fraction=0.03,
            counterparty_backstop=True,
        ),
    ]
