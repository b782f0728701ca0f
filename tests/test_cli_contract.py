"""The command line's error contract, across every command.

Bad usage, bad values, missing or malformed files: one line on stderr naming the option or field,
exit 2, never a traceback. Interrupts: exit 130 saying what was kept. Run in-process (fast); the
interrupt tests use a real process and a real SIGINT.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mullet.cli import main
from mullet.testing import run_cli as _run

ROOT = Path(__file__).parents[1]
SCENARIO = str(ROOT / "scenarios" / "default.toml")
SHORT = ["--start", "2023-08-01", "--end", "2023-08-02"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Bad input files a new user might hand over."""
    d = tmp_path_factory.mktemp("bad")
    (d / "bad.toml").write_text("name = [not toml\n")
    (d / "hp_header.csv").write_text("date,hashprice_usd_per_ph_day\n")
    (d / "ev_wrong.csv").write_text("company,as_of,ev\nIREN,2024-01-01,5\n")
    (d / "load_naive_end.csv").write_text("interval_end_utc,ERCOT\n2023-01-01 01:00,40000\n2023-01-01 02:00,41000\n")
    (d / "emissions_wrong.csv").write_text("interval_start_utc,co2\n2023-08-01T00:00Z,0.4\n")
    (d / "facts_wrong.csv").write_text("company,metric\nX,y\n")
    (d / "not_a_db.duckdb").write_text("this is not a database, it is long enough to have a header\n")
    sc = Path(SCENARIO).read_text().replace('end = "2023-12-31"', 'end = "2023-12-31"\nhashprice_file = "hp_header.csv"')
    (d / "hp_header.toml").write_text(sc)
    (d / "folder.toml").mkdir()
    return {p.name: str(p) for p in d.iterdir()} | {"dir": str(d)}


# (command line, what the one-line error must mention); {name} is replaced by the fixture file's path.
USAGE_AND_INPUT_ERRORS: list[tuple[list[str], str]] = [
    (["nosuchcommand"], "No such command"),
    (["dispatch"], "Missing argument"),
    (["dispatch", SCENARIO, "--format", "xml"], "--format"),
    (["dispatch", SCENARIO, "--solver", "simplex"], "--solver"),
    (["dispatch", SCENARIO, "--fill", "bfill"], "--fill"),
    (["dispatch", SCENARIO, "--start", "2023-13-01"], "start"),
    (["dispatch", SCENARIO, "--start", "2030-01-01", "--end", "2030-01-02"], "start/end"),
    (["dispatch", "{dir}/missing.toml"], "not found"),
    (["dispatch", "{bad.toml}"], "not valid TOML"),
    (["dispatch", "{folder.toml}"], "folder.toml"),
    (["dispatch", "{hp_header.toml}", *SHORT], "no data rows"),
    (["dispatch", SCENARIO, *SHORT, "--plot", "chart.gif"], "plot"),
    (["dispatch", SCENARIO, *SHORT, "--db", "{dir}/nofolder/runs.duckdb"], "db"),
    (["plan", SCENARIO, "--paths", "0"], "--paths"),
    (["plan", SCENARIO, "--years", "31"], "--years"),
    (["plan", SCENARIO, "--ai-shares", "half"], "ai_shares"),
    (["plan", SCENARIO, "--ai-contract", "barter"], "--ai-contract"),
    (["network"], ""),
    (["network", "at", "-5"], "-5"),
    (["network", "at", "yesterday-ish"], "date"),
    (["network", "history", "--freq", "year"], "--freq"),
    (["network", "history", "--from", "2030-01-01"], "start"),
    (["network", "simulate", "--paths", "0"], "--paths"),
    (["network", "simulate", "--event", "bogus"], "event"),
    (["network", "backtest", "--from", "soon"], "start"),
    (["network", "backtest", "--format", "csv"], "--out"),
    (["grid", "headroom", "--tz", "Mars/Olympus"], "--tz"),
    (["grid", "headroom", "--rates", "a"], "rates"),
    (["grid", "headroom", "--load", "{dir}/missing.csv"], "file not found"),
    (["grid", "headroom", "--load", "{load_naive_end.csv}"], "no UTC offset"),
    (["grid", "impact", "{dir}/missing.toml"], "not found"),
    (["grid", "impact", SCENARIO, *SHORT, "--emissions", "{emissions_wrong.csv}"], "emission_factor_t_per_mwh"),
    (["industry", "--as-of", "1990-01-01"], "as_of"),
    (["industry", "--as-of", "someday"], "as_of"),
    (["industry", "--ev", "{ev_wrong.csv}"], "enterprise_value_usd"),
    (["industry", "--facts", "{facts_wrong.csv}"], "missing column"),
    (["industry", "--company", "Nobody Mining"], "company"),
    (["industry", "--plot", "chart.svg"], "plot"),
    (["contracts", "examples", "--dates", "x"], "dates"),
    (["contracts", "examples", "--dates", "1990-01-01"], "dates"),
    (["contracts", "examples", "--gpu-usd-per-hour", "-2"], "gpu"),
    (["contracts", "examples", "--format", "csv"], "--out"),
    (["runs", "list", "--db", "{dir}/none.duckdb"], "db"),
    (["runs", "list", "--db", "{not_a_db.duckdb}"], "db"),
    (["runs", "list", "--db", "{dir}"], "is a folder"),
    (["runs", "show", "abc", "--db", "{dir}/none.duckdb"], "db"),
    (["runs", "compare", "a", "b", "--db", "{dir}/none.duckdb"], "db"),
    (["runs", "export", "abc", "--out", "x.txt", "--db", "{dir}/none.duckdb"], "db"),
    (["report", "x", "--out", "a.txt"], "out"),
    (["report", "{dir}/missing.toml", "--out", "{dir}/a.html"], "not found"),
    (["report", "abcdefabcdef", "--db", "{dir}/none.duckdb", "--out", "{dir}/a.html"], "db"),
    (["serve", "--host", "0.0.0.0"], "host"),
    (["serve", "--port", "0"], "--port"),
    (["serve", "--scenarios", "{dir}/nodir"], "scenarios"),
]


