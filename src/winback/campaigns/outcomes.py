"""What each campaign member did in the response window: the input of reports and history. Pure (the SQL is run
by store_report.member_outcomes).

A responder bought (a paid order) within the window: whole local days from the launch day, [launch day 00:00,
launch day + window_days). Whole days because exports often carry order dates without times; counting the launch
day's hours before the launch applies to every arm alike, so it dilutes the lift slightly and biases nothing.
Revenue is the sum of paid and refunded order amounts in the window (cancelled ignored), per DESIGN's monetary
rule. Analysis is by intention to treat: members count in the arm they were assigned, whether or not they were reached.
Contacted / invited / visited are what the guides recorded (a task's furthest outcome: invited counts visits and
purchases recorded on the task too; visited counts purchases) or a message sent or delivered.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from winback.i18n import N_

#: the response window and each member's paid orders and revenue in it (parameters: campaign id twice)
WINDOW_SQL = """
    WITH c AS (
        SELECT campaign_id, CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS window_start,
               CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS window_end
        FROM campaigns WHERE campaign_id = ?
    ),
    o AS (
        SELECT cm.member_id,
               count(*) FILTER (WHERE o.status = 'paid') AS paid_orders,
               coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
        FROM campaign_members cm
        JOIN c ON c.campaign_id = cm.campaign_id
        JOIN orders o ON o.member_id = cm.member_id AND o.ordered_at >= c.window_start AND o.ordered_at < c.window_end
        WHERE cm.campaign_id = ?
        GROUP BY cm.member_id
    )
"""
#: what the guides and messages did, per member (no parameter: reads `cm`, a campaign_members row)
FLAGS_SQL = """(EXISTS (SELECT 1 FROM touches t WHERE t.campaign_id = cm.campaign_id AND t.member_id = cm.member_id
                    AND t.status IN ('sent', 'delivered'))
            OR EXISTS (SELECT 1 FROM tasks k WHERE k.campaign_id = cm.campaign_id AND k.member_id = cm.member_id
                       AND k.status = 'done'))::INTEGER AS contacted,
           (EXISTS (SELECT 1 FROM tasks k WHERE k.campaign_id = cm.campaign_id AND k.member_id = cm.member_id
                    AND k.outcome IN ('invited', 'visited', 'purchased')))::INTEGER AS invited,
           (EXISTS (SELECT 1 FROM tasks k WHERE k.campaign_id = cm.campaign_id AND k.member_id = cm.member_id
                    AND k.outcome IN ('visited', 'purchased')))::INTEGER AS visited,
           (EXISTS (SELECT 1 FROM coupons p WHERE p.campaign_id = cm.campaign_id AND p.member_id = cm.member_id
                    AND p.redeemed_at IS NOT NULL))::INTEGER AS redeemed,
           coalesce((SELECT sum(p.discount) FROM coupons p WHERE p.campaign_id = cm.campaign_id
                     AND p.member_id = cm.member_id AND p.redeemed_at IS NOT NULL), 0)::DOUBLE AS discount
"""
OUTCOMES_ROWS_SQL = f"""{WINDOW_SQL}
    SELECT cm.member_id, cm.arm, cm.store_id, cm.guide_id, cm.segment,
           (coalesce(o.paid_orders, 0) > 0)::INTEGER AS purchased,
           coalesce(o.revenue, 0.0) AS revenue,
           {FLAGS_SQL}
    FROM campaign_members cm LEFT JOIN o USING (member_id)
    WHERE cm.campaign_id = ?
"""
#: the orders' part of each member's outcome (what a refresh sums: store_report.build_order_sums)
PURCHASE_ROWS_SQL = f"""{WINDOW_SQL}
    SELECT cm.arm, (coalesce(o.paid_orders, 0) > 0)::INTEGER AS purchased, coalesce(o.revenue, 0.0) AS revenue
    FROM campaign_members cm LEFT JOIN o USING (member_id)
    WHERE cm.campaign_id = ?
