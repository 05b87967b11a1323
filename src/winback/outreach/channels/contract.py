"""What a channel plugin is. Pure (no I/O here): the protocol, and helpers every channel may use.

    class MyChannel:
        def __init__(self, config: ChannelConfig) -> None: ...
        name: str                      # the ledger's channel name
        batch_size: int                # rows per send() call (SMS: ≤ 100 numbers per provider call)
        connections: int               # send() calls the dispatcher may run at once (threads)
        rate_per_second: float | None  # provider calls per second, None = as fast as it answers
        def send(self, rows): ...      # -> one SendResult per row: sent | delivered | failed | retry | unknown
                                       #    | pending
        def resolve(self, rows): ...   # rows a crash (or a wait) left in `sending`: sent | delivered | failed
                                       #    | pending | not_sent (the provider never got it: safe to send again)
                                       #    | retry / unknown
        def receipts(self, rows): ...  # sent rows: delivered | failed where the provider knows; [] otherwise
        def inbound(self): ...         # replies and events since the last call (opt-outs): [Inbound]
        def ack(self): ...             # optional: what receipts()/inbound() handed over is recorded (a queue
                                       #    deletes its messages now; until then they are delivered again)
        def close(self): ...

`send` is called from worker threads (at most `connections` at once), so per-connection state lives in a
threading.local. A channel never sees secrets it does not need, never logs them, and puts nothing secret into a
SendResult (its `response` lands in the ledger).
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from winback.outreach.ledger import LedgerRow, SendResult

OPT_OUT_WORDS = frozenset({"退订", "td", "t", "r", "n", "unsubscribe", "stop", "退", "取消订阅"})


@runtime_checkable
class Channel(Protocol):
    name: str
    batch_size: int
    connections: int
    rate_per_second: float | None

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]: ...

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]: ...

    def receipts(self, rows: Sequence[LedgerRow]) -> list[SendResult]: ...

    def inbound(self) -> list[Inbound]: ...

    def close(self) -> None: ...


class NoFeedback:
    """Defaults for a channel whose provider sends nothing back: no delivery receipts, no inbound replies or events,
    nothing to release. A channel inherits it and overrides what its provider does have."""

    def receipts(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        return []

    def inbound(self) -> list[Inbound]:
        return []

    def close(self) -> None:
        return None


@dataclass(frozen=True)
class Inbound:
    """A reply or event from a provider: `kind` uplink (an SMS reply) | contact_deleted (WeCom); `address` is
    the phone (E.164) or the WeCom external userid; `event_key` the provider's id (applied once)."""

    event_key: str
    channel: str
    kind: str
    address: str
    text: str = ""


def is_opt_out_reply(text: str) -> bool:
    """'退订', 'TD', 'T', 'R', 'N' (any case, surrounding spaces and punctuation ignored) ask to stop."""
    word = text.strip().strip("。.!！ ").lower()
    return word in OPT_OUT_WORDS


def sign(secret: str, body: bytes) -> str:
    """The webhook signature header value: 'sha256=' + hex HMAC-SHA256 of the body with the shared secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def backoff_seconds(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential back-off with full jitter: uniform in [base·2^(attempt-1) / 2, base·2^(attempt-1)], ≤ cap."""
    top = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(top / 2, top)


def message_id(key: str, domain: str) -> str:
    """An e-mail Message-ID derived from the idempotency key (the same key always gives the same id)."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
