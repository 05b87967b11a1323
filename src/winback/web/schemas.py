"""The API's request and response schemas (OpenAPI), mirroring the typed results' `to_dict()` keys. Nested
structures the services already document (the quality block, a report's arms) stay open objects here."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model


def model_of(result: type[Any], name: str, doc: str | None = None) -> type[BaseModel]:
    """The response schema of a typed result (a dataclass): its fields, their types, all required, so the
    OpenAPI cannot drift from the result's `to_dict()` keys."""
    hints = typing.get_type_hints(result)
    fields: dict[str, Any] = {f.name: (hints[f.name], ...) for f in dataclasses.fields(result)}
    return create_model(name, __doc__=doc or result.__doc__, **fields)


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorBody(BaseModel):
    type: str
    message: str
    hint: str | None = None


class ErrorOut(BaseModel):
    """The one error shape of every route (401, 403, 404, 400/422, 429, 500)."""

    error: ErrorBody


class LoginIn(BaseModel):
    username: str
    password: str


class UserOut(BaseModel):
    username: str
    role: str
    stores: list[str]
    guide_id: str | None
    created_at: str | None
    disabled_at: str | None


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str
    expires_at: str


class CsrfOut(BaseModel):
    csrf_token: str


class OkOut(BaseModel):
    ok: bool


class SegmentShareOut(BaseModel):
    segment: str
    zh: str
    en: str
    members: int
    share: float


class WakeRowOut(BaseModel):
    segment: str
    members: int
    likely_alive: int
    reachable: int
    avg_p_alive: float | None
    expected_revenue_365d: float
    past_monetary: float


class WorthWakingOut(BaseModel):
    rule: str
    rows: list[WakeRowOut]


class OverviewOut(BaseModel):
    as_of: str
    quality: dict[str, Any]
    segments: dict[str, list[SegmentShareOut]]
    worth_waking: WorthWakingOut


class SegmentRowOut(Open):
    segment: str
    label: str
    members: int
    share: float
    avg_recency_days: float | None
    monetary: float
    avg_p_alive: float | None


class SegmentsOut(BaseModel):
    as_of: str
    scheme: str
    by: str | None
    members: int
    segments: list[SegmentRowOut]


class MemberRowOut(Open):
    member_id: str
    name: str | None
    phone: str | None
    store_id: str | None
    guide_id: str | None
    segment: str | None


class MembersOut(BaseModel):
    as_of: str
    scheme: str
    segment: str | None
    store: str | None
    offset: int
    limit: int
    has_more: bool
    members: list[MemberRowOut]


class MemberOut(BaseModel):
    member_id: str
    name: str | None
    phone_masked: str
    store_id: str | None
    guide_id: str | None
    may_reveal: bool
    explain: dict[str, Any]


class PhoneOut(BaseModel):
    member_id: str
    phone: str
    name: str | None


class CampaignSummaryOut(BaseModel):
    campaign_id: str
    name: str
    scenario: str
    status: str
    created_at: str
    launched_at: str | None
    closed_at: str | None
    members: int


class CampaignsOut(BaseModel):
    campaigns: list[CampaignSummaryOut]


class ReportOut(Open):
    campaign: dict[str, Any]
    window_end: str
    window_complete: bool
    alpha: float
    method: str
    arms: dict[str, dict[str, Any]]
    versus_control: dict[str, dict[str, Any]]
    all_treated_vs_control: dict[str, Any] | None
    winner: dict[str, Any]


class TaskOut(Open):
    task_id: str
    campaign_id: str
    member_id: str
    store_id: str | None
    guide_id: str | None
    kind: str
    priority: int | None
    status: str
    outcome: str | None
    due_at: str | None
    overdue: bool


class TasksOut(BaseModel):
    total: int
    shown: int
    filters: dict[str, Any]
    tasks: list[TaskOut]


class OutcomeIn(BaseModel):
    outcome: str
    note: str | None = None


class OutcomeOut(BaseModel):
    task_id: str
    outcome: str
    status: str
    task_outcome: str | None
    recorded: bool
    changed: bool


#: the error responses every protected route documents
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "not logged in / 未登录"},
    403: {"model": ErrorOut, "description": "outside your role or scope, or no CSRF token / 无权限或缺少 CSRF"},
    404: {"model": ErrorOut, "description": "not found / 不存在"},
}
