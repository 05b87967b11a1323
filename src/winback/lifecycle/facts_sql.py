"""Member facts kept as they change (valid-from / valid-to), and the SQL of the incremental refresh (pure text).

A member's *facts* at an as-of date D are what the orders before D and the member record say, independent of
any model or rule: profile (store, guide, tier, registration) and order totals (first / last purchase day, paid
orders, purchase days, net amount). Everything else in a snapshot — cycle, P(alive), CLV, scores, segments — is a
function of the facts, of D, and of a few small per-snapshot tables (cohort priors, predictions per unique history,
breakpoints and model parameters), so it is recomputed when read, never stored per member.

`member_facts` holds one row per member per *version*: the row is the member's facts at every stored snapshot date
d with valid_from <= d < valid_to (valid_to NULL: still current). A daily refresh closes the rows of the members
whose facts changed and opens new ones; a member whose orders and record did not change keeps their row. A
member absent at a date (merged away, a contact, not yet registered) has no row covering it. Only snapshot dates
are ever asked for, so a row says nothing about the days between them.

Change detection (the incremental path) reads the bookkeeping the imports and merges already keep:
`orders.import_id` (new orders and status updates carry the import that wrote them), `order_status_changes`,
`members.import_id`, the identity merge logs, and the days since the previous snapshot (orders dated in
[previous as-of, as-of) and registrations in that window start to count).
"""

from __future__ import annotations

import datetime as dt

from winback.lifecycle.snapshot_sql import (
    MAX_BITMAP_DAYS,
    date_lit,
    member_filter_sql,
    per_member_bitmap_sql,
    per_member_two_level_sql,
    ts_lit,
)

FACTS = "wb_lc_facts"  # the facts at the as-of date being built (temp table on the warehouse)
CHANGED = "wb_lc_changed"  # member ids whose facts must be recomputed (engine)
COMPLEX = "wb_lc_complex"  # of those, the ones recomputed from all their orders (engine)
DELTA = "wb_lc_delta"  # per changed member: full facts or increments (engine, copied to the warehouse)
CURRENT = "wb_lc_current"  # the current member_facts rows (with their rowid) of the members in DELTA (warehouse)
MERGE_MEMBERS = "wb_lc_merge_members"  # member ids touched by merges applied or undone since (registered)
STATUS_ORDERS = "wb_lc_status_orders"  # order ids whose status changed since (registered)

PROFILE_COLUMNS = ("store_id", "guide_id", "tier", "register_date", "register_channel")
ORDER_COLUMNS = ("first_purchase", "last_purchase", "orders", "purchase_days", "monetary")
FACT_COLUMNS: tuple[str, ...] = ("member_id", *PROFILE_COLUMNS, *ORDER_COLUMNS)
FACT_TYPES = {
    "member_id": "VARCHAR",
    "store_id": "VARCHAR",
    "guide_id": "VARCHAR",
    "tier": "VARCHAR",
    "register_date": "DATE",
    "register_channel": "VARCHAR",
    "first_purchase": "DATE",
    "last_purchase": "DATE",
    "orders": "INTEGER",
    "purchase_days": "INTEGER",
    "monetary": "DECIMAL(18, 2)",
}


def fact_columns_ddl() -> str:
    return ", ".join(f"{c} {FACT_TYPES[c]}" for c in FACT_COLUMNS)


def _cols(alias: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in FACT_COLUMNS)


def facts_sql(as_of: dt.date, first_day: dt.date | None = None, only: str | None = None) -> str:
    """Every member's facts at `as_of` from one pass over orders (orders strictly before as_of), members not
    merged away and not contacts, registered before as_of or with an order before it. `first_day` (DuckDB): count
    purchase days with bitmaps (snapshot_sql.per_member_bitmap_sql). `only`: a table of member_id to restrict
    the pass to (the incremental path's recomputed members; the portable form, since they are few)."""
    a = date_lit(as_of)
    if only is None and first_day is not None and (as_of - first_day).days <= MAX_BITMAP_DAYS:
        per_member = per_member_bitmap_sql(as_of, first_day)
    else:
        per_member = per_member_two_level_sql(as_of)
    restrict = ""
    if only is not None:
        per_member = per_member.replace(
            "FROM orders\n    WHERE ", f"FROM orders\n    WHERE member_id IN (SELECT member_id FROM {only}) AND ", 1
        )
        restrict = f" AND m.member_id IN (SELECT member_id FROM {only})"
    return f"""
WITH per_member AS ({per_member})
SELECT m.member_id, m.store_id, m.guide_id, m.tier, m.register_date, m.register_channel,
       p.first_purchase, p.last_purchase,
       CAST(COALESCE(p.orders, 0) AS INTEGER) AS orders,
       CAST(COALESCE(p.purchase_days, 0) AS INTEGER) AS purchase_days,
       CAST(COALESCE(p.monetary, 0) AS DECIMAL(18, 2)) AS monetary
FROM members m
LEFT JOIN per_member p ON p.member_id = m.member_id
WHERE {member_filter_sql("m")}
  AND (m.register_date IS NULL OR m.register_date < {a} OR p.member_id IS NOT NULL){restrict}
"""


