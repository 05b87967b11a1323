"""Issue 14: each `refresh --history` date's per-member statistics from the history's integer rows
(queries_history.HistoryStats: day numbers and cohort ids instead of dates and strings) are those a refresh makes
from the stored facts (queries.create_base / create_prior): the cohort priors with their names, the purchase
model's triples, the Gamma-Gamma pairs and the value counts, at every date, for cohorts of every level (own,
tier, all, default) and NULL or empty tiers and stores."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lc_helpers import AS_OF, add_members, add_orders

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle import queries, queries_history
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.history import history_dates
from winback.warehouse import connect

START = dt.datetime(2023, 10, 1)
member_st = st.tuples(
    st.one_of(st.none(), st.integers(-60, 300)),  # registration, days from START
    st.sampled_from(["VIP", "regular", "", None]),
    st.sampled_from(["S1", "S2", "", None]),
)
order_st = st.tuples(
    st.integers(0, 11),  # member
    st.integers(0, 280),  # day offset
    st.integers(-50, 900).filter(bool),  # amount
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


def _statistics(db: DuckDBEngine) -> tuple[list[Any], ...]:
    """PRIOR's rows and the three compact statistics read from the temp BASE, each sorted."""
    return (
        sorted(db.fetchall(f"SELECT * FROM {q.PRIOR}")),
        sorted(queries.purchase_triples(db).to_pylist(), key=repr),
        sorted(queries.gamma_pairs(db).to_pylist(), key=repr),
        sorted(queries.value_counts_base(db).to_pylist(), key=repr),
    )


def _check(members: list[Any], orders: list[Any], root: Path, cycle: CycleSettings) -> None:
    con = connect(root / "w.duckdb")
    add_members(
        con,
        [
            (f"h{i}", None if reg is None else (START + dt.timedelta(days=reg)).date().isoformat(), tier, store,
             None, None, None)
            for i, (reg, tier, store) in enumerate(members)
        ],
    )  # fmt: skip
    add_orders(
        con,
        [
            (f"x{k}", f"h{m % len(members)}", (START + dt.timedelta(days=day, hours=10)).isoformat(" "), amount, status)
            for k, (m, day, amount, status) in enumerate(orders)
        ],
    )
    db = DuckDBEngine(con)
    dates = history_dates(db, AS_OF, "monthly")
    queries_history.history_facts(db, db, dates)
    stats = queries_history.create_rows(db)
    for d in dates:
        queries.create_base(db, d)
        queries.create_prior(db, cycle)
        from_facts = _statistics(db)
        stats.create_base(db, d)
        stats.create_prior(db, cycle)
        assert _statistics(db) == from_facts, d
    queries_history.drop_rows(db)
    db.close()


@given(
    members=st.lists(member_st, min_size=1, max_size=12),
    orders=st.lists(order_st, min_size=1, max_size=60),
    min_cohort=st.integers(1, 4),
)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_history_statistics_equal_those_from_the_facts(members: list[Any], orders: list[Any], min_cohort: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _check(members, orders, Path(tmp), CycleSettings(min_cohort=min_cohort))
