"""Orders: line-level exports aggregated into orders, refunds kept as refunds, duplicates found by anti-join.

Rules (docs/import.md):
- A line is a refund when its status says so, its amount or quantity is negative, or its order id carries a
  cancellation mark (a leading "C" before digits, when the file also has plain numeric ids). Refund lines are
  stored with negative amount and quantity.
- Lines sharing (order id, direction) are one order: amount and quantity summed, `lines` counted, the earliest
  time and the member/store/guide the lines give (the smallest non-empty one if they disagree). Direction is
  sale or refund, so a refund that reuses the sale's order id is its own row.
- If any line of an order is rejected the whole order is rejected (no partial orders; re-import after fixing).
- Identical lines of one order are all kept (a real double scan is two items): each is a line of its order, and
  order_items numbers them by occurrence (1, 2, … among identical lines). Only with a line-number column is a later
  row repeating (order id, direction, line number) a duplicate (the file says it is the same line); the first is
  kept.
- An order whose (order id, direction) is already in the warehouse is a duplicate: its lines count as duplicates
  and nothing is written, unless the file changes its status (paid -> cancelled, unpaid -> paid, …): then the
  order's status, amount, quantity and line count are updated, its lines count as loaded and updated, and the
  change goes to order_status_changes (a refund of an order already loaded as paid is its own refund row and is
  recorded there as paid -> refunded). If the file has SKU or category columns, the lines of new orders go to
  order_items.

Speed: the orders are aggregated straight into the INSERT (no intermediate table), without the cancellation
rules when no line is cancelled. When no (order id, direction) repeats in the file (an order-level export; checked
with a cheap estimate first, then exactly), each line is its order and the aggregation and the line numbering are
skipped (no line can then repeat, so the in-file duplicate check is skipped too). Each shortcut gives the same
result as the general path (tests/ingest/test_orders_fast_path.py). New orders are written sorted by member and
time: DuckDB then writes whole row groups in order and the checkpoint has nothing to compact (about 0.6 CPU s less
per million lines, a 30 % smaller table), and each import's orders are clustered by member for the refresh.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from winback.engine.duckdb_engine import DuckDBEngine
from winback.i18n import _
from winback.ingest.aliases import ColumnMapping
from winback.ingest.plan import Apply, Plan, raw_rows_sql, scalar, write_rejects
from winback.ingest.sqltext import names_of
from winback.ingest.validate import PARSED
from winback.warehouse import till_orders

LINES = "wb_lines"
LOADABLE = "wb_lines_loadable"
REPEATS = "wb_lines_repeated"
CASCADE = "wb_cascade"
EXISTING = "wb_orders_existing"
CHANGES = "wb_status_changes"
#: what makes two lines of one order identical (their occurrence index tells them apart)
_IDENTICAL = ("order_id", "_dir", "sku", "category", "quantity", "amount")
_C_MARK = "^[Cc]\\d+$"
#: an estimated distinct count (HyperLogLog, a few % off) below this share of the lines means that ids repeat,
#: with no exact check needed; line-level exports have well over 1.1 lines per order
_UNIQUE_ESTIMATE = 0.9
_ORDER_COLUMNS = (
    "order_id, member_id, source_member_id, store_id, guide_id, channel, ordered_at, amount, quantity, status, "
    "original_order_id, lines, extra, import_id"
)


def _col(present: set[str], name: str, cast: str = "VARCHAR") -> str:
    return name if name in present else f"NULL::{cast}"


def _has_c_rule(db: DuckDBEngine) -> bool:
    """Both a plain numeric id and a "C" + digits id occur (byte comparisons, which min/max statistics can skip,
    before the regexes)."""
    return bool(
        scalar(
            db,
            f"SELECT EXISTS (SELECT 1 FROM {PARSED} WHERE order_id >= '0' AND order_id < ':' "
            "AND regexp_full_match(order_id, '\\d+')) "
            f"AND EXISTS (SELECT 1 FROM {PARSED} WHERE (prefix(order_id, 'C') OR prefix(order_id, 'c')) "
            f"AND regexp_matches(order_id, '{_C_MARK}'))",
        )
    )


def _one_line_per_order(db: DuckDBEngine, lines: int) -> bool:
    """True when no (order id, direction) occurs twice among the loadable lines."""
    if lines == 0:
        return True
    estimate = scalar(db, f"SELECT approx_count_distinct(hash(order_id, _dir)) FROM {LINES}")
    if estimate < _UNIQUE_ESTIMATE * lines:
        return False
    return scalar(db, f"SELECT count(*) FROM (SELECT DISTINCT order_id, _dir FROM {LINES})") == lines


def _repeated_lines(db: DuckDBEngine, line_no: bool) -> int:
    """Fills REPEATS(_row) with the loadable lines that repeat an earlier line's (order id, direction, line number)
    when the file has a line-number column (without one, identical lines are separate lines). Returns the count."""
    if not line_no:
        return 0
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {REPEATS} AS SELECT _row FROM (SELECT _row, row_number() OVER "
        f"(PARTITION BY order_id, _dir, line_no ORDER BY _row) AS _n FROM {LOADABLE} WHERE line_no IS NOT NULL) "
        "WHERE _n > 1"
    )
    return scalar(db, f"SELECT count(*) FROM {REPEATS}")


def _identical_lines(db: DuckDBEngine) -> int:
    """How many lines repeat an earlier line of their order exactly (they are kept: occurrence 2, 3, …)."""
    key = f"hash({', '.join(_IDENTICAL)})"
    return scalar(db, f"SELECT count(*) - count(DISTINCT {key}) FROM {LINES}")


def _has_cancelled_lines(db: DuckDBEngine, present: set[str]) -> bool:
    """Whether any loadable line is cancelled or unpaid (without one, the aggregation needs no such rules)."""
    return "status" in present and bool(
        scalar(db, f"SELECT EXISTS (SELECT 1 FROM {LINES} WHERE status IN ('cancelled', 'unpaid'))")
    )


def _aggregated_sql(present: set[str], with_extra: bool, cancels: bool) -> str:
    """One row per (order id, direction) of the loadable lines, in the `orders` columns (without import_id)."""
    # lines of one order normally agree on member, store, guide and channel; where they do not, the smallest
    # non-empty value is kept (min() is deterministic and much cheaper than "first in file order")
    firsts = ", ".join(
        f"min({c}) AS {c}" if c in present else f"NULL::VARCHAR AS {c}"
        for c in ("member_id", "store_id", "guide_id", "channel", "original_order_id")
    )
    extra = "arg_min(_extra, _row) FILTER (WHERE _extra IS NOT NULL)" if with_extra else "NULL::JSON"
    if not cancels:  # the same result as the rules below when no line is cancelled, at about 2/3 of the cost
        return (
            "SELECT order_id, _dir, count(*) AS lines, sum(amount) AS amount, sum(quantity) AS quantity, "
            f"min(ordered_at) AS ordered_at, {firsts}, {extra} AS extra, "
            f"CASE WHEN _dir = 'refund' THEN 'refunded' ELSE 'paid' END AS status FROM {LINES} GROUP BY order_id, _dir"
        )
    return (
        "SELECT order_id, _dir, count(*) AS lines, "
        "CASE WHEN bool_and(_cancel) THEN sum(amount) ELSE sum(amount) FILTER (WHERE NOT _cancel) END AS amount, "
        "CASE WHEN bool_and(_cancel) THEN sum(quantity) ELSE sum(quantity) FILTER (WHERE NOT _cancel) END "
        f"AS quantity, min(ordered_at) AS ordered_at, {firsts}, {extra} AS extra, "
        "CASE WHEN _dir = 'refund' THEN 'refunded' WHEN bool_and(_cancel) THEN 'cancelled' "
        "WHEN bool_and(_cancel OR _unpaid) THEN 'unpaid' ELSE 'paid' END AS status "
        f"FROM (SELECT *, coalesce(status = 'cancelled', false) AS _cancel, coalesce(status = 'unpaid', false) "
        f"AS _unpaid FROM {LINES}) GROUP BY order_id, _dir"
    )


def _single_sql() -> str:
    """The same columns as `_aggregated_sql` when every order has exactly one line (no aggregation needed)."""
    return (
        "SELECT order_id, _dir, 1 AS lines, amount, quantity, ordered_at, member_id, store_id, guide_id, channel, "
        "original_order_id, _extra AS extra, CASE WHEN _dir = 'refund' THEN 'refunded' "
        "WHEN coalesce(status = 'cancelled', false) THEN 'cancelled' WHEN coalesce(status = 'unpaid', false) "
        f"THEN 'unpaid' ELSE 'paid' END AS status FROM {LINES}"
    )


def plan_orders(db: DuckDBEngine, mapping: ColumnMapping, columns: Mapping[str, str] | Sequence[str]) -> Plan:
    """`columns`: the file's columns -> their staging names (`Staged.names`)."""
    present = set(mapping.fields)
    columns = names_of(columns)
    plan = Plan()
    c_rule = _has_c_rule(db)
    if c_rule:
        plan.notes.append(_('order ids with a leading "C" were read as cancellation invoices (refunds)'))
    plan.rows_rejected = _cascade(db)
    _loadable(db, present, _refund_sql(present, c_rule), cascaded=bool(plan.rows_rejected))
    all_lines = scalar(db, f"SELECT count(*) FROM {PARSED} WHERE _err IS NULL") - plan.rows_rejected
    single, repeats = _without_repeats(db, present, all_lines)
    all_lines -= repeats
    has_existing = _existing(db)
    dup_lines = (
        scalar(db, f"SELECT count(*) FROM {LINES} l SEMI JOIN {EXISTING} e USING (order_id, _dir)")
        if has_existing
        else 0
    )
    _keep_cascade_raw(db, columns, bool(plan.rows_rejected))
    orders_sql = (
        _single_sql() if single else _aggregated_sql(present, bool(mapping.kept), _has_cancelled_lines(db, present))
    )
    updated, plan.status_changes = _status_changes(db, orders_sql) if has_existing else (0, 0)
    plan.rows_duplicate = repeats + dup_lines - updated
    plan.rows_loaded = all_lines - dup_lines + updated
    plan.rows_updated = updated
    with_items = bool(present & {"sku", "category"})
    plan.identical_lines = 0 if single else _identical_lines(db)
    plan.apply = _applier(
        orders_sql,
        single,
        with_items=with_items,
        existing=has_existing,
        occurrences=bool(plan.identical_lines),
        changes=bool(plan.status_changes),
    )
    return plan


