"""The SQL behind reports and planning: what each campaign member did in the response window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from winback.campaigns.outcomes import OUTCOMES_SQL
from winback.campaigns.store import dicts

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def member_outcomes(db: DuckDBEngine, campaign_id: str) -> list[dict[str, Any]]:
    """One row per campaign member: arm, store, guide, segment, purchased, revenue, contacted, redeemed, discount."""
    return dicts(db, OUTCOMES_SQL, [campaign_id, campaign_id, campaign_id])


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
