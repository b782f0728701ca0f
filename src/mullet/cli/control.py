"""``mullet control``: live curtailment of the fleet of a scenario's ``[control]`` section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from mullet.cli._common import app, console, err_console
from mullet.control.aio import run as run_loop
from mullet.errors import MulletError

control_app = typer.Typer(help="Live curtailment of a miner fleet: run the controller, show its status.", no_args_is_help=True)
app.add_typer(control_app, name="control")


def _speed(text: str) -> float:
    t = text.strip().lower().removesuffix("x")
    try:
        v = float(t)
    except ValueError:
        raise MulletError(f"speed: got {text!r}, allowed: a factor like 60x or 120") from None
    if not 0 < v <= 100_000:
        raise MulletError(f"speed: got {text!r}, allowed: 0 < speed <= 100000")
    return v


@control_app.command("run")
def run_cmd(
    scenario: Annotated[Path, typer.Argument(help="Scenario TOML with a [control] section (fleet inventory).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Decide and log commands, send none (reads still go out).")] = False,
    replay: Annotated[str | None, typer.Option("--replay", help="Replay recorded prices: START[..END] UTC days, e.g. 2023-08-20..2023-08-21.")] = None,
    speed: Annotated[str, typer.Option("--speed", help="Replay clock speed, e.g. 60x (use the same for `fleet emulate`).")] = "60x",
    signals: Annotated[Path, typer.Option("--signals", help="Live mode: JSON signal file kept up to date by your systems.")] = Path("signals.json"),
    duration: Annotated[float | None, typer.Option("--duration", min=1, help="Live mode: stop after this many seconds; default: until Ctrl-C.")] = None,
    max_intervals: Annotated[int | None, typer.Option("--max-intervals", min=1, help="Replay: stop after this many intervals.")] = None,
    hashprice: Annotated[
        float | None, typer.Option("--hashprice", min=0, help="Live mode: hashprice [USD/PH/day] unless the signal file has one; pass today's.")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Audit log DuckDB; default: control.audit_db of the scenario.")] = None,
) -> None:
    """Run the controller: live on a signal file, or on replayed ERCOT prices against the emulator or real miners."""
    from mullet.control.run import replay as replay_run
    from mullet.control.run import run_live
    from mullet.site import load_scenario

    sc = load_scenario(scenario)
    if sc.control is None or not sc.control.miners:
        raise MulletError(f"{scenario}: control.miners: empty; allowed: a [control] section with [[control.miners]] (see README, Control)")
    audit_db = db or Path(sc.control.audit_db)
    n = sc.control.n_miners

    def show(r: object) -> None:
        from mullet.control.controller import StepReport

        assert isinstance(r, StepReport)
        if r.kind != "decision" and not r.results:
            return
        when = r.interval_start_utc.isoformat() if r.interval_start_utc else "-"
        ok = sum(x.confirmed for x in r.results)
        console.print(
            f"{when}  target {r.target_site_mw:8.3f} MW  planned {r.planned_asic_mw:8.3f} MW  read-back {r.readback_asic_mw:8.3f} MW (ASIC)  "
            f"commands {len(r.results):5d} confirmed {ok:5d}  {r.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )

    if replay is None:
        if dry_run:
            err_console.print("dry run: commands are logged, none is sent", markup=False)
        err_console.print(f"controlling {n} miners; signals from {signals}; audit log {audit_db}; Ctrl-C stops", markup=False, highlight=False)
        if hashprice is None:
            err_console.print(
                "note: no --hashprice: unless the signal file carries hashprice_usd_per_ph_day, the strike uses the bundled hashprice "
                "of the scenario's first day (stale for live use)",
                markup=False,
                highlight=False,
            )
        try:
            run_loop(run_live(sc, signals, audit_db=audit_db, dry_run=dry_run, duration_s=duration, hashprice_usd_per_ph_day=hashprice, on_report=show))
        except KeyboardInterrupt:
            err_console.print(f"interrupted: controller stopped; miners stay as they are; every decision so far is in {audit_db}", markup=False)
            raise typer.Exit(130) from None
        return
    if dry_run:
        raise MulletError("dry-run: not with --replay (a replay must act to measure realised P&L); use one or the other")
    start, _, end = replay.partition("..")
    factor = _speed(speed)
    err_console.print(f"replaying {start}..{end or start} at {factor:g}x on {n} miners; audit log {audit_db}", markup=False, highlight=False)
    try:
        res = run_loop(replay_run(sc, start, end or start, speed=factor, audit_db=audit_db, max_intervals=max_intervals, on_report=show))
    except KeyboardInterrupt:
        err_console.print(f"interrupted: replay stopped; every decision so far is in {audit_db}", markup=False)
        raise typer.Exit(130) from None
    for label, net, mwh in res.table():
        console.print(f"{label:36s} net P&L ${net:14,.0f}   mining {mwh:12,.1f} MWh", markup=False, highlight=False)
    for note in res.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


@control_app.command("status")
def status_cmd(
    db: Annotated[Path, typer.Option("--db", help="Audit log DuckDB.")] = Path("mullet.duckdb"),
    last: Annotated[int, typer.Option("--last", min=1, max=1000, help="Decisions to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The fleet as the controller last saw it, and its last decisions from the audit log."""
    from mullet.control.audit import read_audit
    from mullet.control.run import status_path

    sp = status_path(db)
    live = json.loads(sp.read_text()) if sp.exists() else None
    rows = read_audit(db, kinds=["decision", "confirmation"], limit=2 * last)
    if live is None and not rows:
        raise MulletError(f"db: no controller status in '{db}' (no {sp.name} and no audit rows); run `mullet control run` first")
    if as_json:
        console.print_json(json.dumps({"live": live, "audit": rows}, default=str))
        return
    if live:
        console.print(
            f"{live.get('mode', '?')} run {live['run_id']} at {live['updated_utc']}: {live['miners']} miners, {live['responsive']} answering, "
            f"{live['asleep']} curtailed (read-back), target {live.get('target_site_mw')} MW site, read-back {live['readback_site_mw']:.3f} MW site",
            markup=False,
            highlight=False,
        )
        if live.get("not_responding"):
            console.print(f"not responding: {', '.join(live['not_responding'][:20])}", markup=False, highlight=False)
    for r in rows:
        console.print(
            f"{r['interval_start_utc']}  {r['kind']:12s} target {r['target_mw'] if r['target_mw'] is not None else float('nan'):8.3f} MW  "
            f"commanded {r['commanded_mw'] or 0:8.3f} MW  confirmed {r['confirmed_mw'] or 0:8.3f} MW  ok={r['ok']}",
            markup=False,
            highlight=False,
        )