def _status_changes(db: DuckDBEngine, orders_sql: str) -> tuple[int, int]:
    """CHANGES: the warehouse's orders whose status the file changes (`_update`: the sale row is updated), and the
    refunds of orders the warehouse has as paid (recorded only: the refund is its own row). Returns (lines of the
    orders updated, changes recorded)."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {CHANGES} AS SELECT a.order_id, e.status AS old_status, a.status AS new_status, "
        "e.amount AS old_amount, a.amount AS new_amount, a.quantity, a.lines, a._dir = 'sale' AS _update "
        f"FROM ({orders_sql}) a JOIN {EXISTING} e ON e.order_id = a.order_id AND e._dir = 'sale' "
        "WHERE (a._dir = 'sale' AND a.status IS DISTINCT FROM e.status) OR (a._dir = 'refund' AND e.status = 'paid' "
        f"AND NOT EXISTS (SELECT 1 FROM {EXISTING} x WHERE x.order_id = a.order_id AND x._dir = 'refund'))"
    )
    return (
        scalar(db, f"SELECT coalesce(sum(lines), 0) FROM {CHANGES} WHERE _update"),
        scalar(db, f"SELECT count(*) FROM {CHANGES}"),
    )


def _refund_sql(present: set[str], c_rule: bool) -> str:
    """SQL: the parsed line is a refund (status, a negative amount or quantity, or the "C" mark)."""
    status = _col(present, "status")
    qty = _col(present, "quantity", "INTEGER")
    return (
        f"(coalesce({status} = 'refunded', false) OR amount < 0 OR coalesce({qty} < 0, false)"
        + (f" OR regexp_matches(order_id, '{_C_MARK}')" if c_rule else "")
        + f") AND coalesce({status} NOT IN ('cancelled', 'unpaid'), true)"
    )


def _cascade(db: DuckDBEngine) -> int:
    """CASCADE: every valid line of an order with a rejected line is rejected too. Returns their count."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {CASCADE} AS SELECT p._row, 'another line of order ' || p.order_id || "
        f"' was rejected (row ' || b.first_bad || ')' AS reason FROM {PARSED} p JOIN (SELECT order_id, "
        f"min(_row) AS first_bad FROM {PARSED} WHERE _err IS NOT NULL AND order_id IS NOT NULL GROUP BY order_id) b "
        f"ON p.order_id = b.order_id WHERE p._err IS NULL"
    )
    return scalar(db, f"SELECT count(*) FROM {CASCADE}")


