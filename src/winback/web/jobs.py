"""The server's background jobs: the batch work (an import, a refresh, the daily `run`, a dispatch, a command sent by
the CLI, the page sums the server makes itself: web/warm.py) runs on one writer thread, one job at a time, each on
its own cursor of the warehouse, while the pages and the tills keep being answered on theirs (DuckDB's MVCC: a
reader sees the last committed state, never waits).

A job is asked for, queued, run, and kept (the last `KEEP` of them) with its progress (a stage and, when known,
rows done of rows total), its result (the service's `to_dict()`, the CLI's `--json`) or its error (the one error
shape). `GET /api/jobs/{id}` answers it; a client polls, or waits with `?wait=SECONDS` (no sleep: an event).
Jobs live in the server's memory: a restart forgets them (the writes they made are in the warehouse).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import os
import queue
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winback.common.results import Result, plain
from winback.errors import WinbackError
from winback.i18n import using
from winback.web.store_jobs import checkpoint_if_due, threads_at_most

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.config import Settings

log = logging.getLogger("winback.web.jobs")
KEEP = 200
#: DuckDB's threads while a job runs: one core left to the pages and the tills (a refresh beside 50 tills: p99
#: of the tills' waves 241 -> 138 ms on 2 cores with one thread for DuckDB, the lead's measurement)
JOB_THREADS = max(1, (os.cpu_count() or 2) - 1)
#: the writer thread's niceness (Linux; 0 elsewhere): while a job and a till round both want a core, the scheduler
#: gives the round and the pages nearly all of it (CFS weights 15 : 1024), and a job still takes every idle cycle
JOB_NICE = 19
#: the kinds of work a job may be
KINDS = ("import", "refresh", "run", "dispatch", "cli", "prepare")


@dataclass
class Progress:
    stage: str = ""
    done: int | None = None
    total: int | None = None


@dataclass
class Job:
    job_id: str
    kind: str
    title: str
    username: str
    lang: str
    state: str = "queued"  # queued, running, done, failed
    progress: Progress = field(default_factory=Progress)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: dt.datetime = field(default_factory=dt.datetime.now)
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id, "kind": self.kind, "title": self.title, "username": self.username,
            "state": self.state, "progress": vars(self.progress).copy(), "result": self.result, "error": self.error,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "started_at": self.started_at.isoformat(timespec="seconds") if self.started_at else None,
            "finished_at": self.finished_at.isoformat(timespec="seconds") if self.finished_at else None,
        }  # fmt: skip


#: what a job runs: (its own app, a progress callback) -> a typed result (or a plain dict)
Work = Callable[["Winback", Callable[..., None]], Any]


@dataclass(frozen=True)
class JobList(Result):
    jobs: list[dict[str, Any]]


class Jobs:
    """One writer thread over `wb` (the server's app); `settings_in(lang)` gives the settings of a language;
    `on_done(job)` is called after each job."""

    def __init__(
        self, wb: Winback, settings_in: Callable[[str], Settings], on_done: Callable[[Job], None] | None = None
    ) -> None:
        self.wb, self._settings_in, self._on_done = wb, settings_in, on_done
        self._queue: queue.Queue[tuple[Job, Work] | None] = queue.Queue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._ids = itertools.count(1)
        self._guard = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="winback-writer", daemon=True)
        self._thread.start()

    def submit(self, kind: str, title: str, work: Work, *, username: str, lang: str) -> Job:
        with self._guard:
            job = Job(f"J{next(self._ids):05d}", kind, title, username, lang)
            self._jobs[job.job_id] = job
            while len(self._jobs) > KEEP:
                self._jobs.popitem(last=False)
        self._queue.put((job, work))
        return job

    def get(self, job_id: str) -> Job | None:
        with self._guard:
            return self._jobs.get(job_id)

    def list(self, *, username: str | None = None) -> JobList:
        with self._guard:
            jobs = [j for j in reversed(self._jobs.values()) if username is None or j.username == username]
        return JobList([j.to_dict() for j in jobs])

    def busy(self) -> bool:
        with self._guard:
            return any(j.state in ("queued", "running") for j in self._jobs.values())

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    # -- the writer ------------------------------------------------------------------------------------------------
    def _loop(self) -> None:
        _lower_priority(JOB_NICE)
        while (item := self._queue.get()) is not None:
            job, work = item
            try:
                self._run(job, work)
            finally:
                if self._on_done is not None:
                    self._on_done(job)  # the data may have changed (the answer cache starts over)
                job.finished.set()

    def _run(self, job: Job, work: Work) -> None:
        job.state, job.started_at = "running", dt.datetime.now()

        def progress(stage: str, done: int | None = None, total: int | None = None) -> None:
            job.progress = Progress(str(stage), done, total)

        wb = self.wb.scoped(self._settings_in(job.lang))
        try:
            with using(job.lang), threads_at_most(wb.db(), JOB_THREADS):
                out = work(wb, progress)
            job.result = plain(out)
            job.state = "done"
        except WinbackError as exc:
            job.error = {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}
            job.state = "failed"
        except Exception as exc:  # a bug: kept on the job (and logged) so the server goes on
            log.exception("job %s (%s) failed", job.job_id, job.kind)
            job.error = {"type": "InternalError", "message": f"{type(exc).__name__}: {exc}", "hint": None}
            job.state = "failed"
        finally:
            try:
                checkpoint_if_due(wb.db(), wb.settings.db_path)
            except Exception:  # the warehouse broke under the job: the job says so; the next one checkpoints
                log.exception("no checkpoint after job %s", job.job_id)
            wb.close()
            job.finished_at = dt.datetime.now()


def _lower_priority(nice: int) -> None:
    """This thread's niceness raised by `nice` (on Linux a thread's own; elsewhere, or when refused, nothing)."""
    if not sys.platform.startswith("linux"):  # a thread's own niceness is Linux's
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except OSError:  # a sandbox that forbids it: the jobs run at the server's priority
        log.debug("the writer thread's priority could not be lowered")
