"""Re-running `dedupe --apply` when there is nothing left to merge records no merge, so `--undo` still reverses the
real last merge (it used to record an empty merge and then "undo" that one, leaving the real merge in place)."""

from __future__ import annotations

from typing import Any

import duckdb
import pytest

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import NotFoundError
from winback.identity import service

OWNERS = "SELECT order_id, member_id, source_member_id FROM orders ORDER BY order_id"
MEMBERS = "SELECT member_id, merged_into FROM members ORDER BY member_id"


def _add_member(con: duckdb.DuckDBPyConnection, mid: str, source: str, birthday: str | None, reg: str | None) -> None:
    con.execute(
        "INSERT INTO members (member_id, source, phone, phone_status, name, birthday, wechat_id, register_date, "
        "store_id) VALUES (?, ?, '+8613911112222', 'mobile', '王芳', ?, 'wx_a', ?, 'S1')",
        [mid, source, birthday, reg],
    )


def _order(con: duckdb.DuckDBPyConnection, oid: str, mid: str) -> None:
    con.execute(
        "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) "
        "VALUES (?, ?, ?, '2024-01-01', 10, 'paid')",
        [oid, mid, mid],
    )


def _merges(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT merge_id, members, orders, undone_at IS NULL FROM identity_merges ORDER BY 1").fetchall()


@pytest.fixture
def one_person(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """One person as a WeChat record W1 (with an order) and an ERP card E1."""
    _add_member(con, "W1", "guide_wechat", None, None)
    _add_member(con, "E1", "erp", "1990-03-04", "2020-01-01")
    _order(con, "o1", "W1")
    return con


@pytest.mark.usefixtures("english")
def test_reapply_with_nothing_to_merge_records_no_merge(one_person: duckdb.DuckDBPyConnection) -> None:
    con, db = one_person, DuckDBEngine(one_person)
    before = con.execute(MEMBERS).fetchall(), con.execute(OWNERS).fetchall()
    first = service.dedupe(db, apply=True).applied
    assert first is not None and first.merge_id is not None and first.members == 1 and first.orders == 1
    merged = con.execute(MEMBERS).fetchall(), con.execute(OWNERS).fetchall()

    again = service.dedupe(db, apply=True).applied
    assert again is not None and again.merge_id is None and (again.members, again.orders) == (0, 0)
    assert again.to_dict()["merge_id"] is None
    assert _merges(con) == [(first.merge_id, 1, 1, True)]  # only the real merge is on record
    assert (con.execute(MEMBERS).fetchall(), con.execute(OWNERS).fetchall()) == merged
    # the explicit `apply` of the latest run is the same: nothing to merge, nothing recorded
    assert service.apply(db).merge_id is None and len(_merges(con)) == 1

    undone = service.undo(db).undone
    assert undone.merge_id == first.merge_id
    assert (con.execute(MEMBERS).fetchall(), con.execute(OWNERS).fetchall()) == before
    with pytest.raises(NotFoundError, match="no applied merge"):
        service.undo(db)


def test_an_orders_only_merge_is_recorded(one_person: duckdb.DuckDBPyConnection) -> None:
    """No member moves, but an order imported later for the merged-away record does: that is a real merge."""
    con, db = one_person, DuckDBEngine(one_person)
    first = service.dedupe(db, apply=True).applied
    assert first is not None and first.merge_id is not None
    _order(con, "o2", "W1")  # a later export still names the WeChat record
    second = service.dedupe(db, apply=True).applied
    assert second is not None and second.merge_id is not None and (second.members, second.orders) == (0, 1)
    assert con.execute(OWNERS).fetchall() == [("o1", "E1", "W1"), ("o2", "E1", "W1")]
    assert service.undo(db).undone.merge_id == second.merge_id
    assert con.execute(OWNERS).fetchall() == [("o1", "E1", "W1"), ("o2", "W1", "W1")]
