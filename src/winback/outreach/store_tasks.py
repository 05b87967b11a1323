"""The guide tasks' SQL: listing, the member cards of a task sheet, outcomes, targets and escalation.

Every function takes the warehouse first. Writes (outcomes, targets, escalation) open one `db.transaction()` each
and are idempotent: an outcome already recorded for a task, a target already stored, a task already escalated is
left as it is. The tasks themselves are created at launch (outreach.store.create_tasks).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.errors import EngineError, outdated_schema
from winback.outreach.tasks import MANAGER_ROLES, RANK, OutcomeRecord, TaskState

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_MANAGERS = ", ".join(f"'{r}'" for r in MANAGER_ROLES)
_TASK_COLUMNS = """
    t.task_id, t.campaign_id, c.name AS campaign_name, t.member_id, t.store_id, s.name AS store_name,
    t.guide_id, g.name AS guide_name, t.kind, t.priority, t.status, t.outcome, t.note, t.outcome_by,
    t.due_at, t.created_at, t.completed_at, t.escalated_at, t.escalated_to, e.name AS escalated_to_name,
    t.coupon_code, t.script
"""
_TASK_FROM = """
    FROM tasks t
    JOIN campaigns c ON c.campaign_id = t.campaign_id
    LEFT JOIN stores s ON s.store_id = t.store_id
    LEFT JOIN staff g ON g.guide_id = t.guide_id
    LEFT JOIN staff e ON e.guide_id = t.escalated_to
