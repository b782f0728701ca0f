"""Scenario model of a hybrid site: interconnect, AI/HPC blocks, mining fleets, power supply.

Pydantic v2 models read from a TOML file (:func:`load_scenario`). Every field
carries its unit in its name and a description; invalid values raise
:class:`~mullet.errors.ScenarioError` naming the field, the value and the
allowed range. Sign convention for money: revenue positive, cost negative in
the P&L; prices are USD per unit.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mullet.control.config import ControlConfig
from mullet.errors import ScenarioError
from mullet.finance.contracts import LeaseType, colocation_revenue_usd, gpu_cloud_revenue_usd

__all__ = [
    "AIBlock",
    "Ancillary",
    "FourCP",
    "Interconnect",
    "MiningFleet",
    "PowerSupply",
    "Ppa",
    "Scenario",
    "load_scenario",
    "parse_scenario",
]

HOURS_PER_YEAR = 8760.0


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class Interconnect(_Model):
    """The site's single point of connection to the grid."""

    import_limit_mw: Annotated[float, Field(gt=0, le=10_000, description="Maximum grid import [MW].")]


class AIBlock(_Model):
    """An AI/HPC block: IT load, cooling (PUE), a contract and a service level."""

    name: Annotated[str, Field(min_length=1, description="Label used in results.")] = "ai"
    it_load_mw: Annotated[float, Field(gt=0, le=5_000, description="Contracted IT load [MW].")]
    pue: Annotated[float, Field(ge=1.0, le=3.0, description="Power usage effectiveness: site power / IT power [-].")] = 1.25
    contract: Annotated[
        Literal["colocation", "gpu_cloud"],
        Field(description="colocation: USD per kW-month on contracted IT MW; gpu_cloud: USD per GPU-hour of GPUs sold."),
    ] = "colocation"
    colocation_usd_per_kw_month: Annotated[float, Field(ge=0, le=1_000, description="Colocation rate on contracted IT kW [USD/kW-month].")] = 130.0
    lease_type: Annotated[
        LeaseType, Field(description="colocation: triple_net (tenant pays its energy, default as in the public deals) or gross (owner pays power).")
    ] = "triple_net"
    gpus: Annotated[int, Field(ge=0, description="GPU count (gpu_cloud).")] = 0
    gpu_usd_per_hour: Annotated[float, Field(ge=0, le=100, description="Rental price [USD/GPU-hour] (gpu_cloud).")] = 2.0
    gpu_utilisation_fraction: Annotated[float, Field(ge=0, le=1, description="Share of GPU-hours sold (gpu_cloud) [-].")] = 0.7
    gpu_power_w: Annotated[float, Field(gt=0, le=20_000, description="IT power per GPU incl. its server share [W] (gpu_cloud).")] = 1_275.0
    service: Annotated[Literal["firm", "flexible"], Field(description="firm: never curtailed; flexible: power cap allowed within limits.")] = "firm"
    flex_cap_fraction: Annotated[float, Field(ge=0, le=1, description="Largest power cap as a share of the block's site load (flexible) [-].")] = 0.0
    flex_max_hours_per_year: Annotated[float, Field(ge=0, le=8760, description="Hours a year at the full cap (flexible); an energy budget [h/yr].")] = 0.0
    sla_credit_usd_per_mwh: Annotated[
        float, Field(ge=0, le=100_000, description="Credit owed to the tenant per MWh of capped (unserved) AI load [USD/MWh].")
    ] = 0.0

    @property
    def site_load_mw(self) -> float:
        """Site power of the block at full load: IT load x PUE [MW]."""
        if self.contract == "gpu_cloud":
            return self.gpus * self.gpu_power_w / 1e6 * self.pue
        return self.it_load_mw * self.pue

    @property
    def owner_pays_power(self) -> bool:
        """True when the owner pays the block's energy (gross colocation, GPU cloud); False for triple-net."""
        return self.contract == "gpu_cloud" or self.lease_type == "gross"

    @property
    def revenue_usd_per_hour(self) -> float:
        """Contract revenue per hour at full service [USD/h] (from :mod:`mullet.finance.contracts`)."""
        if self.contract == "gpu_cloud":
            return float(gpu_cloud_revenue_usd(self.gpus, self.gpu_usd_per_hour, self.gpu_utilisation_fraction, hours=1.0))
        return float(colocation_revenue_usd(self.colocation_usd_per_kw_month, self.it_load_mw, 0, 0.0)) / HOURS_PER_YEAR

    @property
    def revenue_usd_per_mwh_served(self) -> float:
        """Revenue lost per MWh of capped load: GPU-cloud revenue per site MWh; 0 for colocation (the lease is paid)."""
        if self.contract == "gpu_cloud":
            return self.revenue_usd_per_hour / self.site_load_mw
        return 0.0

    @model_validator(mode="after")
    def _check(self) -> AIBlock:
        if self.contract == "gpu_cloud":
            if self.gpus <= 0:
                raise ValueError(f"gpus: got {self.gpus}, allowed: > 0 for contract 'gpu_cloud'")
            it_mw = self.gpus * self.gpu_power_w / 1e6
            if abs(it_mw - self.it_load_mw) > 0.01 * self.it_load_mw:
                raise ValueError(f"it_load_mw: got {self.it_load_mw}, but gpus x gpu_power_w = {it_mw:.3f} MW; allowed: within 1% of it")
        if self.service == "firm" and (self.flex_cap_fraction or self.flex_max_hours_per_year):
            raise ValueError("flex_cap_fraction/flex_max_hours_per_year: set, but service is 'firm'; allowed: 0 for a firm block")
        return self


