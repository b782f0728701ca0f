"""Industry facts: validation, merging, metrics, contract values per MW-year."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mullet.errors import DataError, ScenarioError
from mullet.industry import METRIC_UNITS, ai_revenue_share, deals, load_facts, peer_table

COLS = ["company", "deal", "metric", "value", "unit", "as_of", "period_start", "source_publisher", "source_url", "note"]


def fact(**kw: object) -> dict[str, object]:
    base = {"company": "X", "deal": "", "metric": "power_capacity_mw", "value": 100, "unit": "MW", "as_of": "2025-01-01",
            "period_start": "", "source_publisher": "pub", "source_url": "https://example.org/x", "note": ""}  # fmt: skip
    base.update(kw)
    return base


def write(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "facts.csv"
    pd.DataFrame(rows, columns=COLS).to_csv(path, index=False)
    return path


def test_every_bundled_fact_has_unit_date_and_source() -> None:
    facts = load_facts()
    assert len(facts) >= 50
    assert facts["as_of"].notna().all()
    assert (facts["source_url"].str.startswith("http")).all()
    assert (facts["source_publisher"].str.len() > 0).all()
    for metric, unit in zip(facts["metric"], facts["unit"], strict=True):
        assert METRIC_UNITS[metric] == unit
    assert {"MARA", "IREN", "Hut 8", "CleanSpark", "Bitfarms", "Riot", "Core Scientific", "TeraWulf", "Cipher", "HIVE"} <= set(facts["company"])


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"unit": "GW"}, r"row 3, column 'unit'"),
        ({"source_url": ""}, r"row 3, column 'source_url'"),
        ({"as_of": "sometime"}, r"row 3, column 'as_of'"),
        ({"metric": "vibes"}, r"row 3, column 'metric': unknown metric"),
        ({"value": "lots"}, r"row 3, column 'value'"),
        ({"metric": "ai_prepayment_fraction", "unit": "fraction", "value": 20}, r"row 3, column 'value'"),
    ],
)
def test_bad_rows_fail_with_the_row_named(tmp_path: Path, bad: dict[str, object], message: str) -> None:
    path = write(tmp_path, [fact(), fact(**bad)])
    with pytest.raises(DataError, match=message):
        load_facts(path, include_bundled=False)


def test_metrics_on_a_small_fixture(tmp_path: Path) -> None:
    rows = [
        fact(company="A", metric="power_capacity_mw", value=1000),
        fact(company="A", deal="A-1", metric="ai_contract_value_usd", value=1.2e9, unit="USD"),
        fact(company="A", deal="A-1", metric="ai_contract_term_years", value=10, unit="years"),
        fact(company="A", deal="A-1", metric="ai_it_mw_contracted", value=100, unit="MW"),
        fact(company="A", deal="A-2", metric="ai_it_mw_contracted", value=50, unit="MW", as_of="2026-01-01"),
        fact(company="A", metric="revenue_usd", value=200e6, unit="USD", period_start="2025-01-01", as_of="2025-03-31"),
        fact(company="A", metric="revenue_ai_usd", value=50e6, unit="USD", period_start="2025-01-01", as_of="2025-03-31"),
    ]
    facts = load_facts(write(tmp_path, rows), include_bundled=False)
    d = deals(facts).set_index("deal")
    assert d.loc["A-1", "usd_per_mw_year"] == pytest.approx(1.2e9 / 10 / 100)
    assert d.loc["A-2", "missing"] == "ai_contract_value_usd, ai_contract_term_years"
    t = peer_table(facts, as_of="2025-06-30")
    assert t.loc["A", "ai_it_mw_contracted"] == 100  # A-2 is not known yet
    assert t.loc["A", "contracted_ai_revenue_usd_per_year"] == pytest.approx(1.2e8)
    ev = pd.DataFrame({"company": ["A"], "as_of": ["2025-06-01"], "enterprise_value_usd": [3e9]})
    assert peer_table(facts, enterprise_values=ev).loc["A", "ev_usd_per_mw"] == pytest.approx(3e6)
    assert ai_revenue_share(facts)["ai_share_fraction"].iloc[0] == pytest.approx(0.25)
    with pytest.raises(ScenarioError, match="company: got 'B'"):
        peer_table(facts, company="B")


def test_public_deals_match_their_terms() -> None:
    d = deals(load_facts()).set_index("deal")
    assert d.loc["IREN-Microsoft", "usd_per_mw_year"] == pytest.approx(9.7e9 / 5 / 200)
    assert d.loc["IREN-Microsoft", "year1_revenue_usd"] == pytest.approx(1.94e9)
    assert d.loc["Hut8-Fluidstack", "usd_per_mw_year"] == pytest.approx(7e9 / 15 / 245)
    assert bool(d.loc["Hut8-Fluidstack", "backstop"])
    assert d.loc["CoreScientific-CoreWeave", "ai_it_mw"] == 500  # the latest fact wins
    assert peer_table(load_facts(), as_of="2024-07-01").loc["Core Scientific", "ai_it_mw_contracted"] == 200


def test_user_facts_merge_and_override(tmp_path: Path) -> None:
    rows = [
        fact(company="IREN", metric="power_capacity_mw", value=5000, as_of="2026-02-05"),  # replaces the bundled 4,500
        fact(company="NewCo", metric="btc_held", value=10, unit="BTC"),
    ]
    facts = load_facts(write(tmp_path, rows))
    t = peer_table(facts)
    assert t.loc["IREN", "power_capacity_mw"] == 5000
    assert t.loc["NewCo", "btc_held"] == 10


def test_cli_industry(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mullet.cli", "industry", "--format", "csv", "--plot", str(tmp_path / "i.png")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "IREN" in out.stdout and "livenews.co.nz" in out.stdout
    assert (tmp_path / "i.png").stat().st_size > 10_000
    bad = write(tmp_path, [fact(unit="GW")])
    err = subprocess.run([sys.executable, "-m", "mullet.cli", "industry", "--facts", str(bad)], capture_output=True, text=True, timeout=120)
    assert err.returncode == 2 and "row 2, column 'unit'" in err.stderr


def test_reviewed_facts_and_gpu_flags() -> None:
    from mullet.industry import deals, load_facts

    facts = load_facts()
    d = deals(facts).set_index("deal")
    assert d.loc["IREN-Microsoft", "includes_gpus"] == "yes"
    assert set(d.drop(index="IREN-Microsoft")["includes_gpus"]) == {"no"}
    row = facts[(facts["company"] == "CleanSpark") & (facts["metric"] == "convertible_notes_max_usd")].iloc[-1]
    assert row["value"] == 1.30e9 and "$1.28B with the option" in row["note"]
    mara = facts[(facts["company"] == "MARA") & (facts["metric"] == "equity_stake_fraction")].iloc[-1]
    assert "US$168M" in mara["note"] and "EUR" not in mara["note"]
