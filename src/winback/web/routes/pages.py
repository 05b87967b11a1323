"""The console's pages: server-rendered Jinja2, zh by default with an en switch (?lang=en, kept in a cookie), one
column on a phone. Every page asks the caller's console (the row-level rules live there, not here)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from winback.web.auth import (
    CSRF_COOKIE,
    LANG_COOKIE,
    caller_of,
    check_csrf,
    clear_cookies,
    console_for,
    context,
    lang_of,
    require_session,
    session_of,
    set_csrf_cookie,
    set_login_cookies,
    token_of,
)
from winback.web.errors import Throttled, Unauthenticated
from winback.web.labels import LANGS, label
from winback.web.passwords import new_token
from winback.web.render import plain_json
from winback.web.routes.api import MAX_OFFSET
from winback.web.types import User

router = APIRouter(include_in_schema=False)
OUTCOMES = ("contacted", "invited", "visited", "purchased", "unreachable", "declined")
_ENV = Environment(loader=PackageLoader("winback.web", "templates"), autoescape=select_autoescape(),
                   undefined=StrictUndefined)  # fmt: skip
templates = Jinja2Templates(env=_ENV)


def render(request: Request, name: str, user: User | None, status: int = 200, **ctx: Any) -> Response:
    lang = lang_of(request)

    def t(key: str) -> str:
        return label(key, lang)

    other = LANGS[1 - LANGS.index(lang)]
    ctx |= {"t": t, "lang": lang, "other_lang": other, "user": user, "path": request.url.path,
            "csrf": request.cookies.get(CSRF_COOKIE, ""), "tojson": _tojson, "n": _num, "pct": _pct}  # fmt: skip
    resp = templates.TemplateResponse(request, name, ctx, status_code=status)
    if request.query_params.get("lang") in LANGS:
        resp.set_cookie(LANG_COOKIE, lang, samesite="lax", path="/")
    return resp


def _num(value: Any, digits: int = 0) -> str:
    """A number for people (12,345 / 0.42), "—" for none (NaN included)."""
    if value is None or (isinstance(value, float) and value != value):
        return "—"
    return f"{value:,.{digits}f}"


def _pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * value:.{digits}f}%"


def _tojson(value: Any) -> str:
    return json.dumps(plain_json(value), ensure_ascii=False)


def error_page(request: Request, status: int, msg: str, hint: str | None) -> Response:
    return render(request, "error.html", None, status, status_code=status, message=msg, hint=hint)


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


# -- logging in and out ------------------------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    with context(request) as st:
        session = session_of(st, request)
    token = session.csrf_token if session is not None else new_token()  # opening it again keeps a session working
    return login_form(request, 200, token, next, None)


def login_form(request: Request, status: int, token: str, next_url: str, error: str | None) -> Response:
    """The login page with `token` both in its form and in the csrf_token cookie (the two must match)."""
    page = render(request, "login.html", None, status, next=_safe_next(next_url), form_token=token, error=error)
    set_csrf_cookie(page, request, token)
    return page


@router.post("/login")
def login_submit(
    request: Request, username: str = Form(""), password: str = Form(""), csrf_token: str = Form(""),
    next: str = Form("/"),
) -> Response:  # fmt: skip
    check_csrf(request, None, csrf_token)
    try:
        caller = caller_of(request)
        with context(request) as st, st.root.keys.held(f"login:{username}", f"ip:{caller.ip}"):
            result = st.users.login(username, password, caller)
    except (Unauthenticated, Throttled) as exc:
        return login_form(request, exc.status, csrf_token, next, exc.message)
    resp = RedirectResponse(_safe_next(next), status_code=303)
    set_login_cookies(resp, request, result, st.secret)
    return resp


@router.post("/logout")
def logout_submit(request: Request, csrf_token: str = Form("")) -> Response:
    with context(request) as st:
        session = session_of(st, request)
        token = token_of(st, request)
        if session is not None and token is not None:
            check_csrf(request, session, csrf_token)
            st.users.logout(token, session.user, caller_of(request))
            st.root.cache.sessions.drop(token)
    resp = RedirectResponse("/login", status_code=303)
    clear_cookies(resp)
    return resp


# -- the pages ---------------------------------------------------------------------------------------------------------
@router.get("/")
def home(request: Request) -> Response:
    with context(request) as st:
        session = session_of(st, request)
    if session is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/overview" if session.user.sees_brand else "/tasks", status_code=303)


@router.get("/overview")
def overview_page(request: Request) -> Response:
    with context(request) as st:
        con = console_for(st, request)
        ov = con.overview()
        moves = con.transitions(ov.as_of)
    d = ov.to_dict()
    lang = lang_of(request)
    chart = {"x": [s[lang] for s in d["segments"]["seed_cn"]], "y": [s["members"] for s in d["segments"]["seed_cn"]]}
    return render(
        request, "overview.html", con.user, ov=d, chart=chart, sankey=sankey(moves.to_dict()) if moves else None
    )


def sankey(t: dict[str, Any]) -> dict[str, Any]:
    """Plotly Sankey data from a transitions result: earlier segments on the left, later on the right."""
    left = list(dict.fromkeys(m["from_label"] for m in t["moves"]))
    right = list(dict.fromkeys(m["to_label"] for m in t["moves"]))
    return {
        "labels": left + right,
        "source": [left.index(m["from_label"]) for m in t["moves"]],
        "target": [len(left) + right.index(m["to_label"]) for m in t["moves"]],
        "value": [m["members"] for m in t["moves"]],
        "title": f"{t['from']} → {t['to']}",
    }


@router.get("/segments")
def segments_page(request: Request, scheme: str = "seed_cn", by: str = "") -> Response:
    with context(request) as st:
        con = console_for(st, request)
        summary = con.segments(scheme=scheme, by=by or None)
    return render(request, "segments.html", con.user, summary=summary.to_dict(), scheme=scheme, by=by)


@router.get("/members")
def members_page(request: Request, segment: str = "", store: str = "", scheme: str = "seed_cn",
                 offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> Response:  # fmt: skip
    with context(request) as st:
        con = console_for(st, request)
        page = con.members(scheme=scheme, segment=segment or None, store=store or None, limit=50, offset=offset)
    query = f"scheme={quote(scheme)}&segment={quote(segment)}&store={quote(store)}"
    return render(request, "members.html", con.user, page=page.to_dict(), query=query, segment=segment, store=store)


@router.get("/members/{member_id}")
def member_page(member_id: str, request: Request) -> Response:
    with context(request) as st:
        con = console_for(st, request)
        detail = con.member(member_id)
    return render(request, "member.html", con.user, m=detail.to_dict())


@router.get("/campaigns")
def campaigns_page(request: Request) -> Response:
    with context(request) as st:
        con = console_for(st, request)
        found = con.campaigns()
    return render(request, "campaigns.html", con.user, campaigns=found.to_dict()["campaigns"])


@router.get("/campaigns/{campaign_id}")
def report_page(campaign_id: str, request: Request) -> Response:
    with context(request) as st:
        con = console_for(st, request)
        rep = con.report(campaign_id)
    r = plain_json(rep)
    arms = list(r["versus_control"])
    chart = {"arms": arms, "mid": [r["versus_control"][a].get("incremental_revenue") for a in arms],
             "ci": [r["versus_control"][a].get("incremental_revenue_ci") for a in arms]}  # fmt: skip
    return render(request, "report.html", con.user, r=r, chart=chart)


@router.get("/tasks")
def tasks_page(request: Request, status: str = "") -> Response:
    with context(request) as st:
        con = console_for(st, request)
        found = con.tasks(status=status or None)
    return render(request, "tasks.html", con.user, tasks=plain_json(found), outcomes=OUTCOMES)


@router.post("/tasks/{task_id}/outcome")
def task_outcome_submit(
    task_id: str, request: Request, outcome: str = Form(...), note: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """The form without JavaScript: record, then back to the list (post / redirect / get)."""
    with context(request) as st, st.root.keys.held(f"task:{task_id}"):
        session = require_session(st, request)
        check_csrf(request, session, csrf_token)
        console_for(st, request, csrf=False).record_outcome(task_id, outcome, note)
    return RedirectResponse("/tasks", status_code=303)


@router.get("/assets/plotly.min.js")
def plotly_asset() -> Response:
    """Plotly from the plotly wheel (cached by the browser for a day)."""
    js = resources.files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()
    return Response(js, media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})
