"""The refresh's SQL, generated as text (pure). DuckDB dialect, written to transpile to Spark SQL with sqlglot:
date_diff('day', a, b) for day counts, CAST for types, median() for cohort medians, no QUALIFY, no lambdas.

Pipeline (temporary tables on the engine, prefixed wb_lc_):
1. `wb_lc_base`: ONE pass over orders — a per-member-per-day pre-aggregate (paid orders, net amount per day)
   rolled up per member — joined to members (not merged away, registered before as-of or bought before it).
   Everything after this works on the per-member table only.
2. `wb_lc_prior`: cohort priors for the purchase cycle (median mean interval of repeat buyers per tier × store,
   per tier, overall) — small.
3. sufficient statistics pulled as Arrow (BG/NBD triples, Gamma-Gamma pairs, value counts for quintiles).
4. the final per-member snapshot SELECT (cycle, overdue ratio, model predictions, scores, the `value` and
   `lifecycle` scheme columns) runs on the engine and is inserted into the warehouse's member_snapshot;
5. member_segments is a view over the stored member_snapshot rows and the rules of each run (segments_view.py):
   every predicate column is a member_snapshot column, so segments are the same on every engine and nothing is
   written per member per scheme.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from winback.lifecycle.cycle import CycleSettings, cycle_sql, weight_sql
from winback.lifecycle.quintiles import score_sql
from winback.lifecycle.rules import Scheme

BASE = "wb_lc_base"
PRIOR = "wb_lc_prior"
PRED = "wb_lc_pred"
TEMP_TABLES = (BASE, PRIOR)
STORED_SCHEMES = ("value", "lifecycle")  # schemes whose segment is also a member_snapshot column

# member_snapshot columns written by a refresh, in order (value_layer / lifecycle_stage come from schemes).
SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "as_of",
    "member_id",
    "store_id",
    "guide_id",
    "tier",
    "register_date",
    "register_channel",
    "first_purchase",
    "last_purchase",
    "orders",
    "purchase_days",
    "frequency",
    "monetary",
    "aov",
    "tenure_days",
    "recency_days",
    "first_purchase_days",
    "span_days",
    "cycle_days",
    "cycle_prior_days",
    "cycle_prior_source",
    "cycle_weight",
    "overdue_ratio",
    "p_alive",
    "expected_purchases_90d",
    "expected_value",
    "expected_revenue_90d",
    "clv",
    "clv_flag",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "value_layer",
    "lifecycle_stage",
)


# member_snapshot columns that are VIRTUAL generated columns (migration 006): computed from the row when read, so a
# refresh computes them for the schemes' predicates but does not write them.
GENERATED_COLUMNS = frozenset(
    {"frequency", "aov", "tenure_days", "recency_days", "first_purchase_days", "span_days", "overdue_ratio", "rfm_code"}
)
STORED_SNAPSHOT_COLUMNS: tuple[str, ...] = tuple(c for c in SNAPSHOT_COLUMNS if c not in GENERATED_COLUMNS)


# Member records from these sources that match no ERP member (not merged into one) are contacts, not members
# (issue 9: a guide's WeChat friend is a contact until matched): they are not in the snapshot, so never in
# member totals, shares, stages or tiers. quality.metrics.CONTACT_SOURCES is the same list (a test keeps them so).
CONTACT_SOURCES = ("guide_wechat",)


def member_filter_sql(alias: str = "m") -> str:
    """The members a snapshot is about: not merged away and not a contact."""
    sources = ", ".join(f"'{s}'" for s in CONTACT_SOURCES)
    return f"{alias}.merged_into IS NULL AND coalesce({alias}.source, '') NOT IN ({sources})"


def date_lit(d: dt.date) -> str:
    return f"DATE '{d.isoformat()}'"


def ts_lit(d: dt.date) -> str:
    return f"TIMESTAMP '{d.isoformat()} 00:00:00'"


def last_order_sql() -> str:
    return "SELECT CAST(MAX(ordered_at) AS DATE) AS last_day FROM orders WHERE status IN ('paid', 'refunded')"


def first_order_sql() -> str:
    return "SELECT CAST(MIN(ordered_at) AS DATE) AS d FROM orders WHERE status IN ('paid', 'refunded')"


DAY_WINDOW = 2048  # days per bitstring window of the one-pass (DuckDB) purchase-day count
# Longest history counted with bitmaps: every window costs each member ~40 bytes of state even when unused (plus
# 256 bytes when used), so 2 windows (~11 years) keep 10M members within a few GiB; longer histories use the
# two-level form. One window covers ~5.6 years: every extra window is another aggregate over every order.
MAX_BITMAP_DAYS = 2 * DAY_WINDOW


def first_paid_day_sql(as_of: dt.date) -> str:
    """The first day with a paid order before `as_of` (the origin of the purchase-day bitmaps)."""
    return (
        "SELECT CAST(MIN(ordered_at) AS DATE) AS first_day FROM orders "
        f"WHERE ordered_at < {ts_lit(as_of)} AND member_id IS NOT NULL AND status = 'paid'"
    )


def bitmap_origin_sql(as_of: dt.date) -> str:
    """The day of the first order of any status before `as_of`: on or before every paid day the bitmaps count,
    so a valid origin for them. Filtered on ordered_at alone, DuckDB answers it from the column's statistics
    instead of scanning orders (first_paid_day_sql is a pass over three columns of every order)."""
    return f"SELECT CAST(MIN(ordered_at) AS DATE) AS first_day FROM orders WHERE ordered_at < {ts_lit(as_of)}"


def orders_filter_sql(as_of: dt.date) -> str:
    """The orders a snapshot at `as_of` counts: paid and refunded, of a member, dated before it."""
    return f"ordered_at < {ts_lit(as_of)} AND member_id IS NOT NULL AND status IN ('paid', 'refunded')"


def member_days_sql(as_of: dt.date) -> str:
    """(member_id, day, paid_orders, amount): each member's paid and refunded orders before `as_of` per day."""
    return f"""SELECT member_id, CAST(ordered_at AS DATE) AS day,
           SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS paid_orders,
           SUM(amount) AS amount
    FROM orders
    WHERE {orders_filter_sql(as_of)}
    GROUP BY member_id, CAST(ordered_at AS DATE)"""