"""
#: the outreach's part (contacted, invited, visited, redeemed, discount), what FLAGS_SQL says per member, from each
#: table summed per member once (hash joins, not a probe per member): summed live, as it moves all day (parameters:
#: campaign id four times)
OUTREACH_ROWS_SQL = """
    WITH k AS (
        SELECT member_id, bool_or(status = 'done') AS done,
               bool_or(outcome IN ('invited', 'visited', 'purchased')) AS invited,
               bool_or(outcome IN ('visited', 'purchased')) AS visited
        FROM tasks WHERE campaign_id = ? GROUP BY member_id
    ),
    t AS (SELECT DISTINCT member_id FROM touches WHERE campaign_id = ? AND status IN ('sent', 'delivered')),
    p AS (
        SELECT member_id, sum(discount) AS discount FROM coupons
        WHERE campaign_id = ? AND redeemed_at IS NOT NULL GROUP BY member_id
    )
    SELECT cm.arm,
           (t.member_id IS NOT NULL OR coalesce(k.done, false))::INTEGER AS contacted,
           coalesce(k.invited, false)::INTEGER AS invited,
           coalesce(k.visited, false)::INTEGER AS visited,
           (p.member_id IS NOT NULL)::INTEGER AS redeemed,
           coalesce(p.discount, 0)::DOUBLE AS discount
    FROM campaign_members cm
    LEFT JOIN k ON k.member_id = cm.member_id
    LEFT JOIN t ON t.member_id = cm.member_id
    LEFT JOIN p ON p.member_id = cm.member_id
    WHERE cm.campaign_id = ?
"""
OUTCOMES_SQL = OUTCOMES_ROWS_SQL + "    ORDER BY cm.member_id\n"


def response_window(launched_at: dt.datetime, window_days: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the response window: whole local days from the launch day (as OUTCOMES_SQL counts)."""
    start = dt.datetime.combine(launched_at.date(), dt.time())
    return start, start + dt.timedelta(days=int(window_days))


def past_response_rates(
    outcomes: Iterable[tuple[str, list[dict[str, Any]]]], min_n: int = 100
) -> dict[str, dict[str, Any]]:
    """Per segment, measured treated and control purchase rates over (campaign id, member outcomes) of
    campaigns whose window has ended (store_report.finished_outcomes).

    Only segments with at least `min_n` members in both treated arms and control are returned.
    """
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # treated n, x, control n, x
    used: dict[str, set[str]] = defaultdict(set)
    for cid, rows in outcomes:
        for r in rows:
            t = tally[r["segment"]]
            k = 2 if r["arm"] == "control" else 0
            t[k] += 1
            t[k + 1] += r["purchased"]
            used[r["segment"]].add(cid)
    out = {}
    for seg, (nt, xt, nc, xc) in tally.items():
        if nt >= min_n and nc >= min_n:
            out[seg] = {
                "treated": xt / nt,
                "baseline": xc / nc,
                "n_treated": nt,
                "n_control": nc,
                "campaigns": sorted(used[seg]),
            }
    return out


# -- the cost model: what the report counts is what the preview forecasts -------------------------------------

COST_MODEL = N_(
    "arm members × cost per contact (every assigned member, intention to treat; the control is not contacted) "
    "+ coupon discounts (forecast: expected responders × redemption rate × discount per redemption)"
)


def arm_cost(members: float, cost_per_contact: float, discounts: float) -> float:
    """What an arm costs: every member assigned to it at `cost_per_contact`, plus the coupon discounts redeemed in
    it. The report counts it with the realised discounts; the preview forecasts it with `expected_discounts`."""
    return members * cost_per_contact + discounts


def expected_discounts(responders: float, redemption_rate: float, discount_per_redemption: float) -> float:
    """Coupon discounts of an arm: its buyers × the share of buyers who redeem × what one redemption takes off.
    With the realised figures (redeemed / responders, discounts / redeemed) this is the realised discounts."""
    return responders * redemption_rate * discount_per_redemption


def past_redemption_rate(
    outcomes: Iterable[tuple[str, list[dict[str, Any]]]], min_n: int = 30
) -> dict[str, Any] | None:
    """The share of treated buyers who redeemed their coupon, over finished campaigns in which coupons were
    redeemed (a care call without a coupon says nothing about redemption); None below `min_n` treated buyers."""
    buyers = redeemed = 0
    used: list[str] = []
    for cid, rows in outcomes:
        treated = [r for r in rows if r["arm"] != "control" and r["purchased"]]
        got = sum(r["redeemed"] for r in treated)
        if got:
            buyers, redeemed = buyers + len(treated), redeemed + got
            used.append(cid)
    if buyers < min_n:
        return None
    return {"rate": redeemed / buyers, "buyers": buyers, "campaigns": sorted(used)}
