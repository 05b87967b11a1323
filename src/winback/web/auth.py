"""Sessions, CSRF and the request context: every route goes through `locked(request)` (one warehouse connection,
one request at a time on it) and asks for the session here.

- The session cookie (`winback_session`) is HttpOnly, SameSite=Lax, Secure under https, and signed with the web
  secret (HMAC); the sessions table keeps only a hash of the token.
- CSRF, double submit: every unsafe request (POST, PUT, PATCH, DELETE) carries the `X-CSRF-Token` header (or a
  form field `csrf_token`) equal to the `csrf_token` cookie, and, once logged in, to the token bound to the session.
  `GET /api/csrf` (and the login page) set a fresh cookie for the login itself.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from winback.web.console import Console
from winback.web.errors import Forbidden, Unauthenticated
from winback.web.labels import LANGS
from winback.web.passwords import new_token, sign, unsign
from winback.web.users_service import Caller, UsersService

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.config import Settings
    from winback.web.store_tokens import TillToken
    from winback.web.types import Login, Session

SESSION_COOKIE = "winback_session"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class WebState:
    """What the app keeps between requests: the app object, its settings, the secret and the one lock."""

    wb: Winback
    users: UsersService
    settings: Settings
    secret: str
    lock: threading.RLock


def state_of(request: Request) -> WebState:
    return request.app.state.web  # type: ignore[no-any-return]


def lang_of(request: Request) -> str:
    """?lang= first, then the lang cookie, then the lang setting."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value
    return state_of(request).settings.lang


def caller_of(request: Request) -> Caller:
    return Caller(request.client.host if request.client else None, request.headers.get("user-agent"))


@contextmanager
def locked(request: Request) -> Iterator[WebState]:
    """The app object for this request, alone on the warehouse connection, speaking the request's language."""
    st = state_of(request)
    with st.lock:
        lang = lang_of(request)
        if st.wb.settings.lang != lang:
            st.wb.settings = st.settings.with_(lang=lang)
        yield st


def token_of(st: WebState, request: Request) -> str | None:
    return unsign(request.cookies.get(SESSION_COOKIE), st.secret)


def session_of(st: WebState, request: Request) -> Session | None:
    return st.users.session(token_of(st, request))


def require_session(st: WebState, request: Request) -> Session:
    session = session_of(st, request)
    if session is None:
        raise Unauthenticated("unauthenticated")
    return session


def till_of(st: WebState, request: Request) -> TillToken:
    """A till's request: its bearer token (`Authorization: Bearer …`), never a cookie, so no CSRF check (a page
    of another site cannot make a browser send this header). 401 without a live token."""
    from winback.web.tokens_service import TokensService

    return TokensService(st.wb).till(request.headers.get("authorization"))


def check_csrf(request: Request, session: Session | None, form_token: str | None = None) -> None:
    """Refuse an unsafe request whose header (or form field) is missing or differs from the cookie (and, logged
    in, from the session's token)."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get(CSRF_HEADER) or form_token or ""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    ok = bool(sent) and hmac.compare_digest(sent, cookie)
    if ok and session is not None:
        ok = hmac.compare_digest(sent, session.csrf_token)
    if not ok:
        raise Forbidden("csrf")


def console_for(st: WebState, request: Request, *, csrf: bool = True) -> Console:
    """The logged-in caller's console (401 without a session; unsafe requests also pass the CSRF check)."""
    session = require_session(st, request)
    if csrf:
        check_csrf(request, session)
    return Console(st.wb, st.users, session.user, caller_of(request))


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_login_cookies(response: Response, request: Request, login: Login, secret: str) -> None:
    # a browser-session cookie: the server enforces the session's expiry (SESSION_HOURS)
    response.set_cookie(SESSION_COOKIE, sign(login.token, secret), httponly=True, samesite="lax",
                        secure=secure(request), path="/")  # fmt: skip
    set_csrf_cookie(response, request, login.csrf_token)


def set_csrf_cookie(response: Response, request: Request, token: str | None = None) -> str:
    """A csrf_token cookie (readable by the page's script, SameSite=Strict); returns its value."""
    token = token or new_token()
    response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="strict", secure=secure(request), path="/")
    return token


def clear_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
