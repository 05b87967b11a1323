"""The overview's warehouse reads: segment counts, the worth-waking figures per dormancy layer, member counts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winback.lifecycle import waking
from winback.quality.queries import contact_sql
from winback.warehouse.stamp import data_stamp

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def segment_counts(db: DuckDBEngine, as_of: dt.date, scheme: str) -> dict[str, int]:
    """segment -> members of `scheme` at `as_of` (segments without members are absent; built ones as built)."""
    table = "overview_segments" if built(db, as_of) else "member_segments"
    select = "sum(members)" if table == "overview_segments" else "count(*)"
    rows = db.fetchall(
        f"SELECT segment, {select} FROM {table} WHERE as_of = ? AND scheme = ? GROUP BY segment", [as_of, scheme]
    )
    return {segment: int(n) for segment, n in rows}


WAKE_COLUMNS = ("segment", "members", "worth_waking", "reachable", "value_at_stake", "past_monetary", "likely_alive",
                "avg_p_alive", "expected_revenue_365d")  # fmt: skip
TOP_COLUMNS = ("member_id", "segment", "tier", "store_id", "orders", "purchase_days", "monetary", "recency_days",
               "overdue_ratio", "value_at_stake", "p_alive", "clv")  # fmt: skip


def _in(segments: Sequence[str]) -> str:
    return ", ".join("?" for _ in segments)


def _wake_sql(segments: Sequence[str]) -> str:
    hq = waking.high_quality_sql("s.")
    stake = waking.value_at_stake_sql("s.")
    return f"""
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
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({_in(segments)})
        GROUP BY g.segment
        """


def _top_sql(segments: Sequence[str], limit: int, *, ranked: bool = False) -> str:
    order = f"{waking.rank_order_sql('s.')}, s.member_id"
    rank = f"row_number() OVER (ORDER BY {order}) AS rank, " if ranked else ""
    return f"""
        SELECT {rank}s.member_id, g.segment, s.tier, s.store_id, s.orders, s.purchase_days, s.monetary, s.recency_days,
               s.overdue_ratio, {waking.value_at_stake_sql("s.")} AS value_at_stake, s.p_alive, s.clv
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({_in(segments)})
          AND {waking.high_quality_sql("s.")}
        ORDER BY {order}
        LIMIT {int(limit)}
        """


def built(db: DuckDBEngine, as_of: dt.date) -> bool:
    """Whether the overview of `as_of` was built (build_overview) since its snapshot was last written (a warehouse
    opened read-only before migration 017 has no overview_built: never)."""
    has = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'overview_built'")
    return bool(has[0][0]) and bool(
        db.fetchall(
            "SELECT 1 FROM overview_built b WHERE b.as_of = ? AND b.built_at >= "
            "(SELECT max(r.refreshed_at) FROM snapshot_runs r WHERE r.as_of = b.as_of)",
            [as_of],
        )
    )


def build_overview(db: DuckDBEngine, as_of: dt.date, segments: Sequence[str], limit: int) -> None:
    """Write the segment counts, the worth-waking rows and the top `limit` of `as_of` (overview_segments,
    overview_layers, overview_top): the refresh
    calls this after it wrote the snapshot and the segments of `as_of`; a later read takes them from there."""
    db.execute("DELETE FROM overview_layers WHERE as_of = ?", [as_of])
    db.execute("DELETE FROM overview_top WHERE as_of = ?", [as_of])
    db.execute("DELETE FROM overview_built WHERE as_of = ?", [as_of])
    db.execute("DELETE FROM overview_segments WHERE as_of = ?", [as_of])
    db.execute(
        "INSERT INTO overview_segments SELECT as_of, scheme, segment, count(*) FROM member_segments WHERE as_of = ? "
        "GROUP BY ALL",
        [as_of],
    )
    db.execute(f"INSERT INTO overview_layers SELECT ?::DATE, * FROM ({_wake_sql(segments)})", [as_of, as_of, *segments])
    top = _top_sql(segments, limit, ranked=True)
    db.execute(f"INSERT INTO overview_top SELECT ?::DATE, * FROM ({top})", [as_of, as_of, *segments])
    db.execute("INSERT INTO overview_built VALUES (?, current_timestamp::TIMESTAMP)", [as_of])


def worth_waking_rows(db: DuckDBEngine, as_of: dt.date, segments: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Per seed_cn segment in `segments`: (segment, members, worth waking (high quality), reachable among those
    (valid mobile, not opted out), their value at stake, their past monetary, how many of them P(alive) >= 0.5,
    avg P(alive), their expected 365-day revenue without a campaign (CLV)) — definitions in lifecycle/waking.py.
    Built ones (build_overview) are read as built."""
    if built(db, as_of):
        sql = f"SELECT {', '.join(WAKE_COLUMNS)} FROM overview_layers WHERE as_of = ? AND segment IN ({_in(segments)})"
    else:
        sql = _wake_sql(segments)
    return {r[0]: r for r in db.fetchall(sql, [as_of, *segments])}


def top_at_stake(db: DuckDBEngine, as_of: dt.date, segments: Sequence[str], limit: int) -> list[dict[str, Any]]:
    """The `limit` dormant members worth waking with the most at stake, in ranking order (built ones as built,
    when at least `limit` were built)."""
    if built(db, as_of):
        rows = db.dicts(
            f"SELECT {', '.join(TOP_COLUMNS)} FROM overview_top WHERE as_of = ? AND segment IN ({_in(segments)}) "
            f"ORDER BY rank LIMIT {int(limit)}",
            [as_of, *segments],
        )
        (n,), *_ = db.fetchall("SELECT count(*) FROM overview_top WHERE as_of = ?", [as_of])
        if len(rows) >= limit or len(rows) == n:
            return rows
    return db.dicts(_top_sql(segments, limit), [as_of, *segments])


def member_counts(db: DuckDBEngine) -> tuple[int, int]:
    """(members: not merged away and not contacts, those with a valid mobile or landline)."""
    (live, valid), *_ = db.fetchall(
        "SELECT count(*), count(*) FILTER (WHERE phone_status IN ('mobile', 'landline')) FROM members m "
        f"WHERE merged_into IS NULL AND NOT {contact_sql('m')}"
    )
    return int(live), int(valid)


def keep_quality(db: DuckDBEngine, figures: dict[str, Any]) -> None:
    """Keep the overview's data-quality block (JSON-safe `figures`) under the warehouse's data stamp now."""
    with db.transaction():
        db.execute("DELETE FROM overview_quality")
        db.execute(
            "INSERT INTO overview_quality VALUES (?, current_timestamp::TIMESTAMP, ?)",
            [data_stamp(db.con), json.dumps(figures)],
        )


def kept_quality(db: DuckDBEngine) -> dict[str, Any] | None:
    """The kept data-quality block while the members and orders are as they were when it was kept, else None."""
    has = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'overview_quality'")
    if not has[0][0]:
        return None
    rows = db.fetchall("SELECT figures FROM overview_quality WHERE stamp = ?", [data_stamp(db.con)])
    return json.loads(rows[0][0]) if rows else None  # type: ignore[no-any-return]