#: the facts of a group of member_days_sql rows (first / last paid day, paid orders, paid days, net amount)
DAYS_ROLLUP = """MIN(CASE WHEN paid_orders > 0 THEN day END) AS first_purchase,
       MAX(CASE WHEN paid_orders > 0 THEN day END) AS last_purchase,
       SUM(paid_orders) AS orders,
       SUM(CASE WHEN paid_orders > 0 THEN 1 ELSE 0 END) AS purchase_days,
       SUM(amount) AS monetary"""


def per_member_two_level_sql(as_of: dt.date) -> str:
    """Portable per-member facts: a per-member-per-day pre-aggregate rolled up per member (counts purchase days
    exactly on every engine; ~one group per order, so it costs ≈ 10× a GROUP BY member)."""
    return f"""
WITH member_days AS (
    {member_days_sql(as_of)}
)
SELECT member_id,
       {DAYS_ROLLUP}
FROM member_days
GROUP BY member_id
"""


def per_member_bitmap_sql(as_of: dt.date, first_day: dt.date, window: int = DAY_WINDOW) -> str:
    """DuckDB only: the same per-member facts in ONE GROUP BY member. Purchase days are counted exactly as the set
    bits of a per-member bitmap of paid days (`bitstring_agg` over day numbers since `first_day`, in windows of
    `window` days so a member's state stays small), instead of grouping ~one (member, day) key per order.
    Every paid order becomes its SMALLINT day number (NULL for a refund) once, and every aggregate but the net
    amount reads that one column: first / last purchase are the smallest / largest day number, orders its count
    (no FILTER or CASE per aggregate, 2-byte states instead of timestamps)."""
    span = max((as_of - first_day).days, 1)
    origin = date_lit(first_day)
    windows = []
    for lo in range(0, span, window):
        hi = min(lo + window, span) - 1
        day = "pd" if span <= window else f"CASE WHEN pd BETWEEN {lo} AND {hi} THEN pd END"
        windows.append(f"COALESCE(bit_count(bitstring_agg({day}, CAST({lo} AS SMALLINT), CAST({hi} AS SMALLINT))), 0)")
    return f"""
SELECT member_id,
       CAST({origin} + MIN(pd) AS DATE) AS first_purchase,
       CAST({origin} + MAX(pd) AS DATE) AS last_purchase,
       COUNT(pd) AS orders,
       {" + ".join(windows)} AS purchase_days,
       SUM(amount) AS monetary
FROM (SELECT member_id, amount,
             CASE WHEN status = 'paid' THEN CAST(date_diff('day', {origin}, CAST(ordered_at AS DATE)) AS SMALLINT) END
                 AS pd
      FROM orders WHERE {orders_filter_sql(as_of)}) o
GROUP BY member_id
"""


