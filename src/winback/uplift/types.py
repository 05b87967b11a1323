"""Typed requests and results of the uplift service. Pure (no database).

`to_dict()` of every result is the `--json` output of its command (`winback uplift fit|report|score`, the
`targeting` block of `campaign create --target uplift`); the keys are a contract and are never renamed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result

#: the warehouse features of a member at a campaign's launch (uplift/store.py builds them from the snapshot at
#: the campaign's as_of, the member's record, order_items before the snapshot and earlier campaigns)
NUMERIC_FEATURES: tuple[str, ...] = (
    "recency_days", "cycle_days", "overdue_ratio", "frequency", "orders", "monetary", "aov", "p_alive",
    "expected_purchases_90d", "expected_revenue_90d", "clv", "value_at_stake", "tenure_days", "r_score", "f_score",
    "m_score", "consent_sms", "consent_wechat", "consent_email", "consent_call", "top_category_share",
    "past_touches", "past_responses",
)  # fmt: skip
TEXT_FEATURES: tuple[str, ...] = ("segment", "tier", "store_id", "guide_id", "register_channel", "top_category")
WAREHOUSE_FEATURES: tuple[str, ...] = NUMERIC_FEATURES + TEXT_FEATURES
#: outcomes of a campaign's members in its response window (as the campaign report counts them)
WAREHOUSE_OUTCOMES: dict[str, str] = {"revenue": "continuous", "responded": "binary", "margin": "continuous"}
DECISIONS: tuple[str, ...] = ("target", "explore", "sure_thing", "no_response", "over_budget")


@dataclass(frozen=True)
class TrainingSet:
    """One row per (campaign, member): features, arm, outcome; `source` says where it came from."""

    columns: dict[str, Any]  # feature name -> values (numpy arrays or lists)
    arms: Any  # numpy array of arm labels
    outcome: Any  # numpy float array
    control: str
    outcome_name: str
    outcome_kind: str
    source: dict[str, Any]
    member_ids: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.arms)


@dataclass(frozen=True)
class UpliftModelInfo(Result):
    """A stored model: what it learned from and how well it ranks members it did not see."""

    model_id: str
    created_at: dt.datetime
    learner: str
    outcome: str
    outcome_kind: str
    control: str
    arms: list[str]
    features: list[str]
    source: dict[str, Any]
    rows_train: int
    rows_valid: int
    validation: dict[str, Any]  # arm -> models/uplift_metrics.evaluate (qini, uplift@k, deciles)
    fit_seconds: float | None


@dataclass(frozen=True)
class FitResult(Result):
    model: UpliftModelInfo

    def to_dict(self) -> dict[str, Any]:
        return {"model_id": self.model.model_id, **self.model.to_dict()}


@dataclass(frozen=True)
class ScoreResult(Result):
    model_id: str
    file: str
    out: str
    rows: int
    arms: list[str]
    mean_uplift: dict[str, float]


@dataclass(frozen=True)
class ModelList(Result):
    models: list[UpliftModelInfo]

    def to_dict(self) -> dict[str, Any]:
        return {"models": [{k: v for k, v in m.to_dict().items() if k != "validation"} for m in self.models]}


@dataclass(frozen=True)
class TargetingSummary(Result):
    """What `--target uplift` kept and dropped, and what the kept members are expected to bring."""

    campaign_id: str
    method: str  # uplift | value_at_stake (no model or no history: the fallback, and `note` says so)
    model_id: str | None
    audience: int
    kept: int
    counts: dict[str, int]  # decision -> members (DECISIONS)
    budget: float | None
    top: int | None
    expected_incremental_revenue: float | None
    expected_incremental_revenue_ci: list[float | None]
    predicted_incremental_revenue: float | None  # the model's own sum over the kept members
    expected_incremental_margin: float | None
    expected_cost: float | None
    explore_share: float
    holdout: float
    note: str | None
