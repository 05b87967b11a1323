"""Members (and stores/staff): upsert rules, WeChat contact lists, phones, unreadable optional values."""

from __future__ import annotations

from datetime import date

from winback.ingest import import_file

HEADER = [
    "会员卡号",
    "姓名",
    "性别",
    "手机号码",
    "生日",
    "开卡日期",
    "开卡门店",
    "专属导购",
    "会员等级",
    "积分",
    "短信",
    "爱好",
]


def test_members_upsert_newer_non_empty_values_win(con, db, csv_writer) -> None:
    first = csv_writer(
        "m1.csv",
        HEADER,
        [
            ["V1", "张三", "女", "138-1234-5678", "1990/5/6", "2020-01-02", "S1", "G1", "普通", "1,200", "是", "跑步"],
            ["V2", "李四", "男", "+86 139 0000 1111", "1985-04-13", "2021-02-03", "S2", "G2", "普通", "10", "否", ""],
            ["V1", "", "", "", "", "", "", "", "贵宾", "1500", "", ""],  # folded into V1, later values win
        ],
    )
    r = import_file(db, "members", first)
    assert (r.rows_in, r.rows_loaded, r.rows_updated, r.rows_duplicate, r.rows_rejected) == (3, 2, 0, 1, 0)
    v1 = con.execute(
        "SELECT name, gender, phone, phone_status, birthday, tier, points, consent_sms, store_id, source, "
        "extra->>'$.爱好' FROM members WHERE member_id = 'V1'"
    ).fetchone()
    assert v1 == ("张三", "F", "+8613812345678", "mobile", date(1990, 5, 6), "贵宾", 1500.0, True, "S1", "erp", "跑步")

    second = csv_writer(
        "m2.csv",
        HEADER,
        [
            ["V1", "", "", "", "", "", "", "G9", "", "", "", ""],  # new guide only
            ["V2", "李四", "男", "+86 139 0000 1111", "1985-04-13", "2021-02-03", "S2", "G2", "普通", "10", "否", ""],
            ["V3", "王五", "1", "021-62345678", "", "2022-03-04", "S1", "", "普通", "0", "", ""],
        ],
    )
    r = import_file(db, "members", second)
    assert (r.rows_in, r.rows_loaded, r.rows_updated, r.rows_duplicate) == (3, 2, 1, 1)
    assert con.execute("SELECT guide_id, name, tier FROM members WHERE member_id = 'V1'").fetchone() == (
        "G9",
        "张三",
        "贵宾",
    )
    assert con.execute("SELECT phone, phone_status, gender FROM members WHERE member_id = 'V3'").fetchone() == (
        "+862162345678",
        "landline",
        "M",
    )
    r = import_file(db, "members", second)
    assert (r.rows_loaded, r.rows_duplicate) == (0, 3)


def test_guide_wechat_list_gets_wx_ids(con, db, csv_writer) -> None:
    f = csv_writer(
        "wx.csv", ["微信号", "昵称", "手机"], [["zl_wx", "小赵", "12345"], ["qq_wx", "钱", ""], ["", "x", ""]]
    )
    r = import_file(db, "members", f)
    assert (r.rows_loaded, r.rows_rejected) == (2, 1)
    assert con.execute("SELECT member_id, source, phone_status, wechat_id FROM members ORDER BY 1").fetchall() == [
        ("wx:qq_wx", "guide_wechat", "missing", "qq_wx"),
        ("wx:zl_wx", "guide_wechat", "invalid", "zl_wx"),
    ]
    assert con.execute("SELECT reason FROM rejects").fetchone() == ("WeChat id is missing (the file has no member id)",)


def test_unreadable_optional_values_are_blanked_and_kept(con, db, csv_writer) -> None:
    f = csv_writer("m.csv", ["member_id", "birthday", "points"], [["A", "1900-13-45", "abc"], ["B", "0000-00-00", "5"]])
    r = import_file(db, "members", f)
    assert r.rows_loaded == 2 and r.blanked == {"birthday": 1, "points": 1}
    assert con.execute("SELECT birthday, points, extra::VARCHAR FROM members ORDER BY member_id").fetchall() == [
        (None, None, '{"birthday":"1900-13-45","points":"abc"}'),
        (None, 5.0, None),
    ]


def test_stores_and_staff(con, db, csv_writer) -> None:
    stores = csv_writer(
        "stores.csv", ["门店编号", "门店名称", "城市", "开业日期"], [["S1", "南京西路店", "上海", "2019/9/1"]]
    )
    staff = csv_writer(
        "staff.csv", ["工号", "姓名", "门店", "手机", "入职日期"], [["G1", "小李", "S1", "13912345678", "2021-05-06"]]
    )
    assert import_file(db, "stores", stores).rows_loaded == 1
    assert import_file(db, "staff", staff).rows_loaded == 1
    assert con.execute("SELECT name, city, opened_at FROM stores").fetchone() == (
        "南京西路店",
        "上海",
        date(2019, 9, 1),
    )
    assert con.execute("SELECT name, store_id, phone, hired_at FROM staff").fetchone() == (
        "小李",
        "S1",
        "+8613912345678",
        date(2021, 5, 6),
    )
    assert import_file(db, "stores", stores).rows_duplicate == 1


def test_orders_follow_merged_members(con, db, csv_writer) -> None:
    import_file(db, "members", csv_writer("m.csv", ["member_id"], [["A"], ["B"]]))
    con.execute("UPDATE members SET merged_into = 'A' WHERE member_id = 'B'")
    import_file(
        db, "orders", csv_writer("o.csv", ["order_id", "member_id", "date", "amount"], [["1", "B", "2024-1-1", "9"]])
    )
    assert con.execute("SELECT member_id, source_member_id FROM orders").fetchone() == ("A", "B")