class MiningFleet(_Model):
    """A fleet of ASICs: a catalog model or a custom unit, with operating limits."""

    name: Annotated[str, Field(min_length=1, description="Label used in results.")] = "mining"
    model: Annotated[str | None, Field(description="ASIC model from the bundled catalog (`mullet.data.load_asic_catalog`).")] = None
    hashrate_ths_per_unit: Annotated[float | None, Field(gt=0, le=10_000, description="Custom unit hashrate [TH/s].")] = None
    power_w_per_unit: Annotated[float | None, Field(gt=0, le=50_000, description="Custom unit power at the wall [W].")] = None
    units: Annotated[int, Field(gt=0, le=10_000_000, description="Number of machines.")]
    cooling_overhead_fraction: Annotated[float, Field(ge=0, le=1, description="Cooling and auxiliary power as a share of ASIC power [-].")] = 0.05
    pool_fee_fraction: Annotated[float, Field(ge=0, le=0.2, description="Pool fee taken from mining revenue [-].")] = 0.02
    min_load_fraction: Annotated[
        float, Field(ge=0, le=1, description="Must-run floor as a share of fleet power; with min_on_hours, the minimum load when on [-].")
    ] = 0.0
    max_load_fraction: Annotated[float, Field(gt=0, le=1, description="Largest load as a share of fleet power [-].")] = 1.0
    ramp_mw_per_h: Annotated[float | None, Field(gt=0, description="Largest change of fleet power per hour [MW/h]; none: unlimited.")] = None
    min_on_hours: Annotated[
        float, Field(ge=0, le=168, description="Minimum time on once started [h]; > 0 makes the dispatch a MIP. The fleet starts the horizon off.")
    ] = 0.0
    min_off_hours: Annotated[float, Field(ge=0, le=168, description="Minimum time off once stopped [h]; > 0 makes the dispatch a MIP.")] = 0.0

    @model_validator(mode="after")
    def _check(self) -> MiningFleet:
        custom = self.hashrate_ths_per_unit is not None or self.power_w_per_unit is not None
        if self.model is None and not (self.hashrate_ths_per_unit and self.power_w_per_unit):
            raise ValueError("model: missing; allowed: a catalog model name, or both hashrate_ths_per_unit and power_w_per_unit")
        if self.model is not None and custom:
            raise ValueError(f"model: got {self.model!r} together with custom hashrate/power; allowed: one or the other")
        if self.model is not None:
            from mullet.data import load_asic_catalog

            catalog = load_asic_catalog()
            if self.model not in catalog.index:
                near = [m for m in catalog.index if self.model.lower().split()[-1] in m.lower()][:6]
                raise ValueError(f"model: got {self.model!r}, not in the bundled catalog; similar: {near or list(catalog.index[:6])}")
        if self.needs_commitment and self.min_load_fraction <= 0:
            raise ValueError(
                f"min_load_fraction: got {self.min_load_fraction} with min_on_hours/min_off_hours set; allowed: > 0 (the least load that counts as on)"
            )
        if self.min_load_fraction > self.max_load_fraction:
            raise ValueError(f"min_load_fraction: got {self.min_load_fraction}, allowed: <= max_load_fraction ({self.max_load_fraction})")
        return self

    def unit_specs(self) -> tuple[float, float]:
        """(hashrate [TH/s], power [W]) of one machine."""
        if self.model is not None:
            from mullet.data import load_asic_catalog

            row = load_asic_catalog().loc[self.model]
            return float(row["hashrate_ths"]), float(row["power_w"])
        assert self.hashrate_ths_per_unit is not None and self.power_w_per_unit is not None
        return self.hashrate_ths_per_unit, self.power_w_per_unit

    @property
    def efficiency_j_per_th(self) -> float:
        """ASIC efficiency at the wall, without cooling [J/TH]."""
        ths, w = self.unit_specs()
        return w / ths

    @property
    def hashrate_ths(self) -> float:
        """Fleet hashrate at full load [TH/s]."""
        return self.unit_specs()[0] * self.units

    @property
    def site_power_mw(self) -> float:
        """Fleet site power at full load, ASICs plus cooling [MW]."""
        return self.unit_specs()[1] * self.units * (1 + self.cooling_overhead_fraction) / 1e6

    @property
    def needs_commitment(self) -> bool:
        """True when minimum on/off times make the fleet a unit-commitment (MIP) problem."""
        return self.min_on_hours > 0 or self.min_off_hours > 0