def base_sql(as_of: dt.date, first_day: dt.date | None = None) -> str:
    """Per-member facts at `as_of` from one pass over orders (orders strictly before as_of), joined to members
    (not merged away, not contacts: `member_filter_sql`).

    With `first_day` (the first paid day, DuckDB only) purchase days come from per-member bitmaps in one GROUP BY
    (when the history is at most MAX_BITMAP_DAYS long); otherwise from the portable per-member-per-day
    pre-aggregate. Both give identical rows."""
    a = date_lit(as_of)
    bitmap = first_day is not None and (as_of - first_day).days <= MAX_BITMAP_DAYS
    per_member = (
        per_member_bitmap_sql(as_of, first_day) if bitmap and first_day is not None else per_member_two_level_sql(as_of)
    )
    return f"""
WITH per_member AS ({per_member})
SELECT m.member_id, m.store_id, m.guide_id, m.tier, m.register_date, m.register_channel,
       COALESCE(m.tier, '') AS tier_key, COALESCE(m.store_id, '') AS store_key,
       p.first_purchase, p.last_purchase,
       CAST(COALESCE(p.orders, 0) AS INTEGER) AS orders,
       CAST(COALESCE(p.purchase_days, 0) AS INTEGER) AS purchase_days,
       CAST(COALESCE(p.monetary, 0) AS DECIMAL(18, 2)) AS monetary,
       CAST(date_diff('day', p.last_purchase, {a}) AS INTEGER) AS recency_days,
       CAST(date_diff('day', p.first_purchase, {a}) AS INTEGER) AS first_purchase_days,
       CAST(date_diff('day', p.first_purchase, p.last_purchase) AS INTEGER) AS span_days,
       CAST(CASE
           WHEN m.register_date IS NULL AND p.first_purchase IS NULL THEN NULL
           WHEN m.register_date IS NULL THEN date_diff('day', p.first_purchase, {a})
           WHEN p.first_purchase IS NULL OR m.register_date <= p.first_purchase
               THEN date_diff('day', m.register_date, {a})
           ELSE date_diff('day', p.first_purchase, {a})
       END AS INTEGER) AS tenure_days
FROM members m
LEFT JOIN per_member p ON p.member_id = m.member_id
WHERE {member_filter_sql("m")}
  AND (m.register_date IS NULL OR m.register_date < {a} OR p.member_id IS NOT NULL)
"""


def prior_sql(cycle: CycleSettings) -> str:
    """One row per (tier_key, store_key) present in the base: the cycle prior and where it came from."""
    mean_interval = "CAST(span_days AS DOUBLE) / CAST(purchase_days - 1 AS DOUBLE)"
    n = int(cycle.min_cohort)
    return f"""
WITH keys AS (SELECT DISTINCT tier_key, store_key FROM {BASE}),
cohort AS (
    SELECT tier_key, store_key, MEDIAN({mean_interval}) AS med, COUNT(*) AS n
    FROM {BASE} WHERE purchase_days >= 2 GROUP BY tier_key, store_key
),
tier AS (
    SELECT tier_key, MEDIAN({mean_interval}) AS med, COUNT(*) AS n
    FROM {BASE} WHERE purchase_days >= 2 GROUP BY tier_key
),
overall AS (
    SELECT MEDIAN({mean_interval}) AS med, COUNT(*) AS n FROM {BASE} WHERE purchase_days >= 2
)
SELECT k.tier_key, k.store_key,
       CASE WHEN c.n >= {n} THEN c.med WHEN t.n >= {n} THEN t.med WHEN o.n >= 1 THEN o.med
            ELSE {float(cycle.default_days)!r} END AS prior_days,
       CASE WHEN c.n >= {n} THEN 'cohort' WHEN t.n >= {n} THEN 'tier' WHEN o.n >= 1 THEN 'all'
            ELSE 'default' END AS prior_source
FROM keys k
LEFT JOIN cohort c ON c.tier_key = k.tier_key AND c.store_key = k.store_key
LEFT JOIN tier t ON t.tier_key = k.tier_key
CROSS JOIN overall o
"""


