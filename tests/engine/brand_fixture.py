"""A small seeded brand for engine parity: ~1,500 members and ~12,000 orders with every awkward case the refresh
handles (merged members, cancelled orders, refunds, same-day orders, orders on and after the as-of date, members
registered after it, never-purchased members, NULL tiers and stores, midnight timestamps)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from winback.warehouse.registered import registered

AS_OF = dt.date(2025, 6, 1)
START = dt.date(2022, 1, 1)


def build_brand(con: duckdb.DuckDBPyConnection, *, members: int = 1500, seed: int = 11) -> None:
    """Insert a seeded brand into an (empty) warehouse."""
    rng = np.random.default_rng(seed)
    span = (AS_OF - START).days + 60  # some registrations and orders fall after the as-of date
    ids = np.array([f"m{i:05d}" for i in range(members)])
    register = np.datetime64(START) + rng.integers(-400, span, members).astype("timedelta64[D]")
    tiers = np.array(["regular", "senior", "vip", None], dtype=object)[rng.choice(4, members, p=[0.6, 0.2, 0.1, 0.1])]
    stores = np.array([f"S{i}" for i in range(12)] + [None], dtype=object)[rng.integers(0, 13, members)]
    merged = np.where(rng.random(members) < 0.03, ids[rng.integers(0, members, members)], None)
    member_table = pa.table(
        {
            "member_id": ids,
            "register_date": pa.array(register.astype("datetime64[D]"), pa.date32()),
            "register_channel": np.where(rng.random(members) < 0.5, "online", "offline"),
            "store_id": pa.array(stores, pa.string()),
            "tier": pa.array(tiers, pa.string()),
            "merged_into": pa.array(merged, pa.string()),
        }
    )
    rate = rng.gamma(0.7, 1.0, members) / 60.0  # purchases per day, heterogeneous
    start = np.maximum((register - np.datetime64(START)).astype(int), 0)
    life = rng.exponential(500.0, members)
    counts = rng.poisson(rate * life)
    owner = np.repeat(np.arange(members), counts)
    n = owner.size
    day = np.minimum(start[owner] + rng.random(n) * life[owner], span)
    seconds = (day * 86400).astype(np.int64)
    seconds[rng.random(n) < 0.05] //= 86400 * 86400  # some exactly at midnight
    same_day = rng.random(n) < 0.05  # duplicate a few orders onto the same day, a few hours later
    ordered_at = np.datetime64(dt.datetime.combine(START, dt.time()), "s") + seconds.astype("timedelta64[s]")
    ordered_at = np.concatenate([ordered_at, ordered_at[same_day] + np.timedelta64(3600, "s")])
    owner = np.concatenate([owner, owner[same_day]])
    n = owner.size
    draw = rng.random(n)
    status = np.where(draw < 0.04, "refunded", np.where(draw < 0.08, "cancelled", "paid"))
    amount = np.round(np.exp(rng.normal(4.5, 0.7, n)), 2)
    amount = np.where(status == "refunded", -amount, amount)
    order_table = pa.table(
        {
            "order_id": [f"o{i:06d}" for i in range(n)],
            "member_id": ids[owner],
            "ordered_at": pa.array(ordered_at.astype("datetime64[us]"), pa.timestamp("us")),
            "amount": pa.array(amount, pa.float64()),
            "status": status,
        }
    )
    with registered(con, "fx_members", member_table), registered(con, "fx_orders", order_table):
        con.execute(
            "INSERT INTO members (member_id, register_date, register_channel, register_store, store_id, tier, "
            "merged_into, phone_status, source) SELECT member_id, register_date, register_channel, store_id, "
            "store_id, tier, merged_into, 'missing', 'erp' FROM fx_members"
        )
        con.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) "
            "SELECT order_id, member_id, member_id, ordered_at, CAST(amount AS DECIMAL(18, 2)), status FROM fx_orders"
        )