class Ppa(_Model):
    """A fixed-volume PPA settled financially against spot: the site receives (spot - price) x volume."""

    name: Annotated[str, Field(min_length=1)] = "ppa"
    power_mw: Annotated[float, Field(gt=0, le=10_000, description="Contracted volume [MW] in the hours of its shape.")]
    price_usd_per_mwh: Annotated[float, Field(ge=-1_000, le=10_000, description="Fixed price [USD/MWh].")]
    shape: Annotated[Literal["flat", "7x16", "5x16"], Field(description="flat: every hour; 7x16: 06-22 local every day; 5x16: 06-22 local on weekdays.")] = (
        "flat"
    )


class FourCP(_Model):
    """Coincident-peak charge by the market's rule (ERCOT 4CP: four June-September monthly peaks; PJM 5CP: five daily peaks) and how the site avoids it."""

    rate_usd_per_kw_year: Annotated[
        float,
        Field(ge=0, le=500, description="Rate on the coincident-peak load [USD/kW-year] (PJM 5CP: capacity USD/MW-day x 0.365, plus NITS set on the 5CP)."),
    ] = 0.0
    mode: Annotated[
        Literal["perfect", "forecast", "none"],
        Field(
            description="perfect: knows the peak intervals (hindsight, an upper bound); forecast: curtails mining when system load > threshold "
            "(the actual load of the hour: also hindsight, see the policies for a realisable 4CP call); none: ignores it."
        ),
    ] = "perfect"
    threshold_mw: Annotated[
        float | None, Field(gt=0, description="System load above which mining curtails (forecast mode) [MW]; none: tuned on other years.")
    ] = None
    load_file: Annotated[str | None, Field(description="Hourly system load CSV/Parquet; none: the market's bundled system load.")] = None


class Ancillary(_Model):
    """Ancillary-service and demand-response offers from curtailable mining load."""

    products: Annotated[list[str], Field(description="Up-products offered from curtailable load, by the market's codes (ERCOT: REGUP, RRS, ECRS, NSPIN).")] = []
    max_offer_fraction: Annotated[float, Field(ge=0, le=1, description="Largest share of curtailable mining load offered [-].")] = 0.5
    deployment_fraction: Annotated[
        float,
        Field(
            ge=0,
            le=1,
            description="Expected share of offered MWh deployed (curtailed) [-], for products without a figure in "
            "deployment_fraction_by_product or in the market module (noted when used).",
        ),
    ] = 0.0
    deployment_fraction_by_product: Annotated[
        dict[str, Annotated[float, Field(ge=0, le=1)]],
        Field(description="Expected deployed share of awarded MWh per product [-], e.g. {REGUP = 0.2, RRS = 0.01}; overrides the market's figure."),
    ] = {}
    award: Annotated[
        Literal["day_ahead_hourly", "per_interval"],
        Field(
            description="day_ahead_hourly: one award per market award period (ERCOT: the DAM hour), held for all its intervals; "
            "per_interval: offers chosen per model interval (a relaxation: an upper bound)."
        ),
    ] = "day_ahead_hourly"
    price_file: Annotated[str | None, Field(description="Capacity prices [USD/MW-h] per product; none: the market's bundled day-ahead prices.")] = None


class PowerSupply(_Model):
    """Market, settlement points, PPAs, tariffs."""

    market: Annotated[str, Field(description="Electricity market module (mullet.markets), e.g. ERCOT.")] = "ERCOT"
    price_file: Annotated[
        str | None,
        Field(
            description="Spot price CSV/Parquet: interval_start_utc + one column per settlement point, or gridstatus-shaped "
            "(Interval Start, Interval End, Location, Market, LMP/SPP; any ISO); none: the market's bundled prices."
        ),
    ] = None
    price_market: Annotated[
        str | None, Field(description="gridstatus Market to read from a gridstatus-shaped price_file that holds several, e.g. REAL_TIME_HOURLY.")
    ] = None
    settlement_point: Annotated[
        str,
        Field(description="Where PPAs and hedges settle (a hub, e.g. HB_WEST); also the load's point unless load_settlement_point is set."),
    ] = "HB_WEST"
    load_settlement_point: Annotated[
        str | None,
        Field(description="Where the site's load settles (ERCOT: its load zone, e.g. LZ_WEST); none: at settlement_point (noted)."),
    ] = None
    load_zone_fallback: Annotated[
        Literal["error", "hub"],
        Field(
            description="Horizon hours without prices at load_settlement_point: error (default, names what is missing), "
            "or settle the load at settlement_point there (noted, basis 0 in those hours)."
        ),
    ] = "error"
    missing_intervals: Annotated[
        Literal["error", "ffill"],
        Field(
            description="Gaps in the input series (spot prices, hashprice file, ancillary price file): error, "
            "or fill each from its previous interval (always reported in the notes). The CLI's --fill sets it."
        ),
    ] = "error"
    retail_adder_usd_per_mwh: Annotated[float, Field(ge=0, le=1_000, description="Adders on every MWh imported [USD/MWh].")] = 0.0
    demand_charge_usd_per_kw_month: Annotated[float, Field(ge=0, le=100, description="Charge on each local billing month's peak import [USD/kW-month].")] = 0.0
    ppas: Annotated[list[Ppa], Field(description="Financially settled fixed-volume PPAs, settled at settlement_point.")] = []
    four_cp: FourCP = FourCP()


