"""Industry tracker: the public miners' pivot to AI in MW, contracts, revenue mix and value per MW.

Facts live in a bundled CSV (``facts.csv`` beside this module): one row per fact
with company, deal (for contract terms), metric, value, unit, as-of date, and the
source (publisher and address). Every row is validated on load; where a figure
is not public it is absent, never guessed. Users add their own facts file with
the same columns; it is merged in (a user row replaces a bundled row with the
same company, deal, metric and as-of date).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from mullet.data import read_table
from mullet.errors import DataError, ScenarioError, warn_implausible
from mullet.finance import ColocationLease

__all__ = ["EV_COLUMNS", "METRIC_UNITS", "ai_revenue_share", "deals", "load_enterprise_values", "load_facts", "peer_table", "sources"]

METRIC_UNITS: dict[str, str] = {
    "ai_contract_value_usd": "USD",
    "ai_contract_term_years": "years",
    "ai_contract_escalator_fraction": "fraction",
    "ai_contract_backstop": "flag",
    "ai_contract_includes_gpus": "flag",
    "ai_prepayment_fraction": "fraction",
    "ai_it_mw_contracted": "MW",
    "ai_it_mw_energized": "MW",
    "ai_it_mw_planned": "MW",
    "ai_site_mw_planned": "MW",
    "mining_mw": "MW",
    "power_capacity_mw": "MW",
    "ai_arr_target_usd": "USD",
    "btc_held": "BTC",
    "hashrate_ehs": "EH/s",
    "gpus_operating": "GPUs",
    "gpus_planned": "GPUs",
    "convertible_notes_usd": "USD",
    "convertible_notes_max_usd": "USD",
    "quarterly_net_loss_usd": "USD",
    "revenue_usd": "USD",
    "revenue_mining_usd": "USD",
    "revenue_ai_usd": "USD",
    "power_credits_usd": "USD",
    "demand_response_credits_usd": "USD",
    "equity_stake_fraction": "fraction",
    "mining_exit_year": "year",
    "partnership_flag": "flag",
    "enterprise_value_usd": "USD",
}
"""Every metric a facts file may use, with the one unit it must be stated in."""

COLUMNS = ("company", "deal", "metric", "value", "unit", "as_of", "period_start", "source_publisher", "source_url", "note")


def _validate(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}; expected {list(COLUMNS)}")
    df = raw.loc[:, list(COLUMNS)].copy()
    for c in ("deal", "period_start", "note"):
        df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    for i, row in df.iterrows():
        line = int(i) + 2  # header is line 1
        for col in ("company", "metric", "unit", "as_of", "source_publisher", "source_url"):
            if pd.isna(row[col]) or not str(row[col]).strip():
                raise DataError(source, "empty; every fact needs a company, metric, unit, as-of date and source", row=line, column=col)
        metric = str(row["metric"])
        if metric not in METRIC_UNITS:
            raise DataError(source, f"unknown metric {metric!r}; allowed: {sorted(METRIC_UNITS)}", row=line, column="metric")
        if str(row["unit"]) != METRIC_UNITS[metric]:
            raise DataError(source, f"unit {row['unit']!r} for {metric}; allowed: {METRIC_UNITS[metric]!r}", row=line, column="unit")
        try:
            value = float(row["value"])
        except (TypeError, ValueError):
            raise DataError(source, f"not a number: {row['value']!r}", row=line, column="value") from None
        if not np.isfinite(value) or value < 0:
            raise DataError(source, f"value {row['value']!r}; allowed: a finite number >= 0", row=line, column="value")
        if METRIC_UNITS[metric] in ("fraction", "flag") and value > 1:
            raise DataError(source, f"value {value} for a {METRIC_UNITS[metric]}; allowed: 0..1", row=line, column="value")
        for col in ("as_of", "period_start"):
            if str(row[col]):
                try:
                    pd.Timestamp(str(row[col]))
                except ValueError:
                    raise DataError(source, f"not a date: {row[col]!r}; allowed: YYYY-MM-DD", row=line, column=col) from None
        url = str(row["source_url"])
        if not url.startswith(("http://", "https://")):
            raise DataError(source, f"source_url {url!r}; allowed: an http(s) address", row=line, column="source_url")
    df["value"] = df["value"].astype(float)
    df["as_of"] = pd.to_datetime(df["as_of"].astype(str))
    return df


def load_facts(path: str | Path | None = None, include_bundled: bool = True) -> pd.DataFrame:
    """Validated facts: the bundled file, merged with a user's file (CSV or Parquet) when ``path`` is given."""
    frames = []
    if include_bundled:
        bundled = Path(str(resources.files("mullet.industry") / "facts.csv"))
        frames.append(_validate(read_table(bundled), "facts.csv").assign(origin="bundled"))
    if path is not None:
        frames.append(_validate(read_table(path), str(path)).assign(origin="user"))
    if not frames:
        raise ScenarioError("facts: nothing to load")
    facts = pd.concat(frames, ignore_index=True)
    key = ["company", "deal", "metric", "as_of"]
    return facts.drop_duplicates(subset=key, keep="last").reset_index(drop=True)


