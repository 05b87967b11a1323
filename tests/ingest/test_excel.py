"""Excel workbooks read with calamine (fastexcel): .xls written by a real .xls writer (xlwt), .xlsx cells."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import xlwt

from winback.errors import InputError
from winback.ingest import import_file


def _xls(path: Path, rows: list[list[object]], sheet: str = "销售单") -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    book.add_sheet("说明").write(0, 0, "这一页不是数据")
    ws = book.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD HH:MM")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, dt.datetime):
                ws.write(i + 1, j, v, date_style)  # a blank first row above the header
            else:
                ws.write(i + 1, j, v)
    book.save(str(path))
    return path


@pytest.mark.usefixtures("english")
def test_xls_written_by_xlwt_imports(con, db, tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["订单号", "会员卡号", "下单时间", "实付金额", "数量", "订单状态"],
        ["X1", 13812345678, dt.datetime(2024, 3, 5, 13, 5), 99.5, 2, "交易成功"],
        ["X2", "M2", 45356, "¥1,000", 1, "待付款"],
        [None, None, None, None, None, None],
        ["X3", "M3", "2024-03-07", "bad", 1, "交易成功"],
    ]
    path = _xls(tmp_path / "orders.xls", rows)
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 compound file, not a renamed zip
    with pytest.raises(InputError, match='no sheet "Sheet9"'):
        import_file(db, "orders", path, sheet="Sheet9")
    r = import_file(db, "orders", path, sheet="销售单")
    assert (r.file_format, r.rows_in, r.rows_loaded, r.rows_rejected) == ("xls", 3, 2, 1)
    assert con.execute("SELECT order_id, member_id, ordered_at, amount, status FROM orders ORDER BY 1").fetchall() == [
        ("X1", "13812345678", dt.datetime(2024, 3, 5, 13, 5), Decimal("99.50"), "paid"),
        ("X2", "M2", dt.datetime(2024, 3, 5), Decimal("1000.00"), "unpaid"),
    ]
    assert con.execute("SELECT row_number, reason FROM rejects").fetchall() == [(4, 'amount "bad" is not a number')]


def test_xlsx_header_width_blank_cells_and_repeated_headers(con, db, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["会员卡号", "姓名", "备注", "备注", None])
    ws.append(["M1", "  ", "a", "b", "stray"])  # a blank name; a value under no header is not read
    ws.append([" ", None, None, None, None])  # blank only: an empty row, left out
    ws.append(["M2", "李四", 1.5, True, None])
    path = tmp_path / "m.xlsx"
    book.save(path)
    r = import_file(db, "members", path)
    assert (r.rows_in, r.rows_loaded, r.kept) == (2, 2, ["备注", "备注_2"])
    got = con.execute("SELECT member_id, name, extra->>'$.备注', extra->>'$.备注_2' FROM members ORDER BY 1").fetchall()
    assert got == [("M1", None, "a", "b"), ("M2", "李四", "1.5", "true")]


@pytest.mark.usefixtures("english")
def test_not_a_workbook_says_so(db, tmp_path: Path) -> None:
    fake = tmp_path / "fake.xlsx"
    fake.write_text("会员卡号,姓名\nM1,张三\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot be opened as XLSX"):
        import_file(db, "members", fake)
    fake_xls = tmp_path / "fake.xls"
    fake_xls.write_bytes(b"not an xls file at all")
    with pytest.raises(InputError, match="cannot be opened as an Excel workbook"):
        import_file(db, "members", fake_xls)
