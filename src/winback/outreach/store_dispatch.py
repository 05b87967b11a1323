"""The dispatcher's statements: due touches with what pressure needs, contact history, the claim (queued →
sending, skipped, deferred), the results, and the touches a crash left in `sending`.

Every write is one statement or one transaction, guarded by the state it expects (`status = 'queued'` for a
claim, `status = 'sending'` for a result), so a write repeated after a crash changes nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

#: the member's address for each channel, and the consent column that governs it
ADDRESS_SQL = {
    "sms": "CASE WHEN m.phone_status = 'mobile' THEN m.phone END",
    "ai_call": "m.phone",
    "email": "m.email",
    "wecom": "m.wechat_id",
    "webhook": "coalesce(m.phone, m.email, m.member_id)",
    "guide_task": "t.task_id",
    "task_sheet": "t.task_id",
}
CONSENT_SQL = {
    "sms": "m.consent_sms",
    "ai_call": "m.consent_call",
    "guide_task": "m.consent_call",
    "task_sheet": "m.consent_call",
    "email": "m.consent_email",
    "wecom": "m.consent_wechat",
}

_DUE_WHERE = """t.status = 'queued' AND t.channel = $1 AND coalesce(t.due_at, t.queued_at) <= $2
          AND (t.next_attempt_at IS NULL OR t.next_attempt_at <= $2)
          AND ($3::VARCHAR IS NULL OR t.campaign_id = $3)"""
# the first `limit` due touches after a cursor, in ledger order (rowid: the order they were queued), as a range:
# ordering only the row ids keeps this cheap on a ledger of millions (sorting whole rows is not)
_DUE_RANGE_SQL = f"""
    SELECT min(rid), max(rid) FROM (
        SELECT t.rowid AS rid FROM touches t WHERE t.rowid > $4 AND {_DUE_WHERE} ORDER BY t.rowid LIMIT $5)
"""
_DUE_ROWS_SQL = f"""
    SELECT t.rowid AS rid, t.idempotency_key AS key, t.campaign_id, t.member_id, t.channel,
           t.payload::VARCHAR AS payload, t.payload->>'text' AS text, t.payload->>'code' AS code, t.attempts,
           t.task_id
    FROM touches t WHERE t.rowid BETWEEN $4 AND $5 AND {_DUE_WHERE}
"""
# joined to the member facts from a registered table: its exact size makes the join build on the chunk, not on
# the members table
_DUE_FACTS_SQL = """
    SELECT t.*, {address} AS address, {consent} AS consent,
           m.opted_out_at IS NOT NULL OR list_contains(o.channels, '*') AS opted_out,
           coalesce(o.channels, []) AS opted_out_channels,
           m.merged_into IS NOT NULL AS merged, coalesce(c.status = 'closed', FALSE) AS closed,
           coalesce(g.wechat_id, g.guide_id, m.guide_id) AS sender
    FROM _due t
    LEFT JOIN members m ON m.member_id = t.member_id
    LEFT JOIN (SELECT member_id, list(channel) AS channels FROM opt_outs GROUP BY member_id) o
           ON o.member_id = t.member_id
    LEFT JOIN campaigns c ON c.campaign_id = t.campaign_id
    LEFT JOIN staff g ON g.guide_id = m.guide_id
    ORDER BY t.rid
"""


def due_touches(
    db: DuckDBEngine, channel: str, now: dt.datetime, *, campaign_id: str | None, limit: int, after: int = -1
) -> list[dict[str, Any]]:
    """due_table as rows (dicts)."""
    return due_table(db, channel, now, campaign_id=campaign_id, limit=limit, after=after).to_pylist()


def due_table(
    db: DuckDBEngine, channel: str, now: dt.datetime, *, campaign_id: str | None, limit: int, after: int = -1
) -> pa.Table:
    """Up to `limit` queued touches of `channel` due at `now`, in ledger order after the row `after` (`rid` of
    the last one seen: a cursor), with the member's address for the channel, consent, opt-outs, merge and campaign
    state, and the guide's WeCom userid (`sender`)."""
    lo, hi = db.fetchone(_DUE_RANGE_SQL, [channel, now, campaign_id, after, limit]) or (None, None)
    if lo is None:
        return pa.table({"rid": pa.array([], pa.int64())})
    rows = db.query(_DUE_ROWS_SQL, [channel, now, campaign_id, lo, hi])
    sql = _DUE_FACTS_SQL.format(address=ADDRESS_SQL.get(channel, "m.phone"), consent=CONSENT_SQL.get(channel, "NULL"))
    with db.registered("_due", rows):
        return db.query(sql)  # Arrow: the dispatcher reads it by column (no per-row dicts for a chunk of thousands)


