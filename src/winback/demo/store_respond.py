"""The SQL of `winback demo respond`: read a launched campaign's members, write the simulated tills' records."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.campaigns.store import dicts

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def simulated_before(db: DuckDBEngine, campaign_id: str) -> bool:
    return bool(db.scalar("SELECT count(*) FROM campaign_truth WHERE campaign_id = ?", [campaign_id]))


def members_to_simulate(db: DuckDBEngine, campaign_id: str, as_of: dt.date | None) -> list[dict[str, Any]]:
    """The campaign's members with their arm, segment, store, guide and average order value at the snapshot."""
    return dicts(
        db,
        "SELECT cm.member_id, cm.arm, cm.segment, cm.store_id, cm.guide_id, s.aov FROM campaign_members cm "
        "LEFT JOIN member_snapshot s ON s.member_id = cm.member_id AND s.as_of = ? "
        "WHERE cm.campaign_id = ? ORDER BY cm.member_id",
        [as_of, campaign_id],
    )


def write_responses(
    db: DuckDBEngine,
    *,
    campaign_id: str,
    orders: list[dict[str, Any]],
    reached: list[str],
    launched: dt.datetime,
    now: dt.datetime,
    seed: int,
    uplift: dict[str, Any],
    truth: dict[str, Any],
) -> None:
    """In one transaction: the orders, the reached members' tasks done and touches sent, the truth row."""
    with db.transaction():
        if orders:
            with db.registered("_sim_orders", pa.Table.from_pylist(orders)):
                db.execute(
                    "INSERT INTO orders (order_id, member_id, source_member_id, store_id, guide_id, channel, "
                    " ordered_at, amount, quantity, status) SELECT order_id, member_id, source_member_id, "
                    " store_id, guide_id, channel, ordered_at, amount, quantity, status FROM _sim_orders"
                )
        if reached:
            with db.registered("_reached", pa.table({"member_id": reached})):
                db.execute(
                    "UPDATE tasks SET status = 'done', outcome = 'invited', completed_at = ? "
                    "WHERE campaign_id = ? AND member_id IN (SELECT member_id FROM _reached)",
                    [launched, campaign_id],
                )
                db.execute(
                    "UPDATE touches SET status = 'sent', sent_at = ? "
                    "WHERE campaign_id = ? AND member_id IN (SELECT member_id FROM _reached)",
                    [launched, campaign_id],
                )
        db.execute(
            "INSERT INTO campaign_truth VALUES (?, ?, ?, ?, ?)",
            [campaign_id, now, seed, json.dumps(uplift), json.dumps(truth)],
        )


def coupon_codes(db: DuckDBEngine, campaign_id: str) -> dict[str, str]:
    """member id → coupon code of the campaign."""
    return dict(db.fetchall("SELECT member_id, code FROM coupons WHERE campaign_id = ?", [campaign_id]))
