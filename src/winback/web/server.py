"""`create_app(wb)`: the FastAPI app of the web console, over one app object that owns the warehouse file, and
`serve(wb, host, port)`, which runs it with uvicorn (what `winback serve` calls).

Errors: every route answers a failure with one JSON shape, `{"error": {"type", "message", "hint"}}` (the pages
render it as a page, and send a 401 to the login page), in the caller's language: 401 not logged in, 403 outside
the role or scope or no CSRF token, 404 not found, 400/422 bad input, 429 throttled, 503 locked, 500 otherwise.
"""

from __future__ import annotations

import gc
import logging
import secrets
import signal
import socket
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from winback.errors import ConfigError, EngineError, InputError, NotFoundError, WarehouseLockedError, WinbackError
from winback.i18n import _, using
from winback.web import store_jobs
from winback.web.auth import WebState, lang_of
from winback.web.cache import OUTREACH
from winback.web.errors import Throttled, WebError
from winback.web.fast import KeptAnswers
from winback.web.jobs import Job, Jobs
from winback.web.render import ResultJSON, error_doc
from winback.web.till_batch import Redeemer
from winback.web.till_fast import TillFastPath

if TYPE_CHECKING:
    from winback.app import Winback

log = logging.getLogger("winback.web")
#: at least this many requests run at once in the sync routes' worker threads (most of them wait: for a till
#: round, a cached answer computed by another request, the warehouse)
WORKER_THREADS = 128
#: seconds a thread holding the GIL runs before it is asked to let another one have it (Python's default: 5 ms).
#: The tills' rounds thread hands the GIL back and forth with the event loop around each DuckDB call; at 5 ms each
#: hand-over a round of three calls waited up to tens of ms for the loop's HTTP work (a round's wall halved at 0.5)
SWITCH_INTERVAL = 0.0005


def create_app(wb: Winback, *, secret: str | None = None, warm: bool = False) -> FastAPI:
    """The console over `wb` (which it opens read-write: the server owns the file while it runs). `secret` signs
    the session cookies (default: the web_secret setting, else a random one per start). `warm`: sum what the
    pages read when they are due (a writer job), and compute the HQ answers, at start and after each writer job, in
    the background (web/warm.py; `winback serve` does)."""
    from winback.web import cli_bridge
    from winback.web import warm as warming
    from winback.web.routes import api, jobs, links, pages, planner, providers, till

    ready = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from anyio import to_thread

        # sync routes run in anyio's worker threads, 40 by default: 50 tills at once would be split into two
        # rounds (the last 10 waiting for a thread while the first 40 wait for their round)
        limiter = to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, WORKER_THREADS)
        if web.warm:
            warming.start(web)  # the pages' sums first when they are due (a writer job), then the answers
        _freeze_heap()
        ready.set()
        try:
            yield
        finally:
            app.state.web.jobs.close()
            app.state.web.redeemer.close()

    app = FastAPI(title="winback", version="1", lifespan=lifespan, docs_url="/docs", redoc_url=None,
                  description="唤醒 winback 控制台 API · the winback console API")  # fmt: skip
    wb.db()  # open read-write now: migrations (users, sessions, audit) applied, the file held by this process
    store_jobs.hold_checkpoints(wb.db())  # the writer checkpoints after its jobs, never a till's commit
    web = app.state.web = WebState(wb, wb.settings, secret or wb.settings.web_secret or secrets.token_urlsafe(32))
    web.warm = warm

    def changed(job: Job) -> None:  # a writer job ended
        web.cache.changed()
        if web.warm:
            warming.after(web, job)

    web.jobs, web.redeemer = Jobs(wb, web.settings_in, changed), Redeemer(wb, lambda: web.cache.changed(OUTREACH))
    app.state.ready = ready
    app.add_middleware(RequestLanguage)
    app.add_middleware(KeptAnswers)  # a kept answer needs nothing below (web/fast.py)
    app.add_middleware(TillFastPath)  # outermost: the usual till needs nothing below (web/till_fast.py)
    app.mount("/static", StaticFiles(packages=[("winback.web", "static")]), name="static")
    app.include_router(api.router)
    app.include_router(planner.api)
    app.include_router(till.router)
    app.include_router(jobs.router)
    app.include_router(links.router)
    app.include_router(providers.router)
    app.include_router(cli_bridge.router)
    app.include_router(pages.router)
    app.include_router(planner.pages)
    _add_error_handlers(app)
    return app