def queued_channels(db: DuckDBEngine, now: dt.datetime, campaign_id: str | None) -> list[str]:
    rows = db.fetchall(
        "SELECT DISTINCT channel FROM touches WHERE status = 'queued' AND coalesce(due_at, queued_at) <= $1 "
        "AND ($2::VARCHAR IS NULL OR campaign_id = $2) ORDER BY 1",
        [now, campaign_id],
    )
    return [str(r[0]) for r in rows]


def contact_history(
    db: DuckDBEngine, member_ids: list[str], since: dt.datetime
) -> dict[str, list[tuple[str, dt.datetime]]]:
    """member -> [(channel, time)] of every contact since `since` (sending, sent, delivered; any channel)."""
    if not member_ids:
        return {}
    out: dict[str, list[tuple[str, dt.datetime]]] = {}
    with db.registered("_hist_members", pa.table({"member_id": pa.array(sorted(set(member_ids)), pa.string())})):
        rows = db.fetchall(
            "SELECT t.member_id, t.channel, coalesce(t.sending_at, t.sent_at, t.queued_at) AS ts "
            "FROM touches t SEMI JOIN _hist_members h ON h.member_id = t.member_id "
            "WHERE t.status IN ('sending', 'sent', 'delivered') "
            " AND coalesce(t.sending_at, t.sent_at, t.queued_at) >= ?",
            [since],
        )
    for mid, ch, ts in rows:
        out.setdefault(str(mid), []).append((str(ch), ts))
    return out


_CLAIM = pa.schema(
    [("key", pa.string()), ("batch_id", pa.string()), ("recipient", pa.string()), ("sender", pa.string())]
)
_HOLD = pa.schema([("key", pa.string()), ("reason", pa.string()), ("until", pa.timestamp("us"))])


def _table(rows: list[dict[str, Any]] | Mapping[str, list[Any]], schema: pa.Schema) -> pa.Table:
    """Rows (dicts) or columns (name -> values) as an Arrow table of the schema."""
    if isinstance(rows, Mapping):
        return pa.table({f.name: pa.array(rows[f.name], f.type) for f in schema}, schema=schema)
    return pa.Table.from_pylist(rows, schema=schema)


def claim(
    db: DuckDBEngine,
    sending: list[dict[str, Any]] | Mapping[str, list[Any]],
    skipped: list[dict[str, Any]],
    deferred: list[dict[str, Any]],
    now: dt.datetime,
) -> int:
    """One transaction: `sending` rows or columns (key, batch_id, recipient, sender) become `sending` with attempts + 1;
    `skipped` rows (key, reason) become `skipped`; `deferred` rows (key, reason, until) stay queued until then.
    Only rows still queued change. Returns how many were claimed for sending."""
    claimed = 0
    with db.transaction():
        if len(sending["key"] if isinstance(sending, Mapping) else sending):
            with db.registered("_claim", _table(sending, _CLAIM)):
                row = db.fetchone(
                    "UPDATE touches SET status = 'sending', attempts = coalesce(attempts, 0) + 1, "
                    " batch_id = c.batch_id, recipient = c.recipient, sender = c.sender, sending_at = $1, "
                    " next_attempt_at = NULL, updated_at = $1 "
                    "FROM _claim c WHERE touches.idempotency_key = c.key AND touches.status = 'queued'",
                    [now],
                )
                claimed = int(row[0]) if row else 0
        if skipped:
            rows = [{**r, "until": None} for r in skipped]
            with db.registered("_skip", pa.Table.from_pylist(rows, schema=_HOLD)):
                db.execute(
                    "UPDATE touches SET status = 'skipped', reason = s.reason, updated_at = $1 "
                    "FROM _skip s WHERE touches.idempotency_key = s.key AND touches.status = 'queued'",
                    [now],
                )
        if deferred:
            with db.registered("_defer", pa.Table.from_pylist(deferred, schema=_HOLD)):
                db.execute(
                    "UPDATE touches SET next_attempt_at = d.until, reason = d.reason, updated_at = $1 "
                    "FROM _defer d WHERE touches.idempotency_key = d.key AND touches.status = 'queued'",
                    [now],
                )
    return claimed


