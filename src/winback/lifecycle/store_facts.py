"""The warehouse side of member facts: writing versions (full splice or incremental delta), the small
per-snapshot tables, the bookkeeping the incremental path reads (watermarks, merges, status changes), and the
member_snapshot view (snapshot_view.py). Every function takes the warehouse `db` first; call the writers inside
the refresh's transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.lifecycle import facts_sql as f
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle import snapshot_view as v

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.lifecycle.rules import Scheme


def has_facts(db: DuckDBEngine) -> bool:
    """Whether the warehouse has migration 015 (member_facts)."""
    row = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'member_facts'")
    return bool(row and row[0][0])


def facts_runs(db: DuckDBEngine) -> list[tuple[dt.date, dict[str, Any], dict[str, Any]]]:
    """(as_of, settings, rules) of every snapshot rebuilt from member_facts, oldest date first."""
    out = []
    for as_of, settings, rules in db.fetchall("SELECT as_of, settings, rules FROM snapshot_runs ORDER BY as_of"):
        s = json.loads(settings) if isinstance(settings, str) else settings
        if isinstance(s, dict) and s.get("storage") == v.STORAGE_FACTS:
            out.append((as_of, s, json.loads(rules) if isinstance(rules, str) else rules))
    return out


def watermark(db: DuckDBEngine) -> dict[str, Any]:
    """What the incremental path compares with the next refresh: the last import, rows written outside imports
    (no import_id: tests, hand edits) and the state of every identity merge."""
    imp = db.fetchall("SELECT coalesce(max(import_id), 0) FROM imports")
    orders = db.fetchall("SELECT count(*) - count(import_id) FROM orders")
    members = db.fetchall("SELECT count(*) - count(import_id) FROM members")
    merges = db.fetchall("SELECT merge_id, undone_at IS NOT NULL FROM identity_merges ORDER BY merge_id")
    return {
        "import_id": int(imp[0][0]),
        "orders_without_import": int(orders[0][0]),
        "members_without_import": int(members[0][0]),
        "merges": [[int(m), bool(u)] for m, u in merges],
    }


def merge_members_changed(db: DuckDBEngine, before: list[list[Any]]) -> pa.Table:
    """member_id of every record touched by a merge applied or undone since `before` (watermark["merges"])."""
    seen = {int(m): bool(u) for m, u in before}
    now = db.fetchall("SELECT merge_id, undone_at IS NOT NULL FROM identity_merges")
    ids = [int(m) for m, u in now if seen.get(int(m)) != bool(u)]
    if not ids:
        return pa.table({"member_id": pa.array([], pa.string())})
    marks = ", ".join(str(i) for i in ids)
    return db.query(
        f"""
        SELECT DISTINCT member_id FROM (
            SELECT member_id FROM identity_merge_members WHERE merge_id IN ({marks})
            UNION ALL SELECT old_merged_into FROM identity_merge_members WHERE merge_id IN ({marks})
            UNION ALL SELECT new_merged_into FROM identity_merge_members WHERE merge_id IN ({marks})
            UNION ALL SELECT old_member_id FROM identity_merge_orders WHERE merge_id IN ({marks})
            UNION ALL SELECT new_member_id FROM identity_merge_orders WHERE merge_id IN ({marks})
        ) t (member_id) WHERE member_id IS NOT NULL
        """
    )


def status_orders_since(db: DuckDBEngine, import_id: int) -> pa.Table:
    """order_id of every order whose status an import after `import_id` changed."""
    return db.query(f"SELECT DISTINCT order_id FROM order_status_changes WHERE import_id > {int(import_id)}")


def covered(db: DuckDBEngine, as_of: dt.date) -> bool:
    """Whether stored facts cover the snapshot date `as_of`."""
    a = q.date_lit(as_of)
    row = db.fetchall(
        f"SELECT count(*) FROM (SELECT 1 FROM member_facts WHERE valid_from <= {a} "
        f"AND (valid_to IS NULL OR valid_to > {a}) LIMIT 1)"
    )
    return bool(row and row[0][0])


def write_full(db: DuckDBEngine, as_of: dt.date, next_date: dt.date | None) -> None:
    """member_facts at `as_of` := the temp FACTS (every member), other snapshot dates unchanged."""
    for sql in f.splice_sql(as_of, f.FACTS, next_date):
        db.execute(sql)


def apply_delta(db: DuckDBEngine, as_of: dt.date) -> None:
    """member_facts at `as_of` (the newest date) := current facts with the temp DELTA applied (the members'
    current rows are in the temp CURRENT, made by queries_facts.changed_facts)."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE wb_lc_new AS {f.new_facts_sql(f.DELTA)}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE wb_lc_members AS SELECT DISTINCT member_id FROM {f.DELTA}")
    for sql in f.apply_sql(as_of, "wb_lc_new", "wb_lc_members"):
        db.execute(sql)
    db.execute("DROP TABLE wb_lc_new")
    db.execute("DROP TABLE wb_lc_members")
    db.execute(f"DROP TABLE {f.CURRENT}")