def derive_sql(source: str, as_of: dt.date) -> str:
    """The refresh's per-member base (snapshot_sql.BASE's columns) from facts in `source` at `as_of`: the facts plus
    the day counts that depend on the date and the cohort keys."""
    a = date_lit(as_of)
    return f"""
SELECT f.member_id, f.store_id, f.guide_id, f.tier, f.register_date, f.register_channel,
       COALESCE(f.tier, '') AS tier_key, COALESCE(f.store_id, '') AS store_key,
       f.first_purchase, f.last_purchase, f.orders, f.purchase_days, f.monetary,
       CAST(date_diff('day', f.last_purchase, {a}) AS INTEGER) AS recency_days,
       CAST(date_diff('day', f.first_purchase, {a}) AS INTEGER) AS first_purchase_days,
       CAST(date_diff('day', f.first_purchase, f.last_purchase) AS INTEGER) AS span_days,
       CAST(CASE
           WHEN f.register_date IS NULL AND f.first_purchase IS NULL THEN NULL
           WHEN f.register_date IS NULL THEN date_diff('day', f.first_purchase, {a})
           WHEN f.first_purchase IS NULL OR f.register_date <= f.first_purchase
               THEN date_diff('day', f.register_date, {a})
           ELSE date_diff('day', f.first_purchase, {a})
       END AS INTEGER) AS tenure_days
FROM {source} f
"""


def stats_base_sql(source: str, as_of: dt.date) -> str:
    """The refresh's statistics table (snapshot_sql.BASE) from facts in `source` at `as_of`: only the columns the
    cohort priors, the model's sufficient statistics and the breakpoints read (no member id, no profile strings:
    a third of derive_sql's width); the snapshot itself is the view's derive_sql."""
    a = date_lit(as_of)
    return f"""
SELECT COALESCE(f.tier, '') AS tier_key, COALESCE(f.store_id, '') AS store_key,
       f.orders, f.purchase_days, f.monetary,
       CAST(date_diff('day', f.last_purchase, {a}) AS INTEGER) AS recency_days,
       CAST(date_diff('day', f.first_purchase, {a}) AS INTEGER) AS first_purchase_days,
       CAST(date_diff('day', f.first_purchase, f.last_purchase) AS INTEGER) AS span_days
FROM {source} f
"""


def facts_at_sql(as_of: dt.date) -> str:
    """The stored facts valid at the snapshot date `as_of`."""
    a = date_lit(as_of)
    return (
        f"(SELECT {', '.join(FACT_COLUMNS)} FROM member_facts "
        f"WHERE valid_from <= {a} AND (valid_to IS NULL OR valid_to > {a}))"
    )


# -- change detection (runs on the engine: orders and members are there) -----------------------------------------
def changed_members_sql(since: dt.date, as_of: dt.date, import_id: int) -> str:
    """(member_id, complex) for every member whose facts may differ between the snapshot at `since` (built when
    the last import was `import_id`) and `as_of`. complex: recompute from all their orders (a late order, a status
    change, a merge or undo, a new or re-registered record); otherwise their new orders are all dated in
    [since, as_of) and simply add to their facts."""
    s, a = ts_lit(since), ts_lit(as_of)
    k = int(import_id)
    return f"""
WITH touched AS (
    SELECT o.member_id,
           CASE WHEN o.import_id > {k} AND (o.ordered_at < {s} OR c.order_id IS NOT NULL) THEN 1 ELSE 0 END AS hard
    FROM orders o
    LEFT JOIN (SELECT DISTINCT order_id FROM {STATUS_ORDERS}) c ON c.order_id = o.order_id
    WHERE o.member_id IS NOT NULL
      AND ((o.import_id > {k}) OR (o.ordered_at >= {s} AND o.ordered_at < {a}))
    UNION ALL
    SELECT member_id, 1 AS hard FROM {MERGE_MEMBERS}
    UNION ALL
    SELECT member_id, 1 AS hard FROM members
    WHERE import_id > {k} OR (register_date >= CAST({s} AS DATE) AND register_date < CAST({a} AS DATE))
)
SELECT member_id, MAX(hard) AS hard FROM touched GROUP BY member_id
"""


