"""`mullet dispatch` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mullet.dispatch import PNL_KEYS

ROOT = Path(__file__).parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mullet.cli", *args], capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_dispatch_json_has_stable_keys_and_writes_schedule(tmp_path: Path) -> None:
    out = run(
        "dispatch",
        "scenarios/default.toml",
        "--start",
        "2023-08-01",
        "--end",
        "2023-08-07",
        "--format",
        "json",
        "--out",
        str(tmp_path),
        "--plot",
        str(tmp_path / "d.png"),
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data) == {"scenario", "status", "solver", "start_utc", "end_utc", "interval_minutes", "pnl", "metrics", "notes", "assumptions", "run_id"}
    assert data["assumptions"]["settlement_point"] == "HB_WEST" and data["run_id"] is None
    assert tuple(data["pnl"]) == PNL_KEYS
    assert data["solver"] == "fast" and data["interval_minutes"] == 15
    sched = pd.read_parquet(tmp_path / "schedule.parquet")
    assert len(sched) == 7 * 96
    assert str(sched.index.tz) == "UTC"
    assert (tmp_path / "d.png").stat().st_size > 10_000


def test_dispatch_lp_table() -> None:
    out = run("dispatch", "scenarios/cleanspark_measured_hybrid.toml", "--start", "2023-08-01", "--end", "2023-08-03", "--solver", "lp")
    assert out.returncode == 0, out.stderr
    assert "solver lp (optimal)" in out.stdout
    assert "P&L [USD]" in out.stdout
    assert "net" in out.stdout


def test_dispatch_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, through the same ``main()`` as the console command (the entry itself is tested as a subprocess elsewhere)."""
    from mullet.cli import main

    monkeypatch.chdir(ROOT)
    bad = tmp_path / "bad.toml"
    bad.write_text('[interconnect]\nimport_limit_mw = 10\n[[mining]]\nmodel = "Antminer S21"\nunits = 0\n')
    for args, message in (
        (["dispatch", str(bad)], "mining.0.units: Input should be greater than 0 (got 0)"),
        (["dispatch", "nope.toml"], "scenario: file 'nope.toml' not found"),
        (["dispatch", "scenarios/default.toml", "--solver", "magic"], "Invalid value for '--solver'"),
        (["dispatch", "scenarios/cleanspark_measured_hybrid.toml", "--solver", "fast", "--end", "2023-01-02"], "solver: got 'fast'"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        _out, err = capsys.readouterr()
        assert exit_info.value.code == 2, (args, err)
        assert message in err
        assert "Traceback" not in err and err.count("\n") == 1
