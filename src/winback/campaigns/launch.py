"""Launching a draft, the decisions: assign arms, plan coupons, guide tasks and touches, check balance. Pure.

The campaign service reads the draft and its audience (store), plans here, and writes everything in one
transaction (store.write_launch): a failed launch leaves the draft as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from winback.campaigns.assign import CONTROL, ArmSpec, assign
from winback.campaigns.audience import Audience
from winback.campaigns.coupons import display
from winback.campaigns.scenarios import Scenario
from winback.campaigns.types import Campaign, LaunchResult
from winback.errors import InputError
from winback.i18n import _
from winback.outreach.ledger import touch_key
from winback.outreach.scripts import render


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


def assign_arms(c: Campaign, aud: Audience) -> list[dict[str, Any]]:
    """The audience's members, each with its arm and stratum (store × segment), deterministic per campaign."""
    if not aud.members:
        raise InputError(
            _("campaign {campaign_id} has no members left to launch to", campaign_id=c.campaign_id),
            hint=_("Every matched member was excluded; see the preview (`winback campaign show`)."),
        )
    specs = [ArmSpec(CONTROL, c.holdout)] + [ArmSpec(v.variant_key, v.share) for v in c.variants]
    strata = [(m["member_id"], f"{m['store_id']}|{m['segment']}") for m in aud.members]
    arms = assign(c.campaign_id, strata, specs)
    return [{**m, "arm": arms[m["member_id"]], "stratum": f"{m['store_id']}|{m['segment']}"} for m in aud.members]


@dataclass(frozen=True)
class LaunchPlan:
    """What a launch writes. Coupon codes are drawn while writing (a drawn code may collide with an issued one),
    so the tasks and touches that quote them come from `outreach(code_of)` once the codes are known."""

    campaign: Campaign
    scenario: Scenario
    members: list[dict[str, Any]]  # audience rows with arm and stratum
    coupons: list[dict[str, Any]]  # rows of `coupons` without their code
    names: dict[str, tuple[Any, ...]]  # member id → (member, guide, store) names for the scripts
    expires: dt.datetime
    lang: str

    @property
    def due_days(self) -> int:
        return min(7, int(self.campaign.window_days))

    def outreach(self, code_of: dict[str, str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(guide tasks, touches) for the treated members, each guide's members ranked by the scenario's order."""
        sc, cid, offers = self.scenario, self.campaign.campaign_id, self.campaign.offers()
        template = sc.script_zh if self.lang == "zh" else sc.script_en
        treated = sorted(
            (m for m in self.members if m["arm"] != CONTROL),
            key=lambda m: (str(m["guide_id"]), -(m.get(sc.order_by) or 0), m["member_id"]),
        )
        tasks, touches, rank = [], [], Counter[str]()
        for m in treated:
            mid = m["member_id"]
            member_name, guide_name, store_name = self.names.get(mid, (None, None, None))
            rank[str(m["guide_id"])] += 1
            code = code_of.get(mid)
            script = render(
                template,
                name=member_name or "",
                guide=guide_name or "",
                store=store_name or "",
                offer=offers[m["arm"]].label(self.lang),
                code=display(code) if code else "",
                expires=f"{self.expires:%Y-%m-%d}",
            )
            tasks.append(self._task(m, script, code, rank[str(m["guide_id"])]))
            touches.append(
                {
                    "idempotency_key": touch_key(cid, mid, sc.channel),
                    "campaign_id": cid,
                    "member_id": mid,
                    "channel": sc.channel,
                    "payload": json.dumps({"text": script, "code": code}, ensure_ascii=False),
                }
            )
        return tasks, touches

    def _task(self, m: dict[str, Any], script: str, code: str | None, priority: int) -> dict[str, Any]:
        cid = self.campaign.campaign_id
        return {
            "task_id": f"{cid}:{m['member_id']}",
            "campaign_id": cid,
            "member_id": m["member_id"],
            "guide_id": m["guide_id"],
            "store_id": m["store_id"],
            "kind": "call" if self.scenario.channel == "guide_task" else "follow_up",
            "script": script,
            "coupon_code": code,
            "priority": priority,
        }


def plan_launch(
    c: Campaign,
    sc: Scenario,
    members: list[dict[str, Any]],
    names: dict[str, tuple[Any, ...]],
    *,
    now: dt.datetime,
    lang: str,
) -> LaunchPlan:
    """One coupon per treated member whose variant offers something, valid for the campaign's coupon days."""
    offers = c.offers()
    expires = now + dt.timedelta(days=int(c.coupon_valid_days))
    coupons = [
        {
            "campaign_id": c.campaign_id,
            "member_id": m["member_id"],
            "variant_key": m["arm"],
            "offer_kind": offers[m["arm"]].kind,
            "offer_value": offers[m["arm"]].value,
            "offer_threshold": offers[m["arm"]].threshold,
            "issued_at": now,
            "expires_at": expires,
        }
        for m in members
        if m["arm"] != CONTROL and offers[m["arm"]].kind != "none"
    ]
    return LaunchPlan(c, sc, members, coupons, names, expires, lang)


def balance_table(members: list[dict[str, Any]], arms: list[str], key: str) -> dict[str, Any]:
    """Members per arm by `key` (e.g. segment) and the chi-square test of independence of arm and key."""
    from scipy import stats as sps  # only launches need it

    label = {m["member_id"]: "—" if m[key] is None else str(m[key]) for m in members}
    groups = sorted(set(label.values()))
    counts = Counter((label[m["member_id"]], m["arm"]) for m in members)
    rows = [{key: g, **{a: counts[(g, a)] for a in arms}} for g in groups]
    matrix = [[counts[(g, a)] for a in arms] for g in groups]
    p = None
    if (
        len(groups) > 1
        and len(arms) > 1
        and all(sum(r) for r in matrix)
        and all(sum(c) for c in zip(*matrix, strict=True))
    ):
        p = float(sps.chi2_contingency(matrix).pvalue)
    return {"by": key, "rows": rows, "chi2_p_value": p}


def launch_result(
    launched: Campaign, plan: LaunchPlan, tasks: int, touches: int, excluded: dict[str, int]
) -> LaunchResult:
    members, arm_keys = plan.members, launched.arm_keys
    return LaunchResult(
        campaign=launched,
        members=len(members),
        arms={a: sum(1 for m in members if m["arm"] == a) for a in arm_keys},
        balance=[balance_table(members, arm_keys, "segment"), balance_table(members, arm_keys, "store_id")],
        coupons=len(plan.coupons),
        tasks=tasks,
        touches=touches,
        excluded=excluded,
    )
