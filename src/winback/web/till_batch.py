"""The tills' redemptions, settled together: every redemption asked for while the previous round was being written
joins the next round, and a round is one call of the campaigns room's set-based redemption
(`coupon_service.redeem_attempts`): one transaction holding one read of every attempt's facts, the one rule per
attempt, one conditional UPDATE of the winners and one insert of every attempt's audit entry, then COMMIT. Each
till is answered from its round: its redeemed coupon, or its typed refusal (already redeemed → 409, unknown
order → 404, expired → 400, ...) in its own language; nothing is checked again one by one. A round costs about
what one redemption alone costs (a handful of statements), so 50 tills at once wait for a round or two instead
of queueing behind 49 single redemptions. A round starts as soon as the previous one ends and gathers the tills
queued meanwhile, then those that arrive within its linger of the last one, until it holds MAX_ROUND; an async
route's till awaits an asyncio future its round resolves (`redeem_async`), a worker thread's an event. The linger
is a quarter of the last round's wall, at least LINGER (2 ms), at most MAX_LINGER (10 ms), and a round gathers for
at most the last round's wall (at least 20 ms) in all, twice that once it holds BURST (16) tills: a till that would
otherwise start the next round waits a round's wall for it, so when rounds are slow (a refresh beside them, a large
brand) waiting a little longer for the rest of a burst is the cheaper choice (at a 2M-member brand beside a refresh
the event loop takes 20-50 ms to read a burst of 50); a steady stream is not held back longer than a round costs;
an idle server answers a lone till after 2 ms.

Exactly once: rounds run one after the other on one thread (its own cursor); within a round the rule is applied
in the order the tills came (redeem.decide): a code taken by an earlier till of the round is "already redeemed"
for the later ones (answered 409 in the same round, not one round later), an order carries at most one coupon;
the UPDATE changes a coupon only while it is still free, and the database keeps one coupon per order (the
primary key of `coupon_orders`, migration 027). A write by another job in between is a write-write conflict (or,
for an order, a constraint violation): the round is rolled back and decided again on a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winback.campaigns.coupons import display
from winback.campaigns.redeem import Attempt
from winback.campaigns.types import RedeemResult
from winback.web.store_users import audit_rider

if TYPE_CHECKING:
    import datetime as dt

    from winback.app import Winback
    from winback.campaigns.coupon_service import Settled
    from winback.web.store_tokens import TillToken

log = logging.getLogger("winback.web.tills")
#: a round waits this long for the next till after the last one joined (the event loop is still reading the
#: burst's requests: without it, under a refresh, rounds of 2-3 tills each paid a round's ~9 ms of CPU)
LINGER = 0.002
#: the longest a round lingers for the next till (see the module's docstring), and the share of the last round's
#: wall it lingers; a round gathers for at most the last round's wall in all (at least 2 * MAX_LINGER), a burst (a
#: round that has BURST tills already) for BURST_SHARE times it
MAX_LINGER, LINGER_SHARE, BURST, BURST_SHARE = 0.010, 0.25, 16, 2.0
#: past this many tills a round stops lingering (it still takes every till already queued)
MAX_ROUND = 64


@dataclass
class Ask:
    """One till's redemption: the code (normalised), its order and store, the language of the answer."""

    till: TillToken
    code: str
    order_id: str
    store_id: str
    lang: str
    ip: str | None
    answered: threading.Event = field(default_factory=threading.Event)
    result: RedeemResult | None = None
    error: BaseException | None = None  # the round's typed refusal (or what broke the round)
    future: asyncio.Future[None] | None = None  # an async route's: resolved on its event loop, no thread waits

    def outcome(self) -> RedeemResult:
        """The RedeemResult, or the refusal raised (a WinbackError, typed)."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


class Redeemer:
    """One thread settling the tills' redemptions in rounds, over `wb` (the server's app)."""

    def __init__(self, wb: Winback, on_change: Callable[[], None] | None = None) -> None:
        self.wb, self._on_change = wb, on_change
        self.rounds = self.settled = 0  # how many rounds, how many asks they answered
        self.busy = self.cpu = 0.0  # seconds in rounds: wall, and the rounds thread's CPU
        self.wall = 0.0  # the last round's wall (seconds): how long the next one lingers for more tills
        self._queue: queue.Queue[Ask | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="winback-tills", daemon=True)
        self._thread.start()

    def redeem(self, ask: Ask) -> RedeemResult:
        """Settle `ask` in the next round: its RedeemResult, or its refusal raised (a WinbackError, typed)."""
        self._queue.put(ask)
        ask.answered.wait()
        return ask.outcome()

    async def redeem_async(self, ask: Ask) -> RedeemResult:
        """`redeem` for an async route: the request awaits a future the round resolves (one call onto the event
        loop per round, not a worker thread blocked per waiting till)."""
        ask.future = asyncio.get_running_loop().create_future()
        self._queue.put(ask)
        await ask.future
        return ask.outcome()

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        wb: Winback | None = None
        while (first := self._queue.get()) is not None:  # a round starts the instant its first till arrives
            round_ = self._gather(first)
            wb = wb or self.wb.scoped()
            began, cpu = time.perf_counter(), time.thread_time()
            try:
                self._settle(wb, round_)
            except BaseException as exc:  # a broken round answers its tills with the error; the thread goes on
                log.exception("a round of till redemptions failed")
                for ask in round_:
                    ask.error = exc
            finally:
                _answer(round_)
                self.rounds, self.settled = self.rounds + 1, self.settled + len(round_)
                self.wall = time.perf_counter() - began
                self.busy, self.cpu = self.busy + self.wall, self.cpu + time.thread_time() - cpu
        if wb is not None:
            wb.close()

    def _gather(self, first: Ask) -> list[Ask]:
        """The round of `first`: with everything queued meanwhile, and what comes within the linger of the last one
        (a quarter of the last round's wall, 2-10 ms), for at most the last round's wall in all (at least 20 ms),
        or twice that once it holds a burst (BURST tills): a burst of tills read by a busy event loop is one round,
        its stragglers included, and a steady stream of tills is not held back longer than a round costs."""
        round_ = [first]
        linger = min(MAX_LINGER, max(LINGER, LINGER_SHARE * self.wall))
        began, span = time.monotonic(), max(2 * MAX_LINGER, self.wall)
        while True:
            until = began + (BURST_SHARE * span if len(round_) >= BURST else span)
            left = min(linger, until - time.monotonic()) if len(round_) < MAX_ROUND else 0.0
            try:
                more = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                return round_
            if more is None:  # closing: the round still runs, the loop then stops
                self._queue.put(None)
                return round_
            round_.append(more)

    def _settle(self, wb: Winback, asks: list[Ask]) -> None:
        now = wb.now()
        attempts = [Attempt(a.code, a.order_id, a.store_id, now, now, a.lang) for a in asks]

        def audited(answers: list[Settled]) -> tuple[str, dict[str, Any]]:  # in the round, with its UPDATE
            return audit_rider([_entry(ask, done, now) for ask, done in zip(asks, answers, strict=True)])

        answers = wb.coupons.redeem_attempts(attempts, within=audited)
        for ask, done in zip(asks, answers, strict=True):
            if isinstance(done, RedeemResult):
                ask.result = done
            else:
                ask.error = done
        if any(isinstance(done, RedeemResult) for done in answers) and self._on_change is not None:
            self._on_change()  # reports count redemptions


def _answer(asks: list[Ask]) -> None:
    """Wake each ask's till: a thread's event, or, per event loop, one callback resolving its futures."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for ask in asks:
        if ask.future is None:
            ask.answered.set()
        else:
            by_loop.setdefault(ask.future.get_loop(), []).append(ask.future)
    for loop, futures in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile (the server stopping): nobody waits
            loop.call_soon_threadsafe(_resolve, futures)


def _resolve(futures: list[asyncio.Future[None]]) -> None:
    for f in futures:
        if not f.done():  # a cancelled request (the till hung up) has nobody to answer
            f.set_result(None)


def _entry(ask: Ask, done: Settled, now: dt.datetime) -> dict[str, Any]:
    """The audit entry of a till's redemption (who: `till:<token id>`; what: the code, order, store, and the
    discount or the refusal's type)."""
    detail: dict[str, Any] = {"order_id": ask.order_id, "store_id": ask.store_id, "token_store": ask.till.store_id}
    if isinstance(done, RedeemResult):
        detail.update(ok=True, discount=done.discount)
    else:
        detail.update(ok=False, refused=type(done).__name__)
    return {"at": now, "username": f"till:{ask.till.token_id}", "role": "till", "action": "coupon_redeem",
            "target": display(ask.code), "detail": detail, "ip": ask.ip}  # fmt: skip
