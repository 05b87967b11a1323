"""A draft campaign's preview: audience sizes, expected responders, revenue, cost and ROI, holdout sizing. Pure.

The forecast's cost is the report's cost (outcomes.arm_cost, the same function): every member of a treated arm
at the cost per contact, plus the coupon discounts, forecast as expected buyers × redemption rate × discount per
redemption. Every rate says where it comes from: "seed default" (the playbook) or "history C0001,…" (this
brand's finished campaigns)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from winback.campaigns.audience import EXCLUSION_REASONS, Audience
from winback.campaigns.outcomes import COST_MODEL, arm_cost, expected_discounts
from winback.campaigns.scenarios import Playbook
from winback.campaigns.stats import mde_proportion
from winback.campaigns.types import CampaignPreview, DraftSpec, Variant
from winback.i18n import _, t

HOLDOUT_CHOICES = (0.05, 0.1, 0.2, 0.3, 0.5)
Rates = dict[str, tuple[float, float, str]]  # segment -> (treated rate, baseline rate, source)
SEED_FALLBACK = (0.05, 0.025, "seed default")
#: share of a treated arm's buyers who redeem their coupon, until the brand has measured its own: about the
#: share of buyers a guide's message reaches (~85 %) times the share of their orders above a typical threshold
SEED_REDEMPTION = (0.6, "seed default")


def _sizes(members: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    c = Counter(m.get(key) or "—" for m in members)
    return [{key: k, "members": v} for k, v in sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def _arm_forecasts(
    members: Sequence[dict[str, Any]],
    variants: Sequence[Variant],
    holdout: float,
    cost_per_contact: float,
    rate_of: dict[str, float],
    redemption: tuple[float, str],
) -> list[dict[str, Any]]:
    """Per variant: members, expected buyers, redemptions, discount per redemption and cost, by the report's
    cost model (outcomes.arm_cost). A redeemed coupon sits on an order at or above its threshold, so one
    redemption takes off what the offer takes off an order of max(the member's AOV, the threshold)."""
    share = (1.0 - holdout) / len(variants) if variants else 0.0
    rate, _ = redemption
    out = []
    for v in variants:
        buyers = sum(rate_of[m["segment"]] for m in members) * share
        taken = (
            sum(
                rate_of[m["segment"]] * v.offer.discount_on(max(float(m.get("aov") or 0.0), v.offer.threshold))
                for m in members
            )
            * share
        )
        per_redemption = taken / buyers if buyers > 0 else 0.0
        discounts = expected_discounts(buyers, rate, per_redemption)
        n_arm = len(members) * share
        out.append(
            {
                "arm": v.key,
                "offer": v.offer.label("en"),
                "members": n_arm,
                "expected_responders": buyers,
                "redemption_rate": rate,
                "expected_redemptions": buyers * rate,
                "discount_per_redemption": per_redemption,
                "expected_discounts": discounts,
                "contact_cost": n_arm * cost_per_contact,
                "cost": arm_cost(n_arm, cost_per_contact, discounts),
            }
        )
    return out


def expected_outcome(
    members: Sequence[dict[str, Any]],
    *,
    holdout: float,
    cost_per_contact: float,
    margin: float,
    rates: dict[str, tuple[float, float, str]],  # segment -> (treated rate, baseline rate, source)
    fallback: tuple[float, float, str],
    variants: Sequence[Variant] = (),
    redemption: tuple[float, str] = SEED_REDEMPTION,
) -> dict[str, Any]:
    """Expected treated responders, incremental responders, revenue, cost and ROI, by segment, by arm and in
    total. The cost is the report's (outcomes.arm_cost): contacts plus the expected coupon discounts."""
    aovs = [m["aov"] for m in members if m.get("aov")]
    brand_aov = sum(aovs) / len(aovs) if aovs else 0.0
    by_seg: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        by_seg.setdefault(m["segment"], []).append(m)
    rows = []
    tot = Counter[str]()
    for seg, ms in sorted(by_seg.items()):
        treated_rate, base_rate, source = rates.get(seg, fallback)
        seg_aovs = [m["aov"] for m in ms if m.get("aov")]
        aov = sum(seg_aovs) / len(seg_aovs) if seg_aovs else brand_aov
        n_t = len(ms) * (1.0 - holdout)
        row = {
            "segment": seg,
            "members": len(ms),
            "treated": round(n_t),
            "response_rate": treated_rate,
            "baseline_rate": base_rate,
            "rate_source": source,
            "aov": aov,
            "expected_responders": n_t * treated_rate,
            "expected_incremental_responders": n_t * (treated_rate - base_rate),
            "expected_revenue": n_t * treated_rate * aov,
            "expected_incremental_revenue": n_t * (treated_rate - base_rate) * aov,
        }
        rows.append(row)
        for k in (
            "expected_responders",
            "expected_incremental_responders",
            "expected_revenue",
            "expected_incremental_revenue",
        ):
            tot[k] += row[k]  # type: ignore[assignment]
    rate_of = {seg: rates.get(seg, fallback)[0] for seg in by_seg}
    arms = _arm_forecasts(members, variants, holdout, cost_per_contact, rate_of, redemption)
    n_treated = len(members) * (1.0 - holdout)
    contact_cost = n_treated * cost_per_contact
    discounts = float(sum(a["expected_discounts"] for a in arms))
    cost = contact_cost + discounts
    inc = float(tot["expected_incremental_revenue"])
    return {
        "by_segment": rows,
        "by_arm": arms,
        "expected_responders": float(tot["expected_responders"]),
        "expected_incremental_responders": float(tot["expected_incremental_responders"]),
        "expected_revenue": float(tot["expected_revenue"]),
        "expected_incremental_revenue": inc,
        "contact_cost": contact_cost,
        "expected_discounts": discounts,
        "cost": cost,
        "cost_model": _(COST_MODEL),
        "expected_incremental_roi": (inc * margin - cost) / cost if cost > 0 else None,
        "rate_sources": sorted({r["rate_source"] for r in rows}),
        "redemption_rate": redemption[0],
        "redemption_rate_source": redemption[1],
        "sources": {
            "response": {r["segment"]: r["rate_source"] for r in rows},
            "redemption": redemption[1],
        },
    }


def holdout_sizing(
    n: int, baseline_rate: float, holdout: float, alpha: float = 0.05, power: float = 0.8
) -> dict[str, Any]:
    """Minimum detectable lift in the purchase rate for the chosen holdout and common alternatives."""

    def mde(h: float) -> float | None:
        n_c = round(n * h)
        return mde_proportion(baseline_rate, n - n_c, n_c, alpha, power) if 0 < n_c < n else None

    return {
        "baseline_rate": baseline_rate,
        "alpha": alpha,
        "power": power,
        "holdout": holdout,
        "control_members": round(n * holdout),
        "mde_rate": mde(holdout),
        "alternatives": [{"holdout": h, "control_members": round(n * h), "mde_rate": mde(h)} for h in HOLDOUT_CHOICES],
    }


def audience_breakdown(members: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "members": len(members),
        "by_segment": _sizes(members, "segment"),
        "by_store": _sizes(members, "store_id"),
        "by_guide": _sizes(members, "guide_id"),
        "without_guide": sum(1 for m in members if not m.get("guide_id")),
    }


def planning_rates(playbook: Playbook, past: dict[str, dict[str, Any]]) -> tuple[Rates, tuple[float, float, str]]:
    """The brand's measured rates per segment where it has them (outcomes.past_response_rates), else the
    playbook's seed defaults; and the fallback for segments neither knows."""
    rates = {seg: (t, b, "seed default") for seg, (t, b) in playbook.response_defaults.items()}
    for seg, r in past.items():
        rates[seg] = (r["treated"], r["baseline"], "history " + ",".join(r["campaigns"]))
    return rates, SEED_FALLBACK


def planning_redemption(playbook: Playbook, past: dict[str, Any] | None) -> tuple[float, str]:
    """The brand's measured redemption rate (outcomes.past_redemption_rate) when it has one, else the playbook's
    `redemption_rate` default, else SEED_REDEMPTION; with where it comes from."""
    if past is not None:
        return float(past["rate"]), "history " + ",".join(past["campaigns"])
    if "redemption_rate" in playbook.defaults:
        return float(playbook.defaults["redemption_rate"]), "seed default"
    return SEED_REDEMPTION


def build_preview(
    aud: Audience,
    spec: DraftSpec,
    rates: Rates,
    fallback: tuple[float, float, str],
    lang: str,
    redemption: tuple[float, str] = SEED_REDEMPTION,
) -> CampaignPreview:
    """What a draft will reach, cost and may earn, with the holdout's power."""
    expected = expected_outcome(
        aud.members,
        holdout=spec.holdout,
        cost_per_contact=spec.cost_per_contact,
        margin=spec.margin,
        rates=rates,
        fallback=fallback,
        variants=spec.variants,
        redemption=redemption,
    )
    base = (
        sum(r["baseline_rate"] * r["members"] for r in expected["by_segment"]) / len(aud.members)
        if aud.members
        else 0.0
    )
    return CampaignPreview(
        as_of=aud.as_of.isoformat(),
        matched=aud.matched,
        excluded=[
            {"reason": k, "members": v, "explain": t(EXCLUSION_REASONS[k], lang)} for k, v in aud.excluded.items()
        ],
        frequency_cap_days=spec.frequency_cap_days,
        consent_unknown=aud.consent_unknown,
        audience=audience_breakdown(aud.members),
        expected=expected,
        holdout_sizing=holdout_sizing(len(aud.members), base, spec.holdout),
    )
