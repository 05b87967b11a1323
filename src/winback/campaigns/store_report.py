"""The SQL behind reports and planning: what each campaign member did in the response window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from winback.campaigns.outcomes import OUTCOMES_ROWS_SQL, OUTCOMES_SQL, OUTREACH_ROWS_SQL, PURCHASE_ROWS_SQL
from winback.campaigns.store import dicts
from winback.warehouse.stamp import data_stamp

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def member_outcomes(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """One row per campaign member: arm, store, guide, segment, purchased, revenue, contacted, redeemed, discount."""
    return dicts(db, OUTCOMES_SQL, [campaign_id, campaign_id, campaign_id])


def arm_totals(db: DuckDBEngine, campaign_id: str, column: str | None = None) -> list[dict[str, Any]]:
    """Per arm (and per value of `column`: store_id, guide_id or segment; '—' for none) what its members did,
    summed, with their revenue's sum and sample variance; arm NULL is all treated (non-control) arms together.
    Keys: grp, arm, members, contacted, invited, visited, redeemed, responders, revenue, revenue_var, discounts.
    Overall (no `column`), the purchases are taken as a refresh summed them (build_order_sums) while the orders are
    as they were then, and only the outreach's part is summed now."""
    kept = kept_order_sums(db, campaign_id) if column is None else None
    summed = _with_outreach(db, campaign_id, kept) if kept else None
    if summed is not None:
        return summed
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


ARM_SETS = "GROUP BY GROUPING SETS ((arm), (treated)) HAVING grouping(arm) = 0 OR treated"


def build_order_sums(db: DuckDBEngine, campaign_id: str) -> None:
    """Sum the purchases in the response window per arm (and of all treated arms), kept under the data stamp."""
    with db.transaction():
        db.execute("DELETE FROM report_order_sums WHERE campaign_id = ?", [campaign_id])
        db.execute(
            f"""
            INSERT INTO report_order_sums
            SELECT ?, CASE WHEN grouping(arm) = 0 THEN arm END, count(*), sum(purchased), coalesce(sum(revenue), 0),
                   var_samp(revenue), ?
            FROM (SELECT x.*, x.arm <> 'control' AS treated FROM ({PURCHASE_ROWS_SQL}) x) y
            {ARM_SETS}
            """,
            [campaign_id, data_stamp(db.con), campaign_id, campaign_id, campaign_id],
        )


def kept_order_sums(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """The kept purchase sums of a campaign while the orders are as they were then (else none)."""
    has = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'report_order_sums'")
    if not has[0][0]:
        return []
    return dicts(
        db,
        "SELECT arm, members, responders, revenue, revenue_var FROM report_order_sums WHERE campaign_id = ? "
        "AND stamp = ?",
        [campaign_id, data_stamp(db.con)],
    )


def _with_outreach(db: DuckDBEngine, campaign_id: str, kept: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The kept purchases with the outreach's part summed now (None if the arms differ: summed live instead)."""
    live = dicts(
        db,
        f"""
        SELECT CASE WHEN grouping(arm) = 0 THEN arm END AS arm, sum(contacted) AS contacted, sum(invited) AS invited,
               sum(visited) AS visited, sum(redeemed) AS redeemed, coalesce(sum(discount), 0) AS discounts
        FROM (SELECT x.*, x.arm <> 'control' AS treated FROM ({OUTREACH_ROWS_SQL}) x) y
        {ARM_SETS}
        """,
        [campaign_id] * 4,
    )
    by_arm = {r["arm"]: r for r in live}
    if set(by_arm) != {k["arm"] for k in kept}:
        return None
    return [{"grp": "", **k, **by_arm[k["arm"]]} for k in kept]


def open_campaigns(db: DuckDBEngine, since: dt.datetime) -> list[str]:
    """Launched campaigns whose response window had not ended by `since`."""
    rows = db.fetchall(
        "SELECT campaign_id FROM campaigns WHERE status IN ('running', 'closed') "
        "AND CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) > ? ORDER BY campaign_id",
        [since],
    )
    return [cid for (cid,) in rows]


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
