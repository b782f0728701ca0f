"""Plan configuration: everything a plan needs besides the site scenario, each assumption a documented field."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from mullet.finance.capital import Capex, Escalation, Financing, MiningEconomics, TerminalValue
from mullet.finance.contracts import ColocationLease, Contract, ContractRisk
from mullet.scenarios import PriceMeasure

__all__ = ["DEFAULT_RISK", "Criterion", "PlanConfig"]
Criterion = Literal["mean", "p50", "cvar"]
"""How the recommended strategy is chosen: highest mean NPV, highest P50, or highest CVaR at 10%, among those with P(loss) <= max_loss_probability."""

DEFAULT_RISK = ContractRisk(
    default_hazard_per_year=0.02,
    dark_months_after_default=9.0,
    relet_rate_fraction=0.8,
    renewal_probability=0.75,
    relet_delay_months=6.0,
    construction_delay_months_mean=4.0,
    capex_overrun_mean_fraction=0.10,
    capex_overrun_sd_fraction=0.15,
)
"""Default AI contract risk (assumptions): 2%/yr tenant default, 9 months dark, re-let at 80%; 75% renewal;
exponential construction delay with a 4-month mean; lognormal capex overrun, mean +10%, sd 15%."""


class PlanConfig(BaseModel):
    """Everything a plan needs besides the site scenario. Defaults are assumptions unless a source is named."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    paths: Annotated[int, Field(ge=1, le=1_000_000, description="Simulated paths.")] = 200
    years: Annotated[int, Field(ge=1, le=30, description="Planning horizon [years], starting after the last day of the bundled network history.")] = 10
    ai_shares: Annotated[list[float], Field(description="Candidate shares of the site's MW turned into AI (0..1).")] = [0.0, 0.25, 0.5, 0.75, 1.0]
    conversion_years: Annotated[list[int], Field(description="Candidate years (1 = first plan year) when AI load is planned to be energised.")] = [1, 3]
    seed: Annotated[int, Field(ge=0, description="Seed of the path simulation.")] = 0
    discount_rate_fraction: Annotated[float, Field(gt=-0.5, le=1, description="Discount rate [-/year] (assumption).")] = 0.12
    price_measure: Annotated[
        PriceMeasure,
        Field(description="BTC drift: neutral (mean price grows at the risk-free part of the discount rate, default), user, or historical fit (opt-in)."),
    ] = PriceMeasure()
    exit_ev_usd_per_mw: Annotated[float, Field(ge=0, description="Sale price of the site [USD per MW of interconnect] (assumption).")] = 1_500_000.0
    contract: Annotated[Contract, Field(description="The AI contract the converted MW sign (colocation lease or GPU cloud), with its risk.")] = ColocationLease(
        usd_per_kw_month=130.0, term_years=10.0, escalator_fraction=0.03, lease_type="triple_net", risk=DEFAULT_RISK
    )
    ai_pue: Annotated[float, Field(ge=1, le=3, description="Site power / IT power of converted MW [-].")] = 1.25
    price_years: Annotated[list[int], Field(description="Price years resampled for each path-year (those the scenario's price series covers are used).")] = [
        2022,
        2023,
        2024,
    ]
    chunk_paths: Annotated[int, Field(ge=1, le=10_000, description="Paths per task.")] = 50
    mining: MiningEconomics = MiningEconomics()
    capex: Capex = Capex()
    escalation: Escalation = Escalation()
    terminal_value: TerminalValue = TerminalValue()
    financing: Financing = Financing()
    criterion: Annotated[Criterion, Field(description="Recommendation criterion: mean (default), p50 or cvar (CVaR at 10%).")] = "mean"
    max_loss_probability: Annotated[float, Field(ge=0, le=1, description="Largest P(NPV < 0) a recommended strategy may have [-].")] = 0.25

    @model_validator(mode="after")
    def _check(self) -> PlanConfig:
        if not self.ai_shares or any(not 0 <= s <= 1 for s in self.ai_shares):
            raise ValueError(f"ai_shares: got {self.ai_shares}, allowed: one or more values between 0 and 1")
        if not self.conversion_years or any(not 1 <= c <= self.years for c in self.conversion_years):
            raise ValueError(f"conversion_years: got {self.conversion_years}, allowed: years 1..{self.years}")
        if not self.price_years or any(not 2000 <= y <= 2100 for y in self.price_years):
            raise ValueError(f"price_years: got {self.price_years}, allowed: one or more calendar years")
        if self.price_measure.risk_free_rate_per_year >= self.discount_rate_fraction:
            raise ValueError(
                f"price_measure.risk_free_rate_per_year: got {self.price_measure.risk_free_rate_per_year}, "
                f"allowed: below discount_rate_fraction ({self.discount_rate_fraction}), of which it is the risk-free part"
            )
        if self.terminal_value.method == "gordon" and self.terminal_value.growth_fraction >= self.discount_rate_fraction:
            raise ValueError(
                f"terminal_value.growth_fraction: got {self.terminal_value.growth_fraction}, allowed: < discount_rate_fraction ({self.discount_rate_fraction})"
            )
        return self

    def assumptions(self) -> dict[str, object]:
        """The assumptions that decide the answer, as printed with it and stored with the run."""
        c = self.contract
        out: dict[str, object] = {
            "contract": c.kind,
            "discount_rate_fraction": self.discount_rate_fraction,
            "risk_free_rate_per_year": self.price_measure.risk_free_rate_per_year,
            "btc_measure": self.price_measure.kind,
            "btc_growth_per_year": self.price_measure.expected_growth_per_year,
            "terminal_value": self.terminal_value.method,
            "terminal_growth_fraction": self.terminal_value.growth_fraction,
            "exit_ev_usd_per_mw": self.exit_ev_usd_per_mw,
            "paths": self.paths,
            "years": self.years,
            "seed": self.seed,
            "default_hazard_per_year": c.risk.default_hazard_per_year,
            "renewal_probability": c.risk.renewal_probability,
            "construction_delay_months_mean": c.risk.construction_delay_months_mean,
            "capex_overrun_mean_fraction": c.risk.capex_overrun_mean_fraction,
            "criterion": self.criterion,
            "max_loss_probability": self.max_loss_probability,
            "power_escalation_fraction": self.escalation.power_fraction,
            "mining_fleet_exists": self.mining.fleet_exists,
        }
        if isinstance(c, ColocationLease):
            out.update({"lease_usd_per_kw_month": c.usd_per_kw_month, "lease_type": c.lease_type, "lease_escalator_fraction": c.escalator_fraction})
        else:
            out.update({"gpu_usd_per_hour": c.usd_per_gpu_hour, "gpu_capex_usd": c.gpu_capex_usd})
        return out
