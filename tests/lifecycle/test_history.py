"""Issue 14: `refresh --history monthly` from one pass over the orders equals a full refresh at every date: every
snapshot column, the segments and the transitions between dates; and it stores only the fact rows that change."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lc_helpers import AS_OF, MEMBERS, ORDERS, add_members, add_orders, build_small

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle import queries
from winback.lifecycle.history import history_dates, one_pass, refresh_history
from winback.lifecycle.history_sql import BITMAP_GAP, bitmap_fits, bucket_sql, history_facts_sql
from winback.lifecycle.refresh import refresh
from winback.lifecycle.views import transitions
from winback.warehouse import connect

START = dt.datetime(2023, 10, 1)
member_st = st.tuples(st.one_of(st.none(), st.integers(-60, 300)), st.sampled_from(["VIP", "regular", None]))
order_st = st.tuples(
    st.integers(0, 7),  # member
    st.integers(0, 280),  # day offset
    st.integers(0, 23),  # hour
    st.integers(-50, 900).filter(bool),  # amount (not 0: a change)
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


def _snapshot(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return db.fetchall("SELECT * FROM member_snapshot WHERE as_of = ? ORDER BY member_id", [as_of])


def _segments(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return db.fetchall("SELECT scheme, member_id, segment FROM member_segments WHERE as_of = ? ORDER BY ALL", [as_of])


def _day(offset: int | None) -> str | None:
    return None if offset is None else (START + dt.timedelta(days=offset)).date().isoformat()


def _fill(con: Any, members: list[tuple[Any, ...]], orders: list[tuple[Any, ...]]) -> None:
    """The small brand (a merged member, a never-purchased one, a refund, a cancelled order, ...) without its
    2022 order (fewer months to refresh), plus `members` h0.. and `orders` for them."""
    add_members(con, MEMBERS)
    add_orders(con, [o for o in ORDERS if o[0] != "o11"])
    add_members(
        con,
        [(f"h{i}", _day(reg), tier, "S1", None, None, None) for i, (reg, tier) in enumerate(members)],
    )
    add_orders(
        con,
        [
            (f"x{k}", f"h{m % max(len(members), 1)}" if members else "m1",
             (START + dt.timedelta(days=day, hours=hour)).isoformat(" "), amount, status)
            for k, (m, day, hour, amount, status) in enumerate(orders)
        ],
    )  # fmt: skip


def _check(members: list[tuple[Any, ...]], orders: list[tuple[Any, ...]], root: Path) -> None:
    dbs = []
    for name in ("history", "full"):
        con = connect(root / f"{name}.duckdb")
        _fill(con, members, orders)
        dbs.append(DuckDBEngine(con))
    a, b = dbs
    runs = one_pass(a, a, history_dates(a, AS_OF, "monthly"), count_all=True)
    assert runs[-1].segments == refresh_history(a, a, AS_OF)[-1].segments  # the command's own path
    assert {r.facts["mode"] for r in runs if r.facts} == {"history"}
    for r in runs:
        full = refresh(b, b, r.as_of, full=True)
        assert r.segments == full.segments and r.members == full.members
        assert _snapshot(a, r.as_of) == _snapshot(b, r.as_of), r.as_of
        assert _segments(a, r.as_of) == _segments(b, r.as_of)
    first, last = runs[0].as_of, runs[-1].as_of
    assert (
        transitions(a, date_from=first, date_to=last).to_dict()
        == transitions(b, date_from=first, date_to=last).to_dict()
    )
    # a row per member per date where they had orders (or first belong), never a copy of a member without any:
    # at most as many rows as (member, date) pairs with an order in the month before, plus one per member
    bound = a.fetchall(
        "SELECT (SELECT count(*) FROM member_facts), (SELECT count(DISTINCT member_id) FROM member_facts) + "
        "(SELECT count(DISTINCT (member_id, date_trunc('month', ordered_at))) FROM orders "
        "WHERE status IN ('paid', 'refunded'))"
    )
    assert bound[0][0] <= bound[0][1]
    for db in dbs:
        db.close()


@given(members=st.lists(member_st, max_size=8), orders=st.lists(order_st, max_size=30))
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_history_equals_a_full_refresh_at_every_date(members: list[Any], orders: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(members, orders, Path(tmp))


def test_history_on_the_small_brand(tmp_path: Path) -> None:
    _check([(10, "VIP"), (None, None)], [(0, 5, 3, 100, "paid"), (1, 200, 1, 30, "refunded")], tmp_path)


def test_bucket_is_the_first_date_after() -> None:
    import duckdb

    dates = [dt.date(2024, m, 1) for m in range(2, 12)] + [dt.date(2024, 11, 20)]
    con = duckdb.connect()
    for day in [dt.date(2023, 1, 1), *dates, *(d - dt.timedelta(days=1) for d in dates), dt.date(2025, 1, 1)]:
        lit = f"DATE '{day}'"
        got = con.execute(f"SELECT {bucket_sql(lit, dates)}").fetchone()[0]
        assert got == next((d for d in dates if d > day), None), day


@given(
    members=st.lists(member_st, max_size=8),
    orders=st.lists(order_st, max_size=40),
    step=st.sampled_from([1, 7, 31, 63]),
)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bitmap_buckets_equal_the_per_day_count(members: list[Any], orders: list[Any], step: int) -> None:
    """The one pass's purchase days per bucket from a bitmap (DuckDB) are those of the per-member-day
    pre-aggregate (the portable form, Spark's), for buckets up to BITMAP_GAP days long, on the edges too."""
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "b.duckdb")
        _fill(con, members, orders)
        db = DuckDBEngine(con)
        first = queries.bitmap_origin(db, AS_OF)
        assert first is not None
        dates = [first + dt.timedelta(days=step * (i + 1)) for i in range((AS_OF - first).days // step + 1)]
        assert bitmap_fits(dates, first) == (step <= BITMAP_GAP)
        rows = [db.fetchall(f"SELECT * FROM ({history_facts_sql(dates, b)}) ORDER BY ALL") for b in (True, False)]
        assert rows[0] == rows[1]
        db.close()


def test_bitmap_fits() -> None:
    d = dt.date(2024, 1, 1)
    assert bitmap_fits([d], None) and bitmap_fits([d], d - dt.timedelta(days=BITMAP_GAP))
    assert not bitmap_fits([d], d - dt.timedelta(days=BITMAP_GAP + 1))
    assert not bitmap_fits([d, d + dt.timedelta(days=BITMAP_GAP + 1)], d)


def test_history_keeps_other_dates(tmp_path: Path) -> None:
    """With a facts-based snapshot at a date outside the history's, the dates are refreshed one by one and that
    snapshot is kept as it was."""
    con = connect(tmp_path / "w.duckdb")
    build_small(con)
    wh = DuckDBEngine(con)
    day = dt.date(2024, 4, 15)
    refresh(wh, wh, day)
    before = _snapshot(wh, day)
    add_orders(con, [("late", "m2", "2024-04-01 10:00:00", 5, "paid")])
    runs = refresh_history(wh, wh, AS_OF)
    assert _snapshot(wh, day) == before
    assert {r.facts["mode"] for r in runs if r.facts} <= {"full", "incremental"}


def _as_before_018(con: Any, as_of: dt.date) -> None:
    """Turn the facts-based snapshot at `as_of` into what a refresh before migration 018 stored: predictions per
    (x, t_x, T) with P(alive) and expectations (here: the values the view gives), no "alive" in its settings;
    then the warehouse at schema 17 (no snapshot_predictions_xt)."""
    a = f"DATE '{as_of}'"
    con.execute(
        f"INSERT INTO snapshot_predictions SELECT {a}, purchase_days - 1, span_days, first_purchase_days - 1, "
        "min(p_alive), min(expected_purchases_90d), min(clv / NULLIF(expected_value, 0)) "
        f"FROM member_snapshot WHERE as_of = {a} AND purchase_days > 0 GROUP BY ALL"
    )
    con.execute(
        "UPDATE snapshot_runs SET settings = json_remove(settings, '$.snapshot.alive') WHERE as_of = ?", [as_of]
    )
    con.execute("DELETE FROM schema_migrations WHERE version = 18")
    con.execute("DROP TABLE snapshot_predictions_xt")


def test_migration_18_keeps_every_snapshot(tmp_path: Path) -> None:
    """A snapshot stored with per-(x, t_x, T) predictions (before 018) reads the same after the upgrade, beside a
    new date stored per (x, T); the upgrade's own check compares every date before and after."""
    import numpy as np

    from winback.app import Winback
    from winback.config import Settings
    from winback.lifecycle.store import rebuild_segments_view

    rng = np.random.default_rng(18)
    members = [(int(rng.integers(-60, 200)), "VIP") for _ in range(80)]
    orders = [
        (int(rng.integers(0, 80)), int(rng.integers(0, 270)), 10, int(rng.integers(1, 500)), "paid") for _ in range(400)
    ]
    path = tmp_path / "w.duckdb"
    con = connect(path)
    _fill(con, members, orders)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF)
    _as_before_018(con, AS_OF)
    rebuild_segments_view(wh)  # the view as a pre-018 version built it (its branch reads snapshot_predictions)
    old_rows, old_segments = _snapshot(wh, AS_OF), _segments(wh, AS_OF)
    assert old_rows and any(r[23] is not None for r in old_rows)  # p_alive
    con.close()

    con = Winback(Settings(db_path=path)).db().con  # migrates 018 with the room's step
    db = DuckDBEngine(con)
    assert con.execute("SELECT count(*) FROM schema_migrations WHERE version = 18").fetchone() == (1,)
    assert _snapshot(db, AS_OF) == old_rows and _segments(db, AS_OF) == old_segments
    later = AS_OF + dt.timedelta(days=20)
    refresh(db, db, later)
    assert con.execute(f"SELECT count(*) FROM snapshot_predictions_xt WHERE as_of = DATE '{later}'").fetchone()[0]
    assert _snapshot(db, AS_OF) == old_rows  # untouched by the new date
    con.close()
