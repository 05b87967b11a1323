"""Deterministic, stratified assignment of an audience to holdout (control) and variants. Pure.

Each member gets a 64-bit key = blake2b(campaign id, member id). Strata (e.g. store × segment) are visited in
the order of their own keys; inside a stratum members are sorted by key and dealt to arms so that every arm's
running count tracks its share (largest deficit first). The running counts carry across strata (so small strata
do not all start with the biggest arm), hence the global count of every arm is within one member of its share
and every stratum's count is within two members (strictly less) of its share — checked by a property test.
The same campaign id and audience always give the same arms, whatever order the audience arrives in.
The deal depends only on the running position, so it is computed once per launch (`deal_sequence`) and the
members, sorted by (stratum key, member key), take it in order: a million members are assigned in a few seconds.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

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


def member_keys(campaign_id: str, member_ids: Sequence[str]) -> np.ndarray:
    """`member_key` of every id, as an unsigned 64-bit array (one blake2b state per campaign, copied per member)."""
    base = hashlib.blake2b(f"{campaign_id}\x1f".encode(), digest_size=8)
    digests = []
    for member_id in member_ids:
        h = base.copy()
        h.update(member_id.encode())
        digests.append(h.digest())
    return np.frombuffer(b"".join(digests), dtype=">u8").astype(np.uint64)


def _greedy(weights: Sequence[int], scale: int, steps: int) -> np.ndarray:
    """The arm of each of `steps` deals: the largest deficit `weight * dealt - scale * count`, lowest index on a tie."""
    counts = [0] * len(weights)
    out = np.empty(steps, dtype=np.int16)
    for k in range(steps):
        best, top = 0, weights[0] * (k + 1) - scale * counts[0]
        for i in range(1, len(weights)):
            d = weights[i] * (k + 1) - scale * counts[i]
            if d > top:
                best, top = i, d
        counts[best] += 1
        out[k] = best
    return out


def deal_sequence(arms: Sequence[ArmSpec], n: int) -> np.ndarray:
    """Arm index of the 1st … n-th member dealt. The deal depends on the running position only, not on who is
    dealt, so it is computed once: shares are taken as exact fractions (denominator ≤ 10⁴, e.g. 0.1 → 1/10); with
    D their common denominator every arm has exactly its share after D deals, the state is back to zero and the
    sequence repeats with period D. Shares that are not such fractions are dealt one by one."""
    fractions = [Fraction(a.share).limit_denominator(10_000) for a in arms]
    scale = math.lcm(*(f.denominator for f in fractions))
    weights = [int(f * scale) for f in fractions]
    if sum(weights) != scale or scale >= n:
        scale = 1 << 40  # not exact fractions (or a short deal): fixed-point shares, no period taken
        weights = [round(a.share * scale) for a in arms]
        weights[-1] += scale - sum(weights)
        return _greedy(weights, scale, n)
    period = _greedy(weights, scale, scale)
    if [int((period == i).sum()) for i in range(len(arms))] != weights:  # not back at zero: no period
        return _greedy(weights, scale, n)
    return np.tile(period, -(-n // scale))[:n]


def assign_indices(
    campaign_id: str, member_ids: Sequence[str], strata: Sequence[str], arms: Sequence[ArmSpec]
) -> np.ndarray:
    """The arm index of every member (aligned with `member_ids`), as `assign` deals them."""
    total_share = sum(a.share for a in arms)
    if not arms or abs(total_share - 1.0) > 1e-9 or any(a.share < 0 for a in arms):
        raise InputError(
            _("arm shares must be non-negative and add up to 1, got {value}", value=[(a.key, a.share) for a in arms])
        )
    ids = np.asarray(member_ids, dtype=object)
    if len(set(member_ids)) != len(ids):
        seen: set[str] = set()
        twice = next(m for m in member_ids if m in seen or seen.add(m))  # type: ignore[func-returns-value]
        raise InputError(_("member {member_id!r} appears twice in the audience", member_id=twice))
    names = sorted(set(strata), key=lambda s: (member_key(campaign_id, "\x00stratum\x00" + s), s))
    rank = {s: i for i, s in enumerate(names)}
    stratum_rank = np.fromiter((rank[s] for s in strata), dtype=np.int64, count=len(ids))
    keys = member_keys(campaign_id, member_ids)
    order = np.lexsort((ids.astype(str), keys, stratum_rank)) if len(ids) else np.empty(0, dtype=np.int64)
    out = np.empty(len(ids), dtype=np.int16)
    out[order] = deal_sequence(arms, len(ids))
    return out


def assign(campaign_id: str, members: Iterable[tuple[str, str]], arms: Sequence[ArmSpec]) -> dict[str, str]:
    """member_id → arm key, for (member_id, stratum) pairs."""
    pairs = list(members)
    ids = [m for m, _s in pairs]
    got = assign_indices(campaign_id, ids, [s for _m, s in pairs], arms)
    return {m: arms[int(i)].key for m, i in zip(ids, got, strict=True)}
