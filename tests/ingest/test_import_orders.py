"""Orders: GBK with Chinese headers, line-level aggregation, refunds, rejects, duplicates (golden numbers)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from ingest_util import counts

from winback.errors import InputError
from winback.ingest import import_file

HEADER = ["小票号", "会员卡号", "门店", "导购", "销售时间", "实收金额", "件数", "状态", "商品编码", "品类", "备注"]
ROWS = [
    ["1001", "M1", "S1", "G1", "2024/3/5 13:05", "￥1,234.50", "2", "已付款", "SKU1", "面霜", "生日礼"],
    ["1001", "M1", "S1", "G1", "2024/3/5 13:05", "１００", "1", "已付款", "SKU2", "精华", ""],
    ["1002", "M2", "S1", "G1", "2024年3月6日", "12", "1", "退货", "SKU1", "面霜", ""],
    ["1003", "M2", "S2", "G2", "20240307", "12,5O", "1", "已付款", "SKU3", "口红", ""],
    ["1003", "M2", "S2", "G2", "20240307", "10", "1", "已付款", "SKU4", "口红", ""],
    ["C1004", "M3", "S2", "G2", "45356", "-50", "-1", "", "SKU1", "面霜", ""],
    ["1005", "", "S1", "", "2024-03-08 10:00:00", "(30.00)", "1", "", "SKU5", "", ""],
    ["1006", "M4", "S1", "G1", "2024-03-09", "88", "1", "已取消", "SKU6", "", ""],
    ["", "M4", "S1", "G1", "2024-03-09", "88", "1", "已付款", "SKU6", "", ""],
    ["1007", "M5", "S1", "G1", "not a date", "88", "1", "已付款", "SKU6", "", ""],
    ["1008", "M5", "S1", "G1", "2024-03-10", "88", "1", "待付款", "SKU6", "", ""],
    ["1009", "M5", "S1", "G1", "2024-03-10", "88", "1", "待审核", "SKU6", "", ""],
]
# issue 9, item 8: 待付款 (row 11) is recognised as unpaid (it was rejected before); 待审核 (row 12) is still unknown


@pytest.fixture
def gbk_orders(csv_writer) -> Path:  # type: ignore[no-untyped-def]
    return csv_writer("orders_gbk.csv", HEADER, ROWS, encoding="gbk")


def test_gbk_chinese_headers_import_with_no_flags(con, db, gbk_orders: Path) -> None:
    r = import_file(db, "orders", gbk_orders)
    assert r.encoding == "gb18030"
    assert r.mapping["小票号"] == "order_id" and r.mapping["实收金额"] == "amount" and r.mapping["品类"] == "category"
    assert r.kept == ["备注"]
    assert (r.rows_in, r.rows_loaded, r.rows_rejected, r.rows_duplicate) == (12, 7, 5, 0)
    assert r.rows_in == r.rows_loaded + r.rows_rejected + r.rows_duplicate
    assert r.date_format == "ymd+excel-serial"
    orders = {
        row[0]: row[1:]
        for row in con.execute(
            "SELECT order_id, member_id, ordered_at::VARCHAR, amount, quantity, status, lines, extra::VARCHAR "
            "FROM orders"
        ).fetchall()
    }
    assert orders["1001"] == ("M1", "2024-03-05 13:05:00", Decimal("1334.50"), 3, "paid", 2, '{"备注":"生日礼"}')
    assert orders["1002"][2:6] == (Decimal("-12.00"), -1, "refunded", 1)  # status 退货, positive amount -> refund
    assert orders["C1004"][1:5] == ("2024-03-05 00:00:00", Decimal("-50.00"), -1, "refunded")  # Excel serial 45356
    assert orders["1005"][0] is None and orders["1005"][2:5] == (Decimal("-30.00"), -1, "refunded")
    assert orders["1006"][4] == "cancelled"
    assert orders["1008"][4] == "unpaid"
    assert set(orders) == {"1001", "1002", "C1004", "1005", "1006", "1008"}
    items = con.execute("SELECT order_id, line_no, sku, category FROM order_items ORDER BY 1, 2").fetchall()
    assert ("1001", 1, "SKU1", "面霜") in items and ("1001", 2, "SKU2", "精华") in items
    assert len(items) == 7


def test_every_reject_has_row_number_reason_and_raw(con, db, gbk_orders: Path) -> None:
    r = import_file(db, "orders", gbk_orders)
    rejects = dict(
        con.execute("SELECT row_number, reason FROM rejects WHERE import_id = ? ORDER BY 1", [r.import_id]).fetchall()
    )
    assert rejects == {
        4: 'amount "12,5O" is not a number',
        5: "another line of order 1003 was rejected (row 4)",
        9: "order id is missing",
        10: 'order time "not a date" is not a date',
        12: 'status "待审核" is not a known order status (paid, unpaid, refunded or cancelled)',
    }
    raws = con.execute("SELECT raw->>'$.实收金额' FROM rejects WHERE row_number = 4").fetchone()
    assert raws == ("12,5O",)
    assert con.execute("SELECT count(*) FROM rejects WHERE raw IS NULL OR reason = ''").fetchone() == (0,)


def test_same_file_twice_adds_nothing(con, db, gbk_orders: Path) -> None:
    import_file(db, "orders", gbk_orders)
    before = con.execute("SELECT * FROM orders ORDER BY order_id").fetchall()
    items_before = counts(con)["order_items"]
    r = import_file(db, "orders", gbk_orders)
    assert (r.rows_loaded, r.rows_duplicate, r.rows_rejected) == (0, 7, 5)
    assert con.execute("SELECT * FROM orders ORDER BY order_id").fetchall() == before
    assert counts(con)["order_items"] == items_before


def test_refund_reusing_the_sale_id_is_its_own_order(con, db, csv_writer) -> None:
    sale = csv_writer("sale.csv", ["order_id", "member_id", "date", "amount"], [["9", "M1", "2024-01-01", "100"]])
    refund = csv_writer(
        "refund.csv", ["order_id", "member_id", "date", "amount", "status"], [["9", "M1", "2024-01-03", "100", "退款"]]
    )
    assert import_file(db, "orders", sale).rows_loaded == 1
    assert import_file(db, "orders", refund).rows_loaded == 1
    assert import_file(db, "orders", refund).rows_duplicate == 1
    assert con.execute("SELECT status, amount FROM orders ORDER BY amount").fetchall() == [
        ("refunded", Decimal("-100.00")),
        ("paid", Decimal("100.00")),
    ]


def test_leading_c_is_not_a_refund_when_every_id_has_it(con, db, csv_writer) -> None:
    f = csv_writer("c.csv", ["order_id", "date", "amount"], [["CN1", "2024-01-01", "10"], ["C2", "2024-01-01", "5"]])
    import_file(db, "orders", f)
    assert con.execute("SELECT count(*) FROM orders WHERE status = 'paid'").fetchone() == (2,)


def test_dry_run_writes_nothing(con, db, gbk_orders: Path) -> None:
    before = counts(con)
    r = import_file(db, "orders", gbk_orders, dry_run=True)
    assert r.import_id is None and r.dry_run
    assert (r.rows_loaded, r.rows_rejected) == (7, 5)
    assert counts(con) == before


@pytest.mark.usefixtures("english")
def test_missing_required_column_says_what_to_do(con, db, csv_writer) -> None:
    f = csv_writer("o.csv", ["单号", "金额"], [["1", "2"]])
    with pytest.raises(InputError, match="no column for order time") as exc:
        import_file(db, "orders", f)
    assert "--map" in str(exc.value)


def test_map_overrides_aliases(con, db, csv_writer) -> None:
    f = csv_writer("o.csv", ["票据", "发生", "金额", "单号"], [["A1", "2024-01-01", "5", "ignored"]])
    r = import_file(db, "orders", f, mapping=["票据=order_id", "发生=ordered_at", "单号=-"])
    assert r.mapping == {"票据": "order_id", "发生": "ordered_at", "金额": "amount"}
    assert con.execute("SELECT order_id, extra->>'$.单号' FROM orders").fetchone() == ("A1", "ignored")


@pytest.mark.usefixtures("english")
def test_bad_map_names_the_fields(con, db, csv_writer) -> None:
    f = csv_writer("o.csv", ["a"], [["1"]])
    with pytest.raises(InputError, match='"nope" is not a orders field'):
        import_file(db, "orders", f, mapping={"a": "nope"})
    with pytest.raises(InputError, match="does not have"):
        import_file(db, "orders", f, mapping={"zzz": "order_id"})


def test_malformed_csv_rows_are_rejected_with_their_row_number(con, db, tmp_path: Path) -> None:
    f = tmp_path / "ragged.csv"
    f.write_text(
        "order_id,date,amount\n1,2024-01-01,5\n2,2024-01-02\n3,2024-01-03,7\n4,2024-01-04,8,extra\n5,2024-01-05,9\n",
        encoding="utf-8",
    )
    r = import_file(db, "orders", f)
    assert (r.rows_in, r.rows_loaded, r.rows_rejected) == (5, 3, 2)
    assert [x[0] for x in con.execute("SELECT row_number FROM rejects ORDER BY 1").fetchall()] == [2, 4]
    assert con.execute("SELECT order_id FROM orders ORDER BY 1").fetchall() == [("1",), ("3",), ("5",)]
    reasons = dict(con.execute("SELECT row_number, reason FROM rejects").fetchall())
    assert reasons[2].startswith("the row has fewer fields than the header")
    assert reasons[4].startswith("the row has more fields than the header")