"""
_OUTCOME_SCHEMA = pa.schema(
    [
        ("task_id", pa.string()),
        ("outcome", pa.string()),
        ("note", pa.string()),
        ("recorded_by", pa.string()),
        ("recorded_at", pa.timestamp("us")),
        ("source", pa.string()),
    ]
)


def _dicts(db: DuckDBEngine, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
    try:
        return db.dicts(sql, params)
    except EngineError as exc:
        hint = "Run `winback init` to bring its schema up to date (migration 008 adds task outcomes)."
        raise outdated_schema(exc, "guide tasks need", hint) from exc


def _where(
    campaign_id: str | None, store_id: str | None, guide_id: str | None, status: str | None, now: dt.datetime
) -> tuple[str, list[object]]:
    conds, params = ["true"], []  # type: ignore[var-annotated]
    if campaign_id:
        conds.append("t.campaign_id = ?")
        params.append(campaign_id)
    if store_id is not None:
        conds.append("coalesce(t.store_id, '') = ?")
        params.append(store_id)
    if guide_id is not None:
        conds.append("(coalesce(t.guide_id, '') = ? OR t.escalated_to = ?)")
        params += [guide_id, guide_id]
    if status == "overdue":
        conds.append("t.status = 'open' AND t.due_at < ?")
        params.append(now)
    elif status:
        conds.append("t.status = ?")
        params.append(status)
    return " AND ".join(conds), params


def list_tasks(
    db: DuckDBEngine,
    *,
    campaign_id: str | None = None,
    store_id: str | None = None,
    guide_id: str | None = None,
    status: str | None = None,
    now: dt.datetime,
    limit: int | None = None,
) -> tuple[int, list[dict[str, Any]]]:
    """(how many tasks match, the first `limit` of them) ordered by store, guide, campaign, priority: one pass over
    the tasks (the count rides along as a window), the names joined to the page only."""
    where, params = _where(campaign_id, store_id, guide_id, status, now)
    if limit is not None and limit < 1:  # nothing to list: only the count
        return int(db.scalar(f"SELECT count(*) {_TASK_FROM} WHERE {where}", params) or 0), []
    order = "t.store_id NULLS LAST, t.guide_id NULLS LAST, t.campaign_id, t.priority, t.task_id"
    sql = f"""
        WITH t AS (
            SELECT t.*, count(*) OVER () AS total_matching FROM tasks t
            WHERE {where} AND EXISTS (SELECT 1 FROM campaigns c WHERE c.campaign_id = t.campaign_id)
            ORDER BY {order} {"" if limit is None else f"LIMIT {int(limit)}"}
        )
        SELECT {_TASK_COLUMNS}, t.total_matching {_TASK_FROM.replace("FROM tasks t", "FROM t")} ORDER BY {order}
    """
    rows = _dicts(db, sql, params)
    total = rows[0]["total_matching"] if rows else 0
    for r in rows:
        del r["total_matching"]
    return int(total), rows


def sheet_rows(
    db: DuckDBEngine,
    *,
    campaign_id: str | None,
    store_id: str | None,
    guide_id: str | None,
    status: str | None,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The tasks with each member's card: name, phone (unmasked here: the service masks), tier, last purchase day
    and what it was (its categories), favourite category (most spent, over order_items), purchase cycle (latest
    snapshot), coupon code, script and the outcome recorded so far."""
    where, params = _where(campaign_id, store_id, guide_id, status, now)
    newest = now.date() + dt.timedelta(days=1)  # the newest snapshot at or before tomorrow (never a future one)
    sql = f"""
        WITH sel AS (SELECT {_TASK_COLUMNS} {_TASK_FROM} WHERE {where}),
        mem AS (SELECT DISTINCT member_id FROM sel),
        paid AS (
            SELECT o.member_id, o.order_id, o.ordered_at FROM orders o JOIN mem USING (member_id)
            WHERE o.status = 'paid'
        ),
        last_order AS (
            SELECT member_id, max(ordered_at) AS last_at, arg_max(order_id, ordered_at) AS last_order_id
            FROM paid GROUP BY member_id
        ),
        last_what AS (
            SELECT l.member_id, string_agg(DISTINCT i.category, '、' ORDER BY i.category) AS last_items
            FROM last_order l JOIN order_items i ON i.order_id = l.last_order_id GROUP BY l.member_id
        ),
        cat AS (
            SELECT p.member_id, i.category, sum(coalesce(i.amount, 0)) AS spent, count(*) AS lines
            FROM paid p JOIN order_items i ON i.order_id = p.order_id
            WHERE i.category IS NOT NULL GROUP BY ALL
        ),
        fav AS (SELECT member_id, arg_max(category, (spent, lines, category)) AS favourite FROM cat GROUP BY member_id),
        snap AS (
            SELECT m.member_id, m.tier, m.cycle_days FROM member_snapshot m JOIN mem USING (member_id)
            WHERE m.as_of = (SELECT max(as_of) FROM snapshot_runs WHERE as_of <= DATE '{newest.isoformat()}')
        )
        SELECT sel.*, mb.name AS member_name, mb.phone, coalesce(snap.tier, mb.tier) AS tier,
               CAST(lo.last_at AS DATE) AS last_purchase, lw.last_items, fav.favourite,
               snap.cycle_days
        FROM sel
        LEFT JOIN members mb ON mb.member_id = sel.member_id
        LEFT JOIN last_order lo ON lo.member_id = sel.member_id
        LEFT JOIN last_what lw ON lw.member_id = sel.member_id
        LEFT JOIN fav ON fav.member_id = sel.member_id
        LEFT JOIN snap ON snap.member_id = sel.member_id
        ORDER BY sel.store_id NULLS LAST, sel.guide_id NULLS LAST, sel.campaign_id, sel.priority, sel.task_id
    """
    return _dicts(db, sql, params)


def task_states(db: DuckDBEngine, task_ids: Sequence[str]) -> dict[str, TaskState]:
    """The current status and outcome of the given tasks (unknown ids are simply absent)."""
    if not task_ids:
        return {}
    ids = pa.table({"task_id": pa.array(sorted(set(task_ids)), pa.string())})
    with db.registered("_asked_tasks", ids):
        rows = db.fetchall(
            "SELECT t.task_id, t.status, t.outcome, c.status FROM tasks t JOIN _asked_tasks a USING (task_id) "
            "JOIN campaigns c ON c.campaign_id = t.campaign_id"
        )
    return {r[0]: TaskState(r[0], r[1], r[2], r[3]) for r in rows}


