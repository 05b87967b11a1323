"""The pure rules of guide tasks: outcomes and their order, sheet rows, targets, overdue, periods."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from winback.errors import InputError
from winback.outreach import tasks as tk
from winback.outreach.leaderboard import parse_period

NOW = dt.datetime(2026, 11, 22, 10, 0)
STATES = {
    "C1:m1": tk.TaskState("C1:m1", "open", None, "running"),
    "C1:m2": tk.TaskState("C1:m2", "done", "visited", "running"),
    "C2:m1": tk.TaskState("C2:m1", "skipped", None, "closed"),
}


def _row(**cells: object) -> tk.OutcomeRecord | tk.Rejected | None:
    return tk.check_row("s", 2, cells, STATES, now=NOW, source="import:x.xlsx")


def test_outcomes_read_in_both_languages() -> None:
    assert [tk.parse_outcome(x) for x in ("已邀约", "INVITED", " visited ", "婉拒", "maybe", None, "")] == [
        "invited",
        "invited",
        "visited",
        "declined",
        None,
        None,
        None,
    ]
    with pytest.raises(InputError, match="unknown outcome") as e:
        tk.check_outcome("called")
    assert "已邀约" in (e.value.hint or "")


def test_a_row_without_an_outcome_is_not_done_yet_and_bad_rows_say_why() -> None:
    assert _row(task_id="C1:m1") is None
    ok = _row(task_id="C1:m1", outcome="已到店", note=" 带朋友来 ", who="王", when=dt.date(2026, 11, 21))
    assert ok == tk.OutcomeRecord("C1:m1", "visited", "带朋友来", "王", dt.datetime(2026, 11, 21), "import:x.xlsx")
    assert _row(task_id="C1:m1", outcome="invited").recorded_at == NOW  # type: ignore[union-attr]
    reasons = {
        "no task id": _row(outcome="invited"),
        "no such task": _row(task_id="C9:x", outcome="invited"),
        "is not one of": _row(task_id="C1:m1", outcome="maybe"),
        "closed": _row(task_id="C2:m1", outcome="invited"),
        "unreadable": _row(task_id="C1:m1", outcome="invited", when="next tuesday"),
        "in the future": _row(task_id="C1:m1", outcome="invited", when="2027-01-01"),
    }
    for words, r in reasons.items():
        assert isinstance(r, tk.Rejected) and words in r.reason("en"), (words, r)
        assert r.reason("zh") != r.reason("en")


def test_the_furthest_stage_wins_and_a_tie_takes_the_later() -> None:
    def rec(outcome: str, day: int) -> tk.OutcomeRecord:
        return tk.OutcomeRecord("C1:m1", outcome, None, None, dt.datetime(2026, 11, day), "cli")

    assert tk.final_outcomes([rec("visited", 3), rec("invited", 5)], {})["C1:m1"].outcome == "visited"
    assert tk.final_outcomes([rec("contacted", 3), rec("declined", 5)], {})["C1:m1"].outcome == "declined"
    assert tk.final_outcomes([rec("invited", 5)], {"C1:m1": "purchased"}) == {}
    assert tk.status_of("unreachable") == "failed" and tk.status_of("declined") == "done"


@given(st.lists(st.sampled_from(tk.OUTCOMES), min_size=1, max_size=8), st.sampled_from([None, *tk.OUTCOMES]))
def test_final_outcome_never_goes_back_whatever_the_order(outcomes: list[str], current: str | None) -> None:
    recs = [tk.OutcomeRecord("t", o, None, None, NOW + dt.timedelta(minutes=i), "cli") for i, o in enumerate(outcomes)]
    got = tk.final_outcomes(recs, {"t": current})
    best = max(tk.RANK[o] for o in outcomes)
    if current is not None and tk.RANK[current] > best:
        assert got == {}
    else:
        assert tk.RANK[got["t"].outcome] == best
        assert got["t"] == max((r for r in recs if tk.RANK[r.outcome] == best), key=lambda r: r.recorded_at)


def test_merge_keeps_one_record_per_task_and_outcome() -> None:
    a = tk.OutcomeRecord("t", "invited", "first", None, NOW, "import")
    b = tk.OutcomeRecord("t", "invited", "second", None, NOW, "import")
    assert tk.merge_records([a, b]) == [b]


def test_targets_follow_the_scenario_kpis_and_the_plan() -> None:
    assert tk.target_metrics(["invited", "visited", "purchased", "redemption_rate"]) == list(tk.METRICS)
    assert tk.target_metrics(["visit_rate", "items_per_order"]) == ["visited"]
    assert tk.target_metrics(["purchased", "aov"]) == ["purchased"]
    assert tk.target_metrics(["aov"]) == list(tk.METRICS) == tk.target_metrics(None)
    assert tk.default_targets(7.2, tk.METRICS) == {"invited": 29, "visited": 15, "purchased": 8}
    assert tk.default_targets(8.0, ["purchased"]) == {"purchased": 8}  # no float fuzz above a whole number
    assert tk.default_targets(0.0, tk.METRICS) == {"invited": 0, "visited": 0, "purchased": 0}
    preview = {"expected": {"by_segment": [{"segment": "silent", "response_rate": 0.14}]}}
    assert tk.segment_rates(preview) == {"silent": 0.14} and tk.segment_rates(None) == {}
    assert tk.completion(3, 4) == 0.75 and tk.completion(3, 0) is None
    assert tk.check_target_settings(["invited=40", "Purchased=12"]) == {"invited": 40, "purchased": 12}
    for bad in ("invited", "calls=3", "visited=-1", "visited=x"):
        with pytest.raises(InputError, match="cannot read target"):
            tk.check_target_settings([bad])


def test_overdue_is_open_past_due() -> None:
    assert tk.is_overdue("open", NOW - dt.timedelta(seconds=1), NOW)
    assert not tk.is_overdue("open", NOW, NOW)
    assert not tk.is_overdue("done", NOW - dt.timedelta(days=3), NOW)
    assert not tk.is_overdue("open", None, NOW)
    with pytest.raises(InputError, match="unknown task status"):
        tk.check_status("late")


def test_periods() -> None:
    today = dt.date(2026, 11, 22)
    assert parse_period(None, today)[:2] == (dt.date(2026, 8, 25), dt.date(2026, 11, 23))
    assert parse_period("7d", today)[:2] == (dt.date(2026, 11, 16), dt.date(2026, 11, 23))
    assert parse_period("2026-12", today)[:2] == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    assert parse_period("2026-10-01..2026-10-31", today)[:2] == (dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    assert parse_period("all", today)[1] == dt.date(2026, 11, 23)
    for bad in ("0d", "2026-13", "2026-11-30..2026-11-01", "last month"):
        with pytest.raises(InputError, match="cannot read the period"):
            parse_period(bad, today)
