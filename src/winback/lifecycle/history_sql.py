"""`refresh --history`: every member's facts at every history date from ONE pass over the orders (pure SQL text).

An order dated t first counts at the first history date after t (a snapshot at D counts orders strictly before D),
so each (member, paid or refunded order) falls in exactly one *bucket*: that date. One GROUP BY (member, bucket)
over the orders and every member's registration row (the bucket of their registration, zero totals) gives the
bucket's own totals (first / last paid day, paid orders, paid days, net amount: the days of a bucket are its own,
so purchase days add up exactly; on DuckDB they are the set bits of a per-bucket bitmap of paid days, elsewhere
a GROUP BY (member, day) comes first and its days are counted), and running aggregates over each
member's buckets in date order give the member's facts at every date where they changed. Those are exactly the
member_facts versions (facts_sql.py): a row opens at a date where the member's facts changed and stays valid
until the next such date; a member's first row opens at the first date they belong in a snapshot (registered
before it, or an order before it; always, without a registration date). Profile columns come from the members
table as it is now, as a full refresh at a past date takes them. A member with no order in a bucket keeps their
row: nothing is copied per date. The result equals facts_sql.facts_sql at every date
(tests/lifecycle/test_history.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from winback.lifecycle.facts_sql import FACT_COLUMNS, PROFILE_COLUMNS
from winback.lifecycle.snapshot_sql import (
    DAYS_ROLLUP,
    date_lit,
    member_days_sql,
    member_filter_sql,
    orders_filter_sql,
)

HISTORY_COLUMNS = ("member_id", "valid_from", "valid_to", *FACT_COLUMNS[1:])


def bucket_sql(expr: str, dates: Sequence[dt.date], lit: Callable[[dt.date], str] = date_lit) -> str:
    """The first of the sorted `dates` strictly after `expr` (NULL when none is): a binary search of nested CASEs,
    ~log2(len(dates)) comparisons per row."""

    def search(lo: int, hi: int) -> str:  # the answer is in dates[lo:hi] and expr < dates[hi - 1]
        if hi - lo == 1:
            return date_lit(dates[lo])
        mid = (lo + hi - 1) // 2
        return f"CASE WHEN {expr} < {lit(dates[mid])} THEN {search(lo, mid + 1)} ELSE {search(mid + 1, hi)} END"

    if not dates:
        raise ValueError("bucket_sql needs at least one date")
    return f"CASE WHEN {expr} < {lit(dates[-1])} THEN {search(0, len(dates))} END"


#: longest gap in days between two history dates (or from the first order to the first date) whose purchase days
#: a BIGINT bitmap counts: day offsets 0..62 within a bucket (a monthly history's gaps are at most 31)
BITMAP_GAP = 63


def bitmap_fits(dates: Sequence[dt.date], first_day: dt.date | None) -> bool:
    """Whether every bucket of the sorted `dates` spans at most BITMAP_GAP days, counting the first from
    `first_day` (on or before every order counted; None: no order, nothing to count)."""
    dates = sorted(dates)
    starts = [first_day if first_day is not None and first_day < dates[0] else dates[0], *dates[:-1]]
    return all((d - s).days <= BITMAP_GAP for s, d in zip(starts, dates, strict=True))


def _changes_two_level_sql(dates: Sequence[dt.date]) -> str:
    """Per (member, bucket): the bucket's own totals from the per-member-day pre-aggregate (portable)."""
    return f"""events AS (
    SELECT member_id, day, {bucket_sql("day", dates)} AS d, paid_orders, amount
    FROM ({member_days_sql(dates[-1])}) member_days
    UNION ALL
    SELECT member_id, CAST(NULL AS DATE), reg_start, 0, 0 FROM m WHERE reg_start IS NOT NULL
),
changes AS (
    SELECT member_id, d,
           {DAYS_ROLLUP}
    FROM events
    GROUP BY member_id, d
)"""


def _changes_bitmap_sql(dates: Sequence[dt.date]) -> str:
    """The same per (member, bucket) totals in ONE GROUP BY over the orders (DuckDB; `bitmap_fits`): a bucket's
    purchase days are the set bits of a BIGINT of its paid days (bit = days before the bucket's date - 1), instead
    of a GROUP BY (member, day) first."""
    paid = "status = 'paid'"
    return f"""orders_in AS (
    SELECT member_id, CAST(ordered_at AS DATE) AS day, {paid} AS paid, amount
    FROM orders
    WHERE {orders_filter_sql(dates[-1])}
),
events AS (
    SELECT member_id, d, CASE WHEN paid THEN day END AS pday,
           CASE WHEN paid THEN CAST(1 AS BIGINT) << CAST(date_diff('day', day, d) - 1 AS BIGINT) END AS bit,
           CASE WHEN paid THEN 1 ELSE 0 END AS paid_orders, amount
    FROM (SELECT *, {bucket_sql("day", dates)} AS d FROM orders_in) b
    UNION ALL
    SELECT member_id, reg_start, CAST(NULL AS DATE), CAST(NULL AS BIGINT), 0, 0 FROM m WHERE reg_start IS NOT NULL
),
changes AS (
    SELECT member_id, d, MIN(pday) AS first_purchase, MAX(pday) AS last_purchase, SUM(paid_orders) AS orders,
           COALESCE(bit_count(bit_or(bit)), 0) AS purchase_days, SUM(amount) AS monetary
    FROM events
    GROUP BY member_id, d
)"""


