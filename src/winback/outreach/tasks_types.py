"""Typed results of the guide tasks (TaskService) and the staff leaderboard (StaffService). `to_dict()` keys are the
commands' JSON contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result


@dataclass(frozen=True)
class TaskRow(Result):
    task_id: str
    campaign_id: str
    campaign_name: str | None
    member_id: str
    store_id: str | None
    store_name: str | None
    guide_id: str | None
    guide_name: str | None
    kind: str
    priority: int | None
    status: str
    outcome: str | None
    note: str | None
    outcome_by: str | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    escalated_at: dt.datetime | None
    escalated_to: str | None
    escalated_to_name: str | None
    overdue: bool


@dataclass(frozen=True)
class TaskList(Result):
    total: int
    shown: int
    filters: dict[str, Any]
    tasks: list[TaskRow]


@dataclass(frozen=True)
class DoneResult(Result):
    task_id: str
    outcome: str
    status: str
    task_outcome: str | None  # the task's outcome afterwards (the furthest stage recorded)
    recorded: bool  # False: this outcome was already recorded for the task
    changed: bool


@dataclass(frozen=True)
class RejectedRow(Result):
    sheet: str
    row: int
    task_id: str | None
    reason: str


@dataclass(frozen=True)
class ImportResult(Result):
    file: str
    rows: int  # data rows with an outcome filled in
    recorded: int  # new (task, outcome) records
    unchanged: int  # rows whose outcome was already recorded
    tasks_changed: int
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass(frozen=True)
class ExportResult(Result):
    file: str
    tasks: int
    sheets: list[str]
    stores: int
    guides: int


@dataclass(frozen=True)
class StoreTargets(Result):
    store_id: str
    store_name: str | None
    tasks: int
    open: int
    escalated: int
    contacted: int
    done: dict[str, int]  # metric -> achieved
    targets: dict[str, int]  # metric -> target
    completion: dict[str, float | None]  # metric -> achieved / target


@dataclass(frozen=True)
class TargetsResult(Result):
    campaign_id: str
    campaign_name: str
    scenario: str
    metrics: list[str]
    rule: str
    stores: list[StoreTargets]
    total: StoreTargets


@dataclass(frozen=True)
class EscalateResult(Result):
    at: dt.datetime
    escalated: int
    by_manager: list[dict[str, Any]]  # store, manager (names), tasks


@dataclass(frozen=True)
class GuideRank(Result):
    rank: int
    guide_id: str | None
    guide: str
    store: str
    tasks: int
    contacts: int
    invited: int
    visited: int
    purchased: int
    revenue: float
    control_members: int
    incremental: float | None  # incremental reactivations against the guide's own control members
    incremental_ci: list[float | None]
    uplift: float | None  # raw incremental reactivations per treated member
    shrunk_uplift: float  # the ranking score
    shrunk_ci: list[float]
    weight: float  # how much of the guide's own evidence the score keeps (0 = all prior, 1 = all own)


@dataclass(frozen=True)
class Leaderboard(Result):
    period: dict[str, Any]
    store: str | None
    campaigns: list[str]
    rule: str
    prior: dict[str, Any]
    guides: list[GuideRank]


@dataclass(frozen=True)
class FunnelArm(Result):
    arm: str
    members: int
    stages: dict[str, int]  # stage -> members who reached it (FUNNEL_STAGES order)
    rates: dict[str, float | None]  # stage -> share of the arm's members
    revenue: float
    link_clicks: int = 0  # every click on the arm's short links (`clicked` counts the members who clicked)


@dataclass(frozen=True)
class Funnel(Result):
    campaign_id: str
    campaign_name: str
    window: list[dt.datetime]  # [start, end) of the response window
    stages: list[str]
    definitions: dict[str, str]
    arms: list[FunnelArm]
