"""The application service behind the command line and the dashboard: run, store, show.

Both faces call these functions and hold no logic of their own. A dispatch run is returned as a
typed :class:`DispatchRun` carrying the result, the exact scenario dispatched (after overrides and
the gap policy) and the assumptions that decide the answer (horizon, settlement point, interval,
solver, gap policy, foresight); when a store is given, all of it is written with the schedule, so two
stored runs can always be told apart. The store path is checked before any computing.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import pandas as pd

from mullet import __version__
from mullet.errors import PlausibilityWarning
from mullet.site import Scenario, load_scenario, with_fill

__all__ = [
    "DispatchRun",
    "Fill",
    "Policy",
    "RunRecord",
    "Solver",
    "dispatch_assumptions",
    "run_dispatch",
    "show_run",
    "write_report",
]


class Solver(StrEnum):
    """Dispatch solvers: ``auto`` (the exact fast path when it applies, the coupled solver where exact, else the LP), ``lp``, ``fast`` or ``coupled``."""

    auto = "auto"
    lp = "lp"
    fast = "fast"
    coupled = "coupled"


class Policy(StrEnum):
    """How much the dispatch knows: ``perfect`` foresight (an upper bound) or a realisable decision rule."""

    perfect = "perfect"
    realtime = "realtime"
    realtime_4cp = "realtime_4cp"
    dayahead = "dayahead"


class Fill(StrEnum):
    """What to do with gaps in input series: ``error`` (the default) or ``ffill`` (fill from the previous interval, with a note)."""

    error = "error"
    ffill = "ffill"


FORESIGHT = "perfect foresight of prices and hashprice over the horizon: an upper bound on what a real-time operator earns"
REALISABLE = "policy {policy}: decisions use only information available at decision time (see README, dispatch policies)"


@dataclass
class DispatchRun:
    """A dispatch with everything needed to repeat it and to tell it from another run."""

    result: Any
    """The :class:`~mullet.dispatch.result.DispatchResult`."""
    scenario: Scenario
    """The scenario as dispatched (overrides and gap policy applied)."""
    scenario_file: str | None
    assumptions: dict[str, Any]
    run_id: str | None = None
    """Set when the run was stored."""

    @property
    def notes(self) -> list[str]:
        """Notes of the result: gaps filled, data missing, plausibility warnings, overrides."""
        return list(self.result.notes)

    def summary(self) -> dict[str, Any]:
        """The result's stable JSON keys plus ``assumptions`` and ``run_id``."""
        return {**self.result.summary(), "assumptions": self.assumptions, "run_id": self.run_id}


def _source(path: str | None, bundled: str) -> str:
    return f"file {path}" if path else f"bundled {bundled}"


def dispatch_assumptions(scenario: Scenario, summary: Mapping[str, Any], solver: str, policy: str = "perfect") -> dict[str, Any]:
    """The assumptions that decide a dispatch's answer, printed with it and stored with the run."""
    return {
        "horizon_start_utc": summary["start_utc"],
        "horizon_end_utc": summary["end_utc"],
        "interval_minutes": summary["interval_minutes"],
        "settlement_point": scenario.power.settlement_point,
        "prices": _source(scenario.power.price_file, f"{scenario.power.market} real-time prices"),
        "hashprice": _source(scenario.hashprice_file, "daily hashprice history (price, difficulty, fees)"),
        "ancillary_prices": _source(scenario.ancillary.price_file, "ERCOT day-ahead ancillary prices") if scenario.ancillary.products else "none offered",
        "gaps": "filled from the previous interval (noted)" if scenario.power.missing_intervals == "ffill" else "refused",
        "solver": f"{solver} -> {summary['solver']}",
        "policy": policy,
        "foresight": FORESIGHT if policy == "perfect" else REALISABLE.format(policy=policy),
        "package_version": __version__,
    }


def _load(source: str | Path | Scenario) -> tuple[Scenario, str | None, str | None]:
    if isinstance(source, Scenario):
        return source, None, None
    path = Path(source)
    sc = load_scenario(path)
    return sc, str(path), path.read_text(encoding="utf-8")


