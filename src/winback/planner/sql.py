"""The planner's SQL, as text (pure). DuckDB dialect; parameters are bound by the store (`?`).

Members of a period are the members of the lifecycle snapshot at the period's start (registered before it, not
merged away, not a guide-WeChat contact), in the stage the `lifecycle` scheme gave them at that date and their
tier at that date: where the brand's tiers are rules over lifetime net spend (`min_spend` in rules/tiers.toml), the
tier its spend up to the snapshot earns (`tier_expr`; the members table only keeps today's tier, so a past
snapshot's stored tier would already know the spend that followed), else the stored tier. The texts with `{tier}`
are formatted with that expression (`tiered`). A repurchaser bought (a paid order) in [start, end); revenue is the
net amount of paid and refunded orders in the period (DESIGN's monetary rule).
"""

from __future__ import annotations

from collections.abc import Sequence

#: '' stands for a member without a tier (the planner shows it as its own, lowest tier)
NO_TIER = ""


def tier_expr(rules: Sequence[tuple[str, float]], alias: str = "") -> str:
    """The SQL of a snapshot row's tier: by `rules` ((tier, lifetime net spend it starts at), lowest first) on the
    snapshot's `monetary` when there are rules, else the stored tier ('' for none)."""
    if not rules:
        return f"coalesce({alias}tier, '{NO_TIER}')"
    quoted = [(str(t).replace("'", "''"), float(v)) for t, v in rules]
    arms = " ".join(f"WHEN coalesce({alias}monetary, 0) >= {v!r} THEN '{t}'" for t, v in reversed(quoted[1:]))
    return f"(CASE {arms} ELSE '{quoted[0][0]}' END)"


def tiered(text: str, tier: str) -> str:
    """A text of this module with its `{tier}` placeholders set to a tier expression."""
    return text.replace("{tier}", tier)


_PERIOD_ORDERS = """
    o AS (
        SELECT member_id,
               count(*) FILTER (WHERE status = 'paid') AS paid,
               coalesce(sum(amount) FILTER (WHERE status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
        FROM orders
        WHERE member_id IS NOT NULL AND ordered_at >= CAST(? AS TIMESTAMP) AND ordered_at < CAST(? AS TIMESTAMP)
          AND status IN ('paid', 'refunded')
        GROUP BY member_id
    )"""

# params: snapshot date, period start, period end
CELL_FACTS = f"""
WITH s AS (
    SELECT member_id, coalesce(lifecycle_stage, 'potential') AS stage, {{tier}} AS tier
    FROM member_snapshot WHERE as_of = ?
),{_PERIOD_ORDERS}
SELECT s.stage, s.tier, count(*) AS members,
       count(*) FILTER (WHERE coalesce(o.paid, 0) > 0) AS repurchasers,
       coalesce(sum(o.revenue) FILTER (WHERE coalesce(o.paid, 0) > 0), 0)::DOUBLE AS revenue,
       coalesce(sum(o.revenue * o.revenue) FILTER (WHERE coalesce(o.paid, 0) > 0), 0)::DOUBLE AS revenue_sq,
       coalesce(sum(o.revenue) FILTER (WHERE coalesce(o.paid, 0) = 0), 0)::DOUBLE AS refunds_only
FROM s LEFT JOIN o USING (member_id)
GROUP BY s.stage, s.tier
ORDER BY s.stage, s.tier
"""

# params: snapshot date. One row per member who has bought: the purchase model's (x, t_x, T) in days and the
# Gamma-Gamma expected value per purchase day.
MODEL_INPUTS = """
SELECT coalesce(lifecycle_stage, 'potential') AS stage, {tier} AS tier,
       CAST(purchase_days - 1 AS DOUBLE) AS x, CAST(span_days AS DOUBLE) AS t_x,
       CAST(first_purchase_days - 1 AS DOUBLE) AS big_t, coalesce(expected_value, aov, 0)::DOUBLE AS value
FROM member_snapshot
WHERE as_of = ? AND purchase_days > 0
"""