def _loadable(db: DuckDBEngine, present: set[str], refund: str, *, cascaded: bool) -> None:
    """LOADABLE (and LINES, the same for now): the lines that may be loaded, with direction and signs."""
    status = _col(present, "status")
    qty = _col(present, "quantity", "INTEGER")
    cascade_filter = f" AND NOT EXISTS (SELECT 1 FROM {CASCADE} x WHERE x._row = p._row)" if cascaded else ""
    db.execute(
        f"CREATE OR REPLACE TEMP VIEW {LOADABLE} AS SELECT _row, order_id, "
        f"CASE WHEN {refund} THEN 'refund' ELSE 'sale' END AS _dir, "
        f"{_col(present, 'member_id')} AS member_id, {_col(present, 'store_id')} AS store_id, "
        f"{_col(present, 'guide_id')} AS guide_id, {_col(present, 'channel')} AS channel, ordered_at, "
        f"CASE WHEN {refund} THEN -abs(amount) ELSE amount END AS amount, "
        f"CASE WHEN {refund} THEN -abs({qty}) ELSE {qty} END AS quantity, {status} AS status, "
        f"{_col(present, 'original_order_id')} AS original_order_id, {_col(present, 'sku')} AS sku, "
        f"{_col(present, 'category')} AS category, {_col(present, 'line_no', 'INTEGER')} AS line_no, _extra "
        f"FROM {PARSED} p WHERE _err IS NULL{cascade_filter}"
    )
    db.execute(f"CREATE OR REPLACE TEMP VIEW {LINES} AS SELECT * FROM {LOADABLE}")


