"""The SQL of `winback demo respond` (read a launched campaign's members, write the simulated tills' records)
and of the demo guard (the marker a warehouse made by `winback demo` carries)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.campaigns.store import dicts
from winback.warehouse import till_orders

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


@dataclass(frozen=True)
class SimulationRun:
    """What the first `demo respond` of a campaign stored: its seed and uplift, and how far it has written."""

    seed: int
    uplift: dict[str, Any]
    until: dt.datetime | None  # None: a warehouse from before migration 012 (the whole window was written)


def simulation_run(db: DuckDBEngine, campaign_id: str) -> SimulationRun | None:
    row = db.fetchone(
        "SELECT seed, uplift, coalesce(simulated_until, TIMESTAMP '9999-12-31') FROM campaign_truth "
        "WHERE campaign_id = ? ORDER BY simulated_at LIMIT 1",
        [campaign_id],
    )
    if row is None:
        return None
    return SimulationRun(int(row[0]), json.loads(row[1]), row[2])


# -- the demo guard: only a warehouse made by `winback demo` takes the demo's synthetic writes ----------------


def demo_marker(db: DuckDBEngine) -> dict[str, Any] | None:
    """The spec of the demo brand that made this warehouse (the demo marker, migration 012), or None."""
    text = db.scalar("SELECT spec FROM demo_marker ORDER BY made_at LIMIT 1")
    return json.loads(text) if text else None


def holds_data(db: DuckDBEngine) -> bool:
    """Any member or order in the warehouse."""
    return bool(db.scalar("SELECT (SELECT count(*) FROM members) + (SELECT count(*) FROM orders)"))


def mark_demo(db: DuckDBEngine, spec: dict[str, Any], now: dt.datetime) -> None:
    """Mark the warehouse as made by `winback demo` (once)."""
    with db.transaction():
        if not db.scalar("SELECT count(*) FROM demo_marker"):
            db.execute("INSERT INTO demo_marker VALUES (?, ?)", [now, json.dumps(spec)])


def members_to_simulate(db: DuckDBEngine, campaign_id: str, as_of: dt.date | None) -> list[dict[str, Any]]:
    """The campaign's members with their arm, segment, store, guide, average order value and P(alive) at the
    snapshot."""
    return dicts(
        db,
        "SELECT cm.member_id, cm.arm, cm.segment, cm.store_id, cm.guide_id, s.aov, s.p_alive "
        "FROM campaign_members cm "
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
    until: dt.datetime,
    first: bool,
    member_truth: dict[str, list[Any]] | None = None,
) -> None:
    """In one transaction: the orders, the reached members' tasks done and touches sent, the truth row and each
    member's truth (on the first call; later calls move its `simulated_until` on)."""
    with db.transaction():
        if orders:
            with db.registered("_sim_orders", pa.Table.from_pylist(orders)):
                db.execute(
                    "INSERT INTO orders (order_id, member_id, source_member_id, store_id, guide_id, channel, "
                    " ordered_at, amount, quantity, status) SELECT order_id, member_id, source_member_id, "
                    " store_id, guide_id, channel, ordered_at, amount, quantity, status FROM _sim_orders"
                )
                till_orders.sync(db.con, "o.order_id IN (SELECT order_id FROM _sim_orders)")
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
        if first:
            db.execute(
                "INSERT INTO campaign_truth (campaign_id, simulated_at, seed, uplift, true_incremental, "
                " simulated_until) VALUES (?, ?, ?, ?, ?, ?)",
                [campaign_id, now, seed, json.dumps(uplift), json.dumps(truth), until],
            )
            if member_truth and member_truth["member_id"]:
                with db.registered("_member_truth", pa.table(member_truth)):
                    db.execute(
                        "INSERT INTO demo_member_truth (campaign_id, member_id, arm, offer_arm, p_untreated, "
                        " p_treated, mean_amount, incremental_revenue, incremental_responders) "
                        "SELECT campaign_id, member_id, arm, offer_arm, p_untreated, p_treated, mean_amount, "
                        " incremental_revenue, incremental_responders FROM _member_truth"
                    )
        else:
            db.execute("UPDATE campaign_truth SET simulated_until = ? WHERE campaign_id = ?", [until, campaign_id])


def coupon_codes(db: DuckDBEngine, campaign_id: str) -> dict[str, str]:
    """member id → coupon code of the campaign."""
    return dict(db.fetchall("SELECT member_id, code FROM coupons WHERE campaign_id = ?", [campaign_id]))
