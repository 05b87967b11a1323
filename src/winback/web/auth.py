"""Sessions, CSRF and the request context: every route goes through `context(request)` (the request's own app over
the server's warehouse: its own DuckDB cursor, its own language) and asks for the session here.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from winback.i18n import _, using
from winback.web.cache import AnswerCache
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


class KeyedLocks:
    """Striped locks for the writes that must not race on the same key (one coupon code, one order, one task):
    requests on different keys run side by side; on the same key one after the other."""

    def __init__(self, stripes: int = 256) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    @contextmanager
    def held(self, *keys: str) -> Iterator[None]:
        stripes = sorted({hash(k) % len(self._locks) for k in keys})  # one order for all: no deadlock
        for i in stripes:
            self._locks[i].acquire()
        try:
            yield
        finally:
            for i in reversed(stripes):
                self._locks[i].release()


@dataclass
class WebState:
    """What the app keeps between requests: the app object that owns the warehouse, its settings, the secret,
    the keyed write locks, the background jobs, the tills' redeemer and the answer cache."""

    wb: Winback
    settings: Settings
    secret: str
    keys: KeyedLocks = field(default_factory=KeyedLocks)
    jobs: Any = None  # web/jobs.py's Jobs: the background writer
    redeemer: Any = None  # web/till_batch.py's Redeemer: the tills' rounds
    cli_token: str | None = None  # the token of the CLI's calls (web/cli_bridge.py), when announced
    cache: AnswerCache = field(default_factory=AnswerCache)  # answers per data version (web/cache.py)
    warm: bool = False  # warm the cache at start and after each writer job (web/warm.py)
    warmed: threading.Event = field(default_factory=threading.Event)
    warm_seconds: float | None = None
    _by_lang: dict[str, Settings] = field(default_factory=dict)

    def settings_in(self, lang: str) -> Settings:
        if lang not in self._by_lang:
            self._by_lang[lang] = self.settings if self.settings.lang == lang else self.settings.with_(lang=lang)
        return self._by_lang[lang]


@dataclass
class RequestState:
    """One request's view: its own app (`wb`, a cursor of the server's warehouse, settings in the request's
    language), the users service over it, and the server's state (`root`)."""

    wb: Winback
    users: UsersService
    root: WebState

    @property
    def settings(self) -> Settings:
        return self.wb.settings

    @property
    def secret(self) -> str:
        return self.root.secret


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
def context(request: Request) -> Iterator[RequestState]:
    """The app for this request: its own cursor on the warehouse (reads never wait for a writer: each
    transaction keeps its snapshot), speaking the request's language (settings and the message catalogue)."""
    root = state_of(request)
    lang = lang_of(request)
    wb = root.wb.scoped(root.settings_in(lang))
    try:
        with using(lang):
            yield RequestState(wb, UsersService(wb), root)
    finally:
        wb.close()


def token_of(st: RequestState, request: Request) -> str | None:
    return unsign(request.cookies.get(SESSION_COOKIE), st.secret)


def session_of(st: RequestState, request: Request) -> Session | None:
    """The caller's live session (looked up once, then kept by the answer cache's sessions until it expires, logs
    out, or a writer job ends)."""
    token = token_of(st, request)
    if not token:
        return None
    return st.root.cache.sessions.get(token, st.wb.now(), lambda: st.users.session(token))


def require_session(st: RequestState, request: Request) -> Session:
    session = session_of(st, request)
    if session is None:
        raise Unauthenticated(_("log in first"), hint=_("POST /api/login, or open /login."))
    return session


def till_of(st: RequestState, request: Request) -> TillToken:
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
        raise Forbidden(
            _("missing or mismatched CSRF token"),
            hint=_(
                "Unsafe requests need the X-CSRF-Token header equal to the csrf_token cookie (GET /api/csrf sets it)."
            ),
        )


def console_for(st: RequestState, request: Request, *, csrf: bool = True) -> Console:
    """The logged-in caller's console (401 without a session; unsafe requests also pass the CSRF check)."""
    session = require_session(st, request)
    if csrf:
        check_csrf(request, session)
    return Console(st.wb, st.users, session.user, caller_of(request), st.root.cache)


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
