"""Answers computed once per version of the data: the brand overview, a segment summary and a campaign report are
each computed by the first request that needs them and then served to everyone in the same scope until the data
changes (a writer job ends: an import, a refresh, a run, a dispatch, a CLI command; a till round redeems; a guide
records an outcome) or the brand's clock moves to the next minute. Concurrent first requests for the same answer
wait for the one computing it (single flight) instead of computing it fifty times.

Only what a service returns is kept (typed results; the routes render them), in the server's memory, at most
`SIZE` answers (the oldest go first)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
SIZE = 512


class AnswerCache:
    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._version = 0
        self._answers: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()
        self._flights: dict[tuple[int, Hashable], threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def version(self) -> int:
        return self._version

    def changed(self) -> None:
        """The data changed: every answer kept so far is stale."""
        with self._guard:
            self._version += 1
            self._answers.clear()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer for `key` at the current version, computed once (by the first caller; the others wait)."""
        with self._guard:
            full = (self._version, key)
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
                if full[0] == self._version:  # not stale meanwhile
                    self._answers[full] = answer
                    while len(self._answers) > self._size:
                        self._answers.popitem(last=False)
            return answer