def model_t_x(prefix: str = "") -> str:
    """t_x of the purchase model in exact days: days from the first to the last purchase day."""
    return f"{prefix}span_days"


def model_big_t(prefix: str = "") -> str:
    """T of the purchase model in exact days: days from the first purchase day to the last day observed (the day
    before as-of; orders on as-of itself are not counted). This is the convention of Fader, Hardie & Lee (2005) and
    of `lifetimes` (T = observation end − first purchase), so a member who bought only yesterday has T = 0."""
    return f"({prefix}first_purchase_days - 1)"


def triples_sql(source: str = BASE) -> str:
    """Purchase-model sufficient statistics: unique (x, t_x, T) as exact whole-day counts, with member counts,
    sorted (the fitter then skips its own lexicographic sort: half the fit time at 10M members). Nothing is
    floored. `source`: rows with BASE's columns (BASE itself, or a subquery over the stored facts)."""
    t_x, big_t = model_t_x(), model_big_t()
    return f"""
SELECT CAST(purchase_days - 1 AS INTEGER) AS x, CAST({t_x} AS INTEGER) AS t_x, CAST({big_t} AS INTEGER) AS T,
       COUNT(*) AS n
FROM {source} WHERE purchase_days >= 1
GROUP BY CAST(purchase_days - 1 AS INTEGER), CAST({t_x} AS INTEGER), CAST({big_t} AS INTEGER)
ORDER BY x, t_x, T
"""


# value per purchase day: the purchase model counts purchase days, so the value model is fitted per purchase day
# too (one unit: expected revenue = expected purchase days × expected value per purchase day)
VALUE_PER_DAY = "CAST(monetary AS DOUBLE) / CAST(purchase_days AS DOUBLE)"


def gamma_pairs_sql() -> str:
    """Gamma-Gamma sufficient statistics: unique (n = purchase days, m = mean value per purchase day rounded to
    1 yuan) of repeat buyers (n >= 2) with a positive mean, with member counts."""
    m = f"CAST(ROUND({VALUE_PER_DAY}, 0) AS DOUBLE)"
    return f"""
SELECT CAST(purchase_days AS INTEGER) AS x, {m} AS m, COUNT(*) AS n
FROM {BASE} WHERE purchase_days >= 2 AND monetary > 0
GROUP BY CAST(purchase_days AS INTEGER), {m}
HAVING {m} > 0
"""


def value_counts_at_sql(source: str) -> str:
    """(k, v, n) for k in r / f / m: the value counts (value, members) over purchasers, the quintile breakpoints'
    distributions, of RECENCY_VALUE, FREQUENCY_VALUE and MONETARY_VALUE in ONE pass over `source` (rows with BASE's
    columns: BASE itself, or e.g. facts_sql.stats_base_sql over the stored facts), so that no per-member table
    needs to be made for them."""
    return f"""
SELECT CASE GROUPING(r, f, m) WHEN 3 THEN 'r' WHEN 5 THEN 'f' ELSE 'm' END AS k,
       CAST(COALESCE(r, f, m) AS DOUBLE) AS v, COUNT(*) AS n
FROM (SELECT {RECENCY_VALUE} AS r, {FREQUENCY_VALUE} AS f, {MONETARY_VALUE} AS m FROM {source} WHERE purchase_days >= 1)
GROUP BY GROUPING SETS ((r), (f), (m))
"""


