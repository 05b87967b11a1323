"""The one-line-per-order fast path gives exactly what the general (aggregating) path gives on the same file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_util import write_csv

from winback.config import Settings
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError
from winback.ingest import import_file, load_orders
from winback.warehouse.migrate import migrate

HEADER = ["小票号", "会员卡号", "门店", "销售时间", "实收金额", "件数", "状态", "商品编码", "备注"]
UNIQUE_ROWS = [
    ["1001", "M1", "S1", "2024-03-05 13:05", "￥1,234.50", "2", "已付款", "SKU1", "生日礼"],
    ["1001", "M1", "S1", "2024-03-07", "100", "1", "退货", "SKU1", ""],  # refund reusing the sale's id
    ["C1002", "M2", "S2", "2024-03-06", "-50", "-1", "", "SKU2", ""],  # cancellation invoice
    ["1003", "", "S1", "2024-03-08", "(30.00)", "1", "", "SKU3", "x"],  # negative amount
    ["1004", "M3", "S1", "2024-03-09", "88", "1", "已取消", "SKU4", ""],  # cancelled
    ["1005", "M3", "S1", "not a date", "88", "1", "已付款", "SKU5", ""],  # rejected
    ["1006", "M4", "S2", "2024-03-10", "12.5", "", "", "", ""],
]
TABLES = {
    "orders": "SELECT * EXCLUDE (import_id) FROM orders ORDER BY order_id, status",
    "order_items": "SELECT * EXCLUDE (import_id) FROM order_items ORDER BY ALL",
    "rejects": "SELECT row_number, reason, raw::VARCHAR FROM rejects ORDER BY ALL",
    "imports": "SELECT rows_in, rows_loaded, rows_rejected, rows_duplicate FROM imports ORDER BY import_id",
}


@pytest.fixture
def path_taken(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Records which path each import took (True = one line per order)."""
    taken: list[bool] = []
    real = load_orders._one_line_per_order

    def spy(db: DuckDBEngine, lines: int) -> bool:
        taken.append(real(db, lines))
        return taken[-1]

    monkeypatch.setattr(load_orders, "_one_line_per_order", spy)
    yield taken


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def _contents(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    return {name: con.execute(sql).fetchall() for name, sql in TABLES.items()}


def _import_twice(path: Path, *, general: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[tuple[Any, ...]]]:
    """Import the file, then again (all duplicates); with `general` the aggregating path with the cancellation
    rules is forced."""
    with monkeypatch.context() as m:
        if general:
            m.setattr(load_orders, "_one_line_per_order", lambda con, lines: False)
            m.setattr(load_orders, "_has_cancelled_lines", lambda con, present: True)
        con = _warehouse()
        try:
            import_file(DuckDBEngine(con), "orders", path)
            import_file(DuckDBEngine(con), "orders", path)
            return _contents(con)
        finally:
            con.close()


def test_unique_ids_take_the_fast_path_and_match_the_general_path(
    tmp_path: Path, path_taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = write_csv(tmp_path / "unique.csv", HEADER, UNIQUE_ROWS)
    fast = _import_twice(f, general=False, monkeypatch=monkeypatch)
    assert path_taken == [True, True]
    general = _import_twice(f, general=True, monkeypatch=monkeypatch)
    assert fast == general
    assert fast["imports"] == [(7, 6, 1, 0), (7, 0, 1, 6)]
    by_id = {(r[0], r[9]): r for r in fast["orders"]}
    assert set(by_id) == {
        ("1001", "paid"),
        ("1001", "refunded"),
        ("C1002", "refunded"),
        ("1003", "refunded"),
        ("1004", "cancelled"),
        ("1006", "paid"),
    }
    assert [r[:2] for r in fast["order_items"]] == [
        ("1001", 1),
        ("1001", 1),
        ("1003", 1),
        ("1004", 1),
        ("1006", 1),
        ("C1002", 1),
    ]


def test_repeated_ids_take_the_general_path(tmp_path: Path, path_taken: list[bool]) -> None:
    rows = [*UNIQUE_ROWS, ["1006", "M4", "S2", "2024-03-10", "1", "1", "", "SKU9", ""]]
    con = _warehouse()
    r = import_file(DuckDBEngine(con), "orders", write_csv(tmp_path / "lines.csv", HEADER, rows))
    assert path_taken == [False]
    assert (r.rows_loaded, r.rows_rejected) == (7, 1)
    assert con.execute("SELECT lines, amount FROM orders WHERE order_id = '1006'").fetchall() == [(2, 13.5)]
    con.close()


def test_typed_parquet_fast_path_matches_general(
    tmp_path: Path, path_taken: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["A1", "A2", "A3", "A3"],
                "member_id": ["M1", None, "M2", "M2"],
                "ordered_at": pa.array([1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300], pa.timestamp("s")),
                "amount": pa.array([10, -5, 7, 7], pa.decimal128(18, 2)),
                "quantity": pa.array([1, 1, 2, None], pa.int32()),
                "status": ["paid", None, "paid", "退款"],
            }
        ),
        f,
    )
    fast = _import_twice(f, general=False, monkeypatch=monkeypatch)
    assert path_taken == [True, True]  # A3 is a sale and a refund: one line per (order id, direction)
    assert fast == _import_twice(f, general=True, monkeypatch=monkeypatch)
    assert [(r[0], r[7], r[9]) for r in fast["orders"]] == [
        ("A1", 10, "paid"),
        ("A2", -5, "refunded"),
        ("A3", 7, "paid"),
        ("A3", -7, "refunded"),
    ]


