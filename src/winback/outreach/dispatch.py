"""The dispatcher: sends what is due, channel by channel, in chunks, crash-safe and resumable.

For each channel:

1. **Resolve** touches left in `sending` (a crash, or a WeCom message waiting for the guide): the channel answers
   from the provider (SMS: the send details by out-id; WeCom: the send result by msgid) or, where a provider cannot
   be asked (webhook, e-mail), the touch is sent again *with the same key* as a new attempt (written first).
2. **Claim** a chunk of due touches: contact pressure (pressure.decide, against the ledger's history) skips or
   defers some; the rest become `sending` with a batch id and attempt number, in one transaction, *before* any
   call leaves.
3. **Send** the chunk in batches (≤ batch_size rows per provider call) on at most `connections` threads, paced
   to `rate_per_second`; then **record** every answer in one statement guarded by `status = 'sending'`.
4. Repeat until nothing is due; then pull delivery receipts and inbound replies (opt-outs).

Killed at any moment, a restart finds every touch in a state that says what to do: queued (never left), sending
(resolve it first), or final. Nothing is sent twice by the dispatcher: a touch leaves `sending` only with an
answer, and a touch with a recorded success is never selected again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winback.outreach import pressure, store, store_dispatch, store_links
from winback.outreach.channels.contract import backoff_seconds, is_opt_out_reply
from winback.outreach.ledger import LedgerRow, SendResult
from winback.outreach.links import LINK_CHANNELS, LinkSettings, with_link

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.outreach.channels.contract import Channel

HISTORY_DAYS = 31


@dataclass
class Tally:
    channel: str
    resolved: int = 0
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)  # sent, delivered, failed, retry, unknown, pending …
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> touches
    deferred: int = 0
    receipts: int = 0
    opt_outs: int = 0
    configured: bool = True


def to_row(d: Mapping[str, Any], attempt: int, batch_id: str | None = None) -> LedgerRow:
    return LedgerRow(
        key=str(d["key"]),
        channel=str(d["channel"]),
        campaign_id=d.get("campaign_id"),
        member_id=str(d["member_id"]),
        to=d.get("address"),
        text=str(d.get("text") or ""),
        attempt=attempt,
        batch_id=batch_id if batch_id is not None else d.get("batch_id"),
        sender=d.get("sender"),
        provider_id=d.get("provider_id"),
        code=d.get("code"),
        raw_payload=d.get("payload"),
    )


def candidate(d: Mapping[str, Any]) -> pressure.Candidate:
    return pressure.Candidate(
        key=str(d["key"]),
        member_id=str(d["member_id"]),
        channel=str(d["channel"]),
        to=d.get("address"),
        consent=d.get("consent"),
        opted_out=bool(d.get("opted_out")),
        opted_out_channels=frozenset(d.get("opted_out_channels") or ()),
        merged=bool(d.get("merged")),
        closed=bool(d.get("closed")),
    )


def ledger_update(
    r: SendResult, attempts: int, ch: Channel, now: dt.datetime, rng: random.Random
) -> dict[str, Any] | None:
    """The ledger row a channel's answer leads to (None: stays `sending` untouched)."""
    base = {"key": r.key, "provider_id": r.provider_id, "response": r.response, "next_attempt_at": None}
    if r.outcome in ("sent", "delivered"):
        return {**base, "status": r.outcome, "reason": None}
    if r.outcome == "failed":
        return {**base, "status": "failed", "reason": r.reason or "rejected"}
    if r.outcome == "retry":
        if attempts >= int(getattr(ch, "max_attempts", 6)):
            return {**base, "status": "failed", "reason": "retries_exhausted"}
        wait = backoff_seconds(
            attempts, base=float(getattr(ch, "backoff_base", 30)), cap=float(getattr(ch, "backoff_max", 3600)), rng=rng
        )
        return {**base, "status": "queued", "reason": r.reason, "next_attempt_at": now + dt.timedelta(seconds=wait)}
    if r.outcome == "not_sent":
        return {**base, "status": "queued", "reason": "resent_after_crash"}
    # unknown / pending: stays sending; note the provider's id and answer
    return {**base, "status": "sending", "reason": r.reason} if (r.provider_id or r.response) else None


