"""Background runs of the dashboard: one worker thread, a bounded queue, cancellation on shutdown.

Dispatch jobs call :func:`mullet.runs.run_dispatch` (the same service as the command line) and store
the run; plan jobs run the planner and store its paths. A job's failure is kept as one line.
"""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel

from mullet.errors import MulletError, ScenarioError
from mullet.web.forms import RunRequest

__all__ = ["SCENARIO_NAME", "ConflictError", "Dashboard", "Job", "JobView", "QueueFullError", "UnknownError"]

SCENARIO_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}\.toml$")
"""Scenario files the dashboard may run: a plain name in its scenario folder."""
RUN_ID = re.compile(r"^[0-9a-f]{12}$")


class QueueFullError(MulletError):
    """Too many jobs waiting; the client should retry later (HTTP 429)."""


class UnknownError(MulletError):
    """A name or id that is well formed but does not exist (HTTP 404)."""


class ConflictError(MulletError):
    """The resource exists but is of another kind, e.g. the schedule of a plan run (HTTP 409)."""


class _Cancelled(Exception):
    pass


@dataclass
class Job:
    """State of one background run."""

    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"] = "queued"
    progress: float = 0.0
    run_id: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


class JobView(BaseModel):
    """``GET /api/jobs/{job_id}``: status, progress (0..1), the stored run id when done, the error when failed."""

    kind: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]
    progress: float
    run_id: str | None
    error: str | None
    notes: list[str]


class Dashboard:
    """What every request handler of one dashboard shares: the store, the scenario folder and the jobs.

    Parameters
    ----------
    db
        DuckDB store path (created on the first run).
    scenario_dir
        Folder of scenario files the dashboard may run.
    max_queued
        Jobs accepted while others wait; more get HTTP 429.
    """

    def __init__(self, db: str | Path, scenario_dir: str | Path, max_queued: int = 4) -> None:
        self.db = Path(db)
        self.folder = Path(scenario_dir).resolve()
        if not self.folder.is_dir():
            raise ScenarioError(f"scenarios: folder '{scenario_dir}' does not exist")
        self.max_queued = max_queued
        self.jobs: dict[str, Job] = {}
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mullet-job")

    # --- scenarios and runs ---------------------------------------------------------------------------

    def scenario_names(self) -> list[str]:
        """Scenario files available to run, sorted."""
        return sorted(p.name for p in self.folder.glob("*.toml") if SCENARIO_NAME.match(p.name))

    def scenario_path(self, name: str) -> Path:
        """The file of scenario ``name``, only inside the scenario folder."""
        if not SCENARIO_NAME.match(name):
            raise ScenarioError(f"scenario: got {name!r}, allowed: a file name like default.toml from {self.scenario_names()}")
        p = (self.folder / name).resolve()
        if not p.is_relative_to(self.folder) or not p.is_file():
            raise UnknownError(f"scenario: got {name!r}, allowed: one of {self.scenario_names()}")
        return p

    def runs(self) -> list[dict[str, Any]]:
        """Stored runs, newest first (none before the store exists)."""
        from mullet.store import list_runs

        if not self.db.exists():
            return []
        return list_runs(self.db).to_dict(orient="records")

    def check_run_id(self, run_id: str) -> str:
        """``run_id`` if well formed and stored; else an error naming it."""
        from mullet.store import show_run

        if not RUN_ID.match(run_id):
            raise ScenarioError(f"run_id: got {run_id!r}, allowed: 12 hexadecimal characters")
        if not self.db.exists():
            raise UnknownError(f"run_id: got {run_id!r}, not in the store (no runs yet)")
        try:
            show_run(self.db, run_id)
        except MulletError as exc:
            raise UnknownError(str(exc)) from None
        return run_id

    # --- jobs -------------------------------------------------------------------------------------------

    def submit(self, req: RunRequest) -> str:
        """Queue a run; fail at once on an unknown scenario or a full queue."""
        self.scenario_path(req.scenario)
        with self._lock:
            waiting = sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))
            if waiting >= self.max_queued:
                raise QueueFullError(f"jobs: {waiting} runs queued or running; allowed: {self.max_queued}; retry when one finishes")
            job_id = uuid.uuid4().hex[:12]
            self.jobs[job_id] = Job(kind=req.kind)
            self._futures[job_id] = self._executor.submit(self._execute, job_id, req)
        return job_id

    def shutdown(self) -> None:
        """Cancel queued jobs, ask a running plan to stop at its next chunk, and wait for the worker."""
        self._stop.set()
        with self._lock:
            for job_id, fut in self._futures.items():
                if fut.cancel():
                    self.jobs[job_id].status = "cancelled"
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _execute(self, job_id: str, req: RunRequest) -> None:
        from mullet.runs import run_dispatch

        job = self.jobs[job_id]
        if self._stop.is_set():
            job.status = "cancelled"
            return
        job.status = "running"
        try:
            path = self.scenario_path(req.scenario)
            if req.kind == "dispatch":
                start, end = (str(d) if d is not None else None for d in (req.start, req.end))
                run = run_dispatch(path, start, end, overrides=req.overrides, db=self.db)
                job.notes += [n for n in run.notes if n not in job.notes]
                job.run_id = run.run_id
            else:
                job.run_id = self._plan(job, req, path)
            job.progress = 1.0
            job.status = "done"
        except _Cancelled:
            job.status, job.error = "cancelled", "the dashboard stopped before the run finished; nothing was stored"
        except MulletError as exc:
            job.status, job.error = "failed", " ".join(str(exc).split())
        except Exception as exc:  # the job's own boundary: never a traceback to the client
            job.status, job.error = "failed", f"internal error while running the job ({type(exc).__name__})"

    def _plan(self, job: Job, req: RunRequest, path: Path) -> str:
        from mullet._output import to_jsonable
        from mullet.plan import PlanConfig, input_hash, run_plan
        from mullet.site import load_scenario
        from mullet.store import check_store_path, save_plan
        from mullet.web.forms import apply_overrides

        check_store_path(self.db)
        sc = load_scenario(path)
        if req.overrides is not None:
            sc, notes = apply_overrides(sc, req.overrides)
            job.notes += notes
        cfg = PlanConfig(paths=req.paths, years=req.years, conversion_years=[1])
        started = pd.Timestamp.now(tz="UTC")

        def progress(done: int, total: int) -> None:
            if self._stop.is_set():
                raise _Cancelled
            job.progress = done / total

        planned = run_plan(sc, cfg, workers=1, progress=progress)
        assumptions = {"paths": cfg.paths, "years": cfg.years, "seed": cfg.seed, "discount_rate_fraction": cfg.discount_rate_fraction}
        summary = {
            "scenario": sc.name,
            "strategies": planned.strategies().reset_index().to_dict(orient="records"),
            "notes": planned.notes,
            "assumptions": assumptions,
        }
        return save_plan(self.db, planned, req.scenario, path.read_text(), input_hash(sc, cfg), started, to_jsonable(summary))
