"""12-hour clocks (AM/PM, 上午/下午/晚上) in exported times, imported end to end."""

from __future__ import annotations

import datetime as dt

from ingest_util import parse_column

from winback.ingest import import_file

T = dt.datetime


def test_orders_with_am_pm_times_are_stored_exactly(con, db, csv_writer) -> None:
    f = csv_writer(
        "o6.csv",
        ["order_id", "member_id", "ordered_at", "amount"],
        [
            ["E1", "1", "5/13/2024 9:05 PM", "1"],
            ["E2", "1", "2024/5/13 下午 9:05:03", "1"],
            ["E3", "1", "2024-03-05 10:00:00.000", "1"],
            ["E4", "1", "2024-03-05 10:00:00 +0800", "1"],
            ["E5", "1", "2024-3-5 9:05", "1"],
            ["E6", "1", "2024/03/05 12:00:00 AM", "1"],
            ["E7", "1", "2024-03-05 12:30 PM", "1"],
            ["E8", "1", "2024-03-05 09:05:00 pm", "1"],
            ["E9", "1", "2024年3月5日上午12:05", "1"],
            ["E10", "1", "2024/3/5 晚上 11:59:59", "1"],
        ],
    )
    r = import_file(db, "orders", f)
    assert (r.rows_loaded, r.rows_rejected) == (10, 0)
    assert con.execute("SELECT order_id, ordered_at FROM orders ORDER BY ordered_at, order_id").fetchall() == [
        ("E6", T(2024, 3, 5, 0, 0)),
        ("E9", T(2024, 3, 5, 0, 5)),
        ("E5", T(2024, 3, 5, 9, 5)),
        ("E3", T(2024, 3, 5, 10, 0)),
        ("E4", T(2024, 3, 5, 10, 0)),
        ("E7", T(2024, 3, 5, 12, 30)),
        ("E8", T(2024, 3, 5, 21, 5)),
        ("E10", T(2024, 3, 5, 23, 59, 59)),
        ("E1", T(2024, 5, 13, 21, 5)),
        ("E2", T(2024, 5, 13, 21, 5, 3)),
    ]


def test_am_pm_dates_keep_the_detected_day_order() -> None:
    rows, decision = parse_column(
        "orders", "ordered_at", ["13/4/2024 9:05 PM", "5/3/2024 上午 9:05", "1/2/24 12:00 PM"]
    )
    assert decision.dm_order == "dmy"
    assert rows == [(T(2024, 4, 13, 21, 5), None), (T(2024, 3, 5, 9, 5), None), (T(2024, 2, 1, 12, 0), None)]
    rows, decision = parse_column("orders", "ordered_at", ["4/13/2024 9:05 pm", "3/5/2024 下午 12:05:09"])
    assert decision.dm_order == "mdy"
    assert rows == [(T(2024, 4, 13, 21, 5), None), (T(2024, 3, 5, 12, 5, 9), None)]


def test_impossible_12_hour_times_are_rejected() -> None:
    rows, _ = parse_column("orders", "ordered_at", ["2024-03-05 13:05 PM", "2024-03-05 0:05 AM", "2024-03-05 PM"])
    assert [v for v, _ in rows] == [None, None, None]
    assert all(e and e.endswith("is not a date") for _, e in rows)
