"""Background jobs from the web (HQ admins): `POST /api/jobs/import` (an uploaded file), `/refresh`, `/run`,
`/dispatch` answer 202 with the queued job at once; `GET /api/jobs` and `GET /api/jobs/{id}` (`?wait=SECONDS`
blocks until it ends, at most 30 s) show its progress and then its result or error. One job runs at a time
(web/jobs.py); the pages and the tills are answered meanwhile."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from winback.i18n import _
from winback.web import schemas as s
from winback.web.auth import RequestState, console_for, context, state_of
from winback.web.errors import Forbidden, NotFoundError
from winback.web.jobs import Job, Jobs
from winback.web.render import ResultJSON

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
MAX_WAIT = 30.0
_UPLOAD_CHUNK = 1 << 20


class ProgressOut(BaseModel):
    stage: str
    done: int | None
    total: int | None


class JobOut(BaseModel):
    job_id: str
    kind: str
    title: str
    username: str
    state: str = Field(description="queued, running, done or failed")
    progress: ProgressOut
    result: dict[str, Any] | None = Field(description="the service's result (the CLI's --json) once done")
    error: s.ErrorBody | None
    created_at: str
    started_at: str | None
    finished_at: str | None


class JobsOut(BaseModel):
    jobs: list[JobOut]


class RefreshIn(BaseModel):
    as_of: dt.date | None = None


class RunIn(BaseModel):
    day: dt.date | None = None


class DispatchIn(BaseModel):
    channel: str | None = Field(None, max_length=64)
    campaign_id: str | None = Field(None, max_length=64)
    limit: int | None = Field(None, ge=0)


def jobs_of(request: Request) -> Jobs:
    jobs = state_of(request).jobs
    assert jobs is not None, "create_app starts the jobs"
    return jobs  # type: ignore[no-any-return]


def _admin(st: RequestState, request: Request) -> str:
    """The caller's name, once she is an HQ admin (401 / CSRF / 403 otherwise)."""
    user = console_for(st, request).user
    if user.role != "hq_admin":
        raise Forbidden(
            _("your role ({role}) may not {what}", role=user.role, what=_("start batch jobs")),
            hint=_("Ask an HQ admin to change your role."),
        )
    return user.username


def _accepted(job: Job) -> Response:
    return ResultJSON(job.to_dict(), status_code=202, headers={"Location": f"/api/jobs/{job.job_id}"})


_STARTED = {**s.ERRORS, 202: {"model": JobOut, "description": "the job, queued / 已排队的任务"}}


@router.post("/refresh", status_code=202, response_model=JobOut, responses=_STARTED)
def start_refresh(body: RefreshIn, request: Request) -> Response:
    """Rebuild the lifecycle snapshot (default as-of: the day after the last order)."""
    with context(request) as st:
        who = _admin(st, request)
        lang = st.settings.lang
        title = _("refresh {as_of}", as_of=body.as_of.isoformat() if body.as_of else _("latest"))

    def work(wb: Any, progress: Any) -> Any:  # the console is here: sum what its pages read (lifecycle.prepare)
        return wb.lifecycle.refresh(body.as_of, progress=progress, prepare=True)

    return _accepted(jobs_of(request).submit("refresh", title, work, username=who, lang=lang))


@router.post("/run", status_code=202, response_model=JobOut, responses=_STARTED)
def start_run(body: RunIn, request: Request) -> Response:
    """The day's work (`winback run`): refresh, the journeys' campaigns, their tasks and touches."""
    with context(request) as st:
        who = _admin(st, request)
        lang = st.settings.lang
        title = _("daily run {day}", day=body.day.isoformat() if body.day else _("today"))
    work = lambda wb, progress: wb.journeys.run(body.day, prepare=True)  # noqa: E731
    return _accepted(jobs_of(request).submit("run", title, work, username=who, lang=lang))


@router.post("/dispatch", status_code=202, response_model=JobOut, responses=_STARTED)
def start_dispatch(body: DispatchIn, request: Request) -> Response:
    """Send what is due on the channels (`winback dispatch`)."""
    with context(request) as st:
        who = _admin(st, request)
        lang = st.settings.lang
        title = _("dispatch {channel}", channel=body.channel or _("all channels"))

    def work(wb: Any, progress: Any) -> Any:
        return wb.outreach.dispatch(channel=body.channel, campaign_id=body.campaign_id, limit=body.limit)

    return _accepted(jobs_of(request).submit("dispatch", title, work, username=who, lang=lang))


@router.post("/import", status_code=202, response_model=JobOut, responses=_STARTED)
def start_import(request: Request, kind: str = Form(..., max_length=32), file: UploadFile = File(...)) -> Response:
    """Import an uploaded export file (members, orders, order_items, stores, staff, events; CSV or Excel) as a
    background job: the upload is saved first, then read, checked and written with progress."""
    with context(request) as st:
        who = _admin(st, request)
        lang = st.settings.lang
        title = _("import {kind} {file}", kind=kind, file=Path(file.filename or "").name or "upload.csv")
    folder = Path(tempfile.mkdtemp(prefix="winback-upload-"))
    name = Path(file.filename or "upload.csv").name or "upload.csv"
    path = folder / name
    try:
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, _UPLOAD_CHUNK)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise

    def work(wb: Any, progress: Any) -> Any:
        try:
            return wb.ingest.import_file(kind, path, progress=progress)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    return _accepted(jobs_of(request).submit("import", title, work, username=who, lang=lang))


@router.get("", response_model=JobsOut, responses=s.ERRORS)
def list_jobs(request: Request) -> Response:
    """The latest jobs (an HQ admin: everyone's; others: their own)."""
    with context(request) as st:
        user = console_for(st, request).user
    return ResultJSON(jobs_of(request).list(username=None if user.role == "hq_admin" else user.username))


@router.get("/{job_id}", response_model=JobOut, responses=s.ERRORS)
def get_job(job_id: str, request: Request, wait: float = Query(0.0, ge=0.0, le=MAX_WAIT)) -> Response:
    """One job; `wait` seconds: answer as soon as it ends, or then as it is."""
    with context(request) as st:
        user = console_for(st, request).user
    job = jobs_of(request).get(job_id)
    if job is None or (user.role != "hq_admin" and job.username != user.username):
        raise NotFoundError(
            _("no job {job_id}", job_id=job_id), hint=_("GET /api/jobs lists the latest background jobs.")
        )
    if wait:
        job.finished.wait(wait)
    return ResultJSON(job.to_dict())