EV_COLUMNS = ("company", "as_of", "enterprise_value_usd")


def load_enterprise_values(path: str | Path) -> pd.DataFrame:
    """A user's enterprise values (CSV or Parquet: ``company, as_of, enterprise_value_usd``), validated.

    A negative enterprise value is possible (cash above market value plus debt) but rare
    for a miner: it is kept, with a :class:`~mullet.errors.PlausibilityWarning`.
    """
    raw = read_table(path)
    source = str(path)
    missing = [c for c in EV_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(source, f"missing column(s) {missing}; expected {list(EV_COLUMNS)}")
    df = raw.loc[:, list(EV_COLUMNS)].copy()
    if df.empty:
        raise DataError(source, "no data rows")
    values = pd.to_numeric(df["enterprise_value_usd"], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(source, f"not a finite number: {df['enterprise_value_usd'].iloc[i]!r}", row=i + 2, column="enterprise_value_usd")
    dates = pd.to_datetime(df["as_of"].astype(str), errors="coerce", format="ISO8601")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise DataError(source, f"not a date: {df['as_of'].iloc[i]!r}; allowed: YYYY-MM-DD", row=i + 2, column="as_of")
    if (values < 0).any():
        i = int(np.flatnonzero((values < 0).to_numpy())[0])
        warn_implausible(f"{source}, row {i + 2}, column 'enterprise_value_usd': negative value {values.iloc[i]:,.0f} (a miner's EV is usually > 0)")
    return df.assign(enterprise_value_usd=values.astype(float), as_of=dates)


def _as_of(facts: pd.DataFrame, as_of: str | pd.Timestamp | None) -> pd.DataFrame:
    if as_of is None:
        return facts
    try:
        ts = pd.Timestamp(as_of)
    except ValueError:
        raise ScenarioError(f"as_of: got {as_of!r}, allowed: a date like 2026-01-31") from None
    if ts is pd.NaT:
        raise ScenarioError(f"as_of: got {as_of!r}, allowed: a date like 2026-01-31")
    known = facts[facts["as_of"] <= ts]
    if known.empty:
        first = facts["as_of"].min()
        raise ScenarioError(f"as_of: got {as_of!r}, before the first fact ({first.date()}); allowed: a day on or after {first.date()}")
    return known


def _latest(facts: pd.DataFrame) -> pd.DataFrame:
    """Latest value of each (company, deal, metric)."""
    return facts.sort_values("as_of").groupby(["company", "deal", "metric"], as_index=False).last()


@dataclass(frozen=True)
class Deal:
    """A contract assembled from facts, with the lease model behind its per-MW figures."""

    company: str
    deal: str
    lease: ColocationLease
    sources: str


def deals(facts: pd.DataFrame, as_of: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """Contracts known at ``as_of``: value, term, IT MW, escalator, and revenue per year and per MW-year.

    A deal needs its value, term and MW; deals missing one of them are listed with
    the missing metric named, not filled in.
    """
    latest = _latest(_as_of(facts, as_of))
    latest = latest[latest["deal"] != ""]
    rows = []
    for (company, deal), g in latest.groupby(["company", "deal"]):
        m = dict(zip(g["metric"], g["value"], strict=True))
        needed = ("ai_contract_value_usd", "ai_contract_term_years", "ai_it_mw_contracted")
        absent = [k for k in needed if k not in m]
        gpus = m.get("ai_contract_includes_gpus")
        row: dict[str, object] = {
            "company": company,
            "deal": deal,
            "includes_gpus": "not stated" if gpus is None else "yes" if gpus == 1 else "no",
            "sources": "; ".join(sorted(set(g["source_publisher"]))),
        }
        if absent:
            row["missing"] = ", ".join(absent)
            row["ai_it_mw"] = m.get("ai_it_mw_contracted", np.nan)
            rows.append(row)
            continue
        lease = ColocationLease(
            name=str(deal),
            contracted_it_mw=m["ai_it_mw_contracted"],
            term_years=m["ai_contract_term_years"],
            total_contract_value_usd=m["ai_contract_value_usd"],
            escalator_fraction=m.get("ai_contract_escalator_fraction", 0.0),
            prepayment_fraction=m.get("ai_prepayment_fraction", 0.0),
            counterparty_backstop=bool(m.get("ai_contract_backstop", 0)),
        )
        row.update(
            {
                "ai_it_mw": lease.contracted_it_mw,
                "term_years": lease.term_years,
                "contract_value_usd": lease.total_contract_value_usd,
                "year1_revenue_usd": float(lease.yearly_revenue_usd(1)[0]),
                "usd_per_mw_year": lease.usd_per_mw_year(),
                "backstop": lease.counterparty_backstop,
                "missing": "",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def peer_table(
    facts: pd.DataFrame,
    as_of: str | pd.Timestamp | None = None,
    company: str | None = None,
    enterprise_values: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per company at ``as_of``: AI MW contracted and planned, power capacity, contracted AI revenue, and EV per MW.

    ``enterprise_values`` (columns ``company, as_of, enterprise_value_usd``) gives EV per MW of
    power capacity; without it that column is absent. Missing figures stay NaN.
    """
    f = _as_of(facts, as_of)
    if company is not None:
        if company not in set(facts["company"]):
            raise ScenarioError(f"company: got {company!r}, allowed: {sorted(set(facts['company']))}")
        f = f[f["company"] == company]
    latest = _latest(f)
    d = deals(f)
    rows = []
    for name, g in latest.groupby("company"):
        company_only = g[g["deal"] == ""]
        m = dict(zip(company_only["metric"], company_only["value"], strict=True))
        mine = d[(d["company"] == name)] if len(d) else d
        complete = mine[mine["missing"] == ""] if len(mine) else mine
        contracted_mw = float(mine["ai_it_mw"].sum()) if len(mine) and mine["ai_it_mw"].notna().any() else np.nan
        revenue = float((complete["contract_value_usd"] / complete["term_years"]).sum()) if len(complete) else np.nan
        mw_complete = float(complete["ai_it_mw"].sum()) if len(complete) else np.nan
        planned = m.get("ai_it_mw_planned", 0.0) + m.get("ai_site_mw_planned", 0.0)
        row = {
            "company": name,
            "ai_it_mw_contracted": contracted_mw,
            "ai_mw_planned": planned if ("ai_it_mw_planned" in m or "ai_site_mw_planned" in m) else np.nan,
            "power_capacity_mw": m.get("power_capacity_mw", np.nan),
            "contracted_ai_revenue_usd_per_year": revenue,
            "contracted_ai_usd_per_mw_year": revenue / mw_complete if mw_complete and mw_complete > 0 else np.nan,
            "hashrate_ehs": m.get("hashrate_ehs", np.nan),
            "btc_held": m.get("btc_held", np.nan),
            "sources": "; ".join(sorted(set(g["source_publisher"]))),
        }
        if enterprise_values is not None:
            ev = enterprise_values[enterprise_values["company"] == name]
            if as_of is not None:
                ev = ev[pd.to_datetime(ev["as_of"]) <= pd.Timestamp(as_of)]
            value = float(ev.sort_values("as_of")["enterprise_value_usd"].iloc[-1]) if len(ev) else np.nan
            row["enterprise_value_usd"] = value
            row["ev_usd_per_mw"] = value / row["power_capacity_mw"] if row["power_capacity_mw"] == row["power_capacity_mw"] else np.nan
        rows.append(row)
    return pd.DataFrame(rows).set_index("company")


def ai_revenue_share(facts: pd.DataFrame, company: str | None = None) -> pd.DataFrame:
    """AI share of revenue per reported period (only where both AI and total revenue are public)."""
    f = facts if company is None else facts[facts["company"] == company]
    piv = f[f["metric"].isin(["revenue_usd", "revenue_ai_usd", "revenue_mining_usd"])].pivot_table(
        index=["company", "period_start", "as_of"], columns="metric", values="value", aggfunc="last"
    )
    if "revenue_ai_usd" not in piv.columns or "revenue_usd" not in piv.columns:
        return pd.DataFrame(columns=["revenue_usd", "revenue_ai_usd", "ai_share_fraction"])
    piv = piv.dropna(subset=["revenue_ai_usd", "revenue_usd"])
    piv["ai_share_fraction"] = piv["revenue_ai_usd"] / piv["revenue_usd"]
    return piv


def sources(facts: pd.DataFrame) -> pd.DataFrame:
    """Each company's sources: ``company, as_of`` (publication day), ``publisher, url``, one row per distinct source, newest first."""
    s = facts.loc[:, ["company", "as_of", "source_publisher", "source_url"]].rename(columns={"source_publisher": "publisher", "source_url": "url"})
    s = s.sort_values(["company", "as_of"], ascending=[True, False]).drop_duplicates(subset=["company", "url"])
    return s.assign(as_of=s["as_of"].dt.strftime("%Y-%m-%d")).reset_index(drop=True)