MODEL_FIT = "SELECT params FROM model_fits WHERE as_of = ? AND model = ?"
PURCHASE_MODEL_OF_RUN = (
    "SELECT model FROM model_fits WHERE as_of = ? AND model IN ('mbg_nbd', 'bg_nbd') ORDER BY model DESC LIMIT 1"
)
SNAPSHOT_DATES = "SELECT DISTINCT as_of FROM snapshot_runs ORDER BY as_of"
LAST_ORDER_DAY = "SELECT CAST(max(ordered_at) AS DATE) FROM orders WHERE status IN ('paid', 'refunded')"
TIER_SPEND = """
SELECT {tier} AS tier, avg(monetary)::DOUBLE AS spend, count(*) AS members
FROM member_snapshot WHERE as_of = ? GROUP BY 1
"""
# shopping guides still employed (the role as exported: 'guide' or 导购)
GUIDES = "SELECT count(*) FROM staff WHERE coalesce(role, 'guide') IN ('guide', '导购') AND left_at IS NULL"

# Measured campaigns: per scenario, lifecycle stage (at the campaign's snapshot) and arm kind, the members, the
# responders and the revenue in the response window (as campaigns/outcomes.py counts them). Params: now.
CAMPAIGN_EFFECTS = """
WITH c AS (
    SELECT campaign_id, scenario, as_of,
           CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS w0,
           CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS w1
    FROM campaigns
    WHERE launched_at IS NOT NULL
      AND CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) <= CAST(? AS TIMESTAMP)
),
m AS (
    SELECT cm.campaign_id, c.scenario, cm.member_id, (cm.arm = 'control') AS is_control,
           coalesce(s.lifecycle_stage, 'potential') AS stage, c.w0, c.w1
    FROM campaign_members cm JOIN c USING (campaign_id)
    LEFT JOIN member_snapshot s ON s.as_of = c.as_of AND s.member_id = cm.member_id
),
r AS (
    SELECT m.campaign_id, m.member_id,
           count(*) FILTER (WHERE o.status = 'paid') AS paid,
           coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue
    FROM m JOIN orders o ON o.member_id = m.member_id AND o.ordered_at >= m.w0 AND o.ordered_at < m.w1
    GROUP BY m.campaign_id, m.member_id
)
SELECT m.scenario, m.stage, m.is_control, count(*) AS n,
       count(*) FILTER (WHERE coalesce(r.paid, 0) > 0) AS responders,
       coalesce(sum(r.revenue), 0)::DOUBLE AS revenue,
       coalesce(sum(r.revenue * r.revenue), 0)::DOUBLE AS revenue_sq,
       string_agg(DISTINCT m.campaign_id, ',' ORDER BY m.campaign_id) AS campaigns
FROM m LEFT JOIN r USING (campaign_id, member_id)
GROUP BY m.scenario, m.stage, m.is_control
ORDER BY 1, 2, 3
"""

INSERT_PLAN = """
INSERT INTO planner_plans (plan_id, created_at, period_start, period_end, as_of, target_revenue, body)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
PLAN_BODY = "SELECT body FROM planner_plans WHERE plan_id = ?"
PLAN_IDS = "SELECT plan_id FROM planner_plans ORDER BY created_at DESC, plan_id DESC"
PLAN_COUNT = "SELECT count(*) FROM planner_plans"
INSERT_SOLUTION = """
INSERT INTO planner_solutions (plan_id, solved_at, mode, budget, body) VALUES (?, ?, ?, ?, ?)
"""
LATEST_SOLUTION = "SELECT body FROM planner_solutions WHERE plan_id = ? ORDER BY solved_at DESC LIMIT 1"
# params: period start, end. Revenue of every member in the period (the existing ones and those who joined in it).
MEMBER_REVENUE = """
SELECT coalesce(sum(amount), 0)::DOUBLE FROM orders
WHERE member_id IS NOT NULL AND status IN ('paid', 'refunded')
  AND ordered_at >= CAST(? AS TIMESTAMP) AND ordered_at < CAST(? AS TIMESTAMP)
