"""Quintile breakpoints / scores and the credibility-weighted purchase cycle: golden numbers, properties, and the
SQL forms agreeing with the Python reference implementations on DuckDB."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.lifecycle.cycle import CycleSettings, cycle_sql, cycle_weight, shrunk_cycle, weight_sql
from winback.lifecycle.quintiles import breakpoints, score, score_sql


def test_breakpoints_golden() -> None:
    assert breakpoints([1, 52, 213, 912], [1, 1, 1, 1]) == [1, 52, 213, 912]
    assert breakpoints(list(range(1, 11)), [1] * 10) == [2, 4, 6, 8]
    # 60 % of members have one order: the first three breakpoints are 1, so all of them score 1
    assert breakpoints([1, 2, 3], [60, 30, 10]) == [1, 1, 1, 2]
    assert breakpoints([], []) == []


def test_scores_golden() -> None:
    b = [1.0, 52.0, 213.0, 912.0]
    assert [score(v, b, higher_is_better=False) for v in (1, 52, 213, 912, 1000)] == [5, 4, 3, 2, 1]
    assert [score(v, b) for v in (1, 52, 213, 912, 1000)] == [1, 2, 3, 4, 5]


values = st.lists(st.integers(min_value=-50, max_value=500), min_size=1, max_size=60)


@given(values)
@settings(max_examples=60, deadline=None)
def test_scores_are_1_to_5_monotone_and_tie_consistent(xs: list[int]) -> None:
    uniq = sorted(set(xs))
    b = breakpoints(uniq, [xs.count(v) for v in uniq])
    assert b == sorted(b) and len(b) == 4
    scores = {v: score(v, b) for v in uniq}
    assert all(1 <= s <= 5 for s in scores.values())
    assert [scores[v] for v in uniq] == sorted(scores[v] for v in uniq)
    # the top score is never empty and at most ~20 % + ties of members score 5
    assert scores[uniq[-1]] == max(scores.values())
    below_first = sum(1 for x in xs if x <= b[0])
    assert below_first >= 0.2 * len(xs)


@given(values)
@settings(max_examples=30, deadline=None)
def test_score_sql_matches_python(xs: list[int]) -> None:
    uniq = sorted(set(xs))
    b = breakpoints(uniq, [xs.count(v) for v in uniq])
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE t (v INTEGER)")
        con.executemany("INSERT INTO t VALUES (?)", [[v] for v in [*uniq, None]])
        got = con.execute(
            f"SELECT v, {score_sql('v', b)}, {score_sql('v', b, higher_is_better=False)} FROM t"
        ).fetchall()
    finally:
        con.close()
    for v, up, down in got:
        if v is None:
            assert up is None and down is None
        else:
            assert (up, down) == (score(v, b), score(v, b, higher_is_better=False))


def test_cycle_golden() -> None:
    # 3 purchase days over 121 days, prior 227.75, k = 2: (121 + 455.5) / 4
    assert shrunk_cycle(3, 121, 227.75, 2.0) == pytest.approx(144.125)
    assert cycle_weight(3, 2.0) == pytest.approx(0.5)
    # one purchase day: the prior itself; many: close to the member's own mean interval
    assert shrunk_cycle(1, 0, 227.75, 2.0) == pytest.approx(227.75)
    assert shrunk_cycle(101, 3000, 227.75, 2.0) == pytest.approx((3000 + 455.5) / 102)
    assert shrunk_cycle(0, 0, 227.75, 2.0) is None


@given(
    st.integers(min_value=1, max_value=200),
    st.integers(min_value=0, max_value=5000),
    st.floats(min_value=1, max_value=1000),
    st.floats(min_value=0.1, max_value=20),
)
@settings(max_examples=60, deadline=None)
def test_cycle_lies_between_own_mean_and_prior(days: int, span: int, prior: float, k: float) -> None:
    span = span if days >= 2 else 0  # one purchase day spans no time
    c = shrunk_cycle(days, span, prior, k)
    assert c is not None
    if days >= 2:
        own = span / (days - 1)
        assert min(own, prior) - 1e-9 <= c <= max(own, prior) + 1e-9
        w = cycle_weight(days, k)
        assert w is not None
        assert c == pytest.approx(w * own + (1 - w) * prior)
    else:
        assert c == pytest.approx(prior)


def test_cycle_sql_matches_python() -> None:
    con = duckdb.connect()
    rows = [(0, None), (1, 0), (2, 30), (5, 400)]
    try:
        got = con.execute(
            "SELECT "
            + cycle_sql("d", "s", "p", 2.0)
            + ", "
            + weight_sql("d", 2.0)
            + " FROM (VALUES "
            + ", ".join(f"({d}, {s if s is not None else 'NULL'}, 100.0)" for d, s in rows)
            + ") t(d, s, p)"
        ).fetchall()
    finally:
        con.close()
    for (d, s), (c, w) in zip(rows, got, strict=True):
        assert c == (None if d == 0 else pytest.approx(shrunk_cycle(d, s, 100.0, 2.0)))
        assert w == (None if d == 0 else pytest.approx(cycle_weight(d, 2.0)))


def test_cycle_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="k must be > 0"):
        CycleSettings(k=0)
    with pytest.raises(ValueError, match="min_cohort"):
        CycleSettings(min_cohort=0)
