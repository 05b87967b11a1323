"""Issue 9, item 8: status changes on re-import, unpaid/closed statuses, `--date-order`, conflicting duplicate
member ids, and a file without a header row."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_util import parse_column
from typer.testing import CliRunner

from winback.cli.main import app
from winback.errors import InputError
from winback.ingest import import_file

O_HEADER = ["订单号", "会员卡号", "下单时间", "实付金额", "订单状态"]


def _counts(r) -> tuple[int, int, int, int, int]:  # type: ignore[no-untyped-def]
    return (r.rows_in, r.rows_loaded, r.rows_updated, r.rows_rejected, r.rows_duplicate)


def _history(con) -> list[tuple[object, ...]]:  # type: ignore[no-untyped-def]
    return con.execute(
        "SELECT order_id, old_status, new_status, old_amount, new_amount, import_id FROM order_status_changes "
        "ORDER BY import_id, order_id"
    ).fetchall()


def test_paid_then_cancelled_is_applied_and_recorded_once(con, db, csv_writer) -> None:
    first = csv_writer(
        "o1.csv",
        O_HEADER,
        [["T1", "M1", "2024-03-05", "100", "交易成功"], ["T2", "M2", "2024-03-05", "50", "交易成功"]],
    )
    r1 = import_file(db, "orders", first)
    again = csv_writer(
        "o2.csv", O_HEADER, [["T1", "M1", "2024-03-05", "100", "已取消"], ["T2", "M2", "2024-03-05", "50", "交易成功"]]
    )
    r2 = import_file(db, "orders", again)
    assert _counts(r2) == (2, 1, 1, 0, 1)  # T1 changed (loaded, updated), T2 the same (duplicate)
    assert con.execute("SELECT order_id, status, amount FROM orders ORDER BY 1").fetchall() == [
        ("T1", "cancelled", Decimal("100.00")),
        ("T2", "paid", Decimal("50.00")),
    ]
    assert _history(con) == [("T1", "paid", "cancelled", Decimal("100.00"), Decimal("100.00"), r2.import_id)]
    assert con.execute("SELECT changed_at IS NOT NULL FROM order_status_changes").fetchone() == (True,)
    r3 = import_file(db, "orders", again)  # the same file again: nothing changes, nothing recorded
    assert _counts(r3) == (2, 0, 0, 0, 2)
    assert len(_history(con)) == 1
    assert r1.import_id != r2.import_id


def test_paid_then_refunded_adds_the_refund_and_records_it(con, db, csv_writer) -> None:
    import_file(db, "orders", csv_writer("o1.csv", O_HEADER, [["T1", "M1", "2024-03-05", "100", "已付款"]]))
    refunded = csv_writer("o2.csv", O_HEADER, [["T1", "M1", "2024-03-05", "100", "已退款"]])
    r = import_file(db, "orders", refunded)
    assert _counts(r) == (1, 1, 0, 0, 0)
    assert con.execute("SELECT status, amount FROM orders ORDER BY amount").fetchall() == [
        ("refunded", Decimal("-100.00")),
        ("paid", Decimal("100.00")),
    ]
    assert _history(con) == [("T1", "paid", "refunded", Decimal("100.00"), Decimal("-100.00"), r.import_id)]
    assert _counts(import_file(db, "orders", refunded)) == (1, 0, 0, 0, 1)
    assert len(_history(con)) == 1


def test_unpaid_orders_are_kept_as_unpaid_and_paying_later_is_a_change(con, db, csv_writer) -> None:
    rows = [
        ["U1", "M1", "2024-03-05", "80", "待付款"],
        ["U2", "M1", "2024-03-05", "60", "等待买家付款"],
        ["U3", "M2", "2024-03-06", "40", "交易关闭"],
        ["U4", "M2", "2024-03-06", "30", "已关闭"],
    ]
    r = import_file(db, "orders", csv_writer("o1.csv", O_HEADER, rows))
    assert _counts(r) == (4, 4, 0, 0, 0)
    assert con.execute("SELECT order_id, status FROM orders ORDER BY 1").fetchall() == [
        ("U1", "unpaid"),
        ("U2", "unpaid"),
        ("U3", "cancelled"),
        ("U4", "cancelled"),
    ]
    assert con.execute("SELECT count(*) FROM orders WHERE status = 'paid'").fetchone() == (0,)
    paid = csv_writer("o2.csv", O_HEADER, [["U1", "M1", "2024-03-05", "80", "已付款"]])
    r2 = import_file(db, "orders", paid)
    assert _counts(r2) == (1, 1, 1, 0, 0)
    assert _history(con) == [("U1", "unpaid", "paid", Decimal("80.00"), Decimal("80.00"), r2.import_id)]


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("待付款", "unpaid"),
        ("未付款", "unpaid"),
        ("待支付", "unpaid"),
        ("等待买家付款", "unpaid"),
        ("unpaid", "unpaid"),
        ("Pending Payment", "unpaid"),
        ("已关闭", "cancelled"),
        ("交易关闭", "cancelled"),
        ("订单关闭", "cancelled"),
        ("交易取消", "cancelled"),
        ("待发货", "paid"),
        ("已付款", "paid"),
    ],
)
def test_order_statuses_are_recognised(text: str, status: str) -> None:
    [(value, err)], _ = parse_column("orders", "status", [text])
    assert (value, err) == (status, None)


def test_date_order_can_be_forced(con, db, csv_writer) -> None:
    rows = [["D1", "M1", "03/05/2024", "10", "已付款"], ["D2", "M1", "04/06/2024", "10", "已付款"]]
    f = csv_writer("d.csv", O_HEADER, rows)
    assert import_file(db, "orders", f, dry_run=True).date_format == "mdy"  # no evidence: month-first, noted
    r = import_file(db, "orders", f, date_order="dmy")
    assert r.date_format == "dmy" and r.rows_loaded == 2
    assert any("--date-order dmy" in n for n in r.notes)
    assert con.execute("SELECT ordered_at FROM orders ORDER BY order_id").fetchall() == [
        (dt.datetime(2024, 5, 3),),
        (dt.datetime(2024, 6, 4),),
    ]
    ymd = csv_writer("y.csv", O_HEADER, [["Y1", "M1", "24/03/05", "10", "已付款"], ["Y2", "M1", "03/05/2024", "1", ""]])
    r = import_file(db, "orders", ymd, date_order="ymd")
    assert (r.rows_loaded, r.rows_rejected) == (1, 1)
    assert con.execute("SELECT ordered_at FROM orders WHERE order_id = 'Y1'").fetchone() == (dt.datetime(2024, 3, 5),)
    with pytest.raises(InputError, match="--date-order"):
        import_file(db, "orders", f, date_order="ydm")


def test_forced_month_first_rejects_day_first_dates(con, db, csv_writer) -> None:
    f = csv_writer("d.csv", O_HEADER, [["D1", "M1", "25/05/2024", "10", ""], ["D2", "M1", "05/06/2024", "10", ""]])
    r = import_file(db, "orders", f, date_order="mdy")
    assert (r.rows_loaded, r.rows_rejected, r.date_format) == (1, 1, "mdy")


M_HEADER = ["会员卡号", "姓名", "手机号码", "会员等级"]


def test_conflicting_duplicate_member_ids_are_listed(con, db, csv_writer, tmp_path: Path) -> None:
    rows = [["V1", "张三", "13812345678", "普通"], ["V2", "李四", "13900001111", "普通"]]
    rows += [["V1", "张三丰", "13812345679", "普通"], ["V2", "李四", "", "贵宾"], ["V3", "王五", "", ""]]
    rows += [["V3", "王五", "", ""]]  # the same again: a repeat, not a conflict
    rows += [[f"X{i}", "甲", "", "A"] for i in range(12)] + [[f"X{i}", "乙", "", "A"] for i in range(12)]
    f = csv_writer("m.csv", M_HEADER, rows)
    r = import_file(db, "members", f, lang="en")
    assert r.conflicts == 14  # V1, V2 and X0..X11: ids whose rows disagree on a value
    assert len(r.conflicts_shown) == 10
    v1 = next(c for c in r.conflicts_shown if c["key"] == "V1")
    assert v1["fields"]["name"] == {"rows": [1, 3], "values": ["张三", "张三丰"], "kept": "张三丰"}
    assert v1["fields"]["phone"]["values"] == ["138****5678", "138****5679"]  # masked in the output
    assert "V2" in {c["key"] for c in r.conflicts_shown}
    assert any("14 member ids" in n for n in r.notes)
    total = con.execute("SELECT count(DISTINCT key) FROM import_conflicts WHERE import_id = ?", [r.import_id])
    assert total.fetchone() == (14,)
    detail = con.execute(
        "SELECT field, row_number, value, kept FROM import_conflicts WHERE key = 'V1' ORDER BY field, row_number"
    ).fetchall()
    assert detail == [
        ("name", 1, "张三", False),
        ("name", 3, "张三丰", True),
        ("phone", 1, "13812345678", False),
        ("phone", 3, "13812345679", True),
    ]
    # V2's phone was given only once (the other row is empty): not a conflict; its tier differs: a conflict
    v2 = con.execute("SELECT field, count(*) FROM import_conflicts WHERE key = 'V2' GROUP BY field").fetchall()
    assert v2 == [("tier", 2)]
    assert con.execute("SELECT count(*) FROM import_conflicts WHERE key = 'V3'").fetchone() == (0,)


def test_rejects_conflicts_cli_lists_them_all(tmp_path: Path) -> None:
    from ingest_util import write_csv

    runner = CliRunner()
    wh = str(tmp_path / "wb.duckdb")
    rows = [[f"X{i}", "甲", "", ""] for i in range(30)] + [[f"X{i}", "乙", "", ""] for i in range(30)]
    f = write_csv(tmp_path / "m.csv", M_HEADER, rows)
    res = runner.invoke(app, ["--db", wh, "import", "members", str(f), "--json"])
    data = json.loads(res.stdout)
    assert data["conflicts"] == 30 and len(data["conflicts_shown"]) == 10
    res = runner.invoke(
        app, ["--db", wh, "rejects", "--conflicts", "--import", str(data["import_id"]), "--json", "--limit", "100"]
    )
    listing = json.loads(res.stdout)
    assert listing["total"] == 60 and len(listing["conflicts"]) == 60
    res = runner.invoke(app, ["--db", wh, "rejects", "--conflicts", "--limit", "3"])
    assert res.exit_code == 0 and "3 / 60" in res.output, res.output
    res = runner.invoke(app, ["--db", wh, "import", "members", str(f)])  # rendered for people: the first ones listed
    assert res.exit_code == 0 and "X0: name: 甲 (第 1 行) / 乙 (第 31 行)" in res.output, res.output
    out = tmp_path / "conflicts.csv"
    res = runner.invoke(
        app, ["--db", wh, "rejects", "--conflicts", "--import", str(data["import_id"]), "--export", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 61


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_file_without_a_header_row_says_row_1_looks_like_data(db, csv_writer, lang: str) -> None:
    f = csv_writer(
        "noheader.csv", ["M1", "张三", "13812345678", "2024-01-02"], [["M2", "李四", "13900001111", "2024-02-03"]]
    )
    with pytest.raises(InputError) as exc:
        import_file(db, "members", f, lang=lang)
    text = str(exc.value) + " " + (exc.value.hint or "")
    assert ("第 1 行看起来是数据" if lang == "zh" else "row 1 looks like data") in text
    g = csv_writer("o.csv", ["1001", "M1", "2024-03-05 10:00", "99.5"], [["1002", "M2", "2024-03-06", "10"]])
    with pytest.raises(InputError, match=r"第 1 行看起来是数据|row 1 looks like data"):
        import_file(db, "orders", g, lang=lang)


_STATUS = {"已付款": "paid", "已取消": "cancelled", "待付款": "unpaid"}


def _order_status(line_statuses: list[str]) -> str:
    s = [_STATUS[x] for x in line_statuses]
    if all(x == "cancelled" for x in s):
        return "cancelled"
    if all(x in ("cancelled", "unpaid") for x in s):
        return "unpaid"
    return "paid"


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["A", "B", "C"]),
            st.sampled_from(["S1", "S2"]),
            st.sampled_from(["10", "25"]),
            st.sampled_from(list(_STATUS)),
        ),
        min_size=1,
        max_size=12,
    ),
    later=st.dictionaries(st.sampled_from(["A", "B", "C"]), st.sampled_from(list(_STATUS))),
)
def test_property_lines_kept_reimport_idempotent_status_changes_recorded(tmp_path_factory, lines, later) -> None:  # type: ignore[no-untyped-def]
    import duckdb
    from ingest_util import write_csv

    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.warehouse.migrate import migrate

    d = tmp_path_factory.mktemp("prop")
    header = ["订单号", "下单时间", "商品编码", "实付金额", "订单状态"]
    first = write_csv(d / "a.csv", header, [[o, "2024-03-05", sku, amt, st_] for o, sku, amt, st_ in lines])
    changed = [(o, sku, amt, later.get(o, st_)) for o, sku, amt, st_ in lines]
    second = write_csv(d / "b.csv", header, [[o, "2024-03-05", sku, amt, st_] for o, sku, amt, st_ in changed])
    con = duckdb.connect()
    migrate(con)
    db = DuckDBEngine(con)
    n = len(lines)
    assert _counts(import_file(db, "orders", first)) == (n, n, 0, 0, 0)
    state = con.execute("SELECT * FROM orders ORDER BY order_id").fetchall()
    per_order = {o: [x for x in lines if x[0] == o] for o in {x[0] for x in lines}}
    got = con.execute("SELECT order_id, lines, status FROM orders ORDER BY 1").fetchall()
    assert got == [(o, len(ls), _order_status([x[3] for x in ls])) for o, ls in sorted(per_order.items())]
    assert con.execute("SELECT count(*) FROM order_items").fetchone() == (n,)  # identical lines all kept
    assert _counts(import_file(db, "orders", first)) == (n, 0, 0, 0, n)  # the same file again adds nothing
    assert con.execute("SELECT * FROM orders ORDER BY order_id").fetchall() == state
    before = {o: _order_status([x[3] for x in ls]) for o, ls in per_order.items()}
    after = {o: _order_status([x[3] for x in changed if x[0] == o]) for o in per_order}
    moved = sorted(o for o in per_order if before[o] != after[o])
    r = import_file(db, "orders", second)
    assert r.status_changes == len(moved)
    assert r.rows_updated == sum(len(per_order[o]) for o in moved)
    assert con.execute("SELECT order_id, old_status, new_status FROM order_status_changes ORDER BY 1").fetchall() == [
        (o, before[o], after[o]) for o in moved
    ]
    assert con.execute("SELECT order_id, status FROM orders ORDER BY 1").fetchall() == sorted(after.items())
    assert import_file(db, "orders", second).status_changes == 0  # and again: nothing more recorded
    assert con.execute("SELECT count(*) FROM order_status_changes").fetchone() == (len(moved),)
    con.close()
