"""The acceptance back-test on the demo brand: a plan made at an as-of one year before the last order (2025-11-21;
the last order is on 2026-11-20) predicts the following year's existing-member repurchasers and revenue.

The demo brand here is `winback demo` as a user runs it (default seed), generated once for this module at
DEMO_MEMBERS members (see docs/planner.md for the run time), with the lifecycle snapshots the planner needs at
2023-11-21 (the first order), 2024-11-21 and 2025-11-21, and those the plan at 2025-11-21 back-tests on: the brand is
two years old then, too young for a back-test a whole year back, so it back-tests over the half year before its
as-of (2025-05-23, with the snapshots at 2024-11-22 and, for the calibration a year earlier, 2024-05-23). What is
measured is the estimator a plan made at 2025-11-21 picks (`planned`, by that back-test of data before its as-of),
never the one that did best on the year being tested.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from plan_helpers import BACKTEST_AS_OF, NOW, PlannerBrand

pytestmark = pytest.mark.slow  # generates the 200,000-member demo brand (see DEMO_MEMBERS)

TOTAL_TOLERANCE = 0.10
CELL_TOLERANCE = 0.20
CELL_MIN_MEMBERS = 500
#: the demo brand's size for this module: the default 200,000 members (the module: 108 s wall, 54 s CPU, 1.4 GiB)
DEMO_MEMBERS = 200_000


def _half_year_dates() -> set[dt.date]:
    """The snapshots the plan at BACKTEST_AS_OF back-tests on over the half year before it: its start, the start
    of the half year before (the empirical rates) and a year before its start (the calibration)."""
    from winback.planner.matrix import add_years, backtest_spans

    back, span = backtest_spans(BACKTEST_AS_OF, 365)[-1]
    return {back, back - dt.timedelta(days=span), add_years(back, -1)}


@pytest.fixture(scope="module")
def demo_year(tmp_path_factory: pytest.TempPathFactory) -> PlannerBrand:
    from winback.app import Winback
    from winback.config import Settings

    out = tmp_path_factory.mktemp("demo_year")
    db = out / "wb.duckdb"
    with Winback(Settings.load(environ={}, db_path=Path(db), now=NOW)) as wb:
        wb.demo.run(out / "files", members=DEMO_MEMBERS, parquet_only=True)
        for d in sorted({dt.date(2023, 11, 21), dt.date(2024, 11, 21), BACKTEST_AS_OF, *_half_year_dates()}):
            wb.lifecycle.refresh(as_of=d)
        wb.lifecycle.refresh()
    shutil.rmtree(out / "files", ignore_errors=True)
    return PlannerBrand(str(db))


@pytest.fixture(scope="module")
def backtest(demo_year: PlannerBrand) -> Any:
    from winback.app import Winback
    from winback.config import Settings

    with Winback(Settings.load(environ={}, db_path=Path(demo_year.db), now=NOW)) as wb:
        return wb.planner.backtest(as_of=BACKTEST_AS_OF)


def _planned(backtest: Any) -> str:
    return f"{backtest.planned.repurchasers}+{backtest.planned.aov}"


def _misses(err: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in err["cells"] if c["members"] >= CELL_MIN_MEMBERS and (
        c["repurchasers"] is None or abs(c["repurchasers"]) > CELL_TOLERANCE
        or c["revenue"] is None or abs(c["revenue"]) > CELL_TOLERANCE)]  # fmt: skip


def test_actuals_are_the_warehouse_figures(demo_year: PlannerBrand, backtest: Any) -> None:
    """What the back-test compares against equals an independent count: members of the 2025-11-21 snapshot who
    paid for an order in the following year, and the net amount of their paid and refunded orders in it (refunds
    of members who bought nothing in the year count too: contribution is net)."""
    con = duckdb.connect(demo_year.db, read_only=True)
    try:
        reps, revenue = con.execute(
            """
            WITH o AS (SELECT member_id, count(*) FILTER (WHERE status = 'paid') AS paid, sum(amount) AS amount
                       FROM orders WHERE ordered_at >= TIMESTAMP '2025-11-21' AND ordered_at < TIMESTAMP '2026-11-21'
                         AND status IN ('paid', 'refunded') GROUP BY member_id)
            SELECT count(*) FILTER (WHERE o.paid > 0), sum(o.amount)
            FROM member_snapshot s JOIN o USING (member_id) WHERE s.as_of = DATE '2025-11-21'
            """
        ).fetchone()
    finally:
        con.close()
    assert sum(c.repurchasers for c in backtest.actual) == reps
    assert sum(c.revenue for c in backtest.actual) == pytest.approx(float(revenue), abs=0.01)


def test_the_plan_picks_its_estimator_without_the_year_it_predicts(backtest: Any) -> None:
    """The plan at 2025-11-21 cannot back-test a whole year earlier: at 2023-11-21 (the first order) the brand had
    no members to estimate from. It back-tests over the half year before its as-of, on data it had (the back-test
    ends at its as-of), and says so; the calibrated model competes there (the 2024-05-23 model against what
    followed it until 2024-11-21)."""
    bt = backtest.planned.backtest
    assert bt is not None, backtest.planned.reason
    assert bt["as_of"] == "2025-05-23" and bt["days"] == 182
    assert dt.date.fromisoformat(bt["as_of"]) + dt.timedelta(days=bt["days"]) <= BACKTEST_AS_OF
    assert "calibrated+calibrated" in bt["errors"]
    assert "182" in backtest.planned.reason
    assert "calibrated+calibrated" in backtest.errors  # at 2025-11-21 it can: the 2024 model and what followed


def test_total_within_ten_percent(backtest: Any) -> None:
    chosen = backtest.errors[_planned(backtest)]
    assert abs(chosen["repurchasers"]) <= TOTAL_TOLERANCE, chosen
    assert abs(chosen["revenue"]) <= TOTAL_TOLERANCE, chosen


def test_actuals_inside_the_95_percent_interval_in_total(backtest: Any) -> None:
    """The interval is honest in total for repurchasers; revenue's interval is narrower than the AOV's drift
    from one year to the next (see docs/planner.md), so only the error bound above is asserted for it."""
    from winback.planner.estimate import totals

    reps, reps_sd, _, _ = totals(backtest.estimates[_planned(backtest)])
    actual = sum(c.repurchasers for c in backtest.actual)
    assert abs(reps - actual) <= max(1.96 * reps_sd, TOTAL_TOLERANCE * actual)


def test_the_calibrated_model_misses_fewer_cells_than_the_model(backtest: Any) -> None:
    """The model corrected per cell by its own error a year earlier (repurchasers and AOV): fewer cells outside
    ±20 % than the uncalibrated model, and its totals within ±10 %."""
    cal, mod = backtest.errors["calibrated+calibrated"], backtest.errors["model+model"]
    assert len(_misses(cal)) < len(_misses(mod)), (_misses(cal), _misses(mod))
    assert abs(cal["repurchasers"]) <= TOTAL_TOLERANCE and abs(cal["revenue"]) <= TOTAL_TOLERANCE, cal


def test_every_cell_with_500_members_within_twenty_percent(backtest: Any) -> None:
    chosen = backtest.errors[_planned(backtest)]
    assert chosen["cells"], "no cell with 500 members"
    assert not _misses(chosen), _misses(chosen)


def test_a_plan_at_the_last_order_backtests_a_year_earlier(demo_year: PlannerBrand) -> None:
    """A plan made at the latest data (as-of 2026-11-21) runs the same back-test at 2025-11-21 to pick its
    estimator, and says so; there the calibrated model can compete."""
    code, data, out = demo_year.run("plan", "create", "--period", "2026-11-21:2027-11-20",
                                    "--target-revenue", "100000000", "--json", lang="en")  # fmt: skip
    assert code == 0, out
    est = data["estimator"]
    assert est["backtest"]["as_of"] == "2025-11-21"
    assert "calibrated+empirical" in est["backtest"]["errors"]
    assert "back-test at 2025-11-21" in est["reason"] and "calibrated" in est["reason"]
    assert data["as_of"] == dt.date(2026, 11, 21).isoformat()
