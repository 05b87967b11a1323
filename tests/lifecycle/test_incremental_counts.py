"""Issue 14: what a daily refresh brings forward instead of reading every member again, and what it counts with.

- The value counts behind the quintile breakpoints (migration 024, store_facts.carried_value_counts): kept for the
  newest snapshot, adjusted by the member_facts rows that changed. After every refresh of a random sequence of
  imports, status changes, record changes, merges and undos (the Brand of test_incremental_refresh), the kept
  counts are exactly the counts over the facts valid at that date, and the breakpoints are theirs.
- The segment counts a refresh returns are the member_segments view's counts at that date (the counting branch
  computes P(alive) without the join to the predictions: snapshot_view.counts_branch_sql).
- The member count carried the same way (store_facts.facts_count with the previous snapshot) is the count.
- Counts kept by a refresh whose snapshot was written again since, or at a date not before the new one, are not
  used.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_incremental_refresh import FIRST_AS_OF, Brand, step_st

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle import queries, store_facts
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.refresh import _breakpoints, refresh
from winback.lifecycle.rules import load_schemes
from winback.lifecycle.snapshot_view import counts_branch_sql, predicate_columns


def _kept(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return sorted(db.fetchall("SELECT k, v, n FROM snapshot_value_counts WHERE as_of = ?", [as_of]))


def _fresh(db: DuckDBEngine, as_of: dt.date) -> list[tuple[Any, ...]]:
    return sorted((r["k"], r["v"], r["n"]) for r in queries.value_counts_at(db, as_of).to_pylist())


def _view_counts(db: DuckDBEngine, as_of: dt.date) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for scheme, segment, n in db.fetchall(q.segment_counts_sql(as_of)):
        out.setdefault(scheme, {})[segment] = int(n)
    return out


def _check(db: DuckDBEngine, as_of: dt.date, result: Any) -> None:
    assert _kept(db, as_of) == _fresh(db, as_of)
    counted = db.fetchall("SELECT count(*) FROM member_snapshot WHERE as_of = ?", [as_of])[0][0]
    assert result.members == counted == db.fetchall("SELECT members FROM snapshot_runs WHERE as_of = ?", [as_of])[0][0]
    assert result.breakpoints == _breakpoints(queries.value_counts_at(db, as_of))
    assert {s: {k: n for k, n in seg.items() if n} for s, seg in result.segments.items()} == _view_counts(db, as_of)


@given(steps=st.lists(step_st, max_size=8))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_kept_value_counts_and_segment_counts_are_the_facts(steps: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        brand = Brand(Path(tmp), 40)
        brand.dbs = brand.dbs[:1]
        brand.members()
        brand.add_orders([(i % 40, (7 * i) % 55, 50 + i, True) for i in range(120)])
        as_of = FIRST_AS_OF
        db = brand.dbs[0]
        _check(db, as_of, refresh(db, db, as_of))
        for step in [*steps, ("refresh", 1)]:
            if not brand.write(step):
                as_of += dt.timedelta(days=min(step[1], 6))
                result = refresh(db, db, as_of, refit_change=10.0)
                _check(db, as_of, result)
                dates = [r[0] for r in db.fetchall("SELECT DISTINCT as_of FROM snapshot_value_counts")]
                assert dates == [as_of]  # only the newest date is kept
        db.close()


def test_counts_of_a_snapshot_written_again_are_not_carried(tmp_path: Path) -> None:
    brand = Brand(tmp_path, 40)
    brand.dbs = brand.dbs[:1]
    brand.members()
    brand.add_orders([(i % 40, (7 * i) % 55, 50 + i, True) for i in range(120)])
    db = brand.dbs[0]
    day = FIRST_AS_OF
    refresh(db, db, day)
    later = day + dt.timedelta(days=2)
    assert store_facts.carried_value_counts(db, day, later) is not None
    assert store_facts.carried_value_counts(db, day, day) is None  # not before the new date
    db.execute("UPDATE snapshot_runs SET refreshed_at = refreshed_at + INTERVAL 1 SECOND WHERE as_of = ?", [day])
    assert store_facts.carried_value_counts(db, day, later) is None  # the snapshot was written again since
    db.close()


def test_counting_branch_joins_the_predictions_only_for_an_expectation() -> None:
    params = {"cycle": {"k": 2.0, "min_cohort": 30, "default_days": 90.0}, "breakpoints": {}, "with_predictions": True,
              "value_params": None, "clv_flag": None, "alive": {"params": {"r": 1.0, "alpha": 2.0, "a": 1.5, "b": 3.0},
                                                               "shift": 1}}  # fmt: skip
    shipped = list(load_schemes([]).values())
    assert not set(predicate_columns(shipped, stored=False)) & {"clv", "expected_purchases_90d"}
    day = dt.date(2024, 3, 1)
    assert "snapshot_predictions_xt" not in " ".join(counts_branch_sql(day, params, [], shipped))
    text = '[schemes.v]\nzh = "v"\nen = "v"\nrules = [{ segment = "a", when = "clv > 10", zh = "a", en = "a" },\n' \
           '  { segment = "b", when = "true", zh = "b", en = "b" }]\n'  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.toml"
        path.write_text(text, encoding="utf-8")
        reads_clv = list(load_schemes([path]).values())
    assert all("snapshot_predictions_xt" in part for part in counts_branch_sql(day, params, [], reads_clv))


def test_members_who_never_bought_are_one_row_only_when_the_predicates_read_what_they_share() -> None:
    """With the member count, the others (no purchase) are counted as one of them times members - buyers only when
    every predicate column is one they all share (NON_BUYER_CONSTANT); a rule reading tenure or monetary (which
    differ between members who never bought) keeps the grouped pass. The counts themselves are the view's
    (test_kept_value_counts_and_segment_counts_are_the_facts above, on random sequences, with the shipped rules:
    the short path)."""
    params = {"cycle": {"k": 2.0, "min_cohort": 30, "default_days": 90.0}, "breakpoints": {}, "with_predictions": True,
              "value_params": None, "clv_flag": None, "alive": {"params": {"r": 1.0, "alpha": 2.0, "a": 1.5, "b": 3.0},
                                                               "shift": 1}}  # fmt: skip
    day = dt.date(2024, 3, 1)
    shipped = list(load_schemes([]).values())
    assert len(counts_branch_sql(day, params, [], shipped, members=10)) == 3
    assert len(counts_branch_sql(day, params, [], shipped)) == 2  # no count: grouped
    for when in ("tenure_days > 30", "monetary < 0"):
        text = '[schemes.v]\nzh = "v"\nen = "v"\nrules = [' \
               f'{{ segment = "a", when = "{when}", zh = "a", en = "a" }},\n' \
               '  { segment = "b", when = "true", zh = "b", en = "b" }]\n'  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "r.toml"
            path.write_text(text, encoding="utf-8")
            reads = list(load_schemes([path]).values())
        assert len(counts_branch_sql(day, params, [], [*shipped, *reads], members=10)) == 2
