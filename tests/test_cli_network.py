"""The CLI: formats, one-line errors with exit code 2, charts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mullet.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_on_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    """Every command's --help, in process (the console entry itself is run once, as a subprocess)."""
    from mullet.cli import app, main

    groups = {g.name: g.typer_instance for g in app.registered_groups}
    commands = [[c.name] for c in app.registered_commands]
    for name, group in groups.items():
        commands += [[name]] + [[name, c.name] for c in group.registered_commands]  # type: ignore[union-attr]
    assert ["dispatch"] in commands and ["grid", "headroom"] in commands
    for cmd in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([str(c) for c in cmd] + ["--help"])
        out, err = capsys.readouterr()
        assert exit_info.value.code in (0, None), (cmd, err)
        assert "Usage" in out, cmd
    root = subprocess.run([sys.executable, "-m", "mullet", "--help"], capture_output=True, text=True, timeout=120)
    assert root.returncode == 0 and "Usage" in root.stdout, root.stderr


def test_history_week_json_shows_the_halving() -> None:
    out = run("network", "history", "--from", "2024-04-01", "--to", "2024-05-31", "--freq", "week", "--format", "json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 9
    sub = [r["hashprice_subsidy_usd_per_ph_day"] for r in rows]
    assert sub[1] > 95 and sub[5] < 50


def test_history_csv_and_table() -> None:
    csv = run("network", "history", "--from", "2024-01-01", "--to", "2024-01-03", "--format", "csv")
    assert csv.returncode == 0
    assert csv.stdout.splitlines()[0].startswith("interval_start_utc,price_usd")
    assert len(csv.stdout.splitlines()) == 4
    table = run("network", "history", "--from", "2021-01-01", "--to", "2021-01-07", "--freq", "week")
    assert table.returncode == 0
    assert "hashprice_usd_per_ph_day" in table.stdout
    assert "fees are missing" in table.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["network", "history", "--freq", "year"], "Invalid value for '--freq'"),
        (["network", "history", "--from", "not-a-date"], "start: got 'not-a-date'"),
        (["network", "at", "2031-01-01"], "date: got 2031-01-01"),
        (["network", "history", "--plot", "chart.svg"], "allowed: a file ending in .png or .html"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_plots(tmp_path: Path) -> None:
    for name in ("h.png", "h.html"):
        out = run("network", "history", "--from", "2024-03-01", "--to", "2024-06-01", "--freq", "week", "--plot", str(tmp_path / name))
        assert out.returncode == 0, out.stderr
        assert (tmp_path / name).stat().st_size > 10_000
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert "plotly" in (tmp_path / "h.html").read_text()[:200_000].lower()


def test_network_at_height() -> None:
    out = run("network", "at", "840000", "--format", "json")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert data["subsidy_sat"] == 312_500_000
    assert data["day"] == "2024-04-19"
