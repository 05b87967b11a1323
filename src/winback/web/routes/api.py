"""The JSON API (GET /openapi.json describes it). Each route: the request's context (`context`: its own cursor on the
warehouse, its language), the caller's console (401 / 403 / CSRF there), one console call, the typed result as JSON."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Query
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from winback.web import schemas as s
from winback.web.auth import (
    caller_of,
    check_csrf,
    clear_cookies,
    console_for,
    context,
    require_session,
    session_of,
    set_csrf_cookie,
    set_login_cookies,
    token_of,
)
from winback.web.passwords import new_token
from winback.web.render import CachedJSON, ResultJSON

router = APIRouter(prefix="/api", tags=["api"])
#: the largest page offset (a bigger one is a 422, never a database overflow)
MAX_OFFSET = 1_000_000_000
_THROTTLED = {429: {"model": s.ErrorOut, "description": "too many failed logins / 登录失败过多"}}


@router.get("/csrf", response_model=s.CsrfOut)
def csrf(request: Request) -> Response:
    """A fresh CSRF token, also set as the csrf_token cookie (send it back as X-CSRF-Token to log in)."""
    with context(request) as st:
        session = session_of(st, request)
    token = session.csrf_token if session is not None else new_token()  # logged in: the session's own token
    resp = ResultJSON({"csrf_token": token})
    set_csrf_cookie(resp, request, token)
    return resp


@router.post("/login", response_model=s.LoginOut, responses={**s.ERRORS, **_THROTTLED})
def login(body: s.LoginIn, request: Request) -> Response:
    """Log in with a user name and password: sets the session cookie and a new CSRF token."""
    check_csrf(request, None)
    caller = caller_of(request)
    with context(request) as st, st.root.keys.held(f"login:{body.username}", f"ip:{caller.ip}"):
        result = st.users.login(body.username, body.password, caller)  # one at a time per name and address
    resp = ResultJSON(result)
    set_login_cookies(resp, request, result, st.secret)
    return resp


@router.post("/logout", response_model=s.OkOut, responses=s.ERRORS)
def logout(request: Request) -> Response:
    with context(request) as st:
        session = require_session(st, request)
        check_csrf(request, session)
        token = token_of(st, request)
        assert token is not None
        st.users.logout(token, session.user, caller_of(request))
        st.root.cache.sessions.drop(token)
    resp = ResultJSON({"ok": True})
    clear_cookies(resp)
    return resp


@router.get("/me", response_model=s.UserOut, responses=s.ERRORS)
def me(request: Request) -> Response:
    with context(request) as st:
        return ResultJSON(require_session(st, request).user)


@router.get("/overview", response_model=s.OverviewOut, responses=s.ERRORS)
def overview(request: Request) -> Response:
    """The brand at a glance (HQ roles)."""
    with context(request) as st:
        return CachedJSON(console_for(st, request).overview(), st.root.cache)


@router.get("/segments", response_model=s.SegmentsOut, responses=s.ERRORS)
def segments(request: Request, scheme: str = "seed_cn", by: str | None = None) -> Response:
    """Members per segment; a store manager gets his stores, a guide her own members."""
    with context(request) as st:
        return CachedJSON(console_for(st, request).segments(scheme=scheme, by=by or None), st.root.cache)


@router.get("/members", response_model=s.MembersOut, responses=s.ERRORS)
def members(
    request: Request,
    segment: str | None = None,
    store: str | None = None,
    scheme: str = "seed_cn",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Response:
    """A page of members in the caller's scope, most valuable first (phones masked)."""
    with context(request) as st:
        con = console_for(st, request)
        return CachedJSON(
            con.members(scheme=scheme, segment=segment, store=store, limit=limit, offset=offset), st.root.cache
        )


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_EXPORTED = {"description": "an XLSX or CSV file (phones masked)", "content": {
    _XLSX: {"schema": {"type": "string", "format": "binary"}}, "text/csv": {"schema": {"type": "string"}}}}  # fmt: skip


@router.get("/members/export", response_class=FileResponse, responses={**s.ERRORS, 200: _EXPORTED})
def export_members(
    request: Request, segment: str | None = None, store: str | None = None, scheme: str = "seed_cn",
    format: str = "xlsx",
) -> Response:  # fmt: skip
    """The members of a segment (and store) as a file, phones masked; written to the audit log."""
    folder = Path(tempfile.mkdtemp(prefix="winback-export-"))
    try:
        with context(request) as st:
            done = console_for(st, request).export_members(folder, scheme=scheme, segment=segment, store=store,
                                                            fmt=format)  # fmt: skip
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(done.path, filename=done.filename, background=BackgroundTask(shutil.rmtree, folder, True))


@router.get("/members/{member_id}", response_model=s.MemberOut, responses=s.ERRORS)
def member(member_id: str, request: Request) -> Response:
    """One member: every number and the rule behind it (403 outside the caller's scope)."""
    with context(request) as st:
        return ResultJSON(console_for(st, request).member(member_id))


@router.post("/members/{member_id}/phone", response_model=s.PhoneOut, responses=s.ERRORS)
def reveal_phone(member_id: str, request: Request) -> Response:
    """The member's full phone number (logged in the audit log; never for an analyst)."""
    with context(request) as st:
        return ResultJSON(console_for(st, request).reveal_phone(member_id))


@router.get("/campaigns", response_model=s.CampaignsOut, responses=s.ERRORS)
def campaigns(request: Request) -> Response:
    with context(request) as st:
        return ResultJSON(console_for(st, request).campaigns())


@router.get("/campaigns/{campaign_id}/report", response_model=s.ReportOut, responses=s.ERRORS)
def report(campaign_id: str, request: Request) -> Response:
    """Per arm: responders, revenue, incremental vs control with intervals, the winner rule."""
    with context(request) as st:
        return CachedJSON(console_for(st, request).report(campaign_id), st.root.cache)


@router.get("/tasks", response_model=s.TasksOut, responses=s.ERRORS)
def tasks(request: Request, status: str | None = None, limit: int = Query(200, ge=1, le=500)) -> Response:
    """The caller's own guide tasks (a store manager: his stores'), by priority."""
    with context(request) as st:
        return CachedJSON(console_for(st, request).tasks(status=status, limit=limit), st.root.cache)


@router.post("/tasks/{task_id}/outcome", response_model=s.OutcomeOut, responses=s.ERRORS)
def task_outcome(task_id: str, body: s.OutcomeIn, request: Request) -> Response:
    """Record one outcome (contacted, invited, visited, purchased, unreachable, declined); a retry is harmless."""
    with context(request) as st, st.root.keys.held(f"task:{task_id}"):
        return ResultJSON(console_for(st, request).record_outcome(task_id, body.outcome, body.note))
