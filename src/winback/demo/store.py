"""The warehouse queries of `winback demo`: is the warehouse free for the brand, and what it holds afterwards."""

from __future__ import annotations

from typing import TYPE_CHECKING

from winback.demo.types import WarehouseCounts

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def quiet(db: DuckDBEngine) -> None:
    """No DuckDB progress bar on this connection: progress is the demo's to show, and stdout may carry --json."""
    db.execute("SET enable_progress_bar = false")


def members_held(db: DuckDBEngine) -> int:
    rows = db.fetchall("SELECT count(*) FROM members")
    return int(rows[0][0]) if rows else 0


_COUNTS = (
    "SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM members WHERE source = 'guide_wechat'), "
    "(SELECT count(*) FROM members WHERE phone_status IN ('invalid', 'missing')), "
    "(SELECT count(*) FROM orders), (SELECT count(*) FROM orders WHERE member_id IS NULL), "
    "(SELECT count(*) FROM orders WHERE status = 'refunded'), "
    "(SELECT coalesce(sum(amount), 0)::DOUBLE FROM orders WHERE status IN ('paid', 'refunded'))"
)


def warehouse_counts(db: DuckDBEngine) -> WarehouseCounts:
    members, wechat, bad, orders, walk_in, refunds, revenue = db.fetchall(_COUNTS)[0]
    return WarehouseCounts(
        members=int(members),
        wechat_members=int(wechat),
        bad_phones=int(bad),
        orders=int(orders),
        walk_in_orders=int(walk_in),
        refund_orders=int(refunds),
        revenue=float(revenue),
    )