"""
FIRST_ORDER_DAY = "SELECT CAST(min(ordered_at) AS DATE) FROM orders WHERE status IN ('paid', 'refunded')"
RUN_RULES = "SELECT rules FROM snapshot_runs WHERE as_of = ?"

# params: snapshot date. Per cell, the members each channel may reach: not opted out and, for SMS, a valid mobile
# with SMS consent; WeCom, a WeChat id with WeChat consent; e-mail, an address with e-mail consent; a guide task,
# a valid phone with call or SMS consent (quality's "contactable") or WeChat as above. Unknown consent is no consent.
REACH = """
SELECT coalesce(s.lifecycle_stage, 'potential') AS stage, {tier} AS tier, count(*) AS members,
       count(*) FILTER (WHERE m.opted_out_at IS NULL AND m.phone_status = 'mobile' AND m.consent_sms IS TRUE) AS sms,
       count(*) FILTER (WHERE m.opted_out_at IS NULL AND m.wechat_id IS NOT NULL AND m.consent_wechat IS TRUE) AS wecom,
       count(*) FILTER (WHERE m.opted_out_at IS NULL AND m.email IS NOT NULL AND m.consent_email IS TRUE) AS email,
       count(*) FILTER (WHERE m.opted_out_at IS NULL AND (
           (m.phone_status IN ('mobile', 'landline') AND (m.consent_call IS TRUE OR m.consent_sms IS TRUE))
           OR (m.wechat_id IS NOT NULL AND m.consent_wechat IS TRUE))) AS guide_task
FROM member_snapshot s JOIN members m USING (member_id)
WHERE s.as_of = ?
GROUP BY 1, 2
"""
# params: limit. The plans, newest first, with the figures a list shows and their latest solution's outcome.
PLAN_LIST = """
SELECT p.plan_id, p.created_at, p.period_start, p.period_end, p.as_of, p.target_revenue,
       CAST(p.body ->> '$.existing_target' AS DOUBLE) AS existing_target,
       CAST(p.body -> '$.status_quo' -> '$.revenue' ->> '$.value' AS DOUBLE) AS status_quo_revenue,
       CAST(p.body ->> '$.gap' AS DOUBLE) AS gap,
       s.solved_at, s.body ->> '$.status' AS solution_status,
       CAST(s.body ->> '$.probability_of_target' AS DOUBLE) AS probability_of_target
FROM planner_plans p
LEFT JOIN (SELECT plan_id, solved_at, body,
                  row_number() OVER (PARTITION BY plan_id ORDER BY solved_at DESC) AS k
           FROM planner_solutions) s ON s.plan_id = p.plan_id AND s.k = 1
ORDER BY p.created_at DESC, p.plan_id DESC
LIMIT ?
"""
# params: snapshot date (twice), period start, end. Members of the snapshot who never bought, by stage × tier and by
# how recently they registered (`recent`: within NEVER_BOUGHT_RECENT_DAYS before the snapshot): members, first
# purchases in [start, end) and their revenue. A new registrant's first purchase comes in his first weeks or
# rarely at all, so the rate of the never-bought depends on how many registered just before the period.
NEVER_BOUGHT_RECENT_DAYS = 30
NEVER_BOUGHT = f"""
WITH s AS (
    SELECT member_id, coalesce(lifecycle_stage, 'potential') AS stage, {{tier}} AS tier,
           coalesce(register_date >= CAST(? AS DATE) - INTERVAL {NEVER_BOUGHT_RECENT_DAYS} DAY, FALSE) AS recent
    FROM member_snapshot WHERE as_of = ? AND coalesce(purchase_days, 0) = 0
),{_PERIOD_ORDERS}
SELECT s.stage, s.tier, s.recent, count(*) AS members,
       count(*) FILTER (WHERE coalesce(o.paid, 0) > 0) AS buyers,
       coalesce(sum(o.revenue) FILTER (WHERE coalesce(o.paid, 0) > 0), 0)::DOUBLE AS revenue
FROM s LEFT JOIN o USING (member_id)
GROUP BY s.stage, s.tier, s.recent
ORDER BY 1, 2, 3
"""
