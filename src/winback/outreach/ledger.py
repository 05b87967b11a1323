"""The contact ledger's rules: states, reasons, idempotency keys and the row a channel sees. Pure.

Every touch has an idempotency key (a retried launch or a crashed sender never queues or sends twice) and one
state:

    queued ──► sending ──► sent ──► delivered
       │          │          └────► failed        (a delivery receipt says it never arrived)
       │          ├────────► failed               (the provider refused it, or retries ran out)
       │          └────────► queued               (retry later: 429 / 5xx / timeout, or a crash left it unknown
       │                                           and the provider says it never got it)
       └────────► skipped                         (contact pressure, opt-out, no address …: `reason` says why)

`sending` is written (with the batch and the attempt number) *before* a channel is called, so after a crash every
touch whose result is unknown is found in `sending` and resolved before anything is sent again. The touches and
guide tasks are written by outreach.store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from winback.i18n import N_, t

QUEUED, SENDING, SENT, DELIVERED, FAILED, SKIPPED = "queued", "sending", "sent", "delivered", "failed", "skipped"
SUPPRESSED = "suppressed"  # written before migration 007 by `campaign close`: never sent, counts as skipped
STATES = (QUEUED, SENDING, SENT, DELIVERED, FAILED, SKIPPED)
FINAL = frozenset({DELIVERED, FAILED, SKIPPED, SUPPRESSED})
#: states that count as a contact already made (contact pressure counts them; `sending` counts, to be safe)
CONTACTED = (SENDING, SENT, DELIVERED)
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({SENDING, SKIPPED, QUEUED}),
    SENDING: frozenset({SENT, DELIVERED, FAILED, QUEUED}),
    SENT: frozenset({DELIVERED, FAILED}),
    DELIVERED: frozenset(),
    FAILED: frozenset(),
    SKIPPED: frozenset(),
}

#: why a touch was skipped, failed or held back: reason code -> msgid (zh in i18n/zh/outreach.po)
REASONS: dict[str, str] = {
    "opted_out": N_("the member opted out"),
    "opted_out_channel": N_("the member opted out of this channel"),
    "no_consent": N_("no consent for this channel"),
    "no_address": N_("no phone, e-mail or contact id for this channel"),
    "cap_day": N_("daily contact cap reached"),
    "cap_week": N_("weekly contact cap reached"),
    "cap_month": N_("monthly contact cap reached"),
    "channel_cap_day": N_("daily cap of this channel reached"),
    "channel_cap_week": N_("weekly cap of this channel reached"),
    "channel_cap_month": N_("monthly cap of this channel reached"),
    "wecom_quota": N_("the enterprise's monthly WeCom mass-message quota is used up"),
    "quiet_hours": N_("quiet hours: held until they end"),
    "merged": N_("the member was merged into another record"),
    "campaign_closed": N_("the campaign is closed"),
    "no_channel": N_("the channel is not configured"),
    "rejected": N_("the channel refused it"),
    "retries_exhausted": N_("retries used up"),
    "undelivered": N_("receipt: not delivered"),
    "unreachable": N_("the call did not connect"),
    "not_confirmed": N_("the guide did not confirm the mass message"),
    "wecom_not_friend": N_("the customer is not the guide's contact"),
    "resent_after_crash": N_("result unknown after a crash: resent with its key"),
}


def touch_key(campaign_id: str, member_id: str, channel: str, step: int = 1) -> str:
    return f"{campaign_id}:{member_id}:{channel}:{step}"


def reason_text(code: str | None, lang: str = "zh") -> str:
    if not code:
        return ""
    msgid = REASONS.get(code.split(":", 1)[0])
    return t(msgid, lang) if msgid else code


def can_move(old: str, new: str) -> bool:
    return new in TRANSITIONS.get(old, frozenset())


@dataclass(frozen=True)
class LedgerRow:
    """What a channel plugin sees of a touch: the ledger row, nothing else of the warehouse.

    `to` is the recipient resolved at claim time (phone in E.164, e-mail, WeCom external userid, …); `sender` the
    guide's WeCom userid where there is one; `attempt` the number of this call (1 = first); `batch_id` the
    dispatch batch (the SMS out-id); `text` and `code` come from the payload queued with the touch, and
    `payload` is all of it (a dict, parsed on first use)."""

    key: str
    channel: str
    campaign_id: str | None
    member_id: str
    to: str | None
    text: str
    attempt: int
    batch_id: str | None = None
    sender: str | None = None
    provider_id: str | None = None
    code: str | None = None
    raw_payload: str | dict[str, Any] | None = field(default=None, repr=False)

    @cached_property
    def payload(self) -> dict[str, Any]:
        return self.parse_payload(self.raw_payload)

    @staticmethod
    def parse_payload(raw: str | dict[str, Any] | None) -> dict[str, Any]:
        if raw is None:
            return {}
        if isinstance(raw, dict):
            return raw
        try:
            value = json.loads(raw)
        except ValueError:
            return {"text": str(raw)}
        return value if isinstance(value, dict) else {"text": str(value)}


#: what a channel answers for one touch
OUTCOMES = ("sent", "delivered", "failed", "retry", "unknown", "pending", "not_sent")


@dataclass(frozen=True)
class SendResult:
    """A channel's answer for one touch. `outcome`: sent (accepted), delivered (a receipt says it arrived),
    failed (refused for good; `reason` and `response` say why), retry (try again later: 429/5xx/timeout),
    unknown (no answer: left in `sending` for the next resolve), pending (accepted, waiting for someone, e.g. a
    guide's WeCom confirmation: stays `sending`), not_sent (resolve only: the provider never got it, safe to
    send again)."""

    key: str
    outcome: str
    provider_id: str | None = None
    response: str | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown send outcome {self.outcome!r}; one of {OUTCOMES}")
