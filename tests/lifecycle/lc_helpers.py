"""Small hand-built warehouses for lifecycle tests (rows inserted directly, numbers computable by hand)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import duckdb
import pyarrow as pa

from winback.warehouse.registered import registered

AS_OF = dt.date(2024, 7, 1)

# member_id, register_date, tier, store_id, phone, name, merged_into
MEMBERS: list[tuple[str, str | None, str | None, str | None, str | None, str | None, str | None]] = [
    ("m1", "2023-01-01", "VIP", "S1", "+8613812345678", "张三", None),
    ("m2", "2023-02-01", "VIP", "S2", None, None, None),
    ("m3", "2024-01-01", "regular", "S2", None, None, None),  # never purchased
    ("m4", "2023-03-01", "VIP", "S1", None, None, "m1"),  # merged into m1: not in the snapshot
    ("m5", "2024-07-01", "regular", "S1", None, None, None),  # registered ON the as-of date: not in it
    ("m6", None, None, "S2", None, None, None),  # only a cancelled order: never purchased
    ("m7", "2021-12-01", "regular", "S1", None, None, None),
    ("m8", "2023-11-01", "regular", "S1", None, None, None),
]

# order_id, member_id, ordered_at, amount, status
ORDERS: list[tuple[str, str, str, float, str]] = [
    ("o1", "m1", "2024-01-10 09:00:00", 100, "paid"),
    ("o2", "m1", "2024-01-10 18:00:00", 50, "paid"),  # same day: 2 orders, 1 purchase day
    ("o3", "m1", "2024-03-10 12:00:00", 200, "paid"),
    ("o4", "m1", "2024-03-15 12:00:00", -40, "refunded"),  # a refund is not a purchase day, it nets monetary
    ("o5", "m1", "2024-05-10 12:00:00", 80, "paid"),
    ("o6", "m1", "2024-05-12 12:00:00", 500, "cancelled"),  # ignored
    ("o7", "m1", "2024-07-01 00:00:00", 999, "paid"),  # ON the as-of date: excluded
    ("o8", "m2", "2023-06-01 10:00:00", 300, "paid"),
    ("o9", "m2", "2024-06-30 23:59:59", 20, "paid"),  # the last second before as-of: included
    ("o10", "m6", "2024-02-01 10:00:00", 70, "cancelled"),
    ("o11", "m7", "2022-01-01 10:00:00", 60, "paid"),
    ("o12", "m8", "2023-12-01 10:00:00", 10, "paid"),
]


def add_members(con: duckdb.DuckDBPyConnection, rows: Iterable[Sequence[object]]) -> None:
    rows = list(rows)
    if not rows:
        return
    con.executemany(
        "INSERT INTO members (member_id, register_date, tier, store_id, phone, name, merged_into, phone_status, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'missing', 'erp')",
        [list(r) for r in rows],
    )


def add_orders(con: duckdb.DuckDBPyConnection, rows: Iterable[Sequence[object]]) -> None:
    rows = list(rows)
    if not rows:
        return
    batch = pa.table(
        {
            "order_id": [r[0] for r in rows],
            "member_id": [r[1] for r in rows],
            "ordered_at": [str(r[2]) for r in rows],
            "amount": [float(r[3]) for r in rows],  # type: ignore[arg-type]
            "status": [r[4] for r in rows],
        }
    )
    with registered(con, "lc_new_orders", batch):
        con.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) "
            "SELECT order_id, member_id, member_id, CAST(ordered_at AS TIMESTAMP), CAST(amount AS DECIMAL(18, 2)), "
            "status FROM lc_new_orders"
        )


def build_small(con: duckdb.DuckDBPyConnection) -> None:
    add_members(con, MEMBERS)
    add_orders(con, ORDERS)


def snapshot_rows(con: duckdb.DuckDBPyConnection, as_of: dt.date = AS_OF) -> dict[str, dict[str, object]]:
    cur = con.execute("SELECT * FROM member_snapshot WHERE as_of = ? ORDER BY member_id", [as_of])
    cols = [d[0] for d in cur.description]
    return {r[1]: dict(zip(cols, r, strict=True)) for r in cur.fetchall()}