def run_dispatch(
    source: str | Path | Scenario,
    start: str | None = None,
    end: str | None = None,
    solver: Solver | str = Solver.auto,
    fill: Fill | str | None = None,
    db: str | Path | None = None,
    overrides: Any | None = None,
    scenario_file: str | None = None,
    policy: Policy | str = Policy.perfect,
) -> DispatchRun:
    """Dispatch a scenario and, when ``db`` is given, store it with its inputs and assumptions.

    Parameters
    ----------
    source
        A scenario TOML path or a :class:`~mullet.site.Scenario`.
    start, end
        Inclusive UTC days overriding the scenario's horizon.
    solver
        See :class:`Solver`.
    fill
        Gap policy for every input series (see :class:`Fill`); ``None`` keeps the scenario's ``power.missing_intervals``.
    db
        DuckDB store to write the run to; checked before computing.
    overrides
        Dashboard :class:`~mullet.web.forms.Overrides` applied to the scenario; what else had to change goes to the notes.
    scenario_file
        Name recorded for a scenario given as an object.
    policy
        See :class:`Policy`; ``perfect`` is an upper bound and is said so in the assumptions.

    Plausibility warnings raised while loading inputs are kept in the notes (and not printed twice).
    """
    from mullet.dispatch import dispatch
    from mullet.store import check_store_path, save_dispatch

    if db is not None:
        check_store_path(db)
    solver = Solver(solver)
    policy = Policy(policy)
    sc, file_name, text = _load(source)
    notes: list[str] = []
    if overrides is not None:
        from mullet.web.forms import apply_overrides

        sc, extra = apply_overrides(sc, overrides)
        notes += extra
    sc = with_fill(sc, Fill(fill).value if fill is not None else None)
    started = pd.Timestamp.now(tz="UTC")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PlausibilityWarning)
        result = dispatch(sc, start, end, solver.value, policy.value)
    for w in caught:
        if issubclass(w.category, PlausibilityWarning):
            notes.append(f"implausible input: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    result.notes += notes
    run = DispatchRun(result, sc, file_name or scenario_file, dispatch_assumptions(sc, result.summary(), solver.value, policy.value))
    if db is not None:
        digest = hashlib.sha256((sc.model_dump_json() + f"|{start}|{end}|{solver.value}|{policy.value}").encode()).hexdigest()
        inputs = {"scenario": sc.model_dump(mode="json"), "start": start, "end": end, "solver": solver.value, "policy": policy.value}
        run.run_id = save_dispatch(db, result, run.scenario_file, text, digest, started, extra={"assumptions": run.assumptions, "inputs": inputs})
    return run


@dataclass
class RunRecord:
    """A stored run as the faces show it."""

    run_id: str
    kind: str
    status: str
    meta: dict[str, Any]
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def tables(self) -> dict[str, tuple[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]]:
        """Named (title, table) pairs: the run's metadata, then P&L and metrics (dispatch) or strategies (plan)."""
        out: dict[str, tuple[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]] = {"run": (f"Run {self.run_id}", self.meta)}
        assumptions = self.summary.get("assumptions")
        if assumptions:
            out["assumptions"] = ("Assumptions", assumptions)
        if self.kind == "dispatch":
            out["pnl"] = ("P&L [USD]", self.summary.get("pnl", {}))
            out["metrics"] = ("Metrics", self.summary.get("metrics", {}))
        else:
            out["strategies"] = ("Strategies", self.summary.get("strategies", []))
        return out


def show_run(db: str | Path, run_id: str) -> RunRecord:
    """One stored run, dispatch or plan, from ``db``."""
    from mullet.store import show_run as stored

    rec = stored(db, run_id)
    summary = rec.pop("summary")
    rec.pop("scenario_toml", None)
    return RunRecord(str(rec["run_id"]), str(rec["kind"]), str(rec["status"]), rec, summary, list(summary.get("notes", [])))


def write_report(
    target: str | Path,
    out: str | Path,
    db: str | Path = "mullet.duckdb",
    start: str | None = None,
    end: str | None = None,
    fill: Fill | str | None = None,
) -> Path:
    """Write the self-contained HTML report of a scenario (dispatched now) or of a stored run id."""
    from mullet.errors import MulletError
    from mullet.report import report_for_dispatch, report_for_run

    o = Path(out)
    if o.suffix.lower() != ".html":
        raise MulletError(f"out: got '{o.name}', allowed: a file ending in .html")
    if not (o.parent if str(o.parent) else Path()).is_dir():
        raise MulletError(f"out: folder '{o.parent}' does not exist")
    if str(target).endswith(".toml"):
        return report_for_dispatch(run_dispatch(target, start, end, fill=fill), o)
    return report_for_run(db, str(target), o)
