"""Where the planner's SQL runs (the text is in planner/sql.py): cell facts per period, the purchase model's inputs,
measured campaign effects, and the plans and solutions kept in the warehouse (migration 013)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from winback.common.tiers import shipped_rules
from winback.planner import sql
from winback.planner.types import CellFacts

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def _q(text: str, alias: str = "") -> str:
    """A planner text with the tier a member had at the snapshot (sql.tier_expr over rules/tiers.toml's rules)."""
    return sql.tiered(text, sql.tier_expr(shipped_rules(), alias))


def snapshot_dates(db: DuckDBEngine) -> list[dt.date]:
    return [r[0] for r in db.fetchall(sql.SNAPSHOT_DATES)]


def last_order_day(db: DuckDBEngine) -> dt.date | None:
    value = db.scalar(sql.LAST_ORDER_DAY)
    return value if isinstance(value, dt.date) else None


def cell_facts(db: DuckDBEngine, snapshot: dt.date, start: dt.date, end: dt.date) -> list[CellFacts]:
    """Members of the snapshot at `snapshot` by stage × tier, and what they bought in [start, end)."""
    rows = db.fetchall(_q(sql.CELL_FACTS), [snapshot, start, end])
    return [CellFacts(r[0], r[1], int(r[2]), int(r[3]), float(r[4]) + float(r[6]), float(r[5])) for r in rows]


def tier_spend(db: DuckDBEngine, snapshot: dt.date) -> dict[str, float]:
    """tier -> mean lifetime spend of its members at `snapshot` (ranks tiers the planner file does not list)."""
    return {r[0]: float(r[1] or 0.0) for r in db.fetchall(_q(sql.TIER_SPEND), [snapshot])}


def model_inputs(db: DuckDBEngine, snapshot: dt.date) -> tuple[str | None, dict[str, float], dict[str, np.ndarray]]:
    """(purchase model name, its parameters in weeks, per-buyer arrays: x, t_x, T (days), value, and the stage and
    tier as codes with their names)."""
    name = db.scalar(sql.PURCHASE_MODEL_OF_RUN, [snapshot])
    params: dict[str, float] = {}
    if name:
        raw = db.scalar(sql.MODEL_FIT, [snapshot, name])
        params = {k: float(v) for k, v in json.loads(raw).items()} if raw else {}
    t = db.query(_q(sql.MODEL_INPUTS), [snapshot])
    cols = {c: t.column(c).to_numpy(zero_copy_only=False) for c in ("x", "t_x", "big_t", "value")}
    for c in ("stage", "tier"):  # labels as codes + names: millions of members are summed by bincount
        enc = t.column(c).combine_chunks().dictionary_encode()
        cols[f"{c}_codes"] = enc.indices.to_numpy(zero_copy_only=False)
        cols[f"{c}_names"] = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    return (str(name) if name else None), params, cols


def guides(db: DuckDBEngine) -> int:
    return int(db.scalar(sql.GUIDES) or 0)


def campaign_effects(db: DuckDBEngine, now: dt.datetime) -> list[dict[str, Any]]:
    """Per scenario × lifecycle stage × arm kind (treated / control) of every campaign whose response window has
    ended: members, responders, revenue and its sum of squares, the campaign ids (read only)."""
    return db.dicts(sql.CAMPAIGN_EFFECTS, [now])


# -- plans -----------------------------------------------------------------------------------------------------
def plan_count(db: DuckDBEngine) -> int:
    return int(db.scalar(sql.PLAN_COUNT) or 0)


def save_plan(db: DuckDBEngine, body: dict[str, Any], created_at: dt.datetime) -> None:
    period = body["period"]
    end = dt.date.fromisoformat(period["end"]) + dt.timedelta(days=1)
    with db.transaction():
        db.execute(
            sql.INSERT_PLAN,
            [body["plan_id"], created_at, dt.date.fromisoformat(period["start"]), end,
             dt.date.fromisoformat(body["as_of"]), float(body["target_revenue"]), json.dumps(body, default=str,
                                                                                             ensure_ascii=False)],
        )  # fmt: skip


def plan_body(db: DuckDBEngine, plan_id: str) -> dict[str, Any] | None:
    raw = db.scalar(sql.PLAN_BODY, [plan_id])
    return json.loads(raw) if raw else None


def plan_ids(db: DuckDBEngine) -> list[str]:
    return [r[0] for r in db.fetchall(sql.PLAN_IDS)]


def save_solution(
    db: DuckDBEngine, plan_id: str, body: dict[str, Any], *, mode: str, budget: float | None, solved_at: dt.datetime
) -> None:
    with db.transaction():
        db.execute(
            sql.INSERT_SOLUTION, [plan_id, solved_at, mode, budget, json.dumps(body, default=str, ensure_ascii=False)]
        )


def latest_solution(db: DuckDBEngine, plan_id: str) -> dict[str, Any] | None:
    raw = db.scalar(sql.LATEST_SOLUTION, [plan_id])
    return json.loads(raw) if raw else None


def member_revenue(db: DuckDBEngine, start: dt.date, end: dt.date) -> float:
    return float(db.scalar(sql.MEMBER_REVENUE, [start, end]) or 0.0)


def first_order_day(db: DuckDBEngine) -> dt.date | None:
    value = db.scalar(sql.FIRST_ORDER_DAY)
    return value if isinstance(value, dt.date) else None


def stage_rules(db: DuckDBEngine, snapshot: dt.date) -> list[tuple[str, str, str]]:
    """(stage, zh, en) of the `lifecycle` scheme the snapshot at `snapshot` was built with, in rule order."""
    raw = db.scalar(sql.RUN_RULES, [snapshot])
    scheme = (json.loads(raw) if raw else {}).get("lifecycle") or {}
    return [(str(r["segment"]), str(r.get("zh", r["segment"])), str(r.get("en", r["segment"])))
            for r in scheme.get("rules", [])]  # fmt: skip


def reach(db: DuckDBEngine, snapshot: dt.date) -> dict[tuple[str, str], dict[str, int]]:
    """(stage, tier) -> channel -> members of the snapshot that channel may reach (see sql.REACH)."""
    return {
        (r["stage"], r["tier"]): {k: int(r[k]) for k in ("members", "sms", "wecom", "email", "guide_task")}
        for r in db.dicts(_q(sql.REACH, "s."), [snapshot])
    }


def plan_list(db: DuckDBEngine, limit: int) -> list[dict[str, Any]]:
    """The plans, newest first: period, target, status quo, gap and the latest solution's status (sql.PLAN_LIST)."""
    return db.dicts(sql.PLAN_LIST, [limit])


def never_bought(
    db: DuckDBEngine, snapshot: dt.date, start: dt.date, end: dt.date
) -> list[tuple[str, str, bool, int, int, float]]:
    """(stage, tier, registered recently, members, first purchases in [start, end), their revenue) of the members
    of the snapshot who never bought (sql.NEVER_BOUGHT)."""
    rows = db.fetchall(_q(sql.NEVER_BOUGHT), [snapshot, snapshot, start, end])
    return [(r[0], r[1], bool(r[2]), int(r[3]), int(r[4]), float(r[5])) for r in rows]
