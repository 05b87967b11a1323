"""The contact ledger: a retried queue never adds a second touch or task; scripts fill what they know."""

from __future__ import annotations

import datetime as dt

from winback.engine.duckdb_engine import DuckDBEngine
from winback.outreach.ledger import touch_key
from winback.outreach.scripts import render
from winback.outreach.store import create_tasks, queue_touches

NOW = dt.datetime(2026, 11, 23, 10)


def test_retried_queue_adds_nothing(db: DuckDBEngine) -> None:
    touches = [
        {
            "idempotency_key": touch_key("C1", m, "sms"),
            "campaign_id": "C1",
            "member_id": m,
            "channel": "sms",
            "payload": '{"text": "hi"}',
        }
        for m in ("M1", "M2", "M3")
    ]
    assert queue_touches(db, touches, NOW) == 3
    assert queue_touches(db, touches, NOW + dt.timedelta(minutes=1)) == 0
    assert queue_touches(db, [*touches, {**touches[0], "idempotency_key": touch_key("C1", "M1", "sms", 2)}], NOW) == 1
    assert db.fetchall("SELECT count(*), count(DISTINCT idempotency_key) FROM touches") == [(4, 4)]
    task = {
        "task_id": "C1:M1",
        "campaign_id": "C1",
        "member_id": "M1",
        "guide_id": "G1",
        "store_id": "S1",
        "kind": "call",
        "script": "…",
        "coupon_code": None,
        "priority": 1,
    }
    assert create_tasks(db, [task], NOW, due_days=7) == 1
    assert create_tasks(db, [task], NOW, due_days=7) == 0
    assert db.fetchall("SELECT status, due_at FROM tasks") == [("open", NOW + dt.timedelta(days=7))]


def test_render_fills_known_fields_and_blanks_the_rest() -> None:
    assert render("{name}您好，我是{guide}{unknown}", name="王女士", guide=None) == "王女士您好，我是"
