"""The overview's warehouse reads: segment counts, the worth-waking figures per dormancy layer, member counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winback.lifecycle import waking
from winback.quality.queries import contact_sql

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def segment_counts(db: DuckDBEngine, as_of: dt.date, scheme: str) -> dict[str, int]:
    """segment -> members of `scheme` at `as_of` (segments without members are absent)."""
    rows = db.fetchall(
        "SELECT segment, count(*) FROM member_segments WHERE as_of = ? AND scheme = ? GROUP BY segment",
        [as_of, scheme],
    )
    return {segment: int(n) for segment, n in rows}


def worth_waking_rows(db: DuckDBEngine, as_of: dt.date, segments: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Per seed_cn segment in `segments`: (segment, members, worth waking (high quality), reachable among those
    (valid mobile, not opted out), their value at stake, their past monetary, how many of them P(alive) >= 0.5,
    avg P(alive), their expected 365-day revenue without a campaign (CLV)) — definitions in lifecycle/waking.py."""
    hq = waking.high_quality_sql("s.")
    stake = waking.value_at_stake_sql("s.")
    rows = db.fetchall(
        f"""
        SELECT g.segment,
               count(*) AS members,
               count(*) FILTER (WHERE {hq}) AS worth_waking,
               count(*) FILTER (WHERE {hq} AND m.phone_status = 'mobile' AND m.opted_out_at IS NULL) AS reachable,
               coalesce(sum({stake}) FILTER (WHERE {hq}), 0) AS value_at_stake,
               coalesce(sum(s.monetary) FILTER (WHERE {hq}), 0) AS past_monetary,
               count(*) FILTER (WHERE {hq} AND s.p_alive >= 0.5) AS likely_alive,
               avg(s.p_alive) FILTER (WHERE {hq}) AS avg_p_alive,
               coalesce(sum(s.clv) FILTER (WHERE {hq}), 0) AS expected_revenue_365d
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        JOIN members m ON m.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({", ".join("?" for _ in segments)})
        GROUP BY g.segment
        """,
        [as_of, *segments],
    )
    return {r[0]: r for r in rows}


def top_at_stake(db: DuckDBEngine, as_of: dt.date, segments: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The `limit` dormant members worth waking with the most at stake, in ranking order."""
    return db.dicts(
        f"""
        SELECT s.member_id, g.segment, s.tier, s.store_id, s.orders, s.purchase_days, s.monetary, s.recency_days,
               s.overdue_ratio, {waking.value_at_stake_sql("s.")} AS value_at_stake, s.p_alive, s.clv
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({", ".join("?" for _ in segments)})
          AND {waking.high_quality_sql("s.")}
        ORDER BY {waking.rank_order_sql("s.")}, s.member_id
        LIMIT {int(limit)}
        """,
        [as_of, *segments],
    )


def member_counts(db: DuckDBEngine) -> tuple[int, int]:
    """(members: not merged away and not contacts, those with a valid mobile or landline)."""
    (live, valid), *_ = db.fetchall(
        "SELECT count(*), count(*) FILTER (WHERE phone_status IN ('mobile', 'landline')) FROM members m "
        f"WHERE merged_into IS NULL AND NOT {contact_sql('m')}"
    )
    return int(live), int(valid)