@pytest.mark.parametrize(("args", "mentions"), USAGE_AND_INPUT_ERRORS, ids=[" ".join(a[:3]) + f" [{i}]" for i, (a, _) in enumerate(USAGE_AND_INPUT_ERRORS)])
def test_bad_input_is_one_line_exit_2(args: list[str], mentions: str, files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    argv = [re.sub(r"\{([^}]+)\}", lambda m: files[m.group(1)], a) for a in args]
    code, out, err = _run(argv, capsys)
    assert code == 2, (argv, code, err)
    assert "Traceback" not in out + err
    if args == ["network"]:  # a group without a command prints its help and fails
        assert "Usage" in out
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert mentions in lines[0], lines[0]


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run([], capsys)
    assert code == 2 and "Usage" in out and "Traceback" not in err


def test_version_and_help_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["--version"], capsys)
    assert code == 0 and out.startswith("mullet ")
    code, out, _ = _run(["network", "simulate", "--help"], capsys)
    assert code == 0 and "--paths" in out


def test_runs_show_of_a_stored_dispatch_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A dispatch run (as the dashboard stores it) shows its P&L; JSON is one document with the assumptions."""
    db = str(tmp_path / "runs.duckdb")
    code, out, err = _run(["dispatch", SCENARIO, *SHORT, "--db", db, "--format", "json"], capsys)
    assert code == 0, err
    run_id = json.loads(out)["run_id"]
    code, out, err = _run(["runs", "show", run_id, "--db", db], capsys)
    assert code == 0, err
    assert "net" in out and "Traceback" not in err
    code, out, err = _run(["runs", "show", run_id, "--db", db, "--format", "json"], capsys)
    rec = json.loads(out)
    assert rec["kind"] == "dispatch" and rec["summary"]["assumptions"]["settlement_point"] == "HB_WEST"


def test_crash_is_one_line_exit_1_with_debug_hint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import mullet.network.history as history

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("simulated internal failure\nsecond line")

    monkeypatch.setattr(history, "network_at", broken)
    code, _out, err = _run(["network", "at", "840000"], capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("crash: RuntimeError") and "--debug" in err
    with pytest.raises(RuntimeError):
        main(["network", "at", "840000", "--debug"])


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _interrupt(args: list[str], after_cpu_s: float, module: str = "mullet.cli") -> tuple[int, str, str, float]:
    """Start the command, wait until it has used ``after_cpu_s`` of CPU (past imports and loading, whatever the
    machine's load), send SIGINT, and return (exit code, stdout, stderr, CPU seconds the command used after the signal).

    CPU time rather than wall time on both sides, so that a loaded machine (the suite runs on 2 shared cores) cannot
    move the interrupt to another phase of the command or make a prompt exit look slow.
    """
    import resource

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    deadline = time.monotonic() + 120
    used = 0.0
    while proc.poll() is None and used < after_cpu_s and time.monotonic() < deadline:
        time.sleep(0.005)
        try:
            used = _cpu_seconds(proc.pid)
        except (FileNotFoundError, ProcessLookupError):
            break
    assert proc.poll() is None, "finished before the interrupt; make the workload longer"
    used = _cpu_seconds(proc.pid)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return proc.returncode, out, err, max(0.0, total - used)


def test_interrupted_network_simulate_exits_130() -> None:
    code, out, err, cpu_after = _interrupt(["network", "simulate", "--paths", "2000", "--years", "10", "--format", "json"], after_cpu_s=3.0)
    assert code == 130, err
    assert out == "" and "interrupted" in err and "Traceback" not in err
    assert cpu_after < 5  # the whole simulation is about 15 s of CPU: it stopped, it did not finish first


@pytest.mark.parametrize("after_cpu_s", [0.05, 0.3, 0.7, 1.0, 1.4])
def test_interrupt_while_starting_is_one_line_exit_130(after_cpu_s: float) -> None:
    """Ctrl-C while the command line is still importing its libraries (about 1 s of CPU) is no traceback either, and
    exit 130 holds after an interrupt that passed through a library's exec() (CPython would otherwise die by SIGINT, -2)."""
    code, out, err, _ = _interrupt(["network", "simulate", "--paths", "2000", "--years", "10"], after_cpu_s=after_cpu_s, module="mullet")
    assert code == 130, err
    assert out == "" and "Traceback" not in err and err.count("\n") == 1 and "interrupted" in err


def test_interrupted_mip_dispatch_exits_130_at_once(tmp_path: Path) -> None:
    """A min on/off time makes the dispatch a MIP that runs about a minute; Ctrl-C stops HiGHS within seconds."""
    text = (ROOT / "scenarios" / "cleanspark_measured_hybrid.toml").read_text()
    text = text.replace("ramp_mw_per_h = 90", "ramp_mw_per_h = 90\nmin_on_hours = 4\nmin_off_hours = 2\nmin_load_fraction = 0.3")
    (tmp_path / "mip.toml").write_text(text)
    code, out, err, cpu_after = _interrupt(["dispatch", str(tmp_path / "mip.toml"), "--end", "2023-03-31", "--format", "json"], after_cpu_s=6.0)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert "{" not in out  # no result printed as if it had succeeded
    assert cpu_after < 20  # the MIP alone runs about a minute of CPU


def test_every_option_and_argument_has_help() -> None:
    import typer.main

    from mullet.cli import app

    missing = []

    def walk(cmd, path: str) -> None:  # type: ignore[no-untyped-def]
        for param in cmd.params:
            if param.name in ("help",):
                continue
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{path} {param.name}")
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(app), "mullet")
    assert missing == []


def test_progress_bars_leave_no_residue_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["network", "simulate", "--paths", "5", "--years", "1", "--format", "json"], capsys)
    assert code == 0, err
    assert json.loads(out)
    assert not err.startswith("\n") and "\n\n" not in err  # a transient bar on a pipe used to leave an empty line
    code, _out, err = _run(["data", "update", "--source", "nope"], capsys)
    assert code == 2 and err.startswith("error: source:") and err.count("\n") == 1
