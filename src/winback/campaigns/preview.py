"""A draft campaign's preview: audience sizes, expected responders, revenue and ROI, holdout sizing. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from winback.campaigns.stats import mde_proportion

HOLDOUT_CHOICES = (0.05, 0.1, 0.2, 0.3, 0.5)


def _sizes(members: Sequence[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    c = Counter(m.get(key) or "—" for m in members)
    return [{key: k, "members": v} for k, v in sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))]


def expected_outcome(
    members: Sequence[dict[str, Any]],
    *,
    holdout: float,
    cost_per_contact: float,
    margin: float,
    rates: dict[str, tuple[float, float, str]],  # segment -> (treated rate, baseline rate, source)
    fallback: tuple[float, float, str],
) -> dict[str, Any]:
    """Expected treated responders, incremental responders, revenue and ROI, by segment and in total."""
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
    n_treated = len(members) * (1.0 - holdout)
    cost = n_treated * cost_per_contact
    inc = float(tot["expected_incremental_revenue"])
    return {
        "by_segment": rows,
        "expected_responders": float(tot["expected_responders"]),
        "expected_incremental_responders": float(tot["expected_incremental_responders"]),
        "expected_revenue": float(tot["expected_revenue"]),
        "expected_incremental_revenue": inc,
        "cost": cost,
        "expected_incremental_roi": (inc * margin - cost) / cost if cost > 0 else None,
        "rate_sources": sorted({r["rate_source"] for r in rows}),
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
