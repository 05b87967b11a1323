"""Orders: line-level exports aggregated into orders, refunds kept as refunds, duplicates found by anti-join.

Rules (docs/import.md):
- A line is a refund when its status says so, its amount or quantity is negative, or its order id carries a
  cancellation mark (a leading "C" before digits, when the file also has plain numeric ids). Refund lines are
  stored with negative amount and quantity.
- Lines sharing (order id, direction) are one order: amount and quantity summed, `lines` counted, the earliest
  time and the member/store/guide the lines give (the smallest non-empty one if they disagree). Direction is
  sale or refund, so a refund that reuses the sale's order id is its own row.
- If any line of an order is rejected the whole order is rejected (no partial orders; re-import after fixing).
- An order whose (order id, direction) is already in the warehouse is a duplicate: its lines count as duplicates
  and nothing is written. If the file has SKU or category columns, the lines of new orders go to order_items.
"""

from __future__ import annotations

import duckdb

from winback.ingest.aliases import ColumnMapping
from winback.ingest.plan import Plan, raw_rows_sql, scalar, write_rejects
from winback.ingest.validate import PARSED

LINES = "wb_lines"
CASCADE = "wb_cascade"
AGG = "wb_orders_agg"
EXISTING = "wb_orders_existing"
_C_MARK = "^[Cc]\\d+$"


def _col(present: set[str], name: str, cast: str = "VARCHAR") -> str:
    return name if name in present else f"NULL::{cast}"