def write_small_tables(db: DuckDBEngine, as_of: dt.date, predictions: pa.Table | None) -> None:
    """The priors (from the refresh's temp PRIOR) and predictions (per (x, T): migration 018) of `as_of`; rows of
    an older snapshot at this date (stored before migration 015, or its predictions per (x, t_x, T)) go."""
    for table in ("snapshot_priors", v.PREDICTIONS, v.PREDICTIONS_XT, v.STORED):
        db.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
    a = q.date_lit(as_of)
    db.execute(f"INSERT INTO snapshot_priors SELECT {a}, tier_key, store_key, prior_days, prior_source FROM {q.PRIOR}")
    if predictions is not None and predictions.num_rows:  # per (x, T) (modelling._predict), sorted
        with db.registered("wb_lc_pred_rows", predictions):
            db.execute(
                f'INSERT INTO {v.PREDICTIONS_XT} SELECT {a}, x, "T", if_90, if_365 FROM wb_lc_pred_rows ORDER BY x, "T"'
            )


def carried_predictions(db: DuckDBEngine, since: dt.date, as_of: dt.date) -> pa.Table:
    """(x, T, if_90, if_365) for every (x, T) a member may have at `as_of`, with the values stored at `since` (the
    previous snapshot, same fit) where there are some, null where not: everyone whose facts did not change since
    keeps their x and their T grows by the days between (their rows at `since`, shifted), everyone else has a
    fact row opened at as_of. A superset of the (x, T) at as_of, found without reading every member's facts."""
    a, s = q.date_lit(as_of), q.date_lit(since)
    return db.query(
        f"""
        WITH prev AS (SELECT x, "T", if_90, if_365 FROM {v.PREDICTIONS_XT} WHERE as_of = {s}),
        want AS (
            SELECT x, CAST("T" + {(as_of - since).days} AS INTEGER) AS "T" FROM prev
            UNION
            SELECT CAST(purchase_days - 1 AS INTEGER), CAST(date_diff('day', first_purchase, {a}) - 1 AS INTEGER)
            FROM member_facts WHERE valid_from = {a} AND purchase_days >= 1
        )
        SELECT w.x, w."T", p.if_90, p.if_365 FROM want w LEFT JOIN prev p ON p.x = w.x AND p."T" = w."T"
        """
    )


def carry_priors(db: DuckDBEngine, since: dt.date, as_of: dt.date) -> bool:
    """The temp PRIOR := the cohort priors stored at `since` (the previous snapshot, same fit), when they cover
    every (tier, store) of the facts opened at `as_of` (everyone else's is covered since their facts did not
    change); False (nothing made) when a cohort is new."""
    a, s = q.date_lit(as_of), q.date_lit(since)
    new = db.fetchall(
        f"""
        SELECT count(*) FROM (SELECT DISTINCT COALESCE(tier, '') AS tier_key, COALESCE(store_id, '') AS store_key
                              FROM member_facts WHERE valid_from = {a}) k
        WHERE NOT EXISTS (SELECT 1 FROM snapshot_priors p WHERE p.as_of = {s} AND p.tier_key = k.tier_key
                          AND p.store_key = k.store_key)
        """
    )
    if new and new[0][0]:
        return False
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {q.PRIOR} AS SELECT tier_key, store_key, prior_days, prior_source "
        f"FROM snapshot_priors WHERE as_of = {s}"
    )
    return True


def rebuild_snapshot_view(db: DuckDBEngine, stored_schemes: Any) -> None:
    """(Re)create member_snapshot from snapshot_runs: the rows stored before 015 and one branch per facts-based
    date. `stored_schemes(rules, as_of)` gives the value / lifecycle schemes of a run (segments_view parses)."""
    branches: list[tuple[dt.date, dict[str, Any], list[Scheme]]] = []
    for as_of, settings, rules in facts_runs(db):
        branches.append((as_of, settings["snapshot"], stored_schemes(rules, as_of)))
    db.execute(f"CREATE OR REPLACE VIEW {v.VIEW} AS {v.view_sql(branches)}")