def _without_repeats(db: DuckDBEngine, present: set[str], all_lines: int) -> tuple[bool, int]:
    """Lines repeating a line number within the file are duplicates (only possible when some (order id, direction)
    repeats): LINES then leaves them out. Returns (one line per order, repeated lines)."""
    single = _one_line_per_order(db, all_lines)
    repeats = 0 if single else _repeated_lines(db, "line_no" in present)
    if repeats:
        db.execute(
            f"CREATE OR REPLACE TEMP VIEW {LINES} AS SELECT * FROM {LOADABLE} l ANTI JOIN {REPEATS} r USING (_row)"
        )
        single = _one_line_per_order(db, all_lines - repeats)
    return single, repeats


def _existing(db: DuckDBEngine) -> bool:
    """EXISTING: the warehouse's orders that share an id with the file (none when the warehouse has no orders
    yet). Returns whether there are any."""
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {EXISTING} AS SELECT e.order_id, "
        "CASE WHEN e.status = 'refunded' THEN 'refund' ELSE 'sale' END AS _dir, min(e.status) AS status, "
        "sum(e.amount) AS amount FROM orders e "
        f"WHERE e.order_id IN (SELECT order_id FROM {PARSED} WHERE _err IS NULL) GROUP BY ALL"
        if scalar(db, "SELECT count(*) FROM (SELECT 1 FROM orders LIMIT 1)")
        else f"CREATE OR REPLACE TEMP TABLE {EXISTING} (order_id VARCHAR, _dir VARCHAR, status VARCHAR, "
        "amount DECIMAL(18, 2))"
    )
    return bool(scalar(db, f"SELECT count(*) FROM {EXISTING}"))