def delta_sql(since: dt.date, as_of: dt.date) -> str:
    """Per member of CHANGED: kind 'full' (COMPLEX: facts from all orders before as_of, with the member's profile)
    or 'add' (the increments of their orders dated in [since, as_of): all of them later than any counted purchase
    day, so purchase days simply add; no profile: their record did not change, so it is the one in their current
    facts, and reading it there spares a join of the changed members with every member record); members who no
    longer belong in a snapshot (merged away, a contact) get present = false. Every COMPLEX member also gets a
    'gone' row (present = false), so that one who is no longer in a snapshot at all (merged away) is still among
    the members whose current facts are closed."""
    s = ts_lit(since)
    window = f"ordered_at >= {s} AND ordered_at < {ts_lit(as_of)} AND member_id IS NOT NULL"
    return f"""
WITH adds AS (
    SELECT member_id,
           CAST(MIN(CASE WHEN status = 'paid' THEN ordered_at END) AS DATE) AS first_purchase,
           CAST(MAX(CASE WHEN status = 'paid' THEN ordered_at END) AS DATE) AS last_purchase,
           SUM(CASE WHEN status = 'paid' THEN 1 ELSE 0 END) AS orders,
           COUNT(DISTINCT CASE WHEN status = 'paid' THEN CAST(ordered_at AS DATE) END) AS purchase_days,
           SUM(amount) AS monetary
    FROM orders
    WHERE {window} AND status IN ('paid', 'refunded')
      AND member_id IN (SELECT member_id FROM {CHANGED} WHERE hard = 0)
    GROUP BY member_id
)
SELECT 'add' AS kind, c.member_id,
       {", ".join(f"CAST(NULL AS {FACT_TYPES[x]})" for x in PROFILE_COLUMNS)},
       a.first_purchase, a.last_purchase,
       CAST(COALESCE(a.orders, 0) AS INTEGER) AS orders,
       CAST(COALESCE(a.purchase_days, 0) AS INTEGER) AS purchase_days,
       CAST(COALESCE(a.monetary, 0) AS DECIMAL(18, 2)) AS monetary,
       TRUE AS present
FROM {CHANGED} c
LEFT JOIN adds a ON a.member_id = c.member_id
WHERE c.hard = 0
UNION ALL
SELECT 'full' AS kind, {_cols("f")}, TRUE AS present FROM ({{full}}) f
UNION ALL
SELECT 'gone' AS kind, c.member_id, {", ".join(f"CAST(NULL AS {FACT_TYPES[x]})" for x in FACT_COLUMNS[1:])},
       FALSE AS present
FROM {CHANGED} c WHERE c.hard = 1
"""


# -- applying a delta to the stored facts (runs on the warehouse) -------------------------------------------------
def current_sql(delta: str) -> str:
    """The current rows of the members in `delta`, with their rowid: the one pass over member_facts of the
    incremental path (the delta is small, so it is the hash side), reading only member_id and valid_to of every
    row, then the matching rows by rowid; every later step reads this table instead."""
    return (
        "SELECT rowid AS row_id, * FROM member_facts WHERE rowid IN (SELECT rowid FROM member_facts "
        f"WHERE valid_to IS NULL AND member_id IN (SELECT member_id FROM {delta}))"
    )


def new_facts_sql(delta: str) -> str:
    """The facts at the new date of every member in `delta` (rows of delta_sql on the warehouse): 'full' rows as
    they are, 'add' rows combined with the member's current facts (their profile is the current one); absent
    members (present = false, or an 'add' without current facts: see `orphans_sql`) are left out."""
    profile = ", ".join(f"CASE WHEN d.kind = 'full' THEN d.{c} ELSE c.{c} END AS {c}" for c in PROFILE_COLUMNS)
    return f"""
SELECT d.member_id, {profile},
       CASE WHEN d.kind = 'full' THEN d.first_purchase ELSE COALESCE(c.first_purchase, d.first_purchase) END
           AS first_purchase,
       CASE WHEN d.kind = 'full' THEN d.last_purchase ELSE COALESCE(d.last_purchase, c.last_purchase) END
           AS last_purchase,
       CAST(CASE WHEN d.kind = 'full' THEN d.orders ELSE c.orders + d.orders END AS INTEGER) AS orders,
       CAST(CASE WHEN d.kind = 'full' THEN d.purchase_days ELSE c.purchase_days + d.purchase_days END AS INTEGER)
           AS purchase_days,
       CAST(CASE WHEN d.kind = 'full' THEN d.monetary ELSE c.monetary + d.monetary END AS DECIMAL(18, 2))
           AS monetary
FROM {delta} d
LEFT JOIN {CURRENT} c ON c.member_id = d.member_id
WHERE d.present AND (d.kind = 'full' OR c.member_id IS NOT NULL)
"""