def facts_count(db: DuckDBEngine, as_of: dt.date, since: dt.date | None = None) -> int:
    """The members in the snapshot at `as_of`: with `since` (an earlier facts-based snapshot, the incremental
    path's previous one), its stored member count plus the rows opened and minus the rows closed since (range
    filters on valid_from / valid_to, see carried_value_counts), else a count over the facts valid at as_of."""
    if since is not None and since < as_of:
        opened, closed = _moved_since(since, as_of)
        row = db.fetchall(
            f"SELECT r.members + (SELECT count(*) FROM member_facts WHERE {opened}) - (SELECT count(*) FROM "
            f"member_facts WHERE {closed}) FROM snapshot_runs r WHERE r.as_of = {q.date_lit(since)}"
        )
        if row and row[0][0] is not None:
            return int(row[0][0])
    row = db.fetchall(f"SELECT count(*) FROM {f.facts_at_sql(as_of)} t")
    return int(row[0][0]) if row else 0


# -- the value counts of the quintile breakpoints, carried between daily refreshes (migration 024) -------------------
VALUE_COUNTS = "snapshot_value_counts"


def _moved_since(since: dt.date, as_of: dt.date) -> tuple[str, str]:
    """Predicates over member_facts: the rows valid at as_of and not at since (opened since: the newest rows), and
    the other way round (closed since); each a conjunction of plain range filters on valid_from / valid_to, which
    the scan prunes and pushes down (since < as_of)."""
    s, a = q.date_lit(since), q.date_lit(as_of)
    opened = f"valid_from > {s} AND valid_from <= {a} AND (valid_to IS NULL OR valid_to > {a})"
    return opened, f"valid_to > {s} AND valid_to <= {a} AND valid_from <= {s}"


def carried_value_counts(db: DuckDBEngine, since: dt.date, as_of: dt.date) -> pa.Table | None:
    """(k, v, n) of snapshot_sql.value_counts_at_sql at `as_of`, from the counts kept at `since` (an earlier
    snapshot, written by its own refresh: run_at is its refreshed_at) adjusted by the member_facts rows valid at
    one date and not the other: a member whose facts did not change keeps their orders and monetary, and their
    recency grows by the days between. None when there is nothing usable to carry (count from the facts)."""
    if as_of <= since or not has_value_counts(db):
        return None
    s, a = q.date_lit(since), q.date_lit(as_of)
    same = db.fetchall(
        f"SELECT count(*) FROM (SELECT DISTINCT run_at FROM {VALUE_COUNTS} WHERE as_of = {s}) c "
        f"JOIN snapshot_runs r ON r.as_of = {s} AND r.refreshed_at = c.run_at"
    )
    if not (same and same[0][0]):
        return None
    opened, closed = _moved_since(since, as_of)
    cols = "last_purchase, orders, monetary FROM member_facts WHERE purchase_days >= 1"
    moved = f"SELECT 1 AS s, {cols} AND {opened} UNION ALL SELECT -1 AS s, {cols} AND {closed}"
    return db.query(
        f"""
        WITH moved AS ({moved})
        SELECT k, v, CAST(SUM(n) AS BIGINT) AS n FROM (
            SELECT k, CASE WHEN k = 'r' THEN v + {(as_of - since).days} ELSE v END AS v, n
            FROM {VALUE_COUNTS} WHERE as_of = {s}
            UNION ALL SELECT 'r', CAST(date_diff('day', last_purchase, {a}) AS DOUBLE), s FROM moved
            UNION ALL SELECT 'f', CAST({q.FREQUENCY_VALUE} AS DOUBLE), s FROM moved
            UNION ALL SELECT 'm', {q.MONETARY_VALUE}, s FROM moved
        ) t
        GROUP BY k, v HAVING SUM(n) <> 0
        """
    )


def write_value_counts(db: DuckDBEngine, as_of: dt.date, counts: pa.Table) -> None:
    """Keep the value counts (k, v, n) of the snapshot at `as_of` for the next refresh, stamped with this
    transaction's time (the snapshot_runs.refreshed_at of the same refresh); those of this and earlier dates go."""
    if not has_value_counts(db):
        return
    db.execute(f"DELETE FROM {VALUE_COUNTS} WHERE as_of <= ?", [as_of])
    with db.registered("wb_lc_value_counts", counts.select(["k", "v", "n"])):
        db.execute(
            f"INSERT INTO {VALUE_COUNTS} SELECT {q.date_lit(as_of)}, current_timestamp::TIMESTAMP, k, "
            "CAST(v AS DOUBLE), CAST(n AS BIGINT) FROM wb_lc_value_counts"
        )


def has_value_counts(db: DuckDBEngine) -> bool:
    """Whether the warehouse has migration 024 (a warehouse opened by an older winback has not)."""
    row = db.fetchall(f"SELECT count(*) FROM information_schema.tables WHERE table_name = '{VALUE_COUNTS}'")
    return bool(row and row[0][0])