def plan_orders(con: duckdb.DuckDBPyConnection, mapping: ColumnMapping, columns: list[str]) -> Plan:
    present = set(mapping.fields)
    plan = Plan()
    c_rule = bool(
        scalar(
            con,
            f"SELECT count(*) FILTER (WHERE regexp_full_match(order_id, '\\d+')) > 0 "
            f"AND count(*) FILTER (WHERE regexp_matches(order_id, '{_C_MARK}')) > 0 FROM {PARSED}",
        )
    )
    if c_rule:
        plan.notes.append('order ids with a leading "C" were read as cancellation invoices (refunds)')
    status = _col(present, "status")
    qty = _col(present, "quantity", "INTEGER")
    refund = (
        f"(coalesce({status} = 'refunded', false) OR amount < 0 OR coalesce({qty} < 0, false)"
        + (f" OR regexp_matches(order_id, '{_C_MARK}')" if c_rule else "")
        + f") AND {status} IS DISTINCT FROM 'cancelled'"
    )
    # rejected orders: every line of an order with a rejected line is rejected too
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CASCADE} AS SELECT p._row, 'another line of order ' || p.order_id || "
        f"' was rejected (row ' || b.first_bad || ')' AS reason FROM {PARSED} p JOIN (SELECT order_id, "
        f"min(_row) AS first_bad FROM {PARSED} WHERE _err IS NOT NULL AND order_id IS NOT NULL GROUP BY order_id) b "
        f"ON p.order_id = b.order_id WHERE p._err IS NULL"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {LINES} AS SELECT _row, order_id, "
        f"CASE WHEN {refund} THEN 'refund' ELSE 'sale' END AS _dir, "
        f"{_col(present, 'member_id')} AS member_id, {_col(present, 'store_id')} AS store_id, "
        f"{_col(present, 'guide_id')} AS guide_id, {_col(present, 'channel')} AS channel, ordered_at, "
        f"CASE WHEN {refund} THEN -abs(amount) ELSE amount END AS amount, "
        f"CASE WHEN {refund} THEN -abs({qty}) ELSE {qty} END AS quantity, {status} AS status, "
        f"{_col(present, 'original_order_id')} AS original_order_id, {_col(present, 'sku')} AS sku, "
        f"{_col(present, 'category')} AS category, {_col(present, 'line_no', 'INTEGER')} AS line_no, _extra "
        f"FROM {PARSED} p WHERE _err IS NULL AND NOT EXISTS (SELECT 1 FROM {CASCADE} x WHERE x._row = p._row)"
    )
    # lines of one order normally agree on member, store, guide and channel; where they do not, the smallest
    # non-empty value is kept (min() is deterministic and much cheaper than "first in file order")
    firsts = ", ".join(
        f"min({c}) AS {c}" for c in ("member_id", "store_id", "guide_id", "channel", "original_order_id")
    )
    extra = "arg_min(_extra, _row) FILTER (WHERE _extra IS NOT NULL)" if mapping.kept else "NULL::JSON"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {AGG} AS SELECT order_id, _dir, count(*) AS lines, "
        "CASE WHEN bool_and(_cancel) THEN sum(amount) ELSE sum(amount) FILTER (WHERE NOT _cancel) END AS amount, "
        "CASE WHEN bool_and(_cancel) THEN sum(quantity) ELSE sum(quantity) FILTER (WHERE NOT _cancel) END "
        f"AS quantity, min(ordered_at) AS ordered_at, {firsts}, {extra} AS extra, "
        "CASE WHEN _dir = 'refund' THEN 'refunded' WHEN bool_and(_cancel) THEN 'cancelled' ELSE 'paid' END AS status "
        f"FROM (SELECT *, coalesce(status = 'cancelled', false) AS _cancel FROM {LINES}) GROUP BY order_id, _dir"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {EXISTING} AS SELECT DISTINCT e.order_id, "
        "CASE WHEN e.status = 'refunded' THEN 'refund' ELSE 'sale' END AS _dir FROM orders e "
        f"WHERE e.order_id IN (SELECT order_id FROM {AGG})"
    )
    dup_lines = scalar(
        con, f"SELECT coalesce(sum(lines), 0) FROM {AGG} a SEMI JOIN {EXISTING} e USING (order_id, _dir)"
    )
    all_lines = scalar(con, f"SELECT coalesce(sum(lines), 0) FROM {AGG}")
    plan.rows_duplicate = dup_lines
    plan.rows_loaded = all_lines - dup_lines
    plan.rows_rejected = scalar(con, f"SELECT count(*) FROM {CASCADE}")
    # their raw text is read now, while the staging relation still exists (it is dropped before writing)
    raw = raw_rows_sql(columns, CASCADE) if plan.rows_rejected else "SELECT NULL::BIGINT AS _row, NULL::JSON AS raw"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CASCADE} AS SELECT x._row, x.reason, r.raw FROM {CASCADE} x "
        f"LEFT JOIN ({raw}) r ON r._row = x._row"
    )
    with_items = bool(present & {"sku", "category"})

    def apply(c: duckdb.DuckDBPyConnection, import_id: int) -> None:
        # orders of a member merged away by identity resolution belong to the survivor
        merges = scalar(c, "SELECT count(*) FROM members WHERE merged_into IS NOT NULL")
        owner = "coalesce(m.merged_into, a.member_id)" if merges else "a.member_id"
        merged_join = (
            "LEFT JOIN (SELECT member_id, merged_into FROM members WHERE merged_into IS NOT NULL) m "
            "ON m.member_id = a.member_id"
            if merges
            else ""
        )
        c.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, store_id, guide_id, channel, ordered_at, "
            "amount, quantity, status, original_order_id, lines, extra, import_id) "
            f"SELECT a.order_id, {owner}, a.member_id, a.store_id, a.guide_id, a.channel, "
            "a.ordered_at, a.amount, a.quantity, a.status, a.original_order_id, a.lines, a.extra, "
            f"{import_id} FROM {AGG} a {merged_join} "
            f"ANTI JOIN {EXISTING} e ON e.order_id = a.order_id AND e._dir = a._dir"
        )
        if with_items:
            c.execute(
                "INSERT INTO order_items (order_id, line_no, sku, category, quantity, amount, import_id) "
                "SELECT l.order_id, coalesce(l.line_no, row_number() OVER (PARTITION BY l.order_id, l._dir "
                f"ORDER BY l._row)), l.sku, l.category, l.quantity, l.amount, {import_id} FROM {LINES} l "
                f"ANTI JOIN {EXISTING} e ON e.order_id = l.order_id AND e._dir = l._dir"
            )
        write_rejects(c, import_id, f"SELECT _row AS row_number, reason, raw FROM {CASCADE}")

    plan.apply = apply
    return plan
