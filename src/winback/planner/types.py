"""The planner's request and result dataclasses (pure). `to_dict()` of each result is its command's `--json`."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result, plain

Z80 = 1.2815515655446004  # two-sided 80 % normal quantile
Z95 = 1.959963984540054


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None or not math.isfinite(v) else round(float(v), nd)


@dataclass(frozen=True)
class Period:
    """[start, end): whole days, end exclusive."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def label(self) -> str:
        return f"{self.start.isoformat()}:{(self.end - dt.timedelta(days=1)).isoformat()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": (self.end - dt.timedelta(days=1)).isoformat(),
            "days": self.days,
        }


@dataclass(frozen=True)
class CellFacts:
    """What one stage × tier cell did in one period: members at its start, who bought in it, what they spent.
    `revenue_sq` is the sum over repurchasers of their squared spend (for the spread of spend)."""

    stage: str
    tier: str
    members: int
    repurchasers: int
    revenue: float
    revenue_sq: float = 0.0

    @property
    def rate(self) -> float | None:
        return self.repurchasers / self.members if self.members else None

    @property
    def aov(self) -> float | None:
        """Revenue per repurchaser in the period (seed 004's 回购客单价: contribution = repurchasers × AOV)."""
        return self.revenue / self.repurchasers if self.repurchasers else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "tier": self.tier,
            "members": self.members,
            "repurchasers": self.repurchasers,
            "rate": _r(self.rate, 4),
            "aov": _r(self.aov),
            "contribution": _r(self.revenue),
        }


@dataclass
class HistoryPeriod(Result):
    period: Period
    cells: list[CellFacts]
    total: CellFacts
    #: per cell key "stage/tier": change against the period before (members, rate, aov, contribution), ratios
    change: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass
class HistoryResult(Result):
    periods: list[HistoryPeriod]
    stages: list[dict[str, str]]
    tiers: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CellEstimate:
    """The status quo of one cell for the coming period: means and standard deviations."""

    stage: str
    tier: str
    members: int
    repurchasers: float
    repurchasers_sd: float
    revenue: float
    revenue_sd: float

    @property
    def rate(self) -> float | None:
        return self.repurchasers / self.members if self.members else None

    @property
    def aov(self) -> float | None:
        return self.revenue / self.repurchasers if self.repurchasers > 0 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "tier": self.tier, "members": self.members,
            "repurchasers": _r(self.repurchasers, 1), "repurchasers_sd": _r(self.repurchasers_sd, 2),
            "rate": _r(self.rate, 4), "aov": _r(self.aov), "revenue": _r(self.revenue),
            "revenue_sd": _r(self.revenue_sd),
            "repurchasers_interval": interval_dict(self.repurchasers, self.repurchasers_sd, 1),
            "revenue_interval": interval_dict(self.revenue, self.revenue_sd),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CellEstimate:
        return cls(
            d["stage"],
            d["tier"],
            int(d["members"]),
            float(d["repurchasers"]),
            float(d["repurchasers_sd"]),
            float(d["revenue"]),
            float(d["revenue_sd"]),
        )


def interval_dict(mean: float, sd: float, nd: int = 2) -> dict[str, float | None]:
    """value with its 80 % and 95 % normal intervals (floored at 0: counts and revenue of members who bought)."""
    return {
        "value": _r(mean, nd),
        "low": _r(max(mean - Z95 * sd, 0.0), nd), "high": _r(mean + Z95 * sd, nd),
        "low_80": _r(max(mean - Z80 * sd, 0.0), nd), "high_80": _r(mean + Z80 * sd, nd),
    }  # fmt: skip


@dataclass(frozen=True)
class EstimatorChoice:
    """Which estimator gave repurchasers and which gave AOV, and why (the back-test's errors, or the default)."""

    repurchasers: str
    aov: str
    reason: str
    backtest: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"repurchasers": self.repurchasers, "aov": self.aov, "reason": self.reason, "backtest": self.backtest}


@dataclass(frozen=True)
class WhatIf:
    """An operator's change to one cell, tied to the measure that delivers it."""

    stage: str
    tier: str
    lever: str
    change: float | None
    measure: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "tier": self.tier,
            "lever": self.lever,
            "change": self.change,
            "measure": self.measure,
        }


@dataclass
class PlanResult(Result):
    plan_id: str
    period: Period
    as_of: dt.date
    target_revenue: float
    new_member_revenue: float
    existing_target: float
    estimator: EstimatorChoice
    status_quo: dict[str, Any]
    gap: float
    cells: list[dict[str, Any]]
    promotion: dict[str, Any] | None
    what_ifs: list[WhatIf]
    stages: list[dict[str, str]]
    tiers: list[str]
    notes: list[str] = field(default_factory=list)
    created_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}
        out["period"] = self.period.to_dict()
        out["as_of"] = self.as_of.isoformat()
        out["created_at"] = self.created_at.isoformat() if self.created_at else None
        out["gap"] = _r(self.gap)
        return out