_RESULT = pa.schema(
    [
        ("key", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("provider_id", pa.string()),
        ("response", pa.string()),
        ("next_attempt_at", pa.timestamp("us")),
    ]
)


def record_results(db: DuckDBEngine, results: list[dict[str, Any]] | Mapping[str, list[Any]], now: dt.datetime) -> int:
    """Write what the channels answered, for touches still in `sending` (rows or columns: key, status, reason,
    provider_id, response, next_attempt_at). `sending` rows stay sending (unknown, pending) with the answer
    noted."""
    if not len(results["key"] if isinstance(results, Mapping) else results):
        return 0
    with db.registered("_res", _table(results, _RESULT)):
        row = db.fetchone(
            "UPDATE touches SET status = r.status, reason = r.reason, "
            " provider_id = coalesce(r.provider_id, touches.provider_id), "
            " response = coalesce(r.response, touches.response), next_attempt_at = r.next_attempt_at, "
            " sent_at = CASE WHEN r.status IN ('sent', 'delivered') THEN coalesce(touches.sent_at, $1) "
            "                ELSE touches.sent_at END, "
            " delivered_at = CASE WHEN r.status = 'delivered' THEN $1 ELSE touches.delivered_at END, "
            " updated_at = $1 "
            "FROM _res r WHERE touches.idempotency_key = r.key AND touches.status = 'sending'",
            [now],
        )
    return int(row[0]) if row else 0


def record_receipts(db: DuckDBEngine, receipts: list[dict[str, Any]], now: dt.datetime) -> int:
    """Delivery receipts for touches already sent (key, status delivered | failed, reason, provider_id,
    response): sent → delivered | failed."""
    if not receipts:
        return 0
    rows = [{**r, "next_attempt_at": None} for r in receipts]
    with db.registered("_rcpt", pa.Table.from_pylist(rows, schema=_RESULT)):
        row = db.fetchone(
            "UPDATE touches SET status = r.status, reason = r.reason, "
            " response = coalesce(r.response, touches.response), "
            " delivered_at = CASE WHEN r.status = 'delivered' THEN $1 ELSE touches.delivered_at END, updated_at = $1 "
            "FROM _rcpt r WHERE touches.idempotency_key = r.key AND touches.status = 'sent'",
            [now],
        )
    return int(row[0]) if row else 0


def in_flight(db: DuckDBEngine, channel: str, *, campaign_id: str | None, limit: int) -> list[dict[str, Any]]:
    """Touches of `channel` in `sending` (a crash or a pending confirmation left them there), by batch."""
    return db.dicts(
        "SELECT idempotency_key AS key, campaign_id, member_id, channel, payload::VARCHAR AS payload, attempts, "
        " payload->>'text' AS text, payload->>'code' AS code, "
        " recipient AS address, sender, batch_id, provider_id, sending_at "
        "FROM touches WHERE status = 'sending' AND channel = $1 AND ($2::VARCHAR IS NULL OR campaign_id = $2) "
        "ORDER BY batch_id, idempotency_key LIMIT $3",
        [channel, campaign_id, limit],
    )


def awaiting_receipts(db: DuckDBEngine, channel: str, *, since: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """Sent touches of `channel` still without a delivery receipt, sent since `since`."""
    return db.dicts(
        "SELECT idempotency_key AS key, campaign_id, member_id, channel, payload::VARCHAR AS payload, attempts, "
        " payload->>'text' AS text, payload->>'code' AS code, "
        " recipient AS address, sender, batch_id, provider_id, sending_at "
        "FROM touches WHERE status = 'sent' AND channel = $1 AND sent_at >= $2 ORDER BY batch_id LIMIT $3",
        [channel, since, limit],
    )


def bump_attempts(db: DuckDBEngine, keys: list[str], now: dt.datetime) -> int:
    """A new attempt for touches in `sending` (a resend with the same key), written before the call leaves."""
    if not keys:
        return 0
    with db.registered("_bump", pa.table({"key": pa.array(keys, pa.string())})):
        row = db.fetchone(
            "UPDATE touches SET attempts = coalesce(attempts, 0) + 1, sending_at = $1, updated_at = $1 "
            "FROM _bump b WHERE touches.idempotency_key = b.key AND touches.status = 'sending'",
            [now],
        )
    return int(row[0]) if row else 0
