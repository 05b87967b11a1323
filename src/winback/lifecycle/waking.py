"""Who is worth waking: value at stake among dormant members (pure; issue 9).

The old rule ("dormant and P(alive) ≥ 0.5") picked the members the model thinks will buy anyway and left out the
most valuable silent VIP (214 orders, ¥131,577, 93 days quiet: P(alive) 0.12, CLV ¥0.80). Seed 004 says the
opposite for members who left: pick the high-quality ones (high AOV, high frequency, recent behaviour). Until the
uplift issue gives a causal answer, the rule ranks dormant members by what the brand stands to lose:

- **dormant** = seed_cn silent, near_dormant, hibernating or lost (no purchase for 90 days or more);
- **worth waking** = dormant and high quality: bought on at least `MIN_PURCHASE_DAYS` days, or in the top two
  monetary quintiles (m_score ≥ `MIN_M_SCORE`);
- **value at stake** = what the member spent per year while active: monetary × 365 / max(365, span_days +
  cycle_days) — the active period runs from the first purchase to one of their own cycles after the last one,
  and is at least a year (so a one-time buyer's stake is what they spent once);
- ranked by value at stake, then purchase days, then how few of their own cycles they are overdue (recency
  relative to their cycle: the more recently they lapsed, the earlier).

P(alive) and CLV are shown beside it as what the model expects *without* a campaign; they are not the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from winback.i18n import N_, t

DORMANT = ("silent", "near_dormant", "hibernating", "lost")
MIN_PURCHASE_DAYS = 2
MIN_M_SCORE = 4
ACTIVE_YEAR_DAYS = 365

# the rule as overview and explain print it (a msgid; the Chinese is in i18n/zh/lifecycle.po)
RULE: str = N_(
    "worth waking = high-quality dormant members (seed_cn silent, near-dormant, hibernating, lost): bought on 2+ "
    "days or in the top 40 % by monetary (m_score >= 4); ranked by value at stake = yearly spend while active = "
    "monetary × 365 / max(365, span_days + cycle_days), then purchase days, then fewest own cycles overdue. "
    "P(alive) and CLV are what the model expects without a campaign: shown for reference, not the rule."
)


def rule_text(lang: str) -> str:
    return t(RULE, lang)


def value_at_stake_sql(p: str = "") -> str:
    """SQL of the value at stake over member_snapshot columns (prefix `p`, e.g. "s."); NULL for non-buyers."""
    return (
        f"CASE WHEN {p}purchase_days >= 1 THEN CAST({p}monetary AS DOUBLE) * {ACTIVE_YEAR_DAYS}.0 / "
        f"GREATEST({ACTIVE_YEAR_DAYS}.0, CAST({p}span_days AS DOUBLE) + COALESCE({p}cycle_days, 0.0)) END"
    )


def high_quality_sql(p: str = "") -> str:
    """SQL: the member is high quality (frequent or high spending), over member_snapshot columns."""
    return f"({p}purchase_days >= {MIN_PURCHASE_DAYS} OR COALESCE({p}m_score, 0) >= {MIN_M_SCORE})"


def rank_order_sql(p: str = "") -> str:
    """ORDER BY terms of the worth-waking ranking."""
    return f"{value_at_stake_sql(p)} DESC NULLS LAST, {p}purchase_days DESC, {p}overdue_ratio ASC NULLS LAST"


def value_at_stake(snap: Mapping[str, Any]) -> float | None:
    """Reference implementation of `value_at_stake_sql` over one snapshot row."""
    if not snap.get("purchase_days"):
        return None
    active = float(snap["span_days"] or 0) + float(snap.get("cycle_days") or 0.0)
    return float(snap["monetary"]) * ACTIVE_YEAR_DAYS / max(float(ACTIVE_YEAR_DAYS), active)


def is_high_quality(snap: Mapping[str, Any]) -> bool:
    return bool((snap.get("purchase_days") or 0) >= MIN_PURCHASE_DAYS or (snap.get("m_score") or 0) >= MIN_M_SCORE)


def explain(snap: Mapping[str, Any], seed_cn_segment: str | None, lang: str) -> dict[str, Any]:
    """Whether one member is worth waking, with the numbers behind it (for `explain`)."""
    dormant = seed_cn_segment in DORMANT
    quality = is_high_quality(snap)
    return {
        "dormant": dormant,
        "high_quality": quality,
        "worth_waking": dormant and quality,
        "value_at_stake": value_at_stake(snap),
        "rule": rule_text(lang),
    }
