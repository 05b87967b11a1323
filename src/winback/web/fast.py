"""`KeptAnswers`: the console's most asked reads served again without a worker thread or a database look-up.

The five reads the pages are built from (the overview, segments, a page of members, a campaign report, the
caller's tasks), and those five HTML pages, are GETs without side effects whose answers the answer cache keeps per
version of the data (cache.py). Each route runs in a worker thread; at 50 concurrent clients on two cores the
hops between the event loop and the threads, not the answers, were the cost. So the first 200 answer of such a
request is kept here, per (path and query, session, language, minute of the brand's clock; a page also per CSRF
cookie), and served from the event loop while:
the session is still live in the answer cache's sessions (a logout, a disabled user or an expiry ends it) and the
data has not changed since (the cache's version: any writer job, till round or outcome). Anything else (no
session, a stale or unknown key, an error answer) goes to the route as before, which says 401/403/404 itself.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from winback.web.auth import CSRF_COOKIE, SESSION_COOKIE, lang_of
from winback.web.passwords import unsign

KEPT_PATHS = re.compile(r"^/api/(overview|segments|members|tasks|campaigns/[^/]+/report)$")
#: the HTML pages of the same five reads (what a browser asks for): kept the same way, also per CSRF cookie (a page's
#: forms carry it)
KEPT_PAGES = re.compile(r"^/(overview|segments|members|tasks|campaigns/[^/]+)$")
SIZE = 2048


class KeptAnswers:
    """ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp, size: int = SIZE) -> None:
        self.app, self._size = app, size
        self._kept: OrderedDict[tuple[Any, ...], tuple[int, Message, bytes]] = OrderedDict()
        self._guard = threading.Lock()
        #: (key, version) -> set when its first request has answered: the same requests meanwhile wait for it instead
        #: of each running the route (50 clients released together would otherwise render one page 50 times); only
        #: the event loop touches it
        self._flights: dict[tuple[Any, ...], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not _kept_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        web = scope["app"].state.web
        key = self._key(web, Request(scope))
        version = web.cache.version
        if key is None:
            await self.app(scope, receive, send)
            return
        if await self._served(key, version, send):
            return
        flight = (*key, version)
        self._flights[flight] = asyncio.Event()
        try:
            await self._answer(scope, receive, send, web, key, version)
        finally:
            self._flights.pop(flight).set()

    async def _served(self, key: tuple[Any, ...], version: int, send: Send) -> bool:
        """Answered from what is kept, after waiting for the same request in flight (if any). False: nothing kept and
        none in flight; the caller starts its flight before it next yields to the loop (no other request can start
        the same one meanwhile)."""
        while True:
            with self._guard:
                hit = self._kept.get(key)
            if hit is not None and hit[0] == version:
                await send(hit[1])
                await send({"type": "http.response.body", "body": hit[2]})
                return True
            flight = self._flights.get((*key, version))
            if flight is None:
                return False
            await flight.wait()

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, web: Any, key: tuple[Any, ...], version: int
    ) -> None:
        """Run the route, keeping its 200 answer (unless the data changed meanwhile)."""
        start: list[Message] = []
        body: list[bytes] = []

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.append(message)
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, keep)
        if not start or start[0]["status"] != 200 or web.cache.version != version:
            return
        with self._guard:
            self._kept[key] = (version, start[0], b"".join(body))
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)

    @staticmethod
    def _key(web: Any, request: Request) -> tuple[Any, ...] | None:
        """The key of a request whose session is live in the answer cache's sessions, else None."""
        token = unsign(request.cookies.get(SESSION_COOKIE), web.secret)
        if token is None:
            return None
        now = web.wb.now()
        if web.cache.sessions.peek(token, now) is None:
            return None
        minute = now.replace(second=0, microsecond=0)
        csrf = request.cookies.get(CSRF_COOKIE) if KEPT_PAGES.match(request.url.path) else None
        return (request.url.path, request.url.query, token, lang_of(request), minute, csrf)


def _kept_path(path: str) -> bool:
    return bool(KEPT_PATHS.match(path) or KEPT_PAGES.match(path))
