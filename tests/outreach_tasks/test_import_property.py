"""Importing filled-in task sheets, as a property: whatever the sheets say and in whatever order they come, each
(task, outcome) is recorded once, a task ends at the furthest stage any sheet recorded, and importing the same
sheets again changes nothing."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.app import Winback
from winback.config import Settings
from winback.i18n import t as t_
from winback.outreach import tasks_xlsx
from winback.outreach.tasks import LABELS, OUTCOMES, RANK, status_of

TASKS = [f"C0001:M{i:03d}" for i in range(6)]
NOW = "2026-11-23T10:00"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with one running campaign and six open tasks."""
    path = tmp_path_factory.mktemp("import_property") / "base.duckdb"
    with Winback(Settings.load(environ={}, db_path=path)) as wb:
        db = wb.db()
        db.execute(
            "INSERT INTO campaigns (campaign_id, name, scenario, status, holdout, window_days, cost_per_contact, "
            "margin, channel, coupon_valid_days, created_at, launched_at) VALUES "
            "('C0001', '测试', 'new_store_opening', 'running', 0.1, 14, 1.5, 0.6, 'guide_task', 30, ?, ?)",
            [dt.datetime(2026, 11, 21), dt.datetime(2026, 11, 21)],
        )
        db.executemany(
            "INSERT INTO tasks (task_id, campaign_id, member_id, kind, status, created_at, due_at) "
            "VALUES (?, 'C0001', ?, 'call', 'open', ?, ?)",
            [(t, t.split(":")[1], dt.datetime(2026, 11, 21), dt.datetime(2026, 11, 28)) for t in TASKS],
        )
    return path


SHEET = st.lists(st.tuples(st.sampled_from(TASKS), st.sampled_from(OUTCOMES), st.booleans()), min_size=1, max_size=10)


def _write(path: Path, rows: list[tuple[str, str, bool]]) -> None:
    cards = [{"task_id": t, "outcome": t_(LABELS[o], "zh") if zh else o} for t, o, zh in rows]
    tasks_xlsx.write_workbook(path, [("店", "导购", cards)], "zh", dt.datetime(2026, 11, 23))


@settings(max_examples=15)
@given(first=SHEET, second=SHEET)
def test_sheets_in_any_order_end_at_the_furthest_stage_once(base: Path, first: list, second: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "wb.duckdb"
        shutil.copy(base, db_path)
        a, b = Path(tmp) / "a.xlsx", Path(tmp) / "b.xlsx"
        _write(a, first)
        _write(b, second)
        with Winback(Settings.load(environ={"WINBACK_NOW": NOW}, db_path=db_path)) as wb:
            got = [wb.tasks.import_sheet(a), wb.tasks.import_sheet(b)]
            pairs = {(t, o) for t, o, _ in first + second}
            assert sum(r.recorded for r in got) == len(pairs)
            assert all(not r.rejected for r in got)
            again = [wb.tasks.import_sheet(a), wb.tasks.import_sheet(b)]
            assert [(r.recorded, r.tasks_changed) for r in again] == [(0, 0), (0, 0)]
            rows = {t.task_id: t for t in wb.tasks.list(campaign="C0001", limit=None).tasks}
        for task in TASKS:
            seen = [o for t, o, _ in first + second if t == task]
            if not seen:
                assert rows[task].outcome is None and rows[task].status == "open"
                continue
            assert rows[task].outcome is not None
            assert RANK[rows[task].outcome] == max(RANK[o] for o in seen)
            assert rows[task].status == status_of(rows[task].outcome)
