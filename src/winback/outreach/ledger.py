"""Guide tasks and the contact ledger (touches), written at launch. Every touch has an idempotency key, so a
retried launch or a crashed sender never queues or sends twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from winback.warehouse.registered import registered


def touch_key(campaign_id: str, member_id: str, channel: str, step: int = 1) -> str:
    return f"{campaign_id}:{member_id}:{channel}:{step}"


def queue_touches(con: duckdb.DuckDBPyConnection, touches: list[dict[str, Any]], now: dt.datetime) -> int:
    """Insert touches (idempotency_key, campaign_id, member_id, channel, payload) not already queued."""
    if not touches:
        return 0
    t = pa.Table.from_pylist(
        [{**x, "payload": x.get("payload")} for x in touches],
        schema=pa.schema(
            [
                ("idempotency_key", pa.string()),
                ("campaign_id", pa.string()),
                ("member_id", pa.string()),
                ("channel", pa.string()),
                ("payload", pa.string()),
            ]
        ),
    )
    with registered(con, "_new_touches", t):
        row = con.execute(
            "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at) "
            "SELECT n.idempotency_key, n.campaign_id, n.member_id, n.channel, 'queued', n.payload::JSON, ? "
            "FROM _new_touches n ANTI JOIN touches t ON t.idempotency_key = n.idempotency_key",
            [now],
        ).fetchone()
    return int(row[0]) if row else 0


def create_tasks(con: duckdb.DuckDBPyConnection, tasks: list[dict[str, Any]], now: dt.datetime, due_days: int) -> int:
    """One open task per (campaign, member) for the member's guide; an existing task is kept as it is."""
    if not tasks:
        return 0
    schema = pa.schema(
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
    with registered(con, "_new_tasks", pa.Table.from_pylist(tasks, schema=schema)):
        row = con.execute(
            "INSERT INTO tasks (task_id, campaign_id, member_id, guide_id, store_id, kind, script, coupon_code, "
            " priority, status, due_at, created_at) "
            "SELECT n.*, 'open', ?, ? FROM _new_tasks n ANTI JOIN tasks t ON t.task_id = n.task_id",
            [now + dt.timedelta(days=due_days), now],
        ).fetchone()
    return int(row[0]) if row else 0