def recorded_outcomes(db: DuckDBEngine, task_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(task, outcome) pairs already in task_outcomes for these tasks."""
    if not task_ids:
        return set()
    ids = pa.table({"task_id": pa.array(sorted(set(task_ids)), pa.string())})
    with db.registered("_asked_tasks", ids):
        rows = db.fetchall("SELECT o.task_id, o.outcome FROM task_outcomes o JOIN _asked_tasks USING (task_id)")
    return {(a, b) for a, b in rows}


def record_outcomes(
    db: DuckDBEngine, records: Sequence[OutcomeRecord], finals: Sequence[OutcomeRecord], now: dt.datetime
) -> tuple[int, int]:
    """In one transaction: the new (task, outcome) rows of the history, and each task's outcome, status, note,
    who and when from its final record (only where the task's recorded stage does not go back). Returns
    (history rows added, tasks changed)."""
    if not records:
        return 0, 0
    hist = pa.Table.from_pylist([_row(r) for r in records], schema=_OUTCOME_SCHEMA)
    fin = pa.Table.from_pylist([_row(r) for r in finals], schema=_OUTCOME_SCHEMA)
    rank = " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK.items())
    with db.transaction(), db.registered("_new_outcomes", hist), db.registered("_final_outcomes", fin):
        added = db.fetchone(
            "INSERT INTO task_outcomes (task_id, outcome, note, recorded_by, recorded_at, source, entered_at) "
            "SELECT n.task_id, n.outcome, n.note, n.recorded_by, n.recorded_at, n.source, ? FROM _new_outcomes n "
            "ANTI JOIN task_outcomes o ON o.task_id = n.task_id AND o.outcome = n.outcome",
            [now],
        )
        changed = db.fetchone(
            "UPDATE tasks SET outcome = f.outcome, "
            " status = CASE WHEN f.outcome = 'unreachable' THEN 'failed' ELSE 'done' END, "
            " note = f.note, outcome_by = f.recorded_by, outcome_source = f.source, completed_at = f.recorded_at, "
            " outcome_at = ? FROM _final_outcomes f WHERE tasks.task_id = f.task_id AND tasks.status <> 'skipped' "
            f"AND coalesce(CASE tasks.outcome {rank} END, -1) <= CASE f.outcome {rank} END",
            [now],
        )
    return int(added[0]) if added else 0, int(changed[0]) if changed else 0


def _row(r: OutcomeRecord) -> dict[str, Any]:
    return {
        "task_id": r.task_id,
        "outcome": r.outcome,
        "note": r.note,
        "recorded_by": r.recorded_by,
        "recorded_at": r.recorded_at,
        "source": r.source,
    }


# -- names -------------------------------------------------------------------------------------------------
def find_stores(db: DuckDBEngine, text: str) -> list[tuple[str, str | None]]:
    """(store_id, name) of the stores whose id or name is `text`."""
    return [
        (a, b) for a, b in db.fetchall("SELECT store_id, name FROM stores WHERE store_id = ? OR name = ?", [text, text])
    ]


def find_staff(db: DuckDBEngine, text: str) -> list[tuple[str, str | None, str | None]]:
    """(guide_id, name, store name) of the staff whose id or name is `text`."""
    rows = db.fetchall(
        "SELECT g.guide_id, g.name, s.name FROM staff g LEFT JOIN stores s ON s.store_id = g.store_id "
        "WHERE g.guide_id = ? OR g.name = ? ORDER BY g.guide_id",
        [text, text],
    )
    return [(a, b, c) for a, b, c in rows]


def campaign_row(db: DuckDBEngine, campaign_id: str) -> dict[str, Any] | None:
    rows = _dicts(
        db,
        "SELECT campaign_id, name, scenario, status, launched_at, window_days, preview FROM campaigns "
        "WHERE campaign_id = ?",
        [campaign_id],
    )
    if not rows:
        return None
    row = rows[0]
    row["preview"] = json.loads(row["preview"]) if isinstance(row["preview"], str) else row["preview"]
    return row


# -- targets and completion ------------------------------------------------------------------------------
def store_segments(db: DuckDBEngine, campaign_id: str) -> list[tuple[str, str | None, str | None, int]]:
    """(store id or '', store name, segment, tasks) of a campaign's tasks: the plan the default targets use."""
    rows = db.fetchall(
        "SELECT coalesce(t.store_id, ''), s.name, cm.segment, count(*) FROM tasks t "
        "LEFT JOIN campaign_members cm ON cm.campaign_id = t.campaign_id AND cm.member_id = t.member_id "
        "LEFT JOIN stores s ON s.store_id = t.store_id WHERE t.campaign_id = ? GROUP BY ALL ORDER BY 1, 3",
        [campaign_id],
    )
    return [(a, b, c, int(d)) for a, b, c, d in rows]


def stored_targets(db: DuckDBEngine, campaign_id: str) -> dict[tuple[str, str], tuple[int, str]]:
    """(store, metric) -> (target, source)."""
    rows = _dicts(db, "SELECT store_id, metric, target, source FROM task_targets WHERE campaign_id = ?", [campaign_id])
    return {(r["store_id"], r["metric"]): (int(r["target"]), r["source"]) for r in rows}


def write_targets(
    db: DuckDBEngine, campaign_id: str, rows: Sequence[tuple[str, str, int]], *, source: str, now: dt.datetime
) -> int:
    """Store (store, metric, target) rows: defaults only where none is stored; `set` replaces what is there."""
    if not rows:
        return 0
    t = pa.table(
        {
            "store_id": pa.array([r[0] for r in rows], pa.string()),
            "metric": pa.array([r[1] for r in rows], pa.string()),
            "target": pa.array([r[2] for r in rows], pa.int32()),
        }
    )
    with db.transaction(), db.registered("_targets", t):
        if source == "set":
            db.execute(
                "DELETE FROM task_targets WHERE campaign_id = ? AND (store_id, metric) IN "
                "(SELECT (store_id, metric) FROM _targets)",
                [campaign_id],
            )
        row = db.fetchone(
            "INSERT INTO task_targets (campaign_id, store_id, metric, target, source, set_at) "
            "SELECT ?, n.store_id, n.metric, n.target, ?, ? FROM _targets n ANTI JOIN "
            "(SELECT * FROM task_targets WHERE campaign_id = ?) o ON o.store_id = n.store_id AND o.metric = n.metric",
            [campaign_id, source, now, campaign_id],
        )
    return int(row[0]) if row else 0


def store_progress(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """Per store of a campaign's tasks: tasks, open, overdue-escalated, contacted, invited, visited, and deals
    (a task recorded purchased, or whose member paid for an order in the response window)."""
    rank = " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK.items())
    return _dicts(
        db,
        f"""
        WITH c AS (
            SELECT CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS ws,
                   CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS we
            FROM campaigns WHERE campaign_id = ?
        ),
        bought AS (
            SELECT DISTINCT o.member_id FROM orders o, c
            WHERE o.status = 'paid' AND o.ordered_at >= c.ws AND o.ordered_at < c.we
              AND o.member_id IN (SELECT member_id FROM tasks WHERE campaign_id = ?)
        )
        SELECT coalesce(t.store_id, '') AS store_id, any_value(s.name) AS store_name, count(*) AS tasks,
               count(*) FILTER (WHERE t.status = 'open') AS open,
               count(*) FILTER (WHERE t.escalated_at IS NOT NULL AND t.status = 'open') AS escalated,
               count(*) FILTER (WHERE t.status = 'done') AS contacted,
               count(*) FILTER (WHERE CASE t.outcome {rank} END >= 2) AS invited,
               count(*) FILTER (WHERE CASE t.outcome {rank} END >= 3) AS visited,
               count(*) FILTER (WHERE t.outcome = 'purchased' OR b.member_id IS NOT NULL) AS purchased
        FROM tasks t LEFT JOIN stores s ON s.store_id = t.store_id LEFT JOIN bought b ON b.member_id = t.member_id
        WHERE t.campaign_id = ? GROUP BY 1 ORDER BY (coalesce(t.store_id, '') = ''), 1
        """,
        [campaign_id, campaign_id, campaign_id],
    )


# -- escalation -----------------------------------------------------------------------------------------
def escalate_overdue(db: DuckDBEngine, now: dt.datetime) -> list[dict[str, Any]]:
    """Open tasks of running campaigns past their due time (or without a guide) and not escalated yet go to their
    store's manager (the first by id; NULL when the store has none: HQ). Returns what was escalated, per store
    and manager."""
    with db.transaction():
        rows = db.dicts(
            f"""
            UPDATE tasks SET escalated_at = ?, escalated_to = (
                SELECT min(m.guide_id) FROM staff m
                WHERE m.store_id = tasks.store_id AND m.role IN ({_MANAGERS}) AND m.left_at IS NULL
            )
            WHERE status = 'open' AND escalated_at IS NULL AND (due_at < ? OR guide_id IS NULL)
              AND campaign_id IN (SELECT campaign_id FROM campaigns WHERE status = 'running')
            RETURNING task_id, store_id, escalated_to
            """,
            [now, now],
        )
    return rows


# -- the funnel ---------------------------------------------------------------------------------------------
def funnel_rows(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """Per arm of a campaign, members at each stage (each member counted once per stage): touches queued / sent
    (sent or delivered) / delivered / failed / skipped, clicked (a click event in the response window or a click on
    the member's short link of the campaign; link_clicks: every click on them, a refresh too) and visited events
    in the response window, tasks,
    contacted (task done), invited and visited (recorded), visited (recorded or a visit event), purchased (a paid
    order in the window) and revenue."""
    rank = " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK.items())
    return _dicts(
        db,
        f"""
        WITH c AS (
            SELECT campaign_id, CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS ws,
                   CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS we
            FROM campaigns WHERE campaign_id = ?
        ),
        cm AS (SELECT cm.member_id, cm.arm, c.ws, c.we FROM campaign_members cm JOIN c USING (campaign_id)),
        tou AS (
            SELECT member_id, bool_or(true) AS queued, bool_or(status IN ('sent', 'delivered')) AS sent,
                   bool_or(status = 'delivered') AS delivered, bool_or(status = 'failed') AS failed,
                   bool_or(status IN ('skipped', 'suppressed')) AS skipped
            FROM touches WHERE campaign_id = ? GROUP BY member_id
        ),
        tas AS (
            SELECT member_id, bool_or(true) AS task, bool_or(status = 'done') AS contacted,
                   max(CASE outcome {rank} END) AS stage
            FROM tasks WHERE campaign_id = ? GROUP BY member_id
        ),
        ev AS (
            SELECT cm.member_id, bool_or(e.event_type = 'click') AS clicked, bool_or(e.event_type = 'visit') AS visit
            FROM cm JOIN events e ON e.member_id = cm.member_id AND e.occurred_at >= cm.ws AND e.occurred_at < cm.we
            GROUP BY cm.member_id
        ),
        lnk AS (  -- a click on the member's own short link of this campaign (migration 016), whenever it came
            SELECT l.member_id, true AS clicked, count(*) AS clicks FROM short_links l JOIN link_clicks k USING (code)
            WHERE l.campaign_id = ? GROUP BY l.member_id
        ),
        buy AS (
            SELECT cm.member_id, count(*) FILTER (WHERE o.status = 'paid') AS paid,
                   coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
            FROM cm JOIN orders o ON o.member_id = cm.member_id AND o.ordered_at >= cm.ws AND o.ordered_at < cm.we
            GROUP BY cm.member_id
        )
        SELECT cm.arm, count(*) AS members,
               count(*) FILTER (WHERE tou.queued) AS queued, count(*) FILTER (WHERE tou.sent) AS sent,
               count(*) FILTER (WHERE tou.delivered) AS delivered, count(*) FILTER (WHERE tou.failed) AS failed,
               count(*) FILTER (WHERE tou.skipped) AS skipped,
               count(*) FILTER (WHERE ev.clicked OR lnk.clicked) AS clicked,
               count(*) FILTER (WHERE tas.task) AS tasks, count(*) FILTER (WHERE tas.contacted) AS contacted,
               count(*) FILTER (WHERE tas.stage >= 2) AS invited,
               count(*) FILTER (WHERE tas.stage >= 3 OR ev.visit) AS visited,
               count(*) FILTER (WHERE coalesce(buy.paid, 0) > 0) AS purchased,
               coalesce(sum(buy.revenue), 0)::DOUBLE AS revenue, coalesce(sum(lnk.clicks), 0) AS link_clicks
        FROM cm LEFT JOIN tou USING (member_id) LEFT JOIN tas USING (member_id) LEFT JOIN ev USING (member_id)
        LEFT JOIN lnk USING (member_id) LEFT JOIN buy USING (member_id)
        GROUP BY cm.arm ORDER BY cm.arm <> 'control', cm.arm
        """,
        [campaign_id, campaign_id, campaign_id, campaign_id],
    )
