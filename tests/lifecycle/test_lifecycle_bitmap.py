"""The one-pass purchase-day count (per-member bitmaps, DuckDB) gives the same rows as the portable two-level one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lc_helpers import AS_OF, add_members, add_orders, build_small

from winback.lifecycle import snapshot_sql as q
from winback.warehouse import connect

START = dt.datetime(2023, 1, 1)


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[object, ...]]:
    return con.execute(f"SELECT * FROM ({sql}) ORDER BY member_id").fetchall()


def _first_day(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dt.date | None:
    row = con.execute(q.first_paid_day_sql(as_of)).fetchone()
    return row[0] if row else None


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(tmp_path_factory.mktemp("lc_bitmap") / "b.duckdb")
    yield c
    c.close()


def test_golden_small_warehouse(scratch: duckdb.DuckDBPyConnection) -> None:
    for t in ("members", "orders"):
        scratch.execute(f"DELETE FROM {t}")
    build_small(scratch)
    first = _first_day(scratch, AS_OF)
    assert first == dt.date(2022, 1, 1)
    fast = _rows(scratch, q.per_member_bitmap_sql(AS_OF, first))
    # m1: 4 paid orders before as-of on 3 days (two on 2024-01-10), a refund nets monetary; m6 only cancelled
    m1 = next(r for r in fast if r[0] == "m1")
    assert m1[1:] == (dt.date(2024, 1, 10), dt.date(2024, 5, 10), 4, 3, Decimal("390.00"))
    assert "m6" not in {r[0] for r in fast}
    assert fast == _rows(scratch, q.per_member_two_level_sql(AS_OF))
    assert _rows(scratch, q.base_sql(AS_OF, first)) == _rows(scratch, q.base_sql(AS_OF))


order_st = st.tuples(
    st.integers(0, 4),  # member
    st.integers(0, 60),  # day offset: several bitmap windows of 7 days
    st.integers(0, 23),  # hour
    st.integers(1, 900),  # amount
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


@given(orders=st.lists(order_st, max_size=30), as_of_offset=st.integers(1, 70), window=st.sampled_from([1, 7, 2048]))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_bitmap_equals_two_level(
    scratch: duckdb.DuckDBPyConnection, orders: list[tuple[int, int, int, int, str]], as_of_offset: int, window: int
) -> None:
    for t in ("members", "orders"):
        scratch.execute(f"DELETE FROM {t}")
    add_members(scratch, [(f"u{i}", "2022-06-01", None, None, None, None, None) for i in range(5)])
    rows = []
    for k, (m, day, hour, amount, status) in enumerate(orders):
        at = START + dt.timedelta(days=day, hours=hour)
        rows.append((f"o{k}", f"u{m}", at.isoformat(sep=" "), -amount if status == "refunded" else amount, status))
    add_orders(scratch, rows)
    as_of = (START + dt.timedelta(days=as_of_offset)).date()
    slow = _rows(scratch, q.per_member_two_level_sql(as_of))
    first = _first_day(scratch, as_of)
    if first is None:  # no paid order before as-of: the refresh uses the two-level path
        return
    assert _rows(scratch, q.per_member_bitmap_sql(as_of, first, window)) == slow
    origin = scratch.execute(q.bitmap_origin_sql(as_of)).fetchone()[0]  # the refresh's: any order's first day
    assert origin <= first
    assert _rows(scratch, q.per_member_bitmap_sql(as_of, origin, window)) == slow
    cutoff = dt.datetime.combine(as_of, dt.time())
    for member_id, _f, _l, _o, purchase_days, _m in slow:  # and both count distinct paid days
        paid = {
            o[2][:10] for o in rows if o[1] == member_id and o[4] == "paid" and dt.datetime.fromisoformat(o[2]) < cutoff
        }
        assert purchase_days == len(paid)


def test_long_histories_use_the_two_level_form() -> None:
    as_of = dt.date(2025, 11, 1)
    assert "bitstring_agg" in q.base_sql(as_of, as_of - dt.timedelta(days=q.MAX_BITMAP_DAYS))
    long_ago = as_of - dt.timedelta(days=q.MAX_BITMAP_DAYS + 1)
    assert q.base_sql(as_of, long_ago) == q.base_sql(as_of)  # bounded memory per member, same rows
    assert "bitstring_agg" not in q.base_sql(as_of)
