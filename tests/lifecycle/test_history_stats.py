"""Issue 14: `refresh --history`'s statistics carried from date to date (queries_history.CarriedStats) are, at
every date, exactly what a refresh reads from its per-member BASE there: the purchase model's triples (same rows,
same order, same types), the value model's pairs, the breakpoints' value counts and the cohort priors."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lc_helpers import AS_OF
from test_history import _fill

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle import queries, queries_history
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.history import history_dates
from winback.warehouse import connect

member_st = st.tuples(st.one_of(st.none(), st.integers(-60, 300)), st.sampled_from(["VIP", "regular", None]))
order_st = st.tuples(
    st.integers(0, 11),  # member
    st.integers(0, 280),  # day offset
    st.integers(0, 23),  # hour
    st.sampled_from([-40, 10, 10, 25, 99, 300]).filter(bool),  # few amounts: members share keys
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


def _sorted(table: Any) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for r in table.to_pylist())


def _check(members: list[Any], orders: list[Any], root: Path) -> None:
    con = connect(root / "s.duckdb")
    _fill(con, members, orders)
    db = DuckDBEngine(con)
    cycle = CycleSettings(min_cohort=2)  # small cohorts: the cohort, tier and overall medians all get used
    dates = history_dates(db, AS_OF, "monthly")
    queries_history.history_facts(db, db, dates)
    stats = queries_history.CarriedStats()
    for d in dates:
        stats.advance(db, d)
        queries.create_base(db, d)
        queries.create_prior(db, cycle)
        prior = db.fetchall(f"SELECT * FROM {q.PRIOR} ORDER BY ALL")
        triples = queries.purchase_triples(db)
        assert stats.triples(db, d).equals(triples), d  # same rows in the same order, same types
        assert _sorted(stats.pairs(db, d)) == _sorted(queries.gamma_pairs(db)), d
        assert _sorted(stats.value_counts(db, d)) == _sorted(queries.value_counts_base(db)), d
        stats.prior(db, d, cycle)
        assert db.fetchall(f"SELECT * FROM {q.PRIOR} ORDER BY ALL") == prior, d
    with pytest.raises(ValueError):
        stats.advance(db, dates[-1])
    stats.drop(db)
    db.close()


@given(members=st.lists(member_st, max_size=12), orders=st.lists(order_st, max_size=60))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_carried_stats_equal_the_base_at_every_date(members: list[Any], orders: list[Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(members, orders, Path(tmp))


def test_carried_stats_on_a_busy_brand(tmp_path: Path) -> None:
    """Many members with shared histories: keys that several members hold, leave and reach again."""
    members = [(10 * (i % 9) - 30, ["VIP", "regular", None][i % 3]) for i in range(12)]
    orders = [
        (i % 12, (13 * i) % 270, i % 24, [10, 25, 99, -40][i % 4], "refunded" if i % 11 == 0 else "paid")
        for i in range(150)
    ]
    _check(members, orders, tmp_path)
    assert dt.date(2024, 1, 1) < AS_OF
