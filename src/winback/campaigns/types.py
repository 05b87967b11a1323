"""Typed requests, rows and results of the campaign and coupon services. Pure (no database).

Every result's `to_dict()` gives the JSON object the CLI prints with --json; those keys are a contract (tests,
users' scripts and the web console rely on them), so a field is never renamed here. Nested statistics (a
preview's expectations, a report's arms) stay plain dicts: their keys are built by the pure modules that compute
them (preview.py, report.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

from winback.campaigns.assign import CONTROL
from winback.campaigns.scenarios import Offer, Scenario
from winback.common.results import Result

# -- requests -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignRequest:
    """What a person asks for in `campaign create`; None means the playbook's default."""

    scenario: str
    stores: list[str] | None = None
    name: str | None = None
    holdout: float | None = None
    variants: list[str] | None = None  # KEY[:KIND[:VALUE[:THRESHOLD]]]
    window: str | int | None = None  # 14d, 2w, 14
    cost_per_contact: float | None = None
    margin: float | None = None
    channel: str | None = None  # send through this channel instead of the scenario's (outreach channels)
    target: str | None = None  # uplift[:MODEL]: keep the members a touch moves (the app's targeting hook)
    budget: str | None = None  # with target: 30% of the audience, or money (5000)
    top: int | None = None  # with target: at most this many members


@dataclass(frozen=True)
class Variant:
    key: str
    offer: Offer


@dataclass(frozen=True)
class DraftSpec:
    """A checked request: every value resolved against the playbook's defaults (see request.check_request)."""

    scenario: Scenario
    stores: list[str] | None
    name: str | None
    holdout: float
    window_days: int
    cost_per_contact: float
    margin: float
    variants: list[Variant]
    frequency_cap_days: int
    coupon_valid_days: int


# -- stored campaigns -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantRow(Result):
    variant_key: str
    offer_kind: str
    offer_value: float
    offer_threshold: float
    share: float

    @property
    def offer(self) -> Offer:
        return Offer(self.offer_kind, self.offer_value, self.offer_threshold)


@dataclass(frozen=True)
class Campaign(Result):
    """One row of `campaigns` (without the stored preview) and its variants."""

    campaign_id: str
    name: str
    scenario: str
    status: str  # draft | running | closed
    as_of: dt.date | None
    stores: list[str] | None
    holdout: float
    window_days: int
    cost_per_contact: float
    margin: float
    channel: str
    coupon_valid_days: int
    created_at: dt.datetime
    launched_at: dt.datetime | None
    closed_at: dt.datetime | None
    variants: list[VariantRow]

    def offers(self) -> dict[str, Offer]:
        """variant key → offer, in variant-key order."""
        return {v.variant_key: v.offer for v in self.variants}

    @property
    def arm_keys(self) -> list[str]:
        return [CONTROL, *(v.variant_key for v in self.variants)]


#: the columns of `campaigns` a Campaign holds, in the order its JSON lists them
CAMPAIGN_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Campaign) if f.name != "variants")


@dataclass(frozen=True)
class CampaignPreview(Result):
    """A draft's audience, exclusions, expectations and holdout sizing (stored with the campaign as JSON)."""

    as_of: str
    matched: int
    excluded: list[dict[str, Any]]  # reason, members, explain
    frequency_cap_days: int
    consent_unknown: int
    audience: dict[str, Any]  # preview.audience_breakdown
    expected: dict[str, Any]  # preview.expected_outcome
    holdout_sizing: dict[str, Any]  # preview.holdout_sizing

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CampaignPreview:
        return cls(**{f.name: d[f.name] for f in fields(cls)})


# -- results --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateResult(Result):
    campaign: Campaign
    preview: CampaignPreview
    targeting: Result | None = None  # --target: what was kept and dropped (uplift.types.TargetingSummary)


@dataclass(frozen=True)
class LaunchResult(Result):
    campaign: Campaign
    members: int
    arms: dict[str, int]
    balance: list[dict[str, Any]]  # launch.balance_table by segment and by store
    coupons: int
    tasks: int
    touches: int
    excluded: dict[str, int]


