"""The tills' redemptions, settled together: every redemption asked for while the previous round was being written
joins the next round, and a round is one call of the campaigns room's batch redemption (`wb.coupons.redeem_batch`:
the rule of a single redemption applied item by item, then one conditional UPDATE in one transaction), then one
audit insert. A round costs about what one redemption alone costs (a handful of statements), so 50 tills at once
wait for a round or two instead of queueing behind 49 single redemptions.

Exactly once: rounds run one after the other on one thread (its own cursor), a code appears at most once in a
round (a second attempt waits for the next round), an order carries at most one coupon (the batch rule), and the
UPDATE changes a coupon only while it is still free (a write by another process or job in between is a conflict:
the round is decided again on a fresh snapshot). A till whose code the round refused is answered by the single
redemption on its own request's cursor (`TokensService.redeem`, reads only, in parallel): the same refusal, typed
(already redeemed → 409, expired → 400, ...), in the till's language and audited as before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winback.campaigns.coupons import display
from winback.campaigns.types import RedeemResult
from winback.errors import EngineError
from winback.web import store_tokens
from winback.web.store_users import audit_many

if TYPE_CHECKING:
    import datetime as dt

    from winback.app import Winback
    from winback.web.store_tokens import TillToken

log = logging.getLogger("winback.web.tills")
#: a round decided again this many times at most when another writer changed the same coupons meanwhile
RETRIES = 3


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
    refused: bool = False  # the round refused it: the request asks the single redemption why
    error: BaseException | None = None


class Redeemer:
    """One thread settling the tills' redemptions in rounds, over `wb` (the server's app)."""

    def __init__(self, wb: Winback, on_change: Callable[[], None] | None = None) -> None:
        self.wb, self._on_change = wb, on_change
        self._queue: queue.Queue[Ask | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="winback-tills", daemon=True)
        self._thread.start()

    def redeem(self, ask: Ask) -> RedeemResult | None:
        """Settle `ask` in the next round: its RedeemResult, or None when the round refused it."""
        self._queue.put(ask)
        ask.answered.wait()
        if ask.error is not None:
            raise ask.error
        return ask.result

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        wb: Winback | None = None
        waiting: list[Ask] = []
        while True:
            if not waiting:
                first = self._queue.get()
                if first is None:
                    break
                waiting.append(first)
            while True:  # everything that came in meanwhile joins this round
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                waiting.append(more)
            wb = wb or self.wb.scoped()
            round_, waiting = _one_per_code(waiting)
            try:
                self._settle(wb, round_)
            except BaseException as exc:  # a broken round answers its tills with the error; the thread goes on
                log.exception("a round of till redemptions failed")
                for ask in round_:
                    ask.error = exc
            finally:
                for ask in round_:
                    ask.answered.set()
        if wb is not None:
            wb.close()

    def _settle(self, wb: Winback, asks: list[Ask]) -> None:
        now = wb.now()
        items = [{"code": a.code, "order_id": a.order_id, "store_id": a.store_id, "at": now} for a in asks]
        for attempt in range(RETRIES + 1):
            try:
                refused = set(wb.coupons.redeem_batch(items, now=now).refused)
                break
            except EngineError as exc:
                if not exc.conflict or attempt == RETRIES:
                    raise
        rows = store_tokens.redeemed_coupons(wb.db(), [a.code for a in asks if display(a.code) not in refused])
        for ask in asks:
            row = rows.get(ask.code)
            if row is None:
                ask.refused = True  # its request says why, on its own cursor
                continue
            ask.result = RedeemResult(code=display(row[0]), member_id=row[1], campaign_id=row[2], variant=row[3],
                                      order_id=row[4], store_id=row[5], amount=row[6], discount=row[7],
                                      redeemed_at=row[8])  # fmt: skip
        audit_many(wb.db(), [_entry(ask, now) for ask in asks if ask.result is not None])
        if rows and self._on_change is not None:
            self._on_change()  # reports count redemptions


def _one_per_code(asks: list[Ask]) -> tuple[list[Ask], list[Ask]]:
    """(this round: the first ask of each code, the next: the others, in the order they came)."""
    seen: set[str] = set()
    now: list[Ask] = []
    later: list[Ask] = []
    for ask in asks:
        (later if ask.code in seen else now).append(ask)
        seen.add(ask.code)
    return now, later


def _entry(ask: Ask, now: dt.datetime) -> dict[str, Any]:
    """The audit entry of a till's redemption (who: `till:<token id>`; what: the code, order, store, discount)."""
    assert ask.result is not None
    detail = {"order_id": ask.order_id, "store_id": ask.store_id, "token_store": ask.till.store_id, "ok": True,
              "discount": ask.result.discount}  # fmt: skip
    return {"at": now, "username": f"till:{ask.till.token_id}", "role": "till", "action": "coupon_redeem",
            "target": ask.result.code, "detail": detail, "ip": ask.ip}  # fmt: skip