@dataclass(frozen=True)
class Effect:
    """A measure's effect on one cell, per contacted member and run: incremental revenue (mean, 95 % bounds) and
    where it comes from (`measured` campaigns of the brand, or a `seed_default`)."""

    revenue_per_member: float
    low: float
    high: float
    source: str
    detail: str
    rate: float | None = None
    aov: float | None = None
    campaigns: tuple[str, ...] = ()
    n: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "revenue_per_member": _r(self.revenue_per_member, 4),
            "low": _r(self.low, 4),
            "high": _r(self.high, 4),
            "source": self.source,
            "detail": self.detail,
            "rate": _r(self.rate, 4),
            "aov": _r(self.aov, 4),
            "campaigns": list(self.campaigns),
            "n": self.n,
        }


@dataclass(frozen=True)
class Option:
    """One measure on one cell: what it costs, what it uses and what it is expected to bring."""

    measure: str
    stage: str
    tier: str
    lever: str
    audience: int
    runs: int
    gain: float
    gain_sd: float
    cost: float
    guide_hours: float
    messages: int
    coupons: float
    effect: Effect
    forced: bool = False

    @property
    def key(self) -> str:
        return f"{self.measure}@{self.stage}/{self.tier}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "stage": self.stage,
            "tier": self.tier,
            "lever": self.lever,
            "audience": self.audience,
            "runs": self.runs,
            "gain": _r(self.gain),
            "gain_sd": _r(self.gain_sd),
            "cost": _r(self.cost),
            "guide_hours": _r(self.guide_hours, 1),
            "messages": self.messages,
            "coupons": _r(self.coupons, 1),
            "effect": self.effect.to_dict(),
            "forced": self.forced,
        }


@dataclass
class SolveResult(Result):
    plan_id: str
    mode: str
    status: str
    gap: float
    budget: float | None
    guide_hours_limit: float | None
    chosen: list[Option]
    options: int
    expected_contribution: dict[str, float | None]
    incremental: dict[str, float | None]
    cost: float
    incremental_roi: float | None
    probability_of_target: float | None
    phases: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)
    #: display names in the user's language: {"measures": {id: name}, "stages": {id: name}}
    names: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class ExportResult(Result):
    plan_id: str
    file: str
    sheets: list[str]


@dataclass
class ReviewResult(Result):
    plan_id: str
    period: Period
    data_until: dt.date | None
    complete: bool
    cells: list[dict[str, Any]]
    total: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    #: stage -> its name in the user's language
    stage_names: dict[str, str] = field(default_factory=dict)


@dataclass
class BacktestResult(Result):
    """Every estimator combination made at `as_of` against what happened in `period`: relative errors in total
    and per cell with at least 500 members; `choice`, the pick a plan made at the end of `period` would take from
    them; `planned`, the pick a plan made at `as_of` took (by its own back-test a period earlier: what the
    acceptance measures)."""

    as_of: dt.date
    period: Period
    errors: dict[str, dict[str, Any]]
    choice: EstimatorChoice
    actual: list[CellFacts]
    estimates: dict[str, list[CellEstimate]]
    planned: EstimatorChoice | None = None


@dataclass(frozen=True)
class PlanSummary:
    """One line of the list of plans (the console's planner page, `GET /api/plans`)."""

    plan_id: str
    created_at: dt.datetime
    period: Period
    as_of: dt.date
    target_revenue: float
    existing_target: float | None
    status_quo_revenue: float | None
    gap: float | None
    solved_at: dt.datetime | None
    solution_status: str | None
    probability_of_target: float | None

    def to_dict(self) -> dict[str, Any]:
        out = {k: plain(getattr(self, k)) for k in self.__dataclass_fields__}
        out |= {"period": self.period.to_dict(), "as_of": self.as_of.isoformat(),
                "created_at": self.created_at.isoformat(),
                "solved_at": self.solved_at.isoformat() if self.solved_at else None}  # fmt: skip
        return out


@dataclass
class PlanList(Result):
    plans: list[PlanSummary]


@dataclass
class PlanView(Result):
    """A kept plan as `plan create --json` printed it, and its latest solution (`plan solve --json`) if any."""

    plan: dict[str, Any]
    solution: dict[str, Any] | None
    #: display names in the reader's language: {"measures": {id: name}, "stages": {id: name}}
    names: dict[str, dict[str, str]] = field(default_factory=dict)