class Scenario(_Model):
    """A hybrid site: the whole input of a dispatch."""

    name: Annotated[str, Field(min_length=1)] = "site"
    description: str = ""
    start: Annotated[str, Field(description="First UTC day of the horizon (inclusive), e.g. 2023-01-01.")] = "2023-01-01"
    end: Annotated[str, Field(description="Last UTC day of the horizon (inclusive).")] = "2023-12-31"
    interconnect: Interconnect
    ai: Annotated[list[AIBlock], Field(description="AI/HPC blocks.")] = []
    mining: Annotated[list[MiningFleet], Field(description="Mining fleets.")] = []
    power: PowerSupply = PowerSupply()
    ancillary: Ancillary = Ancillary()
    hashprice_file: Annotated[str | None, Field(description="Daily hashprice CSV/Parquet (date + hashprice_usd_per_ph_day); none: bundled history.")] = None
    control: Annotated[ControlConfig | None, Field(description="Live control of the fleet: inventory and safety settings (`mullet control`).")] = None

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if not self.ai and not self.mining:
            raise ValueError("ai/mining: both empty; allowed: at least one AI block or mining fleet")
        firm_mw = sum(b.site_load_mw for b in self.ai if b.service == "firm")
        if firm_mw > self.interconnect.import_limit_mw:
            raise ValueError(
                f"interconnect.import_limit_mw: got {self.interconnect.import_limit_mw}, below the firm AI load {firm_mw:.1f} MW; "
                "allowed: >= the firm AI load (firm load is never curtailed)"
            )
        floor_mw = firm_mw + sum(b.site_load_mw * (1 - b.flex_cap_fraction) for b in self.ai if b.service == "flexible")
        floor_mw += sum(f.site_power_mw * f.min_load_fraction for f in self.mining if not f.needs_commitment)
        if floor_mw > self.interconnect.import_limit_mw + 1e-9:
            raise ValueError(
                f"interconnect.import_limit_mw: got {self.interconnect.import_limit_mw}, below the must-serve load {floor_mw:.1f} MW "
                "(firm AI + capped flexible AI + mining floors); allowed: >= that load"
            )
        names = [f.name for f in self.mining] + [b.name for b in self.ai]
        if len(set(names)) != len(names):
            raise ValueError(f"name: fleet and AI block names must be unique, got {names}")
        return self


def with_fill(scenario: Scenario, fill: str | None) -> Scenario:
    """``scenario`` with ``power.missing_intervals`` set to ``fill`` (``"error"`` or ``"ffill"``); ``None`` keeps it."""
    if fill is None:
        return scenario
    data = scenario.model_dump(mode="json")
    data["power"]["missing_intervals"] = fill
    return parse_scenario(data, scenario.name)


def parse_scenario(data: dict[str, object], source: str = "scenario") -> Scenario:
    """Validate a scenario mapping; errors become one :class:`ScenarioError` naming field, value and rule."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "scenario"
        msg = first["msg"].removeprefix("Value error, ")
        value = first.get("input")
        shown = "" if isinstance(value, dict) or field == "scenario" else f" (got {value!r})"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ScenarioError(f"{source}: {field}: {msg}{shown}{more}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file. Relative data paths inside it are resolved against its folder."""
    p = Path(path)
    if not p.exists():
        raise ScenarioError(f"scenario: file '{p}' not found")
    try:
        data = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML ({exc})") from None
    _resolve_paths(data, p.parent)
    return parse_scenario(data, str(p))


def _resolve_paths(data: dict[str, object], base: Path) -> None:
    for key, value in list(data.items()):
        if isinstance(value, dict):
            _resolve_paths(value, base)
        elif key.endswith("_file") and isinstance(value, str) and not Path(value).is_absolute():
            data[key] = str(base / value)
