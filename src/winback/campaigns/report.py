"""Campaign results: per arm, incremental responders and revenue vs control with CIs, ROI, and a winner rule.
Pure: works on per-arm totals the store sums in SQL (store_report.arm_totals; ArmTotals.of_rows sums member
outcome rows the same way).

Analysis is intention-to-treat (members count in their assigned arm). Incremental revenue of an arm =
(revenue per member in the arm − in control) × arm members (Welch interval); incremental responders use the
two-proportion z test. Cost = arm members × cost per contact (control is not contacted) + the coupon
discounts redeemed in the arm (order amounts are order values, the discount is the offer's cost). Incremental ROI =
(incremental revenue × margin − cost) / cost, its interval mapped from the revenue interval.

Winner rule (stated in every report): with two or more variants, a variant is named the winner only if its
revenue per member beats every other variant AND the control with Holm-corrected p < 0.05 and a 95 % interval
that excludes 0. Otherwise "no winner": the evidence does not separate them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from winback.campaigns.assign import CONTROL
from winback.campaigns.outcomes import arm_cost, response_window
from winback.campaigns.stats import Summary, holm, incremental_roi, two_proportions, welch
from winback.campaigns.types import Campaign, CampaignReport
from winback.errors import InputError
from winback.i18n import N_, _

WINNER_RULE = N_(
    "a variant wins only if its revenue per member beats every other variant and the control with "
    "Holm-corrected p < 0.05 and a 95% CI excluding 0"
)
BY_COLUMNS = {"store": "store_id", "guide": "guide_id", "segment": "segment"}
METHOD = N_("intention to treat; Welch CI for revenue, two-proportion z for responders; Holm across variants")


@dataclass(frozen=True)
class ArmTotals:
    """What one arm's members did, summed (the store sums them in SQL: store_report.arm_totals)."""

    members: int = 0
    contacted: int = 0
    invited: int = 0
    visited: int = 0
    redeemed: int = 0
    responders: int = 0
    revenue: float = 0.0
    discounts: float = 0.0
    revenue_summary: Summary = field(default_factory=lambda: Summary(0, math.nan, 0.0))

    @classmethod
    def of_rows(cls, rows: list[dict[str, Any]]) -> ArmTotals:
        """The totals of member outcome rows (store_report.member_outcomes)."""
        rev = np.array([r["revenue"] for r in rows], dtype=float)
        return cls(
            len(rows), sum(r["contacted"] for r in rows), sum(r.get("invited", 0) for r in rows),
            sum(r.get("visited", 0) for r in rows), sum(r["redeemed"] for r in rows),
            sum(r["purchased"] for r in rows), float(rev.sum()), float(sum(r["discount"] for r in rows)),
            Summary.of(rev),
        )  # fmt: skip


ArmGroup = tuple[dict[str, ArmTotals], ArmTotals]  # per arm, and all treated arms together