def _keep_cascade_raw(db: DuckDBEngine, columns: Mapping[str, str], any_rejected: bool) -> None:
    """The cascaded lines' raw text is read now, while the staging relation still exists (it is dropped before
    writing)."""
    raw = raw_rows_sql(columns, CASCADE) if any_rejected else "SELECT NULL::BIGINT AS _row, NULL::JSON AS raw"
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {CASCADE} AS SELECT x._row, x.reason, r.raw FROM {CASCADE} x "
        f"LEFT JOIN ({raw}) r ON r._row = x._row"
    )


def _applier(
    orders_sql: str, single: bool, *, with_items: bool, existing: bool, occurrences: bool, changes: bool
) -> Apply:
    """The writes of the plan (new orders, status changes, the lines of new orders when the file has SKU or
    category, rejects), run in the caller's transaction."""
    new_only = f" ANTI JOIN {EXISTING} e ON e.order_id = a.order_id AND e._dir = a._dir" if existing else ""
    line_no = (
        "coalesce(a.line_no, 1)"
        if single
        else "coalesce(a.line_no, row_number() OVER (PARTITION BY a.order_id, a._dir ORDER BY a._row))"
    )
    identical = ", ".join(f"a.{c}" for c in _IDENTICAL)
    occurrence = f"row_number() OVER (PARTITION BY {identical} ORDER BY a._row)" if occurrences else "1"

    def apply(c: DuckDBEngine, import_id: int) -> None:
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
            f"INSERT INTO orders ({_ORDER_COLUMNS}) SELECT a.order_id, {owner}, a.member_id, a.store_id, "
            "a.guide_id, a.channel, a.ordered_at, a.amount, a.quantity, a.status, a.original_order_id, a.lines, "
            f"a.extra, {import_id} FROM ({orders_sql}) a {merged_join}{new_only} ORDER BY {owner}, a.ordered_at"
        )  # clustered by member: full row groups written in order (no compaction at the checkpoint), a smaller
        # file, and a refresh that reads a few members' orders skips the other row groups by their min/max
        if changes:
            _apply_changes(c, import_id)
        till_orders.sync(c.con, f"o.import_id = {int(import_id)}")  # the tills' paid orders: new and changed rows
        if with_items:
            c.execute(
                "INSERT INTO order_items (order_id, line_no, sku, category, quantity, amount, occurrence, import_id) "
                f"SELECT a.order_id, {line_no}, a.sku, a.category, a.quantity, a.amount, {occurrence}, {import_id} "
                f"FROM {LINES} a{new_only}"
            )
        write_rejects(c, import_id, f"SELECT _row AS row_number, reason, raw FROM {CASCADE}")

    return apply


def _apply_changes(c: DuckDBEngine, import_id: int) -> None:
    """Update the sale rows whose status the file changes, and record every change (what, when, which import)."""
    c.execute(
        "UPDATE orders AS o SET status = x.new_status, amount = x.new_amount, quantity = x.quantity, "
        f"lines = x.lines, import_id = {import_id} FROM {CHANGES} x "
        "WHERE x._update AND o.order_id = x.order_id AND o.status <> 'refunded'"
    )
    c.execute(
        "INSERT INTO order_status_changes (order_id, old_status, new_status, old_amount, new_amount, changed_at, "
        f"import_id) SELECT order_id, old_status, new_status, old_amount, new_amount, current_timestamp::TIMESTAMP, "
        f"{import_id} FROM {CHANGES} ORDER BY order_id"
    )