RECENCY_VALUE = "recency_days"
FREQUENCY_VALUE = "orders"
MONETARY_VALUE = "CAST(FLOOR(CAST(monetary AS DOUBLE)) AS DOUBLE)"


def _pred_sql(pred: str, with_predictions: bool, alive: dict[str, Any] | None, joined: bool = True) -> tuple[str, str]:
    """(the prediction columns, the join) of the snapshot SELECT. `pred` has one row per (x, t_x, T) with
    p_alive, exp_90 and exp_365, or, with `alive` (modelling.alive_params), one row per (x, T) with the
    expectations if alive (if_90, if_365), P(alive) then computed per member in SQL (modelling.p_alive_sql).
    Not `joined` (with `alive`; the segment counts of a refresh when no rule reads an expectation): P(alive) from
    the member's own (x, T) without the join, the expectations NULL. The same P(alive): the table a refresh
    writes has a row for the (x, T) of every member who bought (modelling._predict, carried_predictions)."""
    if alive is not None and with_predictions and not joined:
        from winback.lifecycle.modelling import p_alive_sql

        x = "(b.purchase_days - 1)"
        p = f"CASE WHEN b.purchase_days >= 1 THEN {p_alive_sql(alive, x, model_t_x('b.'), model_big_t('b.'))} END"
        none = "CAST(NULL AS DOUBLE)"
        return f"{p} AS p_alive, {none} AS expected_purchases_90d, {none} AS exp_365", ""
    if not with_predictions:
        return (
            "CAST(NULL AS DOUBLE) AS p_alive, CAST(NULL AS DOUBLE) AS expected_purchases_90d, "
            "CAST(NULL AS DOUBLE) AS exp_365",
            "",
        )
    on = f"pr.x = b.purchase_days - 1 AND pr.T = {model_big_t('b.')}"
    if alive is None:
        return (
            "pr.p_alive AS p_alive, pr.exp_90 AS expected_purchases_90d, pr.exp_365 AS exp_365",
            f"LEFT JOIN {pred} pr ON {on} AND pr.t_x = {model_t_x('b.')}",
        )
    from winback.lifecycle.modelling import p_alive_sql

    p = f"CASE WHEN pr.x IS NOT NULL THEN {p_alive_sql(alive, 'pr.x', model_t_x('b.'), 'pr.T')} END"
    cols = f"{p} AS p_alive, pr.if_90 * ({p}) AS expected_purchases_90d, pr.if_365 * ({p}) AS exp_365"
    return cols, f"LEFT JOIN {pred} pr ON {on}"


