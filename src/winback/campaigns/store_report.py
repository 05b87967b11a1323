"""The SQL behind reports and planning: what each campaign member did in the response window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from winback.campaigns.outcomes import OUTCOMES_ROWS_SQL, OUTCOMES_SQL
from winback.campaigns.store import dicts

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def member_outcomes(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """One row per campaign member: arm, store, guide, segment, purchased, revenue, contacted, redeemed, discount."""
    return dicts(db, OUTCOMES_SQL, [campaign_id, campaign_id, campaign_id])


def arm_totals(db: DuckDBEngine, campaign_id: str, column: str | None = None) -> list[dict[str, Any]]:
    """Per arm (and per value of `column`: store_id, guide_id or segment; '—' for none) what its members did,
    summed, with their revenue's sum and sample variance; arm NULL is all treated (non-control) arms together.
    Keys: grp, arm, members, contacted, invited, visited, redeemed, responders, revenue, revenue_var, discounts."""
    grp = "''" if column is None else f"coalesce(CAST(x.{column} AS VARCHAR), '—')"
    return dicts(
        db,
        f"""
        SELECT grp, CASE WHEN grouping(arm) = 0 THEN arm END AS arm, count(*) AS members,
               sum(contacted) AS contacted, sum(invited) AS invited, sum(visited) AS visited,
               sum(redeemed) AS redeemed, sum(purchased) AS responders, coalesce(sum(revenue), 0) AS revenue,
               var_samp(revenue) AS revenue_var, coalesce(sum(discount), 0) AS discounts
        FROM (SELECT {grp} AS grp, x.arm, x.arm <> 'control' AS treated, x.* EXCLUDE (arm)
              FROM ({OUTCOMES_ROWS_SQL}) x) y
        GROUP BY GROUPING SETS ((grp, arm), (grp, treated))
        HAVING grouping(arm) = 0 OR treated
        """,
        [campaign_id, campaign_id, campaign_id],
    )


def finished_campaigns(db: DuckDBEngine, now: dt.datetime) -> list[str]:
    """Launched campaigns whose response window has ended by `now`."""
    rows = db.fetchall(
        "SELECT campaign_id FROM campaigns WHERE status IN ('running', 'closed') "
        "AND launched_at + to_days(window_days) <= ? ORDER BY campaign_id",
        [now],
    )
    return [cid for (cid,) in rows]


def finished_outcomes(db: DuckDBEngine, now: dt.datetime) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(campaign id, member outcomes) for every campaign whose window has ended (the brand's own history), one
    campaign at a time."""
    for cid in finished_campaigns(db, now):
        yield cid, member_outcomes(db, cid)
