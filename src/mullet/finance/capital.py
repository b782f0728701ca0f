"""Capex, depreciation, financing (term debt, convertibles) and terminal value.

Conventions: yearly arrays; index 0 of a cash-flow array is year 0 ("now"), index ``y`` the end of
plan year ``y``. Capex paid in year ``t`` depreciates straight-line over its life in years
``t+1 .. t+life`` and stops there (nothing past the life, nothing past the horizon).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Capex",
    "ConvertibleNote",
    "Escalation",
    "Financing",
    "MiningEconomics",
    "TermDebt",
    "TerminalValue",
    "convertible_outcome",
    "straight_line_depreciation",
    "terminal_value_usd",
]

FloatArray = npt.NDArray[np.float64]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MiningEconomics(_Model):
    """Mining capex, refresh and opex."""

    asic_capex_usd_per_th: Annotated[float, Field(ge=0, le=200, description="New ASIC price [USD/TH] (assumption: ~$15/TH for S21-class in 2025).")] = 15.0
    site_build_usd_per_mw: Annotated[float, Field(ge=0, description="Mining site build for new mining MW [USD/MW]; public reporting: about $0.3-0.8M/MW.")] = (
        550_000.0
    )
    refresh_years: Annotated[int, Field(ge=1, le=20, description="Fleet replaced (and depreciated) every this many years.")] = 4
    opex_usd_per_mw_year: Annotated[float, Field(ge=0, description="Non-power opex of mining [USD/MW-year] (assumption).")] = 60_000.0
    fleet_exists: Annotated[
        bool, Field(description="True: the scenario's fleet and its site exist (not charged); new mining MW beyond it are. False: every mining MW is bought.")
    ] = True


class Capex(_Model):
    """Build and conversion costs. Ranges from public reporting; every default is overridable."""

    ai_shell_usd_per_mw: Annotated[float, Field(ge=0, description="AI/HPC shell per IT MW, excluding GPUs [USD/MW]; public reporting: about $8-10M/MW.")] = (
        9_000_000.0
    )
    time_to_power_years: Annotated[int, Field(ge=0, le=5, description="Years from the shell capex to energised AI load.")] = 1
    ai_opex_usd_per_mw_year: Annotated[float, Field(ge=0, description="Non-power AI opex per IT MW [USD/MW-year] (assumption).")] = 150_000.0
    tax_rate_fraction: Annotated[float, Field(ge=0, le=0.6, description="Tax on positive taxable profit [-].")] = 0.21
    depreciation_years: Annotated[float, Field(gt=0, le=40, description="Straight-line life of an AI shell and of a mining site build [years].")] = 15.0
    shell_exists: Annotated[bool, Field(description="True: the scenario's AI IT MW are built (not charged again); more AI MW are.")] = True


class Escalation(_Model):
    """Yearly nominal escalation of prices the plan holds (year 1 = today's price)."""

    power_fraction: Annotated[float, Field(ge=-0.2, le=0.3, description="Power price and adders escalation [-/year] (assumption).")] = 0.02
    opex_fraction: Annotated[float, Field(ge=-0.2, le=0.3, description="Opex escalation [-/year] (assumption).")] = 0.025
    asic_price_fraction: Annotated[float, Field(ge=-0.5, le=0.3, description="ASIC $/TH change per year at refresh (assumption: falling).")] = -0.10
    gpu_price_fraction: Annotated[float, Field(ge=-0.5, le=0.3, description="GPU capex change per year at refresh (assumption).")] = 0.0


TerminalMethod = Literal["ev_per_mw", "gordon", "none"]


class TerminalValue(_Model):
    """Value of the site at the horizon, discounted once with the final year.

    ``ev_per_mw``: the exit's EV per MW of interconnect (the same basis as selling today);
    ``gordon``: the final year's free cash flow x (1 + g) / (r - g); ``none``: zero.
    """

    method: Annotated[TerminalMethod, Field(description="ev_per_mw (same basis as exit), gordon, or none.")] = "ev_per_mw"
    growth_fraction: Annotated[float, Field(ge=-0.5, le=0.2, description="Gordon growth of free cash flow after the horizon [-/year].")] = 0.0


def terminal_value_usd(tv: TerminalValue, final_fcf_usd: FloatArray | float, site_mw: float, ev_usd_per_mw: float, discount_rate_fraction: float) -> FloatArray:
    """Undiscounted terminal value at the horizon [USD] (the caller discounts it once with the final year)."""
    fcf = np.asarray(final_fcf_usd, dtype=float)
    if tv.method == "none":
        return np.zeros_like(fcf)
    if tv.method == "ev_per_mw":
        return np.full_like(fcf, ev_usd_per_mw * site_mw)
    if discount_rate_fraction <= tv.growth_fraction:
        raise ValueError(f"terminal_value.growth_fraction: got {tv.growth_fraction}, allowed: < the discount rate {discount_rate_fraction}")
    return np.asarray(np.maximum(fcf, 0.0) * (1 + tv.growth_fraction) / (discount_rate_fraction - tv.growth_fraction))


def straight_line_depreciation(capex_usd: FloatArray, life_years: float) -> FloatArray:
    """Depreciation in years 1..H of capex paid in years 0..H (``capex_usd[..., t]``), straight-line over ``life_years``.

    Capex of year ``t`` depreciates ``capex / life`` in each of years ``t+1 .. t+life`` (a
    fractional life gives a partial last year) and nothing after: a shell depreciates to
    zero and stops. Returns shape ``capex_usd.shape[:-1] + (H,)``.
    """
    capex = np.asarray(capex_usd, dtype=float)
    h = capex.shape[-1] - 1
    out = np.zeros((*capex.shape[:-1], h))
    k = np.arange(1, h + 1)
    for t in np.flatnonzero(np.any(capex != 0, axis=tuple(range(capex.ndim - 1)))):
        years_after = k - t  # 1 in the first year of depreciation
        share = np.clip(life_years - (years_after - 1), 0.0, 1.0) * (years_after >= 1) / life_years
        out += capex[..., t, None] * share
    return out


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


Settlement = Literal["shares", "cash", "net_share"]


class ConvertibleNote(_Model):
    """A convertible note: yearly coupons; at maturity converted when that date's share price is above the conversion price.

    Settlement: ``shares`` (physical: principal / conversion price new shares), ``cash`` (the
    conversion value in cash, no shares), ``net_share`` (principal in cash, the excess over it
    in shares). An optional capped call (bought at issue for ``capped_call_cost_usd``) pays the
    excess between the conversion price and ``capped_call_cap_usd``, offsetting dilution or cash.
    """

    principal_usd: Annotated[float, Field(gt=0)]
    coupon_fraction: Annotated[float, Field(ge=0, le=0.3)]
    conversion_price_usd: Annotated[float, Field(gt=0)]
    maturity_years: Annotated[int, Field(gt=0, le=30)]
    settlement: Annotated[Settlement, Field(description="shares, cash or net_share settlement of a conversion.")] = "shares"
    capped_call_cap_usd: Annotated[float | None, Field(gt=0, description="Cap price of a capped call; none: no capped call.")] = None
    capped_call_cost_usd: Annotated[float, Field(ge=0, description="Premium of the capped call paid at issue [USD].")] = 0.0

    @model_validator(mode="after")
    def _check(self) -> ConvertibleNote:
        if self.capped_call_cap_usd is not None and self.capped_call_cap_usd <= self.conversion_price_usd:
            raise ValueError(f"capped_call_cap_usd: got {self.capped_call_cap_usd}, allowed: > conversion_price_usd ({self.conversion_price_usd})")
        return self


class Financing(_Model):
    """How the capex is funded."""

    debt: list[TermDebt] = []
    convertibles: list[ConvertibleNote] = []
    equity_raise_usd: Annotated[float, Field(ge=0)] = 0.0
    equity_price_usd: Annotated[float, Field(gt=0)] = 10.0
    shares_outstanding: Annotated[float, Field(gt=0, description="Shares before the plan.")] = 300e6
    share_price_usd: Annotated[float, Field(gt=0, description="Share price today.")] = 12.0
    share_beta_to_btc: Annotated[float, Field(ge=0, le=5, description="Share price moves as (BTC price ratio)^beta (assumption).")] = 1.0


def convertible_outcome(note: ConvertibleNote, share_price_usd: FloatArray | float) -> tuple[FloatArray, FloatArray]:
    """(new shares, cash paid) at maturity.

    ``share_price_usd`` is either the share price at maturity (scalar or shape (paths,)) or
    yearly share-price paths of shape (paths, years) with column ``y - 1`` the end of year ``y``;
    then the price at ``maturity_years`` is used (a note maturing after the horizon is
    tested at the horizon's last price and flagged by the caller). Conversion happens when
    the price is above the conversion price.
    """
    p = np.asarray(share_price_usd, dtype=float)
    if p.ndim == 2:
        p = p[:, min(note.maturity_years, p.shape[1]) - 1]
    k, principal = note.conversion_price_usd, note.principal_usd
    n = principal / k
    converted = p > k
    conv_value = n * p
    if note.capped_call_cap_usd is not None:
        hedge = n * np.clip(np.minimum(p, note.capped_call_cap_usd) - k, 0.0, None)
    else:
        hedge = np.zeros_like(p)
    if note.settlement == "shares":
        shares = np.where(converted, n - hedge / p, 0.0)
        cash = np.where(converted, 0.0, principal)
    elif note.settlement == "cash":
        shares = np.zeros_like(p)
        cash = np.where(converted, conv_value - hedge, principal)
    else:  # net_share
        shares = np.where(converted, (conv_value - principal - hedge) / p, 0.0)
        cash = np.full_like(p, principal)
    return np.asarray(shares), np.asarray(cash)
