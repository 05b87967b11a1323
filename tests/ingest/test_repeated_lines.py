"""Lines repeated within one orders file (review case o7).

Identical lines of one order are a real double scan and are kept (issue 9, item 8: they were dropped as duplicates
before); with a line-number column, a repeated (order id, line number) is still the same line, a duplicate."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from ingest_util import write_csv

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest import import_file, load_orders
from winback.warehouse.migrate import migrate

O7 = [
    ["L1", "1", "2024-03-05", "S1", "100"],
    ["L1", "1", "2024-03-05", "S1", "100"],  # the same row again (overlapping exports concatenated)
    ["L1", "2", "2024-03-05", "S2", "50"],
]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def _counts(r) -> tuple[int, int, int, int]:  # type: ignore[no-untyped-def]
    return (r.rows_in, r.rows_loaded, r.rows_rejected, r.rows_duplicate)


def _state(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    orders = con.execute("SELECT order_id, amount, lines, status FROM orders ORDER BY ALL").fetchall()
    items = con.execute("SELECT order_id, line_no, sku, amount FROM order_items ORDER BY ALL").fetchall()
    return orders, items


def test_identical_lines_of_one_order_are_kept_with_their_occurrence(tmp_path: Path) -> None:
    f = write_csv(
        tmp_path / "o7.csv",
        ["order_id", "member_id", "ordered_at", "sku", "amount"],
        [[r[0], "1", r[2], r[3], r[4]] for r in O7],
    )
    con = _warehouse()
    r = import_file(DuckDBEngine(con), "orders", f)
    assert _counts(r) == (3, 3, 0, 0)
    assert r.identical_lines == 1 and any("1 行与同一订单中前面的一行完全相同" in n for n in r.notes)
    assert _state(con) == (
        [("L1", Decimal("250.00"), 3, "paid")],
        [("L1", 1, "S1", Decimal("100.00")), ("L1", 2, "S1", Decimal("100.00")), ("L1", 3, "S2", Decimal("50.00"))],
    )
    occurrences = con.execute("SELECT line_no, occurrence FROM order_items ORDER BY line_no").fetchall()
    assert occurrences == [(1, 1), (2, 2), (3, 1)]
    assert _counts(import_file(DuckDBEngine(con), "orders", f)) == (3, 0, 0, 3)  # re-importing adds nothing
    assert _state(con)[0] == [("L1", Decimal("250.00"), 3, "paid")]
    assert len(_state(con)[1]) == 3
    con.close()


def test_repeated_line_number_is_a_duplicate(tmp_path: Path) -> None:
    rows = [[r[0], r[1], "1", r[2], r[3], r[4]] for r in O7]
    rows.insert(2, ["L1", "1", "1", "2024-03-05", "S9", "7"])  # line 1 again, different content: first one kept
    f = write_csv(tmp_path / "o7_lines.csv", ["order_id", "line_no", "member_id", "ordered_at", "sku", "amount"], rows)
    con = _warehouse()
    assert _counts(import_file(DuckDBEngine(con), "orders", f)) == (4, 2, 0, 2)
    assert _state(con) == (
        [("L1", Decimal("150.00"), 2, "paid")],
        [("L1", 1, "S1", Decimal("100.00")), ("L1", 2, "S2", Decimal("50.00"))],
    )
    assert _counts(import_file(DuckDBEngine(con), "orders", f)) == (4, 0, 0, 4)
    assert len(_state(con)[1]) == 2
    con.close()


def test_lines_differing_in_any_column_are_still_summed(tmp_path: Path) -> None:
    rows = [["L1", "2024-03-05", "S1", "100", "a"], ["L1", "2024-03-05", "S1", "100", "b"]]
    f = write_csv(tmp_path / "o.csv", ["order_id", "ordered_at", "sku", "amount", "note"], rows)
    con = _warehouse()
    assert _counts(import_file(DuckDBEngine(con), "orders", f)) == (2, 2, 0, 0)
    assert _state(con)[0] == [("L1", Decimal("200.00"), 2, "paid")]
    assert [i[1] for i in _state(con)[1]] == [1, 2]
    con.close()


def test_only_repeats_left_take_the_fast_path_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An order with two identical lines: the general path and the forced one agree."""
    rows = [["A1", "2024-03-05", "S1", "10"], ["A1", "2024-03-05", "S1", "10"], ["A2", "2024-03-06", "S2", "-5"]]
    f = write_csv(tmp_path / "o.csv", ["order_id", "ordered_at", "sku", "amount"], rows)
    results = []
    for general in (False, True):
        with monkeypatch.context() as m:
            if general:
                m.setattr(load_orders, "_one_line_per_order", lambda con, lines: False)
                m.setattr(load_orders, "_has_cancelled_lines", lambda con, present: True)
            con = _warehouse()
            counts = [_counts(import_file(DuckDBEngine(con), "orders", f)) for _ in range(2)]
            results.append((counts, _state(con)))
            con.close()
    assert results[0] == results[1]
    assert results[0][0] == [(3, 3, 0, 0), (3, 0, 0, 3)]