def group_rows(rows: list[dict[str, Any]], key: str | None = None) -> dict[str, ArmGroup]:
    """Member outcome rows -> per group of `key` (all rows under "" without one): totals per arm and treated."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups["" if key is None else (str(r[key]) if r[key] is not None else "—")].append(r)
    out = {}
    for g, rs in groups.items():
        by_arm: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in rs:
            by_arm[r["arm"]].append(r)
        totals = {a: ArmTotals.of_rows(x) for a, x in by_arm.items()}
        out[g] = (totals, ArmTotals.of_rows([r for r in rs if r["arm"] != CONTROL]))
    return out


def totals_of_sums(rows: list[dict[str, Any]]) -> dict[str, ArmGroup]:
    """store_report.arm_totals rows -> per group: totals per arm, and of all treated arms together."""
    out: dict[str, ArmGroup] = {}
    for r in rows:
        n = int(r["members"])
        mean = float(r["revenue"]) / n if n else math.nan
        var = float(r["revenue_var"]) if n > 1 and r["revenue_var"] is not None else 0.0
        t = ArmTotals(
            n, int(r["contacted"]), int(r["invited"]), int(r["visited"]), int(r["redeemed"]), int(r["responders"]),
            float(r["revenue"]), float(r["discounts"]), Summary(n, mean, var),
        )  # fmt: skip
        arms = out.setdefault(r["grp"], ({}, ArmTotals()))[0]
        if r["arm"] is None:
            out[r["grp"]] = (arms, t)
        else:
            arms[r["arm"]] = t
    return out


def _arm_stats(t: ArmTotals) -> dict[str, Any]:
    n = t.members
    return {
        "members": n,
        "contacted": t.contacted,
        "invited": t.invited,
        "visited": t.visited,
        "redeemed": t.redeemed,
        "responders": t.responders,
        "response_rate": t.responders / n if n else None,
        "revenue": t.revenue,
        "revenue_per_member": t.revenue_summary.mean if n else None,
        "discounts": t.discounts,
    }


def _versus(arm: ArmTotals, control: ArmTotals, cost_per_contact: float, margin: float, alpha: float) -> dict[str, Any]:
    n = arm.members
    resp = two_proportions(arm.responders, n, control.responders, control.members, alpha)
    per = welch(arm.revenue_summary, control.revenue_summary, alpha)
    inc_resp = resp.scaled(float(n))
    inc_rev = per.scaled(float(n))
    cost = arm_cost(n, cost_per_contact, arm.discounts)
    roi = incremental_roi(inc_rev.diff, margin, cost)
    lo, hi = incremental_roi(inc_rev.ci_low, margin, cost), incremental_roi(inc_rev.ci_high, margin, cost)
    return {
        "response_rate_diff": resp.diff,
        "incremental_responders": inc_resp.diff,
        "incremental_responders_ci": [inc_resp.ci_low, inc_resp.ci_high],
        "responders_p_value": resp.p_value,
        "revenue_per_member_diff": per.diff,
        "revenue_per_member_ci": [per.ci_low, per.ci_high],
        "incremental_revenue": inc_rev.diff,
        "incremental_revenue_ci": [inc_rev.ci_low, inc_rev.ci_high],
        "revenue_statistic": per.statistic,
        "revenue_p_value": per.p_value,
        "cost": cost,
        "incremental_roi": roi,
        "incremental_roi_ci": [lo, hi],
    }


def _significant(d: dict[str, Any], p: float | None) -> bool:
    lo, hi = d["revenue_per_member_ci"] if "revenue_per_member_ci" in d else (d["ci_low"], d["ci_high"])
    return p is not None and p < 0.05 and lo is not None and (lo > 0 or hi < 0)


def pick_winner(by_arm: dict[str, Summary], versus: dict[str, dict[str, Any]], alpha: float) -> dict[str, Any]:
    """The winner rule over the arms' revenue summaries (compare_arms' "_by_arm")."""
    variants = [a for a in by_arm if a != CONTROL]
    if len(variants) < 2:
        return {"rule": _(WINNER_RULE), "winner": None, "reason": _("one variant: nothing to compare between variants")}
    pairs = []
    for a, b in combinations(variants, 2):
        d = welch(by_arm[a], by_arm[b], alpha)
        pairs.append({"a": a, "b": b, "diff": d.diff, "ci_low": d.ci_low, "ci_high": d.ci_high, "p_value": d.p_value})
    for pr, p in zip(pairs, holm([pr["p_value"] for pr in pairs]), strict=True):
        pr["p_holm"] = p
    winner = None
    for v in variants:
        beats_all = all(
            _significant(pr, pr["p_holm"]) and ((pr["a"] == v) == (pr["diff"] > 0))
            for pr in pairs
            if v in (pr["a"], pr["b"])
        )
        vs_control = versus.get(v)
        if (
            beats_all
            and vs_control
            and _significant(vs_control, vs_control.get("revenue_p_holm"))
            and vs_control["revenue_per_member_diff"] > 0
        ):
            winner = v
    reason = (
        _("{winner} meets the rule", winner=winner)
        if winner
        else _("no variant meets the rule: keep testing or pick on cost")
    )
    return {"rule": _(WINNER_RULE), "winner": winner, "reason": reason, "pairs": pairs}


def compare_totals(group: ArmGroup, arms: list[str], cost: float, margin: float, alpha: float) -> dict[str, Any]:
    """Per arm stats, each variant vs control (Holm across variants), all treated vs control."""
    seen, treated = group
    by_arm = {a: seen.get(a, ArmTotals()) for a in arms}
    by_arm.update({a: seen[a] for a in sorted(set(seen) - set(arms))})
    control = by_arm.get(CONTROL, ArmTotals())
    out_arms = {a: _arm_stats(t) for a, t in by_arm.items()}
    versus = {
        a: _versus(t, control, cost, margin, alpha) for a, t in by_arm.items() if a != CONTROL and control.members
    }
    for d, p in zip(versus.values(), holm([d["revenue_p_value"] for d in versus.values()]), strict=True):
        d["revenue_p_holm"] = p
    total = _versus(treated, control, cost, margin, alpha) if control.members and treated.members else None
    summaries = {a: t.revenue_summary for a, t in by_arm.items()}
    return {"arms": out_arms, "versus_control": versus, "all_treated_vs_control": total, "_by_arm": summaries}


def compare_arms(
    rows: list[dict[str, Any]], arms: list[str], cost: float, margin: float, alpha: float
) -> dict[str, Any]:
    """compare_totals over member outcome rows."""
    return compare_totals(group_rows(rows).get("", ({}, ArmTotals())), arms, cost, margin, alpha)


def check_reportable(c: Campaign, by: str | None) -> None:
    if c.status == "draft":
        raise InputError(
            _("campaign {campaign_id} is a draft: nothing to report yet", campaign_id=c.campaign_id),
            hint=_("Launch it first: winback campaign launch {campaign_id}.", campaign_id=c.campaign_id),
        )
    if by is not None and by not in BY_COLUMNS:
        raise InputError(_("cannot break down by {by!r}", by=by), hint=_("Use --by store, guide or segment."))


def breakdown(
    groups: dict[str, ArmGroup], arms: list[str], by: str, cost: float, margin: float, alpha: float
) -> dict[str, Any]:
    """The same comparison inside each store, guide or segment."""
    out = []
    for g, group in sorted(groups.items()):
        part = compare_totals(group, arms, cost, margin, alpha)
        part.pop("_by_arm")
        out.append({by: g, **part})
    return {"column": by, "groups": out}


def build_report(
    c: Campaign,
    main_totals: ArmGroup,
    *,
    by: str | None,
    groups: dict[str, ArmGroup] | None = None,
    alpha: float,
    now: dt.datetime,
) -> CampaignReport:
    """The report of a launched campaign from its per-arm totals (overall, and per group of `by`)."""
    arms = c.arm_keys
    main = compare_totals(main_totals, arms, c.cost_per_contact, c.margin, alpha)
    winner = pick_winner(main.pop("_by_arm"), main["versus_control"], alpha)
    assert c.launched_at is not None
    _start, window_end = response_window(c.launched_at, c.window_days)
    return CampaignReport(
        campaign=c,
        window_end=window_end,
        window_complete=now >= window_end,
        alpha=alpha,
        method=_(METHOD),
        arms=main["arms"],
        versus_control=main["versus_control"],
        all_treated_vs_control=main["all_treated_vs_control"],
        winner=winner,
        by=breakdown(groups or {}, arms, by, c.cost_per_contact, c.margin, alpha) if by else None,
        state=report_state(c, now, window_end),
    )


def report_state(c: Campaign, now: dt.datetime, window_end: dt.datetime) -> str:
    """closed when the campaign was closed (whatever its window), else complete once the window has ended."""
    if c.status == "closed":
        return "closed"
    return "complete" if now >= window_end else "open"
