"""The contact ledger and guide tasks in the warehouse: queueing, states, opt-outs, counts.

A touch is inserted only if its idempotency key (ledger.touch_key) is new, a task only if its id is new, so a
retried launch (or a journey enrolling the same day twice) adds nothing twice. The dispatcher's statements
(claim, history, results, orphans) are in store_dispatch.py. docs/outreach.md lists what other rooms may call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.errors import InputError
from winback.i18n import _
from winback.outreach import ledger

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_TOUCH_SCHEMA = pa.schema(
    [
        ("idempotency_key", pa.string()),
        ("campaign_id", pa.string()),
        ("member_id", pa.string()),
        ("channel", pa.string()),
        ("payload", pa.string()),
        ("due_at", pa.timestamp("us")),
        ("journey_id", pa.string()),
        ("step", pa.int32()),
        ("task_id", pa.string()),
    ]
)
_TASK_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("campaign_id", pa.string()),
        ("member_id", pa.string()),
        ("guide_id", pa.string()),
        ("store_id", pa.string()),
        ("kind", pa.string()),
        ("script", pa.string()),
        ("coupon_code", pa.string()),
        ("priority", pa.int32()),
    ]
)


def queue_touches(db: DuckDBEngine, touches: list[dict[str, Any]], now: dt.datetime) -> int:
    """Insert touches not already in the ledger; returns how many were new. Each dict has idempotency_key,
    campaign_id, member_id, channel, payload (JSON text: at least `text`), and optionally due_at (not before),
    journey_id, step, task_id (a guide_task / ai_call touch without one gets its member's task of the campaign)."""
    if not touches:
        return 0
    t = pa.Table.from_pylist([{**x, "payload": x.get("payload")} for x in touches], schema=_TOUCH_SCHEMA)
    with db.registered("_new_touches", t):
        return queue_touches_from(db, "_new_touches", now)


def queue_touches_from(db: DuckDBEngine, source: str, now: dt.datetime) -> int:
    """`queue_touches` for the rows of a table or view named `source` (the columns of _TOUCH_SCHEMA), set-based:
    a launch of a million members queues its touches in one statement."""
    row = db.fetchone(
        "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at, "
        " due_at, journey_id, step, task_id, attempts, updated_at) "
        "SELECT DISTINCT ON (n.idempotency_key) n.idempotency_key, n.campaign_id, n.member_id, n.channel, "
        " 'queued', n.payload::JSON, $1, n.due_at, n.journey_id, n.step, coalesce(n.task_id, k.task_id), 0, $1 "
        f"FROM {source} n ANTI JOIN touches t ON t.idempotency_key = n.idempotency_key "
        # a touch a person carries out stands for the member's guide task of the campaign (written just
        # before it by the launch): the task sheet and the call list then name the task a guide fills in
        "LEFT JOIN (SELECT campaign_id, member_id, min(task_id) AS task_id FROM tasks "
        f" WHERE campaign_id IN (SELECT DISTINCT campaign_id FROM {source}) GROUP BY 1, 2) k "
        " ON k.campaign_id = n.campaign_id AND k.member_id = n.member_id "
        " AND n.channel IN ('guide_task', 'task_sheet', 'ai_call')",
        [now],
    )
    return int(row[0]) if row else 0


def queue_launch_touches(db: DuckDBEngine, source: str, campaign_id: str, now: dt.datetime) -> int:
    """`queue_touches_from` for one launch of `campaign_id`: the rows of `source` have distinct keys and carry
    their task_id. Keys already queued for the campaign are skipped; a key queued under any other campaign is
    refused by the ledger's primary key, and the launch fails whole (never a touch twice). Neither the whole
    ledger nor the tasks are scanned, so a launch costs the same however long the ledger has grown."""
    row = db.fetchone(
        "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at, "
        " due_at, journey_id, step, task_id, attempts, updated_at) "
        "SELECT n.idempotency_key, n.campaign_id, n.member_id, n.channel, 'queued', n.payload::JSON, $1, n.due_at, "
        f" n.journey_id, n.step, n.task_id, 0, $1 FROM {source} n "
        "ANTI JOIN (SELECT idempotency_key FROM touches WHERE campaign_id = $2) t USING (idempotency_key)",
        [now, campaign_id],
    )
    return int(row[0]) if row else 0


def create_tasks(db: DuckDBEngine, tasks: list[dict[str, Any]], now: dt.datetime, due_days: int) -> int:
    """One open task per (campaign, member) for the member's guide; an existing task is kept as it is."""
    if not tasks:
        return 0
    with db.registered("_new_tasks", pa.Table.from_pylist(tasks, schema=_TASK_SCHEMA)):
        return create_tasks_from(db, "_new_tasks", now, due_days)


def create_tasks_from(
    db: DuckDBEngine, source: str, now: dt.datetime, due_days: int, *, campaign_id: str | None = None
) -> int:
    """`create_tasks` for the rows of a table or view named `source` (the columns of _TASK_SCHEMA, in order).
    With `campaign_id` (one launch's tasks): only that campaign's tasks are looked at for the ids already there; an
    id taken under another campaign is refused by the primary key (the launch fails whole)."""
    cols = ", ".join(f"n.{f.name}" for f in _TASK_SCHEMA)
    params: list[object] = [now + dt.timedelta(days=due_days), now]
    existing = "tasks"
    if campaign_id is not None:
        existing = "(SELECT task_id FROM tasks WHERE campaign_id = $3)"
        params.append(campaign_id)
    row = db.fetchone(
        "INSERT INTO tasks (task_id, campaign_id, member_id, guide_id, store_id, kind, script, coupon_code, "
        " priority, status, due_at, created_at) "
        f"SELECT {cols}, 'open', $1, $2 FROM {source} n ANTI JOIN {existing} t ON t.task_id = n.task_id",
        params,
    )
    return int(row[0]) if row else 0


def set_state(db: DuckDBEngine, keys: Iterable[str], state: str, now: dt.datetime, *, reason: str | None = None) -> int:
    """Move touches to `state` where the ledger allows it (ledger.TRANSITIONS); returns how many moved. For the
    channels a person carries out (guide_task, ai_call results): a done task's touch becomes sent/delivered."""
    if state not in ledger.STATES:
        raise InputError(
            _("unknown touch state {state!r}", state=state), hint=_("One of {states}.", states=", ".join(ledger.STATES))
        )
    allowed = [old for old, new in ledger.TRANSITIONS.items() if state in new]
    keys = list(keys)
    if not keys or not allowed:
        return 0
    with db.registered("_keys", pa.table({"key": pa.array(keys, pa.string())})):
        row = db.fetchone(
            "UPDATE touches SET status = $1, reason = coalesce($2, reason), updated_at = $3, "
            " sent_at = CASE WHEN $1 IN ('sent', 'delivered') THEN coalesce(sent_at, $3) ELSE sent_at END, "
            " delivered_at = CASE WHEN $1 = 'delivered' THEN $3 ELSE delivered_at END "
            "WHERE idempotency_key IN (SELECT key FROM _keys) AND list_contains($4, status)",
            [state, reason, now, allowed],
        )
    return int(row[0]) if row else 0


def skip_campaign_touches(db: DuckDBEngine, campaign_id: str, now: dt.datetime) -> int:
    """A closed campaign's queued touches become skipped with reason campaign_closed (never sent); returns how
    many. Runs in the caller's transaction (campaigns.store.close_campaign)."""
    row = db.fetchone(
        "UPDATE touches SET status = 'skipped', reason = 'campaign_closed', updated_at = ? "
        "WHERE campaign_id = ? AND status = 'queued'",
        [now, campaign_id],
    )
    return int(row[0]) if row else 0


def opt_out(
    db: DuckDBEngine, member_id: str, channel: str, *, source: str, reason: str | None, now: dt.datetime
) -> bool:
    """Record an opt-out ('*' = every channel; then members.opted_out_at too). Returns False if already there."""
    with db.transaction():
        row = db.fetchone(
            "INSERT INTO opt_outs (member_id, channel, source, reason, received_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [member_id, channel, source, reason, now],
        )
        if channel == "*":
            db.execute(
                "UPDATE members SET opted_out_at = coalesce(opted_out_at, ?) WHERE member_id = ?", [now, member_id]
            )
    return bool(row and row[0])


def record_inbound(
    db: DuckDBEngine, event_key: str, *, channel: str, kind: str, member_id: str | None, payload: str, now: dt.datetime
) -> bool:
    """Remember an inbound event (uplink reply, receipt, contact deletion); False if it was seen before."""
    row = db.fetchone(
        "INSERT INTO inbound_events (event_key, channel, kind, member_id, payload, received_at) "
        "VALUES (?, ?, ?, ?, ?::JSON, ?) ON CONFLICT DO NOTHING",
        [event_key, channel, kind, member_id, payload, now],
    )
    return bool(row and row[0])


def member_by_phone(db: DuckDBEngine, phone: str) -> str | None:
    """The (surviving) member with this E.164 phone, if exactly one has it."""
    rows = db.fetchall(
        "SELECT coalesce(merged_into, member_id) FROM members WHERE phone = ? GROUP BY 1 LIMIT 2", [phone]
    )
    return str(rows[0][0]) if len(rows) == 1 else None


def member_by_wecom(db: DuckDBEngine, external_userid: str) -> str | None:
    rows = db.fetchall(
        "SELECT coalesce(merged_into, member_id) FROM members WHERE wechat_id = ? GROUP BY 1 LIMIT 2",
        [external_userid],
    )
    return str(rows[0][0]) if len(rows) == 1 else None


def ledger_counts(db: DuckDBEngine, *, campaign_id: str | None = None) -> list[tuple[str, str, str | None, int]]:
    """(channel, status, reason, touches), for one campaign or all, biggest first."""
    return [
        (str(c), str(s), None if r is None else str(r), int(n))
        for c, s, r, n in db.fetchall(
            "SELECT channel, status, CASE WHEN status IN ('skipped', 'failed') THEN reason END, count(*) "
            "FROM touches WHERE $1::VARCHAR IS NULL OR campaign_id = $1 GROUP BY ALL ORDER BY 4 DESC, 1, 2, 3",
            [campaign_id],
        )
    ]


def touches_of(
    db: DuckDBEngine, *, member_id: str | None = None, campaign_id: str | None = None
) -> list[dict[str, Any]]:
    """Every ledger row of a member or a campaign (all columns), oldest first."""
    return db.dicts(
        "SELECT * FROM touches WHERE ($1::VARCHAR IS NULL OR member_id = $1) "
        "AND ($2::VARCHAR IS NULL OR campaign_id = $2) ORDER BY queued_at, idempotency_key",
        [member_id, campaign_id],
    )
