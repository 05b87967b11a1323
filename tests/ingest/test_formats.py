"""XLSX, Parquet, TSV, UTF-8 with BOM; order_items and events kinds; empty rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from winback.errors import InputError
from winback.ingest import import_file


@pytest.mark.usefixtures("english")
def test_xlsx_with_typed_cells_and_sheet_choice(con, db, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "说明"
    wb.active.append(["这一页不是数据"])
    ws = wb.create_sheet("销售")
    ws.append([])  # a blank row above the header
    ws.append(["订单号", "会员卡号", "下单时间", "实付金额", "数量"])
    ws.append(["A1", 13812345678, dt.datetime(2024, 3, 5, 13, 5), 99.5, 2])
    ws.append(["A2", "M2", 45356, "¥1,000", 1])  # an Excel serial typed as a number
    ws.append([None, None, None, None, None])
    ws.append(["A3", "M3", "2024-03-07", "bad", 1])
    path = tmp_path / "orders.xlsx"
    wb.save(path)
    with pytest.raises(InputError, match='no sheet "Sheet9"'):
        import_file(db, "orders", path, sheet="Sheet9")
    r = import_file(db, "orders", path, sheet="销售")
    assert (r.file_format, r.rows_in, r.rows_loaded, r.rows_rejected) == ("xlsx", 3, 2, 1)
    assert con.execute("SELECT order_id, member_id, ordered_at, amount FROM orders ORDER BY 1").fetchall() == [
        ("A1", "13812345678", dt.datetime(2024, 3, 5, 13, 5), Decimal("99.50")),
        ("A2", "M2", dt.datetime(2024, 3, 5), Decimal("1000.00")),
    ]
    assert con.execute("SELECT row_number, reason FROM rejects").fetchall() == [
        (4, 'amount "bad" is not a number')
    ]  # data row 4 = sheet row 6


def test_parquet_typed_and_text_columns(con, db, tmp_path: Path) -> None:
    t = pa.table(
        {
            "order_id": ["P1", "P2", "P2"],
            "member_id": ["M1", "M2", "M2"],
            "order_date": pa.array([dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2)]),
            "amount": pa.array([10.5, -3.0, 4.0]),
            "qty": pa.array([1, 1, 2], pa.int64()),
            "note": ["x", None, "y"],
        }
    )
    path = tmp_path / "o.parquet"
    pq.write_table(t, path)
    r = import_file(db, "orders", path)
    assert (r.file_format, r.rows_in, r.rows_loaded) == ("parquet", 3, 3)
    rows = con.execute("SELECT order_id, status, amount, quantity, lines FROM orders ORDER BY 1, 2").fetchall()
    # P2 has a refund line (-3) and a sale line: one refund order and one sale order
    assert rows == [
        ("P1", "paid", Decimal("10.50"), 1, 1),
        ("P2", "paid", Decimal("4.00"), 2, 1),
        ("P2", "refunded", Decimal("-3.00"), -1, 1),
    ]
    assert import_file(db, "orders", path).rows_duplicate == 3


def test_tsv_and_bom(con, db, tmp_path: Path) -> None:
    tsv = tmp_path / "ev.tsv"
    tsv.write_text(
        "会员卡号\t行为\t发生时间\t对象\nM1\tview\t2024-01-01 10:00\tSKU1\nM1\tcart\t2024-01-01 10:05\tSKU1\n"
        "M1\tview\t2024-01-01 10:00\tSKU1\n",
        encoding="utf-8",
    )
    r = import_file(db, "events", tsv)
    assert (r.file_format, r.rows_in, r.rows_loaded, r.rows_duplicate) == ("tsv", 3, 2, 1)
    assert import_file(db, "events", tsv).rows_duplicate == 3
    bom = tmp_path / "items.csv"
    bom.write_bytes("订单号,商品编码,数量,金额\nX1,S1,1,5\nX1,S2,2,6\nX2,S1,1,5\n".encode("utf-8-sig"))
    r = import_file(db, "order-items", bom)
    assert (r.encoding, r.kind, r.rows_loaded) == ("utf-8-sig", "order_items", 3)
    assert con.execute("SELECT order_id, line_no, sku FROM order_items ORDER BY 1, 2").fetchall() == [
        ("X1", 1, "S1"),
        ("X1", 2, "S2"),
        ("X2", 1, "S1"),
    ]
    assert import_file(db, "order_items", bom).rows_duplicate == 3


def test_empty_rows_are_rejected_not_dropped(con, db, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("member_id,name\nA,x\n,\nB,y\n", encoding="utf-8")
    r = import_file(db, "members", f)
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (3, 2, 1)
    assert con.execute("SELECT row_number, reason FROM rejects").fetchall() == [(2, "the row is empty")]


@pytest.mark.usefixtures("english")
def test_unknown_extension_and_missing_file(con, db, tmp_path: Path) -> None:
    doc = tmp_path / "x.doc"
    doc.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell the format"):
        import_file(db, "orders", doc)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="is empty"):
        import_file(db, "orders", empty)
    with pytest.raises(InputError, match="no such file"):
        import_file(db, "orders", tmp_path / "x.csv")
    with pytest.raises(InputError, match="unknown import kind"):
        import_file(db, "customers", tmp_path / "x.csv")
