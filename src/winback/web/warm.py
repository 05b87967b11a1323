"""The answer cache warmed when the server starts and whenever a writer job ends (the data changed): the brand's
overview (and the transitions its page draws), its segments (overall and by store), the head of the members
list and the running campaigns' reports are computed then, once per
version of the data, off the request path, so the first HQ reader after a refresh or an import does not wait while
10M members are read. A request that asks for one of them meanwhile waits for this computation (the cache's single
flight) instead of starting its own; an answer whose data changed meanwhile is not kept (cache.py).

Before that, the page sums (LifecycleService.prepare: what the pages read, summed once per snapshot): a refresh
from the CLI without a server leaves them to the console, so when the server starts, or a job ends, and the
snapshot the pages read has none that are current (`pages_due`), they are summed first, as an ordinary writer job
("prepare", in the jobs list, with its progress); the pages read live meanwhile, and the warm-up follows the job. A
prepare job is never followed by another (whatever it left), so a sum that fails is not retried in a loop."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from winback.i18n import _, using
from winback.web.console import Console
from winback.web.types import User
from winback.web.users_service import Caller, UsersService

if TYPE_CHECKING:
    from winback.web.auth import WebState
    from winback.web.jobs import Job

log = logging.getLogger("winback.web")
WARMER = User("(warm-up)", "hq_admin")
#: who the jobs list says started the server's own jobs
SERVER = "(server)"


def start(web: WebState) -> None:
    """When the server starts: sum the pages first when they are due (the warm-up follows that job), else warm."""
    if not _prepare_if_due(web):
        warm(web)


def after(web: WebState, job: Job) -> None:
    """When a writer job ended: the same, except after the server's own prepare job (warm, whatever it left)."""
    if job.kind == "prepare" or not _prepare_if_due(web):
        warm(web)


def _prepare_if_due(web: WebState) -> bool:
    """Queue the prepare job when the pages' snapshot has no current sums (LifecycleService.pages_due)."""
    wb = web.wb.scoped(web.settings)
    try:
        due = wb.lifecycle.pages_due()
    except Exception:  # a warehouse the pages cannot read either: they will say so themselves
        log.debug("page sums: could not tell whether they are due", exc_info=True)
        return False
    finally:
        wb.close()
    if due is None:
        return False
    web.warmed.clear()
    lang = web.settings.lang
    with using(lang):
        title = _("sum the pages of {as_of}", as_of=due.isoformat())
    work = lambda app, progress: app.lifecycle.prepare(due, progress=progress)  # noqa: E731
    web.jobs.submit("prepare", title, work, username=SERVER, lang=lang)
    return True


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
