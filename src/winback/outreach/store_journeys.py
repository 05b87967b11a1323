"""The daily run's SQL: which journey days were run, and whether new data arrived since the last refresh."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from winback.errors import EngineError, outdated_schema

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def last_days(db: DuckDBEngine) -> dict[str, dt.date]:
    """journey id -> the last day run."""
    try:
        rows = db.fetchall("SELECT journey_id, max(day) FROM journey_runs GROUP BY 1")
    except EngineError as exc:
        raise outdated_schema(exc, "journeys need") from exc
    return {a: b for a, b in rows}


def record_run(db: DuckDBEngine, row: dict[str, Any]) -> bool:
    """Insert one journey day (its key is (journey, day)); False when that day was recorded already."""
    with db.transaction():
        got = db.fetchone(
            "INSERT INTO journey_runs (journey_id, day, covers_from, campaign_id, members, tasks, touches, note, "
            " ran_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM journey_runs WHERE journey_id = ? AND day = ?)",
            [
                row["journey_id"],
                row["day"],
                row["covers_from"],
                row["campaign_id"],
                row["members"],
                row["tasks"],
                row["touches"],
                row["note"],
                row["ran_at"],
                row["journey_id"],
                row["day"],
            ],
        )
    return bool(got and got[0])


def new_data_since_refresh(db: DuckDBEngine) -> bool:
    """Whether an import finished after the last refresh (or there is data but no snapshot yet)."""
    row = db.fetchone("SELECT (SELECT max(finished_at) FROM imports), (SELECT max(refreshed_at) FROM snapshot_runs)")
    imported, refreshed = row if row else (None, None)
    return imported is not None and (refreshed is None or imported > refreshed)


def ledger_counts(db: DuckDBEngine) -> tuple[int, int]:
    """(tasks, touches) in the warehouse: what a run created is the difference."""
    row = db.fetchone("SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM touches)")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def finished_arms(db: DuckDBEngine, journey_id: str, at: dt.datetime) -> list[dict[str, Any]]:
    """Per finished campaign of a journey (its response window ended by `at`) and arm group (treated / control):
    members, Σ and Σ² of window revenue (paid + refunded), coupon discounts; with the campaign's margin and cost
    per contact."""
    return db.dicts(
        """
        WITH c AS (
            SELECT c.campaign_id, c.margin, c.cost_per_contact,
                   CAST(CAST(c.launched_at AS DATE) AS TIMESTAMP) AS ws,
                   CAST(CAST(c.launched_at AS DATE) AS TIMESTAMP) + to_days(c.window_days) AS we
            FROM campaigns c JOIN journey_runs r ON r.campaign_id = c.campaign_id
            WHERE r.journey_id = ? AND c.launched_at IS NOT NULL
              AND CAST(CAST(c.launched_at AS DATE) AS TIMESTAMP) + to_days(c.window_days) <= ?
        ),
        m AS (
            SELECT cm.campaign_id, cm.member_id, cm.arm = 'control' AS control,
                   coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
            FROM campaign_members cm JOIN c USING (campaign_id)
            LEFT JOIN orders o ON o.member_id = cm.member_id AND o.ordered_at >= c.ws AND o.ordered_at < c.we
            GROUP BY 1, 2, 3
        ),
        d AS (
            SELECT campaign_id, member_id, sum(discount) AS discount FROM coupons
            WHERE campaign_id IN (SELECT campaign_id FROM c) AND redeemed_at IS NOT NULL GROUP BY 1, 2
        )
        SELECT m.campaign_id, m.control, count(*) AS n, sum(m.revenue) AS revenue,
               sum(m.revenue * m.revenue) AS revenue_sq, coalesce(sum(d.discount), 0)::DOUBLE AS discounts,
               any_value(c.margin) AS margin, any_value(c.cost_per_contact) AS cost_per_contact
        FROM m JOIN c USING (campaign_id) LEFT JOIN d USING (campaign_id, member_id)
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [journey_id, at],
    )
