"""Order lines and member events: append-only facts, duplicates found by anti-join.

- order_items are keyed by (order id, line number); without a line-number column, lines are numbered
  1, 2, … within each order in file order.
- events are keyed by all their fields (member, type, time, channel, object): the same event twice is a duplicate.
A key repeated inside the file keeps its first row; the others count as duplicates.
"""

from __future__ import annotations

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest.aliases import ColumnMapping
from winback.ingest.plan import Plan, scalar, write_rejects
from winback.ingest.validate import PARSED

ROWS = "wb_fact_rows"


def _col(present: set[str], name: str, cast: str = "VARCHAR") -> str:
    return name if name in present else f"NULL::{cast}"


def _plan(
    db: DuckDBEngine,
    select_sql: str,
    key: list[str],
    target: str,
    insert_cols: list[str],
    narrow: str,
) -> Plan:
    """`select_sql` yields _row + insert_cols from valid rows; `narrow` limits the warehouse rows compared."""
    part = ", ".join(key)
    on = " AND ".join(f"e.{k} IS NOT DISTINCT FROM r.{k}" for k in key)
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {ROWS} AS SELECT *, "
        f"row_number() OVER (PARTITION BY {part} ORDER BY _row) > 1 AS _repeat, "
        f"EXISTS (SELECT 1 FROM {target} e WHERE {narrow} AND {on}) AS _exists FROM ({select_sql}) r"
    )
    total = scalar(db, f"SELECT count(*) FROM {ROWS}")
    dup = scalar(db, f"SELECT count(*) FROM {ROWS} WHERE _repeat OR _exists")
    plan = Plan(rows_loaded=total - dup, rows_duplicate=dup)

    def apply(c: DuckDBEngine, import_id: int) -> None:
        cols = ", ".join(insert_cols)
        c.execute(
            f"INSERT INTO {target} ({cols}, import_id) SELECT {cols}, {import_id} FROM {ROWS} "
            "WHERE NOT _repeat AND NOT _exists ORDER BY _row"
        )
        write_rejects(c, import_id)

    plan.apply = apply
    return plan


def plan_order_items(db: DuckDBEngine, mapping: ColumnMapping) -> Plan:
    p = set(mapping.fields)
    select = (
        "SELECT _row, order_id, coalesce("
        + _col(p, "line_no", "INTEGER")
        + ", CAST(row_number() OVER (PARTITION BY order_id ORDER BY _row) AS INTEGER)) AS line_no, "
        f"{_col(p, 'sku')} AS sku, {_col(p, 'category')} AS category, "
        f"{_col(p, 'quantity', 'INTEGER')} AS quantity, {_col(p, 'amount', 'DECIMAL(18,2)')} AS amount, "
        f"_extra AS extra FROM {PARSED} WHERE _err IS NULL"
    )
    return _plan(
        db,
        select,
        ["order_id", "line_no"],
        "order_items",
        ["order_id", "line_no", "sku", "category", "quantity", "amount", "extra"],
        f"e.order_id IN (SELECT order_id FROM {PARSED})",
    )


def plan_events(db: DuckDBEngine, mapping: ColumnMapping) -> Plan:
    p = set(mapping.fields)
    select = (
        "SELECT _row, member_id, lower(event_type) AS event_type, occurred_at, "
        f"{_col(p, 'channel')} AS channel, {_col(p, 'object_id')} AS object_id, _extra AS extra "
        f"FROM {PARSED} WHERE _err IS NULL"
    )
    return _plan(
        db,
        select,
        ["member_id", "event_type", "occurred_at", "channel", "object_id"],
        "events",
        ["member_id", "event_type", "occurred_at", "channel", "object_id", "extra"],
        f"e.member_id IN (SELECT member_id FROM {PARSED})",
    )