def orphans_sql(delta: str) -> str:
    """'add' members with no current facts (absent at the previous snapshot, present now): recomputed in full."""
    return (
        f"SELECT d.member_id, 1 AS hard FROM {delta} d WHERE d.kind = 'add' AND d.present AND NOT EXISTS "
        f"(SELECT 1 FROM {CURRENT} c WHERE c.member_id = d.member_id)"
    )


def _same(a: str, b: str) -> str:
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in FACT_COLUMNS)


def apply_sql(as_of: dt.date, new: str, members: str) -> list[str]:
    """Statements that make member_facts say `new` (facts at `as_of`, the newest date) for every member of
    `members` (a table of member_id: members in `new` and members now absent): the current row of a member whose
    facts changed is closed at as_of (or deleted when it was opened at as_of itself), and a new row is opened. A
    member whose facts did not change keeps their row."""
    a = date_lit(as_of)
    stale = f"""
CREATE OR REPLACE TEMP TABLE wb_lc_stale AS
SELECT x.member_id FROM {members} x
WHERE NOT EXISTS (SELECT 1 FROM {CURRENT} c JOIN {new} n ON n.member_id = c.member_id
                  WHERE c.member_id = x.member_id AND {_same("c", "n")})
"""
    rows = f"rowid IN (SELECT row_id FROM {CURRENT} WHERE member_id IN (SELECT member_id FROM wb_lc_stale)"
    return [
        stale,
        f"DELETE FROM member_facts WHERE {rows} AND valid_from = {a})",
        f"UPDATE member_facts SET valid_to = {a} WHERE {rows} AND valid_from <> {a})",
        f"INSERT INTO member_facts (member_id, valid_from, valid_to, {', '.join(FACT_COLUMNS[1:])}) "
        f"SELECT n.member_id, {a}, NULL, {', '.join('n.' + c for c in FACT_COLUMNS[1:])} FROM {new} n "
        "WHERE n.member_id IN (SELECT member_id FROM wb_lc_stale)",
        "DROP TABLE wb_lc_stale",
    ]


def splice_sql(as_of: dt.date, new: str, next_date: dt.date | None) -> list[str]:
    """Statements that make member_facts say `new` (every member's facts at `as_of`, any date) and keep every
    other snapshot date as it was. The rows covering as_of are the old facts there; a member whose facts differ
    gets that row cut at as_of, the old facts carried on from the next snapshot date (when the row reached it),
    and a new row [as_of, next date) (open when as_of is the newest date)."""
    a = date_lit(as_of)
    nxt = date_lit(next_date) if next_date else "NULL"
    covering = f"valid_from <= {a} AND (valid_to IS NULL OR valid_to > {a})"
    return [
        f"CREATE OR REPLACE TEMP TABLE wb_lc_cover AS SELECT * FROM member_facts WHERE {covering}",
        f"""
CREATE OR REPLACE TEMP TABLE wb_lc_stale AS
SELECT COALESCE(c.member_id, n.member_id) AS member_id
FROM wb_lc_cover c FULL OUTER JOIN {new} n ON n.member_id = c.member_id
WHERE c.member_id IS NULL OR n.member_id IS NULL OR NOT ({_same("c", "n")})
""",
        f"DELETE FROM member_facts WHERE {covering} AND member_id IN (SELECT member_id FROM wb_lc_stale)",
        # the part of a changed row before as_of
        f"INSERT INTO member_facts SELECT member_id, valid_from, {a}, {', '.join(FACT_COLUMNS[1:])} "
        f"FROM wb_lc_cover WHERE valid_from < {a} AND member_id IN (SELECT member_id FROM wb_lc_stale)",
        # the part after: from the next snapshot date the row reached, the old facts again
        *(
            [
                f"INSERT INTO member_facts SELECT member_id, {nxt}, valid_to, {', '.join(FACT_COLUMNS[1:])} "
                f"FROM wb_lc_cover WHERE (valid_to IS NULL OR valid_to > {nxt}) "
                "AND member_id IN (SELECT member_id FROM wb_lc_stale)"
            ]
            if next_date
            else []
        ),
        f"INSERT INTO member_facts (member_id, valid_from, valid_to, {', '.join(FACT_COLUMNS[1:])}) "
        f"SELECT n.member_id, {a}, {nxt}, {', '.join('n.' + c for c in FACT_COLUMNS[1:])} FROM {new} n "
        "WHERE n.member_id IN (SELECT member_id FROM wb_lc_stale)",
        "DROP TABLE wb_lc_stale",
        "DROP TABLE wb_lc_cover",
    ]
