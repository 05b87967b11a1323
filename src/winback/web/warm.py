"""The answer cache warmed when the server starts and whenever a writer job ends (the data changed): the brand's
overview (and the transitions its page draws), its segments (overall and by store), the head of the members
list and the running campaigns' reports are computed then, once per
version of the data, off the request path, so the first HQ reader after a refresh or an import does not wait while
10M members are read. A request that asks for one of them meanwhile waits for this computation (the cache's single
flight) instead of starting its own; an answer whose data changed meanwhile is not kept (cache.py)."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from winback.i18n import using
from winback.web.console import Console
from winback.web.types import User
from winback.web.users_service import Caller, UsersService

if TYPE_CHECKING:
    from winback.web.auth import WebState

log = logging.getLogger("winback.web")
WARMER = User("(warm-up)", "hq_admin")


def warm(web: WebState) -> threading.Thread:
    """Start warming in a thread; `web.warmed` is set when it is done (its seconds in `web.warm_seconds`)."""
    web.warmed.clear()

    def run() -> None:
        started = time.perf_counter()
        wb = web.wb.scoped(web.settings)
        try:
            with using(web.settings.lang):
                con = Console(wb, UsersService(wb), WARMER, Caller(None, "warm-up"), web.cache)
                asks = (con.overview, lambda: con.transitions(con.overview().as_of), con.segments,
                        lambda: con.segments(by="store"), con.members, lambda: _reports(con))  # fmt: skip
                for ask in asks:
                    try:
                        ask()
                    except Exception:  # no snapshot yet, or a bad rule: the request will say so itself
                        log.debug("warm-up: %s failed", ask, exc_info=True)
        finally:
            wb.close()
            web.warm_seconds = time.perf_counter() - started
            web.warmed.set()

    thread = threading.Thread(target=run, name="winback-warm-up", daemon=True)
    thread.start()
    return thread


def _reports(con: Console) -> None:
    """The reports of the running campaigns (their purchases summed by the refresh: only the outreach is summed)."""
    for c in con.campaigns().campaigns:
        if c.status == "running":
            con.report(c.campaign_id)
