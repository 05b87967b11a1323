"""The planner routes' response schemas (OpenAPI), mirroring `winback plan create/solve --json` and the list of
plans (planner/types.py: PlanSummary, PlanView). The cells, options and phase rows the planner documents
(docs/planner.md) stay open objects here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class PeriodOut(BaseModel):
    start: str
    end: str  # inclusive
    days: int


class IntervalOut(BaseModel):
    value: float | None
    low: float | None
    high: float | None
    low_80: float | None
    high_80: float | None


class PlanSummaryOut(BaseModel):
    plan_id: str
    created_at: str
    period: PeriodOut
    as_of: str
    target_revenue: float
    existing_target: float | None
    status_quo_revenue: float | None
    gap: float | None
    solved_at: str | None
    solution_status: str | None
    probability_of_target: float | None


class PlansOut(BaseModel):
    plans: list[PlanSummaryOut]


class StatusQuoOut(Open):
    members: int
    repurchasers: IntervalOut
    revenue: IntervalOut
    rate: float | None
    aov: float | None


class EstimatorOut(Open):
    repurchasers: str
    aov: str
    reason: str


class CellOut(Open):
    stage: str
    tier: str
    members: int
    repurchasers: float | None
    rate: float | None
    aov: float | None
    revenue: float | None
    target_revenue: float
    gap: float


class PlanOut(Open):
    plan_id: str
    period: PeriodOut
    as_of: str
    target_revenue: float
    new_member_revenue: float
    existing_target: float
    estimator: EstimatorOut
    status_quo: StatusQuoOut
    gap: float | None
    cells: list[CellOut]
    promotion: dict[str, Any] | None
    stages: list[dict[str, str]]
    tiers: list[str]
    notes: list[str]


class SolutionOut(Open):
    plan_id: str
    mode: str
    status: str
    gap: float
    budget: float | None
    chosen: list[dict[str, Any]]
    expected_contribution: IntervalOut
    incremental: IntervalOut
    cost: float
    incremental_roi: float | None
    probability_of_target: float | None
    phases: list[dict[str, Any]]
    notes: list[str]


class PlanViewOut(BaseModel):
    plan: PlanOut
    solution: SolutionOut | None
    names: dict[str, dict[str, str]]