_ids = st.sampled_from(["1", "2", "3", "C3", "4", "X5"])
_line = st.tuples(
    _ids,
    st.sampled_from(["M1", "M2", "", "M3"]),
    st.sampled_from(["2024-01-02", "2024/1/3 10:00", "bad", "20240105"]),
    st.sampled_from(["10", "-3.5", "￥1,000", "12,5", "0"]),
    st.sampled_from(["1", "-1", "", "2"]),
    st.sampled_from(["已付款", "退货", "作废", ""]),
)


@settings(max_examples=15)
@given(st.lists(_line, min_size=1, max_size=8))
def test_property_fast_and_general_paths_agree(tmp_path_factory: pytest.TempPathFactory, lines: list[Any]) -> None:
    f = write_csv(
        tmp_path_factory.mktemp("prop") / "o.csv", ["order_id", "member_id", "date", "amount", "qty", "status"], lines
    )
    mp = pytest.MonkeyPatch()
    try:
        assert _import_twice(f, general=False, monkeypatch=mp) == _import_twice(f, general=True, monkeypatch=mp)
    finally:
        mp.undo()


@pytest.mark.usefixtures("english")
def test_memory_is_bounded_during_an_import_and_restored_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = write_csv(tmp_path / "unique.csv", HEADER, UNIQUE_ROWS)
    con = _warehouse()
    con.execute("SET memory_limit = '8GB'")
    before = con.execute("SELECT current_setting('memory_limit')").fetchone()
    seen: list[str] = []
    monkeypatch.setenv("WINBACK_IMPORT_MEMORY", "600MB")

    def progress(stage: str, done: int, total: int | None) -> None:
        if stage == "commit":
            seen.append(str(con.execute("SELECT current_setting('memory_limit')").fetchone()[0]))  # type: ignore[index]

    db = DuckDBEngine(con)
    import_file(db, "orders", f, progress=progress, import_memory=Settings.load().import_memory)
    assert seen == ["572.2 MiB"]  # 600 MB
    assert con.execute("SELECT current_setting('memory_limit')").fetchone() == before
    con.execute("SET memory_limit = '300MB'")  # a lower limit is kept
    import_file(db, "orders", f, progress=progress, import_memory=Settings.load().import_memory)
    assert seen[-1] == "286.1 MiB"
    monkeypatch.setenv("WINBACK_IMPORT_MEMORY", "lots")
    with pytest.raises(InputError, match='WINBACK_IMPORT_MEMORY="lots" is not an amount of memory'):
        import_file(db, "orders", f, import_memory=Settings.load().import_memory)
    con.close()


def test_lines_without_cancellations_aggregate_like_the_full_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [r for r in UNIQUE_ROWS if r[6] != "已取消"] + [
        ["1006", "M0", "S9", "2024-03-09 08:00", "1", "1", "", "SKU9", "y"],
        ["1003", "M5", "S1", "2024-03-08", "-2", "", "", "SKU3", ""],
    ]
    f = write_csv(tmp_path / "lines.csv", HEADER, rows)
    auto = _import_twice(f, general=False, monkeypatch=monkeypatch)
    assert auto == _import_twice(f, general=True, monkeypatch=monkeypatch)
    orders = {(r[0], r[9]): r for r in auto["orders"]}
    assert orders[("1006", "paid")][1:4] == ("M0", "M0", "S2")  # the smallest member and store of the lines
    assert orders[("1003", "refunded")][7:9] == (-32, -1) and orders[("1003", "refunded")][11] == 2
