"""The staff leaderboard's SQL: per guide and campaign, the treated and control members who bought in the response
window, the treated members' revenue, and what the guide's tasks recorded. Read-only.

A campaign counts when it was launched in the period (running or closed). Purchases and revenue follow the
campaign report's definition (campaigns/outcomes.py): paid orders in [launch day, launch day + window_days),
revenue = paid + refunded amounts; members count under the guide they had at launch (campaign_members.guide_id).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from winback.outreach.tasks import RANK

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_CAMPAIGNS = """
    SELECT campaign_id, CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS ws,
           CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS we
    FROM campaigns
    WHERE status IN ('running', 'closed') AND launched_at >= ? AND launched_at < ?
"""


def period_campaigns(db: DuckDBEngine, start: dt.date, end: dt.date) -> list[str]:
    rows = db.fetchall(f"SELECT campaign_id FROM ({_CAMPAIGNS}) ORDER BY 1", [start, end])
    return [r[0] for r in rows]


def guide_cells(db: DuckDBEngine, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """One row per (guide, campaign): n_treated, x_treated, n_control, x_control, revenue of the treated."""
    params: list[object] = [start, end]
    return db.dicts(
        f"""
        WITH c AS ({_CAMPAIGNS}),
        cm AS (
            SELECT cm.campaign_id, cm.member_id, cm.arm, cm.guide_id, c.ws, c.we
            FROM campaign_members cm JOIN c USING (campaign_id) WHERE cm.guide_id IS NOT NULL
        ),
        buy AS (
            SELECT cm.campaign_id, cm.member_id,
                   count(*) FILTER (WHERE o.status = 'paid') AS paid,
                   coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
            FROM cm JOIN orders o ON o.member_id = cm.member_id AND o.ordered_at >= cm.ws AND o.ordered_at < cm.we
            GROUP BY 1, 2
        )
        SELECT cm.guide_id, cm.campaign_id,
               count(*) FILTER (WHERE cm.arm <> 'control') AS n_treated,
               count(*) FILTER (WHERE cm.arm <> 'control' AND coalesce(b.paid, 0) > 0) AS x_treated,
               count(*) FILTER (WHERE cm.arm = 'control') AS n_control,
               count(*) FILTER (WHERE cm.arm = 'control' AND coalesce(b.paid, 0) > 0) AS x_control,
               coalesce(sum(b.revenue) FILTER (WHERE cm.arm <> 'control'), 0)::DOUBLE AS revenue
        FROM cm LEFT JOIN buy b USING (campaign_id, member_id)
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        params,
    )


def guide_tasks(db: DuckDBEngine, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per guide: tasks of the period's campaigns, contacts (reached), invited and visited (recorded outcomes)."""
    rank = " ".join(f"WHEN '{k}' THEN {v}" for k, v in RANK.items())
    params: list[object] = [start, end]
    return db.dicts(
        f"""
        SELECT t.guide_id, count(*) AS tasks,
               count(*) FILTER (WHERE t.status = 'done') AS contacts,
               count(*) FILTER (WHERE CASE t.outcome {rank} END >= 2) AS invited,
               count(*) FILTER (WHERE CASE t.outcome {rank} END >= 3) AS visited
        FROM tasks t JOIN ({_CAMPAIGNS}) c USING (campaign_id)
        WHERE t.guide_id IS NOT NULL
        GROUP BY 1
        """,
        params,
    )


def staff_names(db: DuckDBEngine) -> dict[str, tuple[str | None, str | None, str]]:
    """guide_id -> (name, store name, store id or '')."""
    rows = db.fetchall(
        "SELECT g.guide_id, g.name, s.name, coalesce(g.store_id, '') FROM staff g "
        "LEFT JOIN stores s ON s.store_id = g.store_id"
    )
    return {a: (b, c, d) for a, b, c, d in rows}
