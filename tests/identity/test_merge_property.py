"""Merge then undo, on random clusters, orders and earlier merges: the tables come back exactly (no splink)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity.store_merge import apply_run, undo_last
from winback.warehouse import connect

IDS = [f"M{i}" for i in range(8)]


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    # earlier merges as `apply` leaves them: flat, every merged-away record points at a live one
    live = draw(st.lists(st.sampled_from(IDS), min_size=1, unique=True))
    merged_into = {m: None if m in live else draw(st.sampled_from([None, *live])) for m in IDS}
    orders = [
        (f"O{k}", draw(st.sampled_from([*IDS, None])), draw(st.sampled_from([*IDS, None])))
        for k in range(draw(st.integers(0, 12)))
    ]
    clusters = []
    free = list(IDS)
    for c in range(draw(st.integers(1, 3))):
        size = draw(st.integers(2, 3))
        if len(free) < size:
            break
        candidates = [m for m in free if merged_into[m] is None]  # dedupe only clusters live records
        if len(candidates) < size:
            break
        members = draw(st.permutations(candidates))[:size]
        free = [m for m in free if m not in members]
        clusters += [(f"C{c}", members[0], m, m == members[0]) for m in members]
    return {"merged_into": merged_into, "orders": orders, "clusters": clusters}


@pytest.fixture(scope="module")
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(":memory:")
    yield c
    c.close()


def _tables(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    return (
        con.execute("SELECT * FROM members ORDER BY member_id").fetchall(),
        con.execute("SELECT * FROM orders ORDER BY order_id").fetchall(),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scenarios())
def test_apply_then_undo_is_identity(mem: duckdb.DuckDBPyConnection, s: dict[str, Any]) -> None:
    for t in ("members", "orders", "identity_clusters", "identity_merges", "identity_merge_members",
              "identity_merge_orders"):  # fmt: skip
        mem.execute(f"DELETE FROM {t}")
    for m, into in s["merged_into"].items():
        mem.execute(
            "INSERT INTO members (member_id, phone_status, source, merged_into) VALUES (?, 'missing', 'erp', ?)",
            [m, into],
        )
    for oid, owner, source in s["orders"]:
        mem.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) "
            "VALUES (?, ?, ?, '2024-01-01', 1, 'paid')",
            [oid, owner, source],
        )
    for _, survivor, member, is_survivor in s["clusters"]:
        mem.execute("INSERT INTO identity_clusters VALUES (99, ?, ?, ?)", [survivor, member, is_survivor])
    before = _tables(mem)
    applied = apply_run(DuckDBEngine(mem), 99).to_dict()
    members_after, orders_after = _tables(mem)
    live = {m for m, into in ((r[0], r[22]) for r in members_after) if into is None}
    owners = {r[1] for r in orders_after if r[1] is not None}
    assert owners <= live  # no order is left on a merged-away record
    assert applied["orders"] == sum(1 for a, b in zip(before[1], orders_after, strict=True) if a != b)
    if applied["merge_id"] is None:  # no cluster could be drawn (too few live records): nothing merged, no undo
        assert (members_after, orders_after) == before
        return
    undo_last(DuckDBEngine(mem))
    assert _tables(mem) == before
