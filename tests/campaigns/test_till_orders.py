"""The tills' paid orders (warehouse/till_orders.py) equal their definition over `orders` after any sequence of the
writes that change orders: imports (new orders, status changes both ways, refunds, duplicates), identity merges
and their undo, coupons issued (the horizon moving back and on) and redeemed or voided; and a redemption finds an
order through them exactly as through `orders`."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.campaigns.coupon_service import redeem_code
from winback.campaigns.coupons import new_codes
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import WinbackError
from winback.identity.store_merge import apply_run, undo_last
from winback.ingest import import_file
from winback.warehouse import connect, till_orders

T0 = dt.datetime(2026, 3, 1, 9, 0)
MEMBERS = [f"M{i}" for i in range(5)]
STATUS = ["已付款", "已付款", "已取消", "退货", "未付款"]
#: the definition: every paid order row dated on or after the horizon
EXPECTED = (
    "SELECT o.order_id, o.member_id, o.amount, o.ordered_at, o.store_id FROM orders o "
    f"WHERE {till_orders.PAID_SINCE} ORDER BY ALL"
)
LIVE = "SELECT min(issued_at) FROM coupons WHERE redeemed_at IS NULL AND voided_at IS NULL"

LINES = st.lists(
    st.tuples(st.integers(0, 9), st.sampled_from(MEMBERS), st.integers(-30, 30), st.integers(1, 500),
              st.sampled_from(STATUS)),
    min_size=1, max_size=6,
)  # fmt: skip
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("import"), LINES),
        st.tuples(st.just("merge"), st.permutations(MEMBERS).map(lambda m: m[:2])),
        st.tuples(st.just("undo")),
        st.tuples(st.just("issue"), st.integers(-40, 40)),
        st.tuples(st.just("use"), st.sampled_from(["redeem", "void"])),
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(":memory:")
    for m in MEMBERS:
        c.execute("INSERT INTO members (member_id, phone_status, source) VALUES (?, 'missing', 'erp')", [m])
    c.execute("INSERT INTO stores (store_id, name, city) VALUES ('S1', 'a', '上海')")
    yield c
    c.close()


def _import(con: duckdb.DuckDBPyConnection, lines: list[tuple[Any, ...]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["小票号", "会员卡号", "门店", "销售时间", "实收金额", "状态"])
        for oid, member, day, amount, status in lines:
            w.writerow([f"T{oid}", member, "S1", f"{T0 + dt.timedelta(days=day):%Y-%m-%d %H:%M}", amount, status])
    import_file(DuckDBEngine(con), "orders", path)


def _merge(con: duckdb.DuckDBPyConnection, pair: tuple[str, str]) -> None:
    survivor, dup = pair
    live = {r[0] for r in con.execute("SELECT member_id FROM members WHERE merged_into IS NULL").fetchall()}
    if not {survivor, dup} <= live:
        return
    run = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM identity_clusters").fetchall()[0][0])
    con.execute("INSERT INTO identity_clusters VALUES (?, ?, ?, true), (?, ?, ?, false)",
                [run, survivor, survivor, run, survivor, dup])  # fmt: skip
    apply_run(DuckDBEngine(con), run)


def _issue(con: duckdb.DuckDBPyConnection, day: int) -> None:
    """What a launch does to coupons: insert them, then cover (store_launch.write_launch)."""
    (code,) = new_codes(1)
    issued = T0 + dt.timedelta(days=day)
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "INSERT INTO coupons (code, campaign_id, member_id, variant_key, offer_kind, offer_value, offer_threshold, "
        " issued_at, expires_at) VALUES (?, 'P', 'M0', 'A', 'voucher', 10, 0, ?, ?)",
        [code, issued, issued + dt.timedelta(days=30)],
    )
    till_orders.cover(con)
    con.execute("COMMIT")


def _use(con: duckdb.DuckDBPyConnection, how: str) -> None:
    column = "redeemed_at" if how == "redeem" else "voided_at"
    con.execute("BEGIN TRANSACTION")
    con.execute(f"UPDATE coupons SET {column} = issued_at WHERE code = (SELECT min(code) FROM coupons "
                "WHERE redeemed_at IS NULL AND voided_at IS NULL)")  # fmt: skip
    till_orders.cover(con)  # closing a campaign may move the horizon on; nothing requires it
    con.execute("COMMIT")


def _check(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(f"SELECT * FROM {till_orders.TABLE} ORDER BY ALL").fetchall() == con.execute(EXPECTED).fetchall()
    live, since = con.execute(f"SELECT ({LIVE}), since FROM till_horizon").fetchall()[0]
    assert live is None or since <= live  # every order a live coupon can be redeemed against is in the table


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_the_tills_orders_follow_every_writer(
    con: duckdb.DuckDBPyConnection, tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[Any, ...]]
) -> None:
    path = tmp_path_factory.mktemp("orders") / "orders.csv"
    for op in ops:
        if op[0] == "import":
            _import(con, op[1], path)
        elif op[0] == "merge":
            _merge(con, op[1])
        elif op[0] == "undo":
            with contextlib.suppress(WinbackError):  # nothing to undo, or not exactly: nothing changed
                undo_last(DuckDBEngine(con))
        elif op[0] == "issue":
            _issue(con, op[1])
        else:
            _use(con, op[1])
        _check(con)


def test_an_order_before_the_horizon_is_refused_as_not_found_since_the_issue_day(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    _import(con, [(1, "M0", -5, 100, "已付款"), (2, "M0", 1, 100, "已付款")], tmp_path / "o.csv")
    _issue(con, 0)
    (code,) = con.execute("SELECT code FROM coupons").fetchall()[0]
    db = DuckDBEngine(con)
    with pytest.raises(WinbackError, match="T1") as refused:
        redeem_code(db, code, order_id="T1", store_id="S1", now=T0 + dt.timedelta(days=2))
    assert "2026-03-01" in refused.value.message  # no paid order T1 dated on or after the issue day
    done = redeem_code(db, code, order_id="T2", store_id="S1", now=T0 + dt.timedelta(days=2))
    assert (done.order_id, done.amount) == ("T2", 100)
