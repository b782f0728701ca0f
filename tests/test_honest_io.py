"""Honest inputs and outputs: gaps filled only when asked (always noted), naive times refused,
implausible magnitudes warned about, and machine-readable outputs that are one document per stream."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from mullet.errors import DataError, PlausibilityWarning
from mullet.runs import run_dispatch
from mullet.testing import run_cli as _run

ROOT = Path(__file__).parents[1]
# the default site, asking for gaps to be refused (the bundled scenario fills the load zone's fall-back hour, noted)
DEFAULT = (ROOT / "scenarios" / "default.toml").read_text().replace('missing_intervals = "ffill"', 'missing_intervals = "error"')
DEFAULT = re.sub(r"load_settlement_point = .*\n", "", DEFAULT)  # settle at the hub: the tests' price files have one column


def _scenario(tmp_path: Path, extra: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(DEFAULT.replace('end = "2023-12-31"', 'end = "2023-12-31"\n' + extra))
    return path


def test_hashprice_gap_is_refused_unless_asked_then_noted(tmp_path: Path) -> None:
    days = ["2023-07-31", "2023-08-01", "2023-08-03", "2023-08-04"]  # 2023-08-02 is missing
    (tmp_path / "hp.csv").write_text("date,hashprice_usd_per_ph_day\n" + "".join(f"{d},{50 + i}\n" for i, d in enumerate(days)))
    sc = _scenario(tmp_path, 'hashprice_file = "hp.csv"')
    with pytest.raises(DataError, match=r"hp.csv, column 'hashprice_usd_per_ph_day': 1 missing interval.*2023-08-02.*--fill ffill"):
        run_dispatch(sc, "2023-08-01", "2023-08-03")
    run = run_dispatch(sc, "2023-08-01", "2023-08-03", fill="ffill")
    assert any("hashprice_usd_per_ph_day: 1 missing interval(s) filled from the previous interval" in n for n in run.notes)
    assert run.assumptions["gaps"].startswith("filled")
    # the filled day carries the previous day's hashprice: mining revenue equals a file where 08-02 repeats 08-01
    full = [*days[:2], "2023-08-02", *days[2:]]
    values = [50, 51, 51, 52, 53]
    (tmp_path / "hp_full.csv").write_text("date,hashprice_usd_per_ph_day\n" + "".join(f"{d},{v}\n" for d, v in zip(full, values, strict=True)))
    same = run_dispatch(_scenario(tmp_path, 'hashprice_file = "hp_full.csv"', "full.toml"), "2023-08-01", "2023-08-03")
    assert run.result.pnl["mining_revenue_usd"] == pytest.approx(same.result.pnl["mining_revenue_usd"], rel=1e-12)


def test_grid_impact_refuses_gaps_unless_fill_is_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    days = ["2023-07-31", "2023-08-01", "2023-08-03", "2023-08-04"]  # 2023-08-02 is missing
    (tmp_path / "hp.csv").write_text("date,hashprice_usd_per_ph_day\n" + "".join(f"{d},{50 + i}\n" for i, d in enumerate(days)))
    sc = str(_scenario(tmp_path, 'hashprice_file = "hp.csv"'))
    code, out, err = _run(["grid", "impact", sc, "--start", "2023-08-01", "--end", "2023-08-03"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "1 missing interval" in err and "--fill ffill" in err
    code, out, err = _run(["grid", "impact", sc, "--start", "2023-08-01", "--end", "2023-08-03", "--fill", "ffill", "--format", "json"], capsys)
    assert code == 0, err
    assert "hashprice_usd_per_ph_day: 1 missing interval(s) filled from the previous interval" in err
    assert json.loads(out)  # one pure JSON document on stdout


def test_ancillary_price_gap_is_refused_unless_asked(tmp_path: Path) -> None:
    hours = pd.date_range("2023-08-01", "2023-08-02 23:00", freq="1h", tz="UTC")
    kept = hours.delete(30)  # 2023-08-02 06:00 UTC missing
    frame = pd.DataFrame({"interval_start_utc": [t.isoformat() for t in kept], "REGUP": 5.0, "REGDN": 3.0, "RRS": 8.0, "ECRS": 6.0, "NSPIN": 4.0})
    frame.to_csv(tmp_path / "as.csv", index=False)
    sc = tmp_path / "as.toml"
    sc.write_text(DEFAULT.replace('products = ["RRS", "ECRS", "NSPIN"]', 'products = ["RRS", "ECRS", "NSPIN"]\nprice_file = "as.csv"'))
    with pytest.raises(DataError, match=r"as.csv, column 'RRS/ECRS/NSPIN': 1 missing interval.*2023-08-02 06:00"):
        run_dispatch(sc, "2023-08-01", "2023-08-02")
    run = run_dispatch(sc, "2023-08-01", "2023-08-02", fill="ffill")
    assert any("RRS/ECRS/NSPIN: 1 missing interval(s) filled" in n for n in run.notes)
    # 47 real hours and one filled hour of flat prices: revenue of an offer at RRS 8 $/MW-h at most 48 h x offer MW x 8
    assert 0 < run.result.pnl["ancillary_revenue_usd"] <= 48 * 8.0 * 158 * 0.5 + 1e-6


def test_naive_interval_end_is_refused(tmp_path: Path) -> None:
    from mullet.data import load_system_load

    path = tmp_path / "load.csv"
    path.write_text("interval_end_utc,ERCOT\n2023-01-01 01:00,40000\n2023-01-01 02:00,41000\n")
    with pytest.raises(DataError, match=r"interval_end_utc.*no UTC offset"):
        load_system_load(path)
    path.write_text("interval_end_utc,ERCOT\n2023-01-01T01:00Z,40000\n2023-01-01T02:00Z,41000\n")
    assert str(load_system_load(path).index[0]) == "2023-01-01 00:00:00+00:00"


def test_implausible_price_file_warns_but_runs(tmp_path: Path) -> None:
    idx = pd.date_range("2023-08-01", "2023-08-02 23:45", freq="15min", tz="UTC")
    price = pd.Series(30.0, index=idx)
    price.iloc[10] = 1e9
    pd.DataFrame({"interval_start_utc": [t.isoformat() for t in idx], "NODE": price.to_numpy()}).to_csv(tmp_path / "p.csv", index=False)
    text = DEFAULT.replace('settlement_point = "HB_WEST"', 'settlement_point = "NODE"\nprice_file = "p.csv"').replace('mode = "perfect"', 'mode = "none"')
    (tmp_path / "p.toml").write_text(text)
    with pytest.warns(PlausibilityWarning, match=r"p.csv, column 'NODE': 1 value\(s\) outside -1,000..10,000, first 1e\+09"):
        from mullet.dispatch import dispatch

        dispatch(tmp_path / "p.toml", "2023-08-01", "2023-08-02")
    run = run_dispatch(tmp_path / "p.toml", "2023-08-01", "2023-08-02")  # the service keeps the warning in the notes
    assert any(n.startswith("implausible input:") and "1e+09" in n for n in run.notes)


def test_cli_prints_plausibility_warnings_as_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ev.csv").write_text("company,as_of,enterprise_value_usd\nIREN,2025-06-30,-5000000\n")
    code, _, err = _run(["industry", "--ev", str(tmp_path / "ev.csv"), "--format", "json"], capsys)
    assert code == 0
    assert [line for line in err.splitlines() if line.startswith("warning:")] == [
        f"warning: {tmp_path / 'ev.csv'}, row 2, column 'enterprise_value_usd': negative value -5,000,000 (a miner's EV is usually > 0)"
    ]
    hours = pd.date_range("2023-08-01", periods=48, freq="1h", tz="UTC")
    pd.DataFrame({"interval_start_utc": [t.isoformat() for t in hours], "emission_factor_t_per_mwh": 400.0}).to_csv(tmp_path / "ef.csv", index=False)
    from mullet.grid import load_emission_factors

    with pytest.warns(PlausibilityWarning, match="emission_factor_t_per_mwh.*400"):
        load_emission_factors(tmp_path / "ef.csv")
    code, _, err = _run(["contracts", "examples", "--gpu-usd-per-hour", "45", "--format", "json"], capsys)
    assert code == 0 and err.startswith("warning: gpu_usd_per_hour: got 45")


def test_csv_and_json_are_one_document_per_stream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["contracts", "examples", "--format", "json"], capsys)
    assert code == 0 and set(json.loads(out)) == {"deals", "gpu_claim"}
    code, out, _ = _run(["contracts", "examples", "--format", "csv", "--out", str(tmp_path / "c")], capsys)
    assert code == 0 and out == "" and sorted(p.name for p in (tmp_path / "c").iterdir()) == ["deals.csv", "gpu_claim.csv"]
    assert "IREN" in (tmp_path / "c" / "deals.csv").read_text()
    code, out, _err = _run(["dispatch", str(ROOT / "scenarios/default.toml"), "--start", "2023-08-01", "--end", "2023-08-02", "--format", "csv"], capsys)
    frame = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(frame.columns) == ["section", "key", "value"] and set(frame["section"]) == {"pnl", "metrics", "assumptions"}
    assert "note:" not in out
