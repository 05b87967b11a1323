"""`refresh --history`: every member's facts at every history date from ONE pass over the orders (pure SQL text).

An order dated t first counts at the first history date after t (a snapshot at D counts orders strictly before D),
so each (member, paid or refunded order) falls in exactly one *bucket*: that date. A GROUP BY (member, day), then
one GROUP BY (member, bucket) over those days and every member's registration row (the bucket of their
registration, zero totals) gives the bucket's own totals (first / last paid day, paid orders, paid days, net
amount: the days of a bucket are its own, so purchase days add up exactly), and running aggregates over each
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
from winback.lifecycle.snapshot_sql import DAYS_ROLLUP, date_lit, member_days_sql, member_filter_sql

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


def history_facts_sql(dates: Sequence[dt.date]) -> str:
    """member_facts rows (HISTORY_COLUMNS) for the sorted snapshot `dates`: per member a row at every date their
    facts changed, valid until the next one (NULL after the last)."""
    dates = sorted(dates)
    last = dates[-1]
    bucket = bucket_sql("day", dates)
    reg = f"CASE WHEN m.register_date IS NULL THEN {date_lit(dates[0])} ELSE {bucket_sql('m.register_date', dates)} END"
    profile = ", ".join(f"m.{c}" for c in PROFILE_COLUMNS)
    return f"""
WITH m AS (
    SELECT m.member_id, {profile}, {reg} AS reg_start
    FROM members m
    WHERE {member_filter_sql("m")}
),
events AS (
    SELECT member_id, day, {bucket} AS d, paid_orders, amount
    FROM ({member_days_sql(last)}) member_days
    UNION ALL
    SELECT member_id, CAST(NULL AS DATE), reg_start, 0, 0 FROM m WHERE reg_start IS NOT NULL
),
changes AS (
    SELECT member_id, d,
           {DAYS_ROLLUP}
    FROM events
    GROUP BY member_id, d
),
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
