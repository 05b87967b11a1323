"""The keyed line numbering (KEYS: `_row - _first + 1` for an order of consecutive lines, identical lines counted
from three content hashes for orders of at most 3 lines) writes exactly what the window over every line writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_util import write_csv

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest import import_file, load_orders
from winback.ingest.types import ImportResult
from winback.warehouse.migrate import migrate

TABLES = {
    "orders": "SELECT * EXCLUDE (import_id) FROM orders ORDER BY ALL",
    "order_items": "SELECT * EXCLUDE (import_id) FROM order_items ORDER BY ALL",
    "rejects": "SELECT row_number, reason, raw::VARCHAR FROM rejects ORDER BY ALL",
    "imports": "SELECT rows_in, rows_loaded, rows_rejected, rows_duplicate FROM imports ORDER BY import_id",
}
HEADER = ["order_id", "ordered_at", "amount", "quantity", "status", "sku"]


def _unkeyed(db: DuckDBEngine) -> tuple[bool, bool, int]:
    return False, False, load_orders._identical_lines(db)


def _import(files: list[Path], *, keyed: bool) -> tuple[list[tuple[int, ...]], dict[str, list[tuple[Any, ...]]]]:
    """Import the files in turn into a fresh warehouse; (counts and identical lines of each, table contents)."""
    mp = pytest.MonkeyPatch()
    if not keyed:
        mp.setattr(load_orders, "_order_keys", _unkeyed)
    con = duckdb.connect()
    try:
        migrate(con)
        results: list[ImportResult] = [import_file(DuckDBEngine(con), "orders", f) for f in files]
        counts = [(r.rows_loaded, r.rows_rejected, r.rows_duplicate, r.identical_lines) for r in results]
        return counts, {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        con.close()
        mp.undo()


def test_interleaved_refund_and_big_orders(tmp_path: Path) -> None:
    rows = [
        ["A", "2024-03-01", "10", "1", "", "S1"],
        ["A", "2024-03-01", "-10", "-1", "", "S1"],  # a refund between two sale lines: (A, sale) not consecutive
        ["A", "2024-03-01", "10", "1", "", "S1"],  # identical to A's first sale line
        ["B", "2024-03-02", "5", "1", "", "S1"],
        ["B", "2024-03-02", "5", "1", "", "S1"],
        ["B", "2024-03-02", "5", "1", "", "S2"],
        ["B", "2024-03-02", "5", "1", "", "S1"],  # 4 lines: counted line by line (3 identical)
        ["C", "2024-03-03", "7", "1", "", "S1"],
        ["C", "2024-03-03", "8", "1", "", "S2"],
        ["C", "2024-03-03", "9", "1", "", "S3"],
        ["D", "2024-03-04", "9", "1", "", "S1"],  # 3 lines, two identical: the repeated value is the higher hash
        ["D", "2024-03-04", "9", "1", "", "S2"],  # in D or in E (the middle one equals the max in one of them)
        ["D", "2024-03-04", "9", "1", "", "S2"],
        ["E", "2024-03-04", "9", "1", "", "S2"],
        ["E", "2024-03-04", "9", "1", "", "S1"],
        ["E", "2024-03-04", "9", "1", "", "S1"],
    ]
    f = write_csv(tmp_path / "o.csv", HEADER, rows)
    keyed = _import([f, f], keyed=True)
    assert keyed == _import([f, f], keyed=False)
    assert keyed[0] == [(16, 0, 0, 5), (0, 0, 16, 5)]
    items = {(r[0], r[1], r[2], r[7]) for r in keyed[1]["order_items"]}
    assert ("C", 3, "S3", 1) in items and ("B", 4, "S1", 3) in items


def test_distinct_lines_of_consecutive_orders_are_numbered_without_a_window(tmp_path: Path) -> None:
    rows = [[o, "2024-03-01", str(i + 1), "1", "", f"S{i}"] for o in ("A", "B") for i in range(3)]
    f = write_csv(tmp_path / "o.csv", HEADER, rows)
    keyed = _import([f], keyed=True)
    assert keyed == _import([f], keyed=False)
    assert [r[:2] for r in keyed[1]["order_items"]] == [("A", 1), ("A", 2), ("A", 3), ("B", 1), ("B", 2), ("B", 3)]


_line = st.tuples(
    st.sampled_from(["1", "2", "3", "C3"]),
    st.sampled_from(["2024-01-02", "bad", "20240105"]),
    st.sampled_from(["10", "-3.5", "0"]),
    st.sampled_from(["1", "-1", ""]),
    st.sampled_from(["已付款", "退货", "作废", ""]),
    st.sampled_from(["S1", "S2", ""]),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(_line, min_size=1, max_size=12), st.lists(_line, max_size=6), st.booleans())
def test_property_keyed_and_window_numbering_agree(
    tmp_path_factory: pytest.TempPathFactory, lines: list[Any], more: list[Any], line_numbers: bool
) -> None:
    """Random files (interleaved orders, refunds, rejected lines, identical lines, a line-number column or not),
    imported, then a second file that repeats and adds orders."""
    d = tmp_path_factory.mktemp("keys")
    header = HEADER + (["line_no"] if line_numbers else [])

    def rows(ls: list[Any]) -> list[list[Any]]:
        return [[*r, str(i % 3 + 1)] if line_numbers else list(r) for i, r in enumerate(ls)]

    files = [write_csv(d / "a.csv", header, rows(lines)), write_csv(d / "b.csv", header, rows(lines[:3] + more))]
    assert _import(files, keyed=True) == _import(files, keyed=False)
