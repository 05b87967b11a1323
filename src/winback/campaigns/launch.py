"""Launching a draft, the decisions: assign arms, check balance. Pure.

The campaign service reads the draft and its audience as an Arrow table (store_launch.launch_audience), assigns
arms here, and writes members, coupons, tasks and touches set-based in one transaction (store_launch.write_launch):
a failed launch leaves the draft as it was. A million members take seconds, not minutes: nothing loops per member
in Python except the assignment's hashing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from winback.campaigns.assign import CONTROL, ArmSpec, assign_indices
from winback.campaigns.chi2 import independence_p
from winback.campaigns.types import Campaign, LaunchResult
from winback.errors import InputError
from winback.i18n import _


def check_launchable(c: Campaign) -> None:
    if c.status != "draft":
        raise InputError(
            _(
                "campaign {campaign_id} is {status}, only a draft can be launched",
                campaign_id=c.campaign_id,
                status=c.status,
            ),
            hint=_("Its arms are frozen; see `winback campaign show` / `report`. Create a new campaign to run again."),
        )


def assign_arms(c: Campaign, members: pa.Table) -> pa.Table:
    """The audience's members (Arrow), each with its arm and stratum (store × segment), deterministic per campaign."""
    if not len(members):
        raise InputError(
            _("campaign {campaign_id} has no members left to launch to", campaign_id=c.campaign_id),
            hint=_("Every matched member was excluded; see the preview (`winback campaign show`)."),
        )
    specs = [ArmSpec(CONTROL, c.holdout)] + [ArmSpec(v.variant_key, v.share) for v in c.variants]
    store = pc.fill_null(pc.cast(members["store_id"], pa.string()), "None")
    segment = pc.fill_null(pc.cast(members["segment"], pa.string()), "None")
    stratum = pc.binary_join_element_wise(store, segment, "|")
    got = assign_indices(c.campaign_id, members["member_id"].to_pylist(), stratum.to_pylist(), specs)
    keys = pa.array([a.key for a in specs], pa.string())
    arm = pc.take(keys, pa.array(got.astype("int32")))
    return members.append_column("arm", arm).append_column("stratum", stratum)


def due_days(c: Campaign) -> int:
    return min(7, int(c.window_days))


def balance_table(counts: dict[tuple[Any, str], int], arms: list[str], key: str) -> dict[str, Any]:
    """Members per arm by `key` (e.g. segment) from (value, arm) → members, and the chi-square test of
    independence of arm and key (campaigns.chi2: scipy's value, without importing scipy)."""
    merged = Counter[tuple[str, str]]()
    for (value, arm), n in counts.items():
        merged["—" if value is None else str(value), arm] += n
    groups = sorted({g for g, _a in merged})
    rows = [{key: g, **{a: merged[(g, a)] for a in arms}} for g in groups]
    matrix = [[merged[(g, a)] for a in arms] for g in groups]
    p = None
    if (
        len(groups) > 1
        and len(arms) > 1
        and all(sum(r) for r in matrix)
        and all(sum(c) for c in zip(*matrix, strict=True))
    ):
        p = independence_p(matrix)
    return {"by": key, "rows": rows, "chi2_p_value": p}


def _counts(members: pa.Table, key: str) -> dict[tuple[Any, str], int]:
    grouped = members.group_by([key, "arm"]).aggregate([("member_id", "count")])
    return {
        (v, a): n
        for v, a, n in zip(
            grouped[key].to_pylist(), grouped["arm"].to_pylist(), grouped["member_id_count"].to_pylist(), strict=True
        )
    }


def launch_result(
    launched: Campaign, members: pa.Table, coupons: int, tasks: int, touches: int, excluded: dict[str, int]
) -> LaunchResult:
    arm_keys = launched.arm_keys
    per_arm = Counter[str]()
    for (_v, a), n in _counts(members, "segment").items():
        per_arm[a] += n
    return LaunchResult(
        campaign=launched,
        members=len(members),
        arms={a: per_arm[a] for a in arm_keys},
        balance=[
            balance_table(_counts(members, "segment"), arm_keys, "segment"),
            balance_table(_counts(members, "store_id"), arm_keys, "store_id"),
        ],
        coupons=coupons,
        tasks=tasks,
        touches=touches,
        excluded=excluded,
    )