class RequestLanguage:
    """ASGI middleware: the whole request (its route, its errors, their handlers) speaks the request's language
    (?lang=, the lang cookie, else the lang setting), through the catalogue's context variable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with using(lang_of(Request(scope))):
            await self.app(scope, receive, send)


# -- errors ------------------------------------------------------------------------------------------------------
def status_of(exc: WinbackError) -> int:
    if isinstance(exc, WebError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, (InputError, ConfigError)):
        return 400
    if isinstance(exc, WarehouseLockedError):
        return 503
    if isinstance(exc, EngineError) and exc.conflict:
        return 409
    return 500


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/openapi.json", "/docs") or path.startswith("/static/")


def error_response(request: Request, status: int, kind: str, msg: str, hint: str | None) -> Response:
    if not wants_json(request):
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        from winback.web.routes.pages import error_page

        return error_page(request, status, msg, hint)
    return ResultJSON(error_doc(kind, msg, hint), status_code=status)


def _add_error_handlers(app: FastAPI) -> None:
    def winback_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WinbackError)
        resp = error_response(request, status_of(exc), type(exc).__name__, exc.message, exc.hint)
        if isinstance(exc, Throttled):
            resp.headers["Retry-After"] = str(exc.retry_after)
        return resp

    def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            msg = _("no such address: {path}", path=request.url.path)
            return error_response(
                request, 404, "NotFoundError", msg, _("The API is listed at /docs and /openapi.json.")
            )
        return error_response(request, exc.status_code, "HTTPError", str(exc.detail), None)

    def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        msg, hint = _("bad request: {detail}", detail=detail), _("See /docs for the parameters.")
        return error_response(request, 422, "InputError", msg, hint)

    def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(request, 500, "InternalError", f"{type(exc).__name__}: {exc}", None)

    handlers: dict[type[Exception], Callable[[Request, Exception], Response]] = {
        WinbackError: winback_error, HTTPException: http_error, RequestValidationError: validation_error,
        Exception: unexpected,
    }  # fmt: skip
    for kind, fn in handlers.items():
        app.add_exception_handler(kind, fn)


# -- running it ---------------------------------------------------------------------------------------------------
def bind(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one); requests queue on it until the server accepts them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def _freeze_heap() -> None:
    """What the process holds once the app is built (modules, the app, the catalogue: ~90k objects) moved out of
    the collector's sight: a full collection scanned them all (~45-90 ms, with every request and till round of the
    moment waiting behind it, twice in a 5 s burst of tills); it now scans what was made since."""
    gc.collect()
    gc.freeze()


def make_server(app: FastAPI, *, log_level: str = "warning") -> Any:
    import uvicorn

    sys.setswitchinterval(SWITCH_INTERVAL)

    return uvicorn.Server(uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on"))


@contextmanager
def serving(app: FastAPI, host: str = "127.0.0.1", *, log_level: str = "warning") -> Iterator[str]:
    """Serve `app` in a thread on a free loopback port for the block; yields its URL once the server is ready (the
    socket listens before the thread starts, so no request can race the start-up). Tests and benchmarks use it."""
    sock = bind(host, 0)
    server = make_server(app, log_level=log_level)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        if not app.state.ready.wait(30):
            raise RuntimeError("the console did not start within 30 s")
        shown = f"[{host}]" if ":" in host else host
        yield f"http://{shown}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def serve(wb: Winback, *, host: str, port: int, on_ready: Callable[[str], None] | None = None) -> None:
    """Run the console until interrupted; `on_ready(url)` is called once the socket listens. When the CLI has
    registered its runner (web/cli_bridge.py), the server announces itself next to the warehouse for the CLI."""
    from winback.web import announce, cli_bridge

    app = create_app(wb, warm=True)
    sock = bind(host, port)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{sock.getsockname()[1]}"
    if not cli_bridge.has_runner():
        if on_ready is not None:
            on_ready(url)
        make_server(app, log_level="info").run(sockets=[sock])
        return
    token = app.state.web.cli_token = secrets.token_urlsafe(32)
    loopback = f"http://{'[::1]' if ':' in host else '127.0.0.1'}:{sock.getsockname()[1]}"
    if threading.current_thread() is threading.main_thread():
        # uvicorn stops on SIGTERM, then raises it again: exit through Python, so the server file is removed
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    with announce.announced(wb.settings.db_path, loopback if host in ("0.0.0.0", "::") else url, token):
        if on_ready is not None:  # announced first: a command started once this is printed goes to the server
            on_ready(url)
        make_server(app, log_level="info").run(sockets=[sock])