def snapshot_sql(
    as_of: dt.date,
    schemes: Sequence[Scheme],
    cycle: CycleSettings,
    *,
    breaks: dict[str, list[float]],
    with_predictions: bool,
    expected_value_expr: str | None,
    clv_flag: str | None = None,
    base: str = BASE,
    prior: str = PRIOR,
    pred: str = PRED,
    alive: dict[str, Any] | None = None,
    joined: bool = True,
) -> str:
    """The final per-member SELECT with every snapshot column and one seg_<scheme> column per given scheme.
    `expected_value_expr` is SQL over `i.purchase_days` and `i.value_per_day` (modelling.expected_value_sql);
    without it a member's expected value per purchase day is their own mean (flagged). `clv_flag` (fixed words
    from modelling) marks every member's expected_revenue_90d and clv when the models were rough or missing.
    Never-purchased members get no scores; value is in one unit (expected purchase days × value per purchase
    day). `base`, `prior`, `pred`: temp tables, or subqueries over stored ones (snapshot_view.py); `joined`: see
    `_pred_sql`."""
    pred_cols, pred_join = _pred_sql(pred, with_predictions, alive, joined)
    ev = expected_value_expr or "GREATEST(i.value_per_day, 0.0)"
    flag = f"'{clv_flag}'" if clv_flag else "CAST(NULL AS VARCHAR)"
    if clv_flag and not all(part.replace("_", "").isalnum() for part in clv_flag.split(",")):
        raise ValueError(f"clv_flag must be words joined by commas, got {clv_flag!r}")
    cyc = cycle_sql("b.purchase_days", "b.span_days", "pr0.prior_days", cycle.k)
    inner = f"""
SELECT {date_lit(as_of)} AS as_of, b.member_id, b.store_id, b.guide_id, b.tier, b.register_date, b.register_channel,
       b.first_purchase, b.last_purchase, b.orders, b.purchase_days,
       CASE WHEN b.purchase_days >= 1 THEN b.purchase_days - 1 END AS frequency,
       b.monetary,
       CASE WHEN b.orders > 0 THEN CAST(b.monetary AS DOUBLE) / CAST(b.orders AS DOUBLE) END AS aov,
       CASE WHEN b.purchase_days > 0 THEN CAST(b.monetary AS DOUBLE) / CAST(b.purchase_days AS DOUBLE) END
           AS value_per_day,
       b.tenure_days, b.recency_days, b.first_purchase_days, b.span_days,
       {cyc} AS cycle_days,
       pr0.prior_days AS cycle_prior_days, pr0.prior_source AS cycle_prior_source,
       {weight_sql("b.purchase_days", cycle.k)} AS cycle_weight,
       CASE WHEN b.purchase_days >= 1 THEN CAST(b.recency_days AS DOUBLE) / ({cyc}) END AS overdue_ratio,
       {pred_cols},
       {score_sql("b.recency_days", breaks.get("r", []), higher_is_better=False)} AS r_score,
       {score_sql("b.orders", breaks.get("f", []))} AS f_score_raw,
       {score_sql("FLOOR(CAST(b.monetary AS DOUBLE))", breaks.get("m", []))} AS m_score_raw
FROM {base} b
JOIN {prior} pr0 ON pr0.tier_key = b.tier_key AND pr0.store_key = b.store_key
{pred_join}
"""
    mid = f"""
SELECT i.*, CASE WHEN i.purchase_days >= 1 THEN i.f_score_raw END AS f_score,
       CASE WHEN i.purchase_days >= 1 THEN i.m_score_raw END AS m_score,
       CASE WHEN i.purchase_days >= 1 THEN {ev} END
           AS expected_value
FROM ({inner}) i
"""
    valued = f"""
SELECT v.*,
       CASE WHEN v.expected_value IS NOT NULL AND v.expected_purchases_90d IS NOT NULL
            THEN v.expected_purchases_90d * v.expected_value END AS expected_revenue_90d,
       CASE WHEN v.expected_value IS NOT NULL AND v.exp_365 IS NOT NULL THEN v.exp_365 * v.expected_value END AS clv,
       CASE WHEN v.r_score IS NOT NULL
            THEN CAST(v.r_score AS VARCHAR) || CAST(v.f_score AS VARCHAR) || CAST(v.m_score AS VARCHAR) END
           AS rfm_code
FROM ({mid}) v
"""
    seg_cols = "".join(f",\n       {s.case_sql()} AS seg_{s.name}" for s in schemes)
    return f"""
SELECT s.*, CASE WHEN s.clv IS NOT NULL THEN {flag} END AS clv_flag{seg_cols}
FROM ({valued}) s
"""


def insert_snapshot_sql(snapshot_select: str, scheme_names: Sequence[str]) -> str:
    """The snapshot SELECT's stored columns in member_snapshot order (value_layer / lifecycle_stage from their
    schemes; generated columns are left to the table)."""
    cols = []
    for c in STORED_SNAPSHOT_COLUMNS:
        if c == "value_layer":
            cols.append("seg_value" if "value" in scheme_names else "CAST(NULL AS VARCHAR)")
        elif c == "lifecycle_stage":
            cols.append("seg_lifecycle" if "lifecycle" in scheme_names else "CAST(NULL AS VARCHAR)")
        else:
            cols.append(c)
    return f"SELECT {', '.join(cols)} FROM ({snapshot_select}) AS snap"


def segment_counts_sql(as_of: dt.date) -> str:
    return (
        "SELECT scheme, segment, COUNT(*) AS n FROM member_segments "
        f"WHERE as_of = {date_lit(as_of)} GROUP BY scheme, segment"
    )
