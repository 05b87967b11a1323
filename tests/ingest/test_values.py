"""Dates and amounts as exports write them, through the real validation SQL (golden values + properties)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ingest_util import parse_column

from winback.ingest.values_sql import DateShapes, decide_date_format

T = dt.datetime


def ts(values: list[str]) -> list[object]:
    return [v for v, _ in parse_column("orders", "ordered_at", values)[0]]


def test_every_listed_date_form() -> None:
    got = ts(
        [
            "2024/3/5",
            "2024-03-05 13:05",
            "20240305",
            "2024年3月5日",
            "45356",
            "45356.5",
            "2024.3.5",
            "2024-03-05T13:05:22",
            "２０２４／３／５",
            "2024-3-5 13:05:22.250",
            " 2024-03-05 ",
            "20240305130500",
        ]
    )
    assert got == [
        T(2024, 3, 5),
        T(2024, 3, 5, 13, 5),
        T(2024, 3, 5),
        T(2024, 3, 5),
        T(2024, 3, 5),
        T(2024, 3, 5, 12),
        T(2024, 3, 5),
        T(2024, 3, 5, 13, 5, 22),
        T(2024, 3, 5),
        T(2024, 3, 5, 13, 5, 22, 250000),
        T(2024, 3, 5),
        T(2024, 3, 5, 13, 5),
    ]


def test_day_first_detected_from_the_data() -> None:
    rows, decision = parse_column("orders", "ordered_at", ["13/04/2024", "05/03/2024 10:00", "1/2/24"])
    assert decision.dm_order == "dmy" and decision.label == "dmy" and decision.note is None
    assert [v for v, _ in rows] == [T(2024, 4, 13), T(2024, 3, 5, 10), T(2024, 2, 1)]


def test_month_first_detected_from_the_data() -> None:
    rows, decision = parse_column("orders", "ordered_at", ["04/13/2024", "05/03/2024"])
    assert decision.dm_order == "mdy"
    assert [v for v, _ in rows] == [T(2024, 4, 13), T(2024, 5, 3)]


@pytest.mark.usefixtures("english")
def test_undecidable_dates_say_what_was_assumed() -> None:
    rows, decision = parse_column("orders", "ordered_at", ["05/03/2024", "2024-01-01"])
    assert decision.dm_order == "mdy" and "assumed" in (decision.note or "")
    assert decision.label == "ymd+mdy" or decision.label == "mdy+ymd"
    assert rows[0][0] == T(2024, 5, 3)


@pytest.mark.usefixtures("english")
def test_mixed_orders_reject_the_minority() -> None:
    rows, decision = parse_column("orders", "ordered_at", ["13/04/2024", "14/04/2024", "04/15/2024"])
    assert decision.dm_order == "dmy" and "mixed" in (decision.note or "")
    assert rows[2] == (None, 'order time "04/15/2024" is not a date')


def test_impossible_and_garbage_dates_are_rejected() -> None:
    rows, _ = parse_column("orders", "ordered_at", ["2024-02-30", "yesterday", None, "-"])
    assert rows == [
        (None, 'order time "2024-02-30" is not a date'),
        (None, 'order time "yesterday" is not a date'),
        (None, "the row is empty"),  # a one-column file: the row has nothing at all
        (None, "order time is missing"),
    ]


def test_decide_date_format_prefers_the_evidence() -> None:
    assert decide_date_format(DateShapes(ymd=10)).label == "ymd"
    assert decide_date_format(DateShapes(serial=3, ymd=1)).label == "excel-serial+ymd"
    assert decide_date_format(DateShapes(dm=5, first_over_12=2)).dm_order == "dmy"
    assert decide_date_format(DateShapes(dm=5, second_over_12=2)).dm_order == "mdy"


def money(values: list[str]) -> list[tuple[object, str | None]]:
    return parse_column("orders", "amount", values)[0]


def test_every_listed_amount_form() -> None:
    got = money(
        ["¥1,234.50", "￥１，２３４．５０", "1234.5", "-12", "(12.50)", "12.50-", "RMB 12", "1,234,567.8", "12元", "+3"]
    )
    assert [v for v, _ in got] == [
        Decimal("1234.50"),
        Decimal("1234.50"),
        Decimal("1234.50"),
        Decimal("-12.00"),
        Decimal("-12.50"),
        Decimal("-12.50"),
        Decimal("12.00"),
        Decimal("1234567.80"),
        Decimal("12.00"),
        Decimal("3.00"),
    ]


def test_amounts_after_a_yuan_sign_read_as_without_it() -> None:
    """The yuan-sign fast path (`money_fast`) gives what the full cleaning gives, also for the awkward texts."""
    texts = ["￥88", "¥-12", "￥ 12.5", "￥12-", "￥(12)", "￥1e3", "￥12元", "￥1,234", "¥.5"]
    texts += ["￥1e400", "￥nan", "￥"]
    got = money(texts)
    assert got == [
        (Decimal("88.00"), None),
        (Decimal("-12.00"), None),
        (Decimal("12.50"), None),
        (Decimal("-12.00"), None),
        (Decimal("-12.00"), None),
        (Decimal("1000.00"), None),
        (Decimal("12.00"), None),
        (Decimal("1234.00"), None),
        (Decimal("0.50"), None),
        (None, 'amount "￥1e400" is not a number'),
        (None, 'amount "￥nan" is not a number'),
        (None, 'amount "￥" is not a number'),
    ]


def test_unreadable_amounts_are_rejected_with_the_value() -> None:
    assert money(["12,5O", "12,5", "1,23,4", "abc"]) == [
        (None, 'amount "12,5O" is not a number'),
        (None, 'amount "12,5" is not a number'),
        (None, 'amount "1,23,4" is not a number'),
        (None, 'amount "abc" is not a number'),
    ]


def test_quantity_must_be_whole() -> None:
    rows, _ = parse_column("orders", "quantity", ["2", "2.0", "２", "2.5"])
    assert rows == [(2, None), (2, None), (2, None), (None, 'quantity "2.5" is not a whole number')]


_FULL = str.maketrans("0123456789.,-", "０１２３４５６７８９．，－")


@settings(max_examples=60, deadline=None)
@given(
    cents=st.integers(min_value=-(10**11), max_value=10**11),
    thousands=st.booleans(),
    sign=st.sampled_from(["", "¥", "￥", "RMB "]),
    fullwidth=st.booleans(),
)
def test_amount_property(cents: int, thousands: bool, sign: str, fullwidth: bool) -> None:
    value = Decimal(cents) / 100
    body = f"{abs(value):,.2f}" if thousands else f"{abs(value):.2f}"
    text = ("-" if value < 0 else "") + sign + body
    if fullwidth:
        text = text.translate(_FULL)
    assert money([text]) == [(value, None)]


_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%d/%m/%Y"]


@settings(max_examples=40, deadline=None)
@given(
    when=st.datetimes(min_value=T(1990, 1, 1), max_value=T(2035, 12, 31)).map(lambda d: d.replace(microsecond=0)),
    fmt=st.sampled_from(_FORMATS),
)
def test_date_property(when: T, fmt: str) -> None:
    text = when.strftime(fmt)
    # a day above 12 settles day-first; add such a row so the %d/%m/%Y case is decidable
    rows, _ = parse_column("orders", "ordered_at", [text, when.replace(day=28).strftime(fmt)])
    expected = when if "%H" in fmt else T(when.year, when.month, when.day)
    if "%M" in fmt and "%S" not in fmt:
        expected = expected.replace(second=0)
    assert rows[0] == (expected, None)


def test_enum_lists_are_lower_case_and_disjoint() -> None:
    """`values_sql._enum` tries the text as written before lower(): that gives lower()'s answer only while every
    list is lower case and no value is in two lists of one field."""
    from itertools import combinations

    from winback.ingest import values_sql as V

    fields = (
        (V._TRUE, V._FALSE),
        (V._FEMALE, V._MALE, V._GENDER_UNKNOWN),
        (V._ONLINE, V._OFFLINE),
        (V.STATUS_PAID, V.STATUS_REFUNDED, V.STATUS_CANCELLED, V.STATUS_UNPAID),
    )
    for lists in fields:
        assert all(x == x.lower() for values in lists for x in values)
        assert all(not set(a) & set(b) for a, b in combinations(lists, 2))


def test_enums_and_placeholders_any_case() -> None:
    """The exact-first status and the first-character filter of placeholders give what lower() and the full list
    gave."""
    from winback.ingest import values_sql as V

    cells = ["PAID", "已付款", "Refunded", " x", "NULL", "n/a", "N/A", "", "-", "nan", "0000-00-00", "T1", None]
    sql = f"SELECT {V.status('v')}, {V.null_tokens('v')} FROM unnest(?::VARCHAR[]) WITH ORDINALITY t(v, i) ORDER BY i"
    got = duckdb.connect().execute(sql, [cells]).fetchall()
    assert [g[0] for g in got] == ["paid", "paid", "refunded"] + [None] * 10
    assert [g[1] for g in got] == ["PAID", "已付款", "Refunded", " x"] + [None] * 7 + ["T1", None]
