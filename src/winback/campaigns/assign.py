"""Deterministic, stratified assignment of an audience to holdout (control) and variants. Pure.

Each member gets a 64-bit key = blake2b(campaign id, member id). Strata (e.g. store × segment) are visited in
the order of their own keys; inside a stratum members are sorted by key and dealt to arms so that every arm's
running count tracks its share (largest deficit first). The running counts carry across strata (so small strata
do not all start with the biggest arm), hence the global count of every arm is within one member of its share
and every stratum's count is within two members (strictly less) of its share — checked by a property test.
The same campaign id and audience always give the same arms, whatever order the audience arrives in.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from winback.errors import InputError
from winback.i18n import _

CONTROL = "control"


@dataclass(frozen=True)
class ArmSpec:
    key: str
    share: float


def member_key(campaign_id: str, member_id: str) -> int:
    digest = hashlib.blake2b(f"{campaign_id}\x1f{member_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def arm_specs(holdout: float, variants: Sequence[str]) -> list[ArmSpec]:
    """Control gets `holdout`; the variants split the rest equally."""
    if not 0.0 <= holdout < 1.0:
        raise InputError(
            _("holdout must be in [0, 1), got {holdout}", holdout=holdout),
            hint=_("Use e.g. --holdout 0.1 (10 % control)."),
        )
    if not variants:
        raise InputError(_("a campaign needs at least one variant"), hint=_("Give --variant KEY:OFFER."))
    if len(set(variants)) != len(variants) or CONTROL in variants:
        raise InputError(
            _("variant keys must be unique and not {control!r}: {variants}", control=CONTROL, variants=list(variants))
        )
    rest = (1.0 - holdout) / len(variants)
    specs = [ArmSpec(CONTROL, holdout)] if holdout > 0 else []
    return specs + [ArmSpec(v, rest) for v in variants]


def assign(campaign_id: str, members: Iterable[tuple[str, str]], arms: Sequence[ArmSpec]) -> dict[str, str]:
    """member_id → arm key, for (member_id, stratum) pairs."""
    total_share = sum(a.share for a in arms)
    if not arms or abs(total_share - 1.0) > 1e-9 or any(a.share < 0 for a in arms):
        raise InputError(
            _("arm shares must be non-negative and add up to 1, got {value}", value=[(a.key, a.share) for a in arms])
        )
    strata: dict[str, list[tuple[int, str]]] = defaultdict(list)
    seen: set[str] = set()
    for member_id, stratum in members:
        if member_id in seen:
            raise InputError(_("member {member_id!r} appears twice in the audience", member_id=member_id))
        seen.add(member_id)
        strata[stratum].append((member_key(campaign_id, member_id), member_id))
    counts = [0] * len(arms)
    dealt = 0
    out: dict[str, str] = {}
    for stratum in sorted(strata, key=lambda s: (member_key(campaign_id, "\x00stratum\x00" + s), s)):
        for _rank, member_id in sorted(strata[stratum]):
            dealt += 1
            best = max(range(len(arms)), key=lambda i: (arms[i].share * dealt - counts[i], -i))
            counts[best] += 1
            out[member_id] = arms[best].key
    return out