def batches(rows: Sequence[LedgerRow], size: int) -> list[list[LedgerRow]]:
    return [list(rows[i : i + size]) for i in range(0, len(rows), max(1, size))]


class Pacer:
    """At most `rate` calls per second (None: no pacing), shared by the worker threads."""

    def __init__(self, rate: float | None) -> None:
        self.gap = 0.0 if not rate else 1.0 / rate
        self.next = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.gap:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.gap
        if at > now:
            time.sleep(at - now)


class Dispatcher:
    def __init__(
        self,
        db: DuckDBEngine,
        channels: Mapping[str, Channel],
        rules: pressure.PressureRules,
        now: Callable[[], dt.datetime],
        *,
        campaign_id: str | None = None,
        limit: int | None = None,
        chunk: int = 10_000,
        rng: random.Random | None = None,
        links: LinkSettings | None = None,
    ) -> None:
        self.db, self.channels, self.rules, self.now = db, channels, rules, now
        self.campaign_id, self.limit, self.chunk = campaign_id, limit, chunk
        self.links = links
        self.rng = rng or random.Random()
        self.claimed_total = 0

    # -- the run -------------------------------------------------------------------------------------------------
    def run(self, names: Iterable[str]) -> list[Tally]:
        out = []
        for name in names:
            ch = self.channels.get(name)
            if ch is None:
                out.append(Tally(name, configured=False))
                continue
            t = Tally(name)
            self.resolve(name, ch, t)
            self.send_due(name, ch, t)
            self.receipts(name, ch, t)
            self.inbound(name, ch, t)
            out.append(t)
        return out

    def _room(self) -> int:
        return self.chunk if self.limit is None else max(0, min(self.chunk, self.limit - self.claimed_total))

    def _call(
        self, ch: Channel, fn: Callable[[list[LedgerRow]], list[SendResult]], rows: list[LedgerRow]
    ) -> list[SendResult]:
        """Batches through `fn` on at most ch.connections threads; answers in the rows' order."""
        with ThreadPoolExecutor(max_workers=max(1, int(ch.connections))) as pool:
            return self._submit(pool, ch, fn, rows)()

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        ch: Channel,
        fn: Callable[[list[LedgerRow]], list[SendResult]],
        rows: list[LedgerRow],
    ) -> Callable[[], list[SendResult]]:
        """Start the batches on the pool; returns a function that waits for the answers (in the rows' order)."""
        pacer = Pacer(ch.rate_per_second)

        def one(group: list[LedgerRow]) -> list[SendResult]:
            pacer.wait()
            return fn(group)

        futures = [pool.submit(one, g) for g in batches(rows, int(ch.batch_size))]
        return lambda: [r for f in futures for r in f.result()]

    def _record(self, ch: Channel, rows: list[LedgerRow], results: list[SendResult], t: Tally) -> None:
        """Every answer in one statement. Accepted answers (the bulk) go straight into columns; the rest through
        ledger_update (retry back-off, retries exhausted, unknown)."""
        attempts = {r.key: r.attempt for r in rows}
        now = self.now()
        cols: dict[str, list[Any]] = {k: [] for k in ("key", "status", "reason", "provider_id", "response")}
        nxt: list[Any] = []
        for r in results:
            t.outcomes[r.outcome] += 1
            if r.outcome in ("sent", "delivered"):
                u: dict[str, Any] | None = {"key": r.key, "status": r.outcome, "reason": None,
                                            "provider_id": r.provider_id, "response": r.response}  # fmt: skip
            else:
                u = ledger_update(r, attempts.get(r.key, 1), ch, now, self.rng)
            if u is None:
                continue
            for k, v in cols.items():
                v.append(u[k])
            nxt.append(u.get("next_attempt_at"))
        store_dispatch.record_results(self.db, {**cols, "next_attempt_at": nxt}, now)

    # -- the steps -----------------------------------------------------------------------------------------------
    def resolve(self, name: str, ch: Channel, t: Tally) -> None:
        while True:
            found = store_dispatch.in_flight(self.db, name, campaign_id=self.campaign_id, limit=self.chunk)
            if not found:
                return
            resend = bool(getattr(ch, "resolve_sends", False))
            if resend:  # a new attempt of the same key: written before the call leaves
                store_dispatch.bump_attempts(self.db, [str(d["key"]) for d in found], self.now())
            rows = self._with_links([to_row(d, int(d.get("attempts") or 0) + (1 if resend else 0)) for d in found])
            results = self._call(ch, ch.resolve, rows)
            t.resolved += len(rows)
            self._record(ch, rows, results, t)
            still = sum(1 for r in results if r.outcome in ("pending", "unknown"))
            if still == len(found) or len(found) < self.chunk:
                return  # what is left waits for the provider (a guide's confirmation, a receipt)

    def send_due(self, name: str, ch: Channel, t: Tally) -> None:
        """Chunk after chunk until nothing is due: claim chunk k+1 while chunk k is on the wire (its touches are
        already `sending`, so pressure counts them), then record chunk k. Only this thread touches the database."""
        cursor, in_flight = -1, None
        with ThreadPoolExecutor(max_workers=max(1, int(ch.connections))) as pool:
            while True:
                claimed = self.claim(name, ch, t, cursor) if self._room() else None
                if in_flight is not None:
                    self._record(ch, in_flight[0], in_flight[1](), t)
                    in_flight = None
                if claimed is None:
                    return
                rows, cursor = claimed
                if rows:
                    in_flight = (rows, self._submit(pool, ch, ch.send, rows))

    def claim(self, name: str, ch: Channel, t: Tally, cursor: int) -> tuple[list[LedgerRow], int] | None:
        """One chunk of due touches after `cursor`: decide, claim (one transaction). None when nothing is due."""
        now = self.now()
        due = store_dispatch.due_table(
            self.db, name, now, campaign_id=self.campaign_id, limit=self._room(), after=cursor
        )
        if not due.num_rows:
            return None
        c = {n: due.column(n).to_pylist() for n in due.column_names}  # by column: no row dicts
        mids = [str(m) for m in c["member_id"]]
        history = store_dispatch.contact_history(self.db, mids, now - dt.timedelta(days=HISTORY_DAYS))
        verdicts = pressure.decide_columns(
            mids, c["channel"], c["address"], c["consent"], c["opted_out"], c["opted_out_channels"], c["merged"],
            c["closed"], history, self.rules, now,
        )  # fmt: skip
        keys = c["key"]
        skipped = [{"key": keys[i], "reason": v[0]} for i, v in enumerate(verdicts) if v is not None and v[1] is None]
        deferred = [
            {"key": keys[i], "reason": v[0], "until": v[1]} for i, v in enumerate(verdicts) if v is not None and v[1]
        ]
        go = [i for i, v in enumerate(verdicts) if v is None]
        size = max(1, int(ch.batch_size))
        bids = [uuid.uuid4().hex[:16] for _ in range(0, len(go), size)]
        cid, text, att, sender, code, payload = c["campaign_id"], c["text"], c["attempts"], c["sender"], c["code"], c[
            "payload"]  # fmt: skip
        addr, chan = c["address"], c["channel"]
        rows = [
            LedgerRow(
                keys[i],
                chan[i],
                cid[i],
                mids[i],
                addr[i],
                text[i] or "",
                (att[i] or 0) + 1,
                bids[j // size],
                sender[i],
                None,
                code[i],
                payload[i],
            )
            for j, i in enumerate(go)
        ]
        claim = {
            "key": [r.key for r in rows],
            "batch_id": [r.batch_id for r in rows],
            "recipient": [r.to for r in rows],
            "sender": [r.sender for r in rows],
        }
        store_dispatch.claim(self.db, claim, skipped, deferred, now)
        rows = self._with_links(rows)
        t.claimed += len(rows)
        t.deferred += len(deferred)
        t.skipped.update(str(s["reason"]) for s in skipped)
        self.claimed_total += len(rows)
        return rows, max(c["rid"])

    def _with_links(self, rows: list[LedgerRow]) -> list[LedgerRow]:
        """Each row of a text channel with its own short link (the same code on every attempt of its key)."""
        if self.links is None or not rows or rows[0].channel not in LINK_CHANNELS:
            return rows
        codes = store_links.ensure_links(
            self.db, [r.key for r in rows], [r.campaign_id for r in rows], [r.member_id for r in rows], self.links,
            self.now(),
        )  # fmt: skip
        out = []
        for r in rows:
            url = self.links.url(codes[r.key])
            text = with_link(r.text, url)
            out.append(dataclasses.replace(r, text=text, raw_payload={**r.payload, "text": text, "link": url}))
        return out

    def plan(self, names: Iterable[str]) -> list[Tally]:
        """--dry-run: what the next dispatch would send, skip and defer (nothing written, nothing sent)."""
        out = []
        for name in names:
            t = Tally(name, configured=name in self.channels)
            now = self.now()
            due = store_dispatch.due_touches(
                self.db, name, now, campaign_id=self.campaign_id, limit=self.limit or 1_000_000
            )
            history = store_dispatch.contact_history(
                self.db, [str(d["member_id"]) for d in due], now - dt.timedelta(days=HISTORY_DAYS)
            )
            for x in pressure.decide([candidate(d) for d in due], history, self.rules, now):
                if x.verdict == pressure.SEND:
                    t.claimed += 1
                elif x.verdict == pressure.DEFER:
                    t.deferred += 1
                else:
                    t.skipped[str(x.reason)] += 1
            out.append(t)
        return out

    def receipts(self, name: str, ch: Channel, t: Tally) -> None:
        if not getattr(ch, "has_receipts", True):
            return
        now = self.now()
        waiting = store_dispatch.awaiting_receipts(self.db, name, since=now - dt.timedelta(days=3), limit=200_000)
        rows = [to_row(d, int(d.get("attempts") or 0)) for d in waiting]
        # one pull for all; also with nothing waiting: receipts of touches recorded already are drained (and acked)
        got = [r for r in ch.receipts(rows) if r.outcome in ("delivered", "failed")]
        rec = [
            {
                "key": r.key,
                "status": r.outcome,
                "reason": r.reason,
                "provider_id": r.provider_id,
                "response": r.response,
            }
            for r in got
        ]
        t.receipts += store_dispatch.record_receipts(self.db, rec, now)
        _ack(ch)  # recorded: the provider may forget them (a crash before this means they come again)

    def inbound(self, name: str, ch: Channel, t: Tally) -> None:
        if not getattr(ch, "has_inbound", True):
            return
        now = self.now()
        for ev in ch.inbound():
            if ev.kind == "uplink":
                member = store.member_by_phone(self.db, ev.address)
            else:
                member = store.member_by_wecom(self.db, ev.address)
            payload = json.dumps({"text": ev.text, "address": ev.address}, ensure_ascii=False)
            if not store.record_inbound(
                self.db, ev.event_key, channel=ev.channel, kind=ev.kind, member_id=member, payload=payload, now=now
            ):
                continue
            wants_out = ev.kind == "contact_deleted" or (ev.kind == "uplink" and is_opt_out_reply(ev.text))
            if member and wants_out:
                t.opt_outs += store.opt_out(
                    self.db,
                    member,
                    ev.channel,
                    source="sms_uplink" if ev.kind == "uplink" else "wecom_deleted",
                    reason=ev.text or ev.kind,
                    now=now,
                )
        _ack(ch)


def _ack(ch: Channel) -> None:
    """Tell a queue-shaped channel that what it handed over is recorded (an optional method of the plugin)."""
    ack = getattr(ch, "ack", None)
    if callable(ack):
        ack()