def history_facts_sql(dates: Sequence[dt.date], bitmap: bool = False) -> str:
    """member_facts rows (HISTORY_COLUMNS) for the sorted snapshot `dates`: per member a row at every date their
    facts changed, valid until the next one (NULL after the last). `bitmap`: count a bucket's purchase days with
    a bitmap in one GROUP BY (DuckDB, when `bitmap_fits`), else from the per-member-day pre-aggregate."""
    dates = sorted(dates)
    reg = f"CASE WHEN m.register_date IS NULL THEN {date_lit(dates[0])} ELSE {bucket_sql('m.register_date', dates)} END"
    profile = ", ".join(f"m.{c}" for c in PROFILE_COLUMNS)
    changes = _changes_bitmap_sql(dates) if bitmap else _changes_two_level_sql(dates)
    return f"""
WITH m AS (
    SELECT m.member_id, {profile}, {reg} AS reg_start
    FROM members m
    WHERE {member_filter_sql("m")}
),
{changes},
running AS (
    SELECT member_id, d AS valid_from,
           LEAD(d) OVER (PARTITION BY member_id ORDER BY d) AS valid_to,
           MIN(first_purchase) OVER w AS first_purchase,
           MAX(last_purchase) OVER w AS last_purchase,
           SUM(orders) OVER w AS orders,
           SUM(purchase_days) OVER w AS purchase_days,
           SUM(monetary) OVER w AS monetary
    FROM changes
    WINDOW w AS (PARTITION BY member_id ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT r.member_id, r.valid_from, r.valid_to, {profile},
       r.first_purchase, r.last_purchase,
       CAST(r.orders AS INTEGER) AS orders,
       CAST(r.purchase_days AS INTEGER) AS purchase_days,
       CAST(COALESCE(r.monetary, 0) AS DECIMAL(18, 2)) AS monetary
FROM running r
JOIN m ON m.member_id = r.member_id
"""


# -- each date's statistics (runs on the warehouse, after the facts are written) -----------------------------------
KEYS = "wb_lc_hist_keys"  # every (tier_key, store_key) of the history's facts, with an integer id for each
ROWS = "wb_lc_hist_rows"  # member_facts as integers (day numbers, cohort ids): what every date's BASE reads
PRIOR_IDS = "wb_lc_hist_prior_ids"  # a date's cohort priors over the ids, before their names are put back
ROW_TABLES = (KEYS, ROWS, PRIOR_IDS)
EPOCH = dt.date(1970, 1, 1)
OPEN_DAY = 2147483647  # valid_to of a current row (NULL in member_facts)


def _day_number(expr: str) -> str:
    return f"CAST(date_diff('day', {date_lit(EPOCH)}, {expr}) AS INTEGER)"


def keys_sql() -> str:
    """KEYS: the cohort keys of BASE (facts_sql.stats_base_sql: '' for NULL) with integer ids, one per tier and one
    per store, so that a (tier id, store id) is a (tier_key, store_key) and a tier id a tier_key."""
    return """
SELECT tier_key, store_key,
       CAST(dense_rank() OVER (ORDER BY tier_key) AS INTEGER) AS tier_id,
       CAST(dense_rank() OVER (ORDER BY store_key) AS INTEGER) AS store_id
FROM (SELECT DISTINCT COALESCE(tier, '') AS tier_key, COALESCE(store_id, '') AS store_key FROM member_facts) k
"""


def rows_sql() -> str:
    """ROWS: every member_facts row with what a date's BASE needs, as integers: validity and purchase days as day
    numbers (a current row valid to OPEN_DAY), the cohort as KEYS' ids; no member id and no string."""
    return f"""
SELECT {_day_number("f.valid_from")} AS valid_from, COALESCE({_day_number("f.valid_to")}, {OPEN_DAY}) AS valid_to,
       k.tier_id, k.store_id,
       {_day_number("f.first_purchase")} AS first_day, {_day_number("f.last_purchase")} AS last_day,
       f.orders, f.purchase_days, f.monetary
FROM member_facts f
JOIN {KEYS} k ON k.tier_key = COALESCE(f.tier, '') AND k.store_key = COALESCE(f.store_id, '')
"""


def base_at_sql(as_of: dt.date) -> str:
    """BASE at `as_of` from ROWS: facts_sql.stats_base_sql's columns and values, but tier_key / store_key are the
    integer ids (the cohort priors group by them; named_prior_sql puts the names back)."""
    d = (as_of - EPOCH).days
    return f"""
SELECT tier_id AS tier_key, store_id AS store_key, orders, purchase_days, monetary,
       {d} - last_day AS recency_days, {d} - first_day AS first_purchase_days, last_day - first_day AS span_days
FROM {ROWS}
WHERE valid_from <= {d} AND valid_to > {d}
"""


def named_prior_sql() -> str:
    """PRIOR's rows from PRIOR_IDS (snapshot_sql.prior_sql over a BASE of base_at_sql), with the keys' names."""
    return f"""
SELECT k.tier_key, k.store_key, p.prior_days, p.prior_source
FROM {PRIOR_IDS} p
JOIN {KEYS} k ON k.tier_id = p.tier_key AND k.store_id = p.store_key
"""