@dataclass(frozen=True)
class CampaignSummary(Result):
    campaign_id: str
    name: str
    scenario: str
    status: str
    created_at: dt.datetime
    launched_at: dt.datetime | None
    closed_at: dt.datetime | None
    members: int


@dataclass(frozen=True)
class CampaignList(Result):
    campaigns: list[CampaignSummary]


@dataclass(frozen=True)
class CampaignDetail(Result):
    campaign: Campaign
    preview: CampaignPreview | None
    arms: dict[str, int]
    coupons: int
    redeemed: int
    tasks: int
    touches: int


@dataclass(frozen=True)
class CloseResult(Result):
    campaign: Campaign
    coupons_voided: int = 0  # its unredeemed coupons, voided by the close


@dataclass(frozen=True)
class CampaignReport(Result):
    """Per arm results, each variant against the control, the winner rule; `by` only with a breakdown."""

    campaign: Campaign
    window_end: dt.datetime
    window_complete: bool
    alpha: float
    method: str
    arms: dict[str, dict[str, Any]]
    versus_control: dict[str, dict[str, Any]]
    all_treated_vs_control: dict[str, Any] | None
    winner: dict[str, Any]
    by: dict[str, Any] | None = None  # {"column": …, "groups": [...]}
    state: str = "open"  # closed (the campaign was closed) | complete (its window has ended) | open

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.by is None:
            del out["by"]
        return out


# -- coupons --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponRow:
    """A coupon as the till check needs it."""

    code: str
    member_id: str
    campaign_id: str
    variant_key: str
    offer: Offer
    issued_at: dt.datetime
    expires_at: dt.datetime
    redeemed_at: dt.datetime | None
    redeemed_order_id: str | None
    redeemed_store_id: str | None
    voided_at: dt.datetime | None = None
    voided_by: str | None = None
    void_reason: str | None = None


@dataclass(frozen=True)
class PaidOrder:
    """A paid order summed over its lines."""

    order_id: str
    member_id: str
    amount: float
    ordered_at: dt.datetime
    store_id: str | None


@dataclass(frozen=True)
class RedeemFacts:
    """What the rule needs to know about one attempt, read for a whole batch at once
    (store_coupons.facts): its coupon, its paid order, the code already redeemed on that order, whether its
    store is a store of the brand."""

    coupon: CouponRow | None
    order: PaidOrder | None
    used_on_order: str | None
    store_known: bool


@dataclass(frozen=True)
class RedeemResult(Result):
    """A redeemed coupon, as the till is answered (the web's RedeemOut is derived from these fields)."""

    code: str
    member_id: str
    campaign_id: str
    variant: str
    order_id: str
    store_id: str | None
    amount: float
    discount: float
    redeemed_at: dt.datetime


@dataclass(frozen=True)
class BatchRedeemResult(Result):
    redeemed: int
    refused: list[str]  # displayed codes that broke a rule
    reasons: dict[str, str] = field(default_factory=dict)  # displayed code -> why it was refused
    kinds: dict[str, str] = field(default_factory=dict)  # displayed code -> the refusal's type (AlreadyRedeemedError…)


@dataclass(frozen=True)
class VoidResult(Result):
    """`coupon void CODE` or `--campaign ID`: how many coupons were voided, by whom, when and why."""

    voided: int
    code: str | None  # the displayed code (a single void)
    campaign_id: str | None
    voided_by: str
    voided_at: dt.datetime
    reason: str


@dataclass(frozen=True)
class QrResult(Result):
    code: str
    file: str


# -- measure --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureResult(Result):
    """`winback measure`: per outcome, the control and every other arm against it (measure.measure_columns)."""

    outcomes: dict[str, dict[str, Any]]
    arm_column: str
    control_label: str
    alpha: float
    file: str
    rows: int
    encoding: str | None


@dataclass(frozen=True)
class ReportSums(Result):
    """The campaigns whose purchases a refresh summed for their reports (CampaignService.build_report_sums)."""

    campaigns: list[str]
