"""Reading and checking a `campaign create` request against the playbook. Pure.

`check_request` resolves every option against the playbook's defaults and raises the first InputError a person
can fix (in the order the options are listed), before anything is read from the warehouse.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from winback.campaigns.scenarios import OFFER_KINDS, Offer, Playbook
from winback.campaigns.types import CampaignRequest, DraftSpec, Variant
from winback.errors import InputError
from winback.i18n import _

_WINDOW = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")
#: the channels `campaign create --channel` accepts (a ledger channel name; docs/outreach.md)
SEND_CHANNELS = ("guide_task", "sms", "wecom", "email", "webhook", "ai_call")


def parse_window(text: str | int) -> int:
    """'14d', '2w', '14' → days."""
    m = _WINDOW.match(str(text))
    if not m or int(m.group(1)) <= 0:
        raise InputError(
            _("cannot read the window {text!r}", text=text), hint=_("Give days or weeks, e.g. --window 14d or 2w.")
        )
    return int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)


def parse_variant(text: str, default: Offer) -> Variant:
    """KEY, KEY:KIND, KEY:KIND:VALUE or KEY:KIND:VALUE:THRESHOLD, e.g. A:voucher:30:150 or B:discount:15."""
    parts = [p.strip() for p in text.split(":")]
    key = parts[0]
    if not _KEY.match(key) or key == "control":
        raise InputError(
            _("variant key {key!r} in {text!r} is not allowed", key=key, text=text),
            hint=_("Use a short key of letters/digits (A, B, v30 …); 'control' is reserved for the holdout."),
        )
    if len(parts) == 1:
        return Variant(key, default)
    kind = parts[1]
    if kind not in OFFER_KINDS:
        raise InputError(
            _("offer kind {kind!r} in {text!r} is unknown", kind=kind, text=text),
            hint=_("Use one of {offer_kinds}.", offer_kinds=", ".join(OFFER_KINDS)),
        )
    try:
        value = float(parts[2]) if len(parts) > 2 else default.value
        threshold = float(parts[3]) if len(parts) > 3 else default.threshold
    except ValueError:
        raise InputError(
            _("offer value/threshold in {text!r} must be numbers", text=text), hint=_("e.g. A:voucher:30:150")
        ) from None
    if len(parts) > 4 or value < 0 or threshold < 0:
        raise InputError(
            _("cannot read variant {text!r}", text=text),
            hint=_("Format KEY:KIND:VALUE:THRESHOLD, e.g. A:voucher:30:150."),
        )
    return Variant(key, Offer(kind, value, threshold))


def split_stores(values: Iterable[str] | None) -> list[str] | None:
    """--stores given repeatedly and/or comma-separated → store ids (None: every store)."""
    return [x.strip() for v in (values or []) for x in v.split(",") if x.strip()] or None


def frequency_cap_days(playbook: Playbook) -> int:
    return int(playbook.defaults.get("frequency_cap_days", 7))


def check_request(request: CampaignRequest, playbook: Playbook) -> DraftSpec:
    """The request with every default filled in, or the first InputError / NotFoundError it deserves."""
    sc = playbook.get(request.scenario)
    if request.channel is not None:
        if request.channel not in SEND_CHANNELS:
            raise InputError(
                _("unknown channel {channel!r}", channel=request.channel),
                hint=_(
                    "Use one of: {channels} (configure it in the channels file: docs/outreach.md).",
                    channels=", ".join(SEND_CHANNELS),
                ),
            )
        sc = dataclasses.replace(sc, channel=request.channel)
    d = playbook.defaults
    holdout = float(d.get("holdout", 0.1) if request.holdout is None else request.holdout)
    if not 0.0 < holdout < 1.0:
        raise InputError(
            _("holdout must be between 0 and 1 (exclusive), got {holdout}", holdout=holdout),
            hint=_("Without a control group nothing can be proven; use e.g. --holdout 0.1."),
        )
    window_days = parse_window(request.window if request.window is not None else d.get("window_days", 14))
    cost = float(d.get("cost_per_contact", 1.0) if request.cost_per_contact is None else request.cost_per_contact)
    margin = float(d.get("margin", 0.6) if request.margin is None else request.margin)
    if cost < 0 or not 0 < margin <= 1:
        raise InputError(
            _("cost per contact must be >= 0 and margin in (0, 1]; got {cost} and {margin}", cost=cost, margin=margin)
        )
    variants = [parse_variant(v, sc.offer) for v in (request.variants or ["A"])]
    if len({v.key for v in variants}) != len(variants):
        raise InputError(
            _("variant keys repeat: {value}", value=[v.key for v in variants]), hint=_("Give each variant its own key.")
        )
    return DraftSpec(
        scenario=sc,
        stores=list(request.stores) if request.stores else None,
        name=request.name,
        holdout=holdout,
        window_days=window_days,
        cost_per_contact=cost,
        margin=margin,
        variants=variants,
        frequency_cap_days=frequency_cap_days(playbook),
        coupon_valid_days=int(d.get("coupon_valid_days", 30)),
    )


def check_stores(stores: list[str] | None, known: Iterable[str | None]) -> None:
    """Every asked-for store must be in the snapshot."""
    if not stores:
        return
    have = set(known)
    unknown = [s for s in stores if s not in have]
    if unknown:
        shown = ", ".join(sorted(str(k) for k in have if k)[:30])
        raise InputError(
            _("unknown store(s): {unknown}", unknown=", ".join(unknown)),
            hint=_("Stores in the snapshot: {shown}.", shown=shown),
        )
