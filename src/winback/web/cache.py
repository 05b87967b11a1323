"""Answers computed once per version of the data: the brand overview, a segment summary, a page of members, a
campaign report and a guide's task list are each computed by the first request that needs them and then served to
everyone in the same scope until the data they read changes. Concurrent first requests for the same answer wait for
the one computing it (single flight) instead of computing it fifty times.

Two parts of the data move at different speeds, so each answer names the one it reads (`scope`):
- SNAPSHOT (overview, segments, member pages): changes when a writer job ends (an import, a refresh, a run, a
  dispatch, a CLI command through the server);
- OUTREACH (reports, task lists): also when a till round redeems or a guide records an outcome, which happens all
  day and must not throw away the snapshot's answers (at 10M members they take seconds to compute).
`changed()` without a scope: everything (and the sessions, below) is stale.

Only what a service returns is kept (typed results; the routes render them, and the JSON of a kept answer is kept
beside it: `rendered`), in the server's memory, at most `SIZE` answers (the oldest go first).

`Sessions`: the live sessions already looked up (token hash -> session), so a request does not ask the warehouse
who it is; a logout drops its own, and `changed()` (users are disabled or reset through a writer job) drops all;
the expiry is checked on every request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from winback.web.types import Session

T = TypeVar("T")
SIZE = 512
SESSIONS = 10_000
SNAPSHOT, OUTREACH = "snapshot", "outreach"


class Sessions:
    def __init__(self, size: int = SESSIONS) -> None:
        self._size, self._version = size, 0
        self._by_token: OrderedDict[str, Session] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, token: str, now: dt.datetime, lookup: Callable[[], Session | None]) -> Session | None:
        """The live session of `token` (kept, or `lookup()`; an unknown token is never kept)."""
        with self._guard:
            hit, version = self._by_token.get(token), self._version
        if hit is not None and hit.expires_at > now:
            return hit
        found = lookup()
        with self._guard:
            if found is not None and version == self._version:
                self._by_token[token] = found
                while len(self._by_token) > self._size:
                    self._by_token.popitem(last=False)
            elif found is None:
                self._by_token.pop(token, None)
        return found

    def peek(self, token: str, now: dt.datetime) -> Session | None:
        """The kept live session of `token`, never a look-up."""
        with self._guard:
            hit = self._by_token.get(token)
        return hit if hit is not None and hit.expires_at > now else None

    def drop(self, token: str) -> None:
        with self._guard:
            self._version += 1  # a lookup in flight meanwhile keeps nothing
            self._by_token.pop(token, None)

    def clear(self) -> None:
        with self._guard:
            self._version += 1
            self._by_token.clear()


class AnswerCache:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._versions = {SNAPSHOT: 0, OUTREACH: 0}
        self._answers: OrderedDict[tuple[str, int, Hashable], Any] = OrderedDict()
        self._flights: dict[tuple[str, int, Hashable], threading.Lock] = {}
        self._rendered: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()
        self._guard = threading.Lock()
        self.sessions = Sessions()
        self.window_ends: dict[str, dt.datetime] = {}  # campaign -> the end of its response window (console.report)

    @property
    def version(self) -> int:
        return sum(self._versions.values())

    def changed(self, *scopes: str) -> None:
        """The data changed: every answer kept so far in these scopes (default: all, and the sessions) is stale."""
        with self._guard:
            for scope in scopes or tuple(self._versions):
                self._versions[scope] += 1
            stale = [k for k in self._answers if self._versions[k[0]] != k[1]]
            for k in stale:
                del self._answers[k]
            self._rendered.clear()
        if not scopes:
            self.sessions.clear()
            self.window_ends.clear()

    def get(self, key: Hashable, compute: Callable[[], T], scope: str = SNAPSHOT) -> T:
        """The answer for `key` at the current version of `scope`, computed once (by the first caller)."""
        with self._guard:
            full = (scope, self._versions[scope], key)
            if full in self._answers:
                self._answers.move_to_end(full)
                return self._answers[full]  # type: ignore[no-any-return]
            flight = self._flights.setdefault(full, threading.Lock())
        with flight:
            with self._guard:
                if full in self._answers:
                    return self._answers[full]  # type: ignore[no-any-return]
            answer = compute()  # an error is not kept: the next caller tries again
            with self._guard:
                self._flights.pop(full, None)
                if full[1] == self._versions[scope]:  # not stale meanwhile
                    self._answers[full] = answer
                    while len(self._answers) > self._size:
                        self._answers.popitem(last=False)
            return answer

    def rendered(self, answer: Any, render: Callable[[Any], bytes]) -> bytes:
        """`render(answer)` (its JSON bytes), kept beside a kept answer: a request does not render it again. Keyed
        by the object itself (held here, so its id is not reused while kept)."""
        with self._guard:
            hit = self._rendered.get(id(answer))
            if hit is not None and hit[0] is answer:
                self._rendered.move_to_end(id(answer))
                return hit[1]
        body = render(answer)
        with self._guard:
            self._rendered[id(answer)] = (answer, body)
            while len(self._rendered) > self._size:
                self._rendered.popitem(last=False)
        return body
