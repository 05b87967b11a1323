"""Guide tasks and the contact ledger (touches), written at launch inside the launch's transaction.

A touch is inserted only if its idempotency key (ledger.touch_key) is new, a task only if its id is new, so a
retried launch adds nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_TOUCH_SCHEMA = pa.schema(
    [
        ("idempotency_key", pa.string()),
        ("campaign_id", pa.string()),
        ("member_id", pa.string()),
        ("channel", pa.string()),
        ("payload", pa.string()),
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
    """Insert touches (idempotency_key, campaign_id, member_id, channel, payload) not already queued."""
    if not touches:
        return 0
    t = pa.Table.from_pylist([{**x, "payload": x.get("payload")} for x in touches], schema=_TOUCH_SCHEMA)
    with db.registered("_new_touches", t):
        row = db.fetchone(
            "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at) "
            "SELECT n.idempotency_key, n.campaign_id, n.member_id, n.channel, 'queued', n.payload::JSON, ? "
            "FROM _new_touches n ANTI JOIN touches t ON t.idempotency_key = n.idempotency_key",
            [now],
        )
    return int(row[0]) if row else 0


def create_tasks(db: DuckDBEngine, tasks: list[dict[str, Any]], now: dt.datetime, due_days: int) -> int:
    """One open task per (campaign, member) for the member's guide; an existing task is kept as it is."""
    if not tasks:
        return 0
    with db.registered("_new_tasks", pa.Table.from_pylist(tasks, schema=_TASK_SCHEMA)):
        row = db.fetchone(
            "INSERT INTO tasks (task_id, campaign_id, member_id, guide_id, store_id, kind, script, coupon_code, "
            " priority, status, due_at, created_at) "
            "SELECT n.*, 'open', ?, ? FROM _new_tasks n ANTI JOIN tasks t ON t.task_id = n.task_id",
            [now + dt.timedelta(days=due_days), now],
        )
    return int(row[0]) if row else 0
