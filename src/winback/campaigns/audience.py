"""A scenario's audience from a lifecycle snapshot, with every exclusion and its reason. Pure.

`audience_sql` builds the query (store.select_audience runs it); `split_audience` counts the exclusions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from winback.campaigns.scenarios import Scenario
from winback.i18n import N_

CONSENT_COLUMN = {
    "sms": "m.consent_sms",
    "wecom": "m.consent_wechat",
    "email": "m.consent_email",
    "guide_task": "m.consent_call",
    "ai_call": "m.consent_call",
    "webhook": "NULL::BOOLEAN",  # a generic HTTP hook: no consent column of its own (opt-outs still apply)
}

EXCLUSION_REASONS = {  # reason -> msgid (rendered with i18n.t where shown)
    "opted_out": N_("opted out of all marketing"),
    "no_consent": N_("no consent for this channel"),
    "frequency_cap": N_("touched by a campaign within the frequency cap"),
    "held_out_elsewhere": N_("in the control group of a running campaign"),
    "on_rung": N_("already on this ladder rung since the last purchase"),
    "active": N_("active member (this scenario leaves them alone)"),
}


@dataclass(frozen=True)
class Audience:
    as_of: dt.date
    members: list[dict[str, Any]]  # member_id, store_id, guide_id, segment, orders, recency_days, monetary, aov, clv
    excluded: dict[str, int]  # reason -> members
    matched: int  # before exclusions
    consent_unknown: int  # included members whose consent for the channel is not recorded


_AUDIENCE_SQL = """
    WITH target AS (
        SELECT s.member_id, s.store_id, s.guide_id, coalesce(seg.segment, 'unknown') AS segment, s.orders,
               s.recency_days, s.monetary::DOUBLE AS monetary, s.aov, s.clv
        FROM member_snapshot s
        LEFT JOIN member_segments tseg
          ON tseg.as_of = s.as_of AND tseg.member_id = s.member_id AND tseg.scheme = ?
        LEFT JOIN member_segments seg
          ON seg.as_of = s.as_of AND seg.member_id = s.member_id AND seg.scheme = 'seed_cn'
        WHERE s.as_of = ? {target_where}
    ),
    recent AS (
        SELECT DISTINCT member_id FROM touches
        WHERE queued_at >= ? AND status IN ('queued', 'sending', 'sent', 'delivered') AND coalesce(campaign_id, '') <> ?
    ),
    held AS (
        SELECT DISTINCT cm.member_id FROM campaign_members cm JOIN campaigns c USING (campaign_id)
        WHERE c.status = 'running' AND cm.arm = 'control' AND c.campaign_id <> ?
    ),
    rung AS (  -- a ladder rung enrols a member once per silence: either arm of an earlier launch of the scenario
        SELECT cm.member_id, max(c.launched_at) AS at FROM campaign_members cm JOIN campaigns c USING (campaign_id)
        WHERE c.scenario = ? AND c.launched_at IS NOT NULL AND c.campaign_id <> ? GROUP BY 1
    )
    SELECT t.*, {consent} IS NULL AS consent_unknown,
           CASE WHEN m.opted_out_at IS NOT NULL THEN 'opted_out'
                WHEN {consent} = FALSE THEN 'no_consent'
                WHEN r.member_id IS NOT NULL THEN 'frequency_cap'
                WHEN h.member_id IS NOT NULL THEN 'held_out_elsewhere'
                WHEN ? AND g.member_id IS NOT NULL
                     AND (t.recency_days IS NULL OR CAST(g.at AS DATE) > CAST(? AS DATE) - t.recency_days)
                     THEN 'on_rung'
                WHEN ? AND t.segment = 'active' THEN 'active'
           END AS excluded
    FROM target t
    LEFT JOIN members m ON m.member_id = t.member_id
    LEFT JOIN recent r ON r.member_id = t.member_id
    LEFT JOIN held h ON h.member_id = t.member_id
    LEFT JOIN rung g ON g.member_id = t.member_id
    ORDER BY t.member_id
"""


def _target_filters(scenario: Scenario, stores: list[str] | None) -> tuple[list[str], list[object]]:
    """WHERE terms (and their parameters) on the snapshot row `s` and its target-scheme segment `tseg`."""
    t = scenario.target
    match: list[str] = []
    params: list[object] = []
    if t.segments:
        match.append(f"tseg.segment IN ({', '.join('?' for _ in t.segments)})")
        params.extend(t.segments)
    if t.orders_eq is not None:
        match.append("s.orders = ?")
        params.append(t.orders_eq)
    where = [f"({' OR '.join(match)})"] if match else []
    if t.recency_min is not None:
        where.append("s.recency_days >= ?")
        params.append(t.recency_min)
    if t.recency_max is not None:
        where.append("s.recency_days <= ?")
        params.append(t.recency_max)
    if t.journey:  # the members the journey enrolled on its latest run day (outreach.store_occasions)
        where.append(
            "s.member_id IN (SELECT member_id FROM journey_audience WHERE journey_id = ? "
            "AND day = (SELECT max(day) FROM journey_audience WHERE journey_id = ?))"
        )
        params.extend([t.journey, t.journey])
    if stores:
        where.append(f"s.store_id IN ({', '.join('?' for _ in stores)})")
        params.extend(stores)
    return where, params


def audience_sql(
    scenario: Scenario,
    *,
    as_of: dt.date,
    stores: list[str] | None,
    frequency_cap_days: int,
    now: dt.datetime,
    campaign_id: str = "",
) -> tuple[str, list[object]]:
    """The SELECT of every member the scenario targets at `as_of`, each with its exclusion reason (or NULL)."""
    where, target_params = _target_filters(scenario, stores)
    sql = _AUDIENCE_SQL.format(
        target_where="AND " + " AND ".join(where) if where else "", consent=CONSENT_COLUMN[scenario.channel]
    )
    cap_from = now - dt.timedelta(days=frequency_cap_days)
    params = [scenario.target.scheme, as_of, *target_params, cap_from, campaign_id, campaign_id, scenario.id]
    ladder = scenario.ladder_step is not None
    return sql, [*params, campaign_id, ladder, as_of, scenario.exclude_active]


def split_audience(rows: list[dict[str, Any]], as_of: dt.date) -> Audience:
    """The rows of `audience_sql`: members kept, exclusions counted by reason."""
    excluded = {k: 0 for k in EXCLUSION_REASONS}
    members = []
    unknown = 0
    for r in rows:
        reason = r.pop("excluded")
        cu = r.pop("consent_unknown")
        if reason:
            excluded[reason] += 1
        else:
            unknown += bool(cu)
            members.append(r)
    return Audience(as_of, members, excluded, len(rows), unknown)
