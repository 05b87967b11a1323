"""The overview's warehouse reads: segment counts, the worth-waking figures per dormancy layer, member counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def segment_counts(db: DuckDBEngine, as_of: dt.date, scheme: str) -> dict[str, int]:
    """segment -> members of `scheme` at `as_of` (segments without members are absent)."""
    rows = db.fetchall(
        "SELECT segment, count(*) FROM member_segments WHERE as_of = ? AND scheme = ? GROUP BY segment",
        [as_of, scheme],
    )
    return {segment: int(n) for segment, n in rows}


def worth_waking_rows(
    db: DuckDBEngine, as_of: dt.date, segments: Sequence[str], p_alive: float
) -> dict[str, tuple[Any, ...]]:
    """Per seed_cn segment in `segments`: (segment, members, likely alive (P(alive) >= p_alive), reachable among
    those (valid mobile, not opted out), avg P(alive), their expected 365-day revenue, their past monetary)."""
    threshold = float(p_alive)
    rows = db.fetchall(
        f"""
        SELECT g.segment,
               count(*) AS members,
               count(*) FILTER (WHERE s.p_alive >= {threshold}) AS likely_alive,
               count(*) FILTER (WHERE s.p_alive >= {threshold} AND m.phone_status = 'mobile'
                                AND m.opted_out_at IS NULL) AS reachable,
               avg(s.p_alive) AS avg_p_alive,
               coalesce(sum(s.clv) FILTER (WHERE s.p_alive >= {threshold}), 0) AS expected_revenue_365d,
               coalesce(sum(s.monetary) FILTER (WHERE s.p_alive >= {threshold}), 0) AS past_monetary
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        JOIN members m ON m.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({", ".join("?" for _ in segments)})
        GROUP BY g.segment
        """,
        [as_of, *segments],
    )
    return {r[0]: r for r in rows}


def member_counts(db: DuckDBEngine) -> tuple[int, int]:
    """(members not merged away, those with a valid mobile or landline)."""
    (live, valid), *_ = db.fetchall(
        "SELECT count(*), count(*) FILTER (WHERE phone_status IN ('mobile', 'landline')) FROM members "
        "WHERE merged_into IS NULL"
    )
    return int(live), int(valid)
