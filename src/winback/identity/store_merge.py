"""Applying a dedupe run to the warehouse, and undoing the last application exactly.

Apply: every non-survivor record of a cluster gets `members.merged_into` := survivor, records that had been
merged into it earlier follow it to the new survivor, and orders owned by any merged-away record move to its
survivor (`orders.source_member_id` keeps what the export said). Every value changed is logged first, so `undo` writes
the old values back and the tables are as they were before. Each runs in one transaction.
"""

from __future__ import annotations

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError, NotFoundError
from winback.i18n import _
from winback.identity.store import value
from winback.identity.types import Merge
from winback.warehouse import till_orders

# d → s for every non-survivor d of the run, provided d and s are still live records.
_MOVES = """
CREATE OR REPLACE TEMP TABLE _wb_moves AS
SELECT c.member_id AS dup, c.cluster_id AS survivor
FROM identity_clusters c
JOIN members d ON d.member_id = c.member_id AND d.merged_into IS NULL
JOIN members s ON s.member_id = c.cluster_id AND s.merged_into IS NULL
WHERE c.run_id = ? AND NOT c.is_survivor
"""
_LOG_MEMBERS = """
INSERT INTO identity_merge_members
SELECT ?, m.member_id, m.merged_into, mv.survivor
FROM members m JOIN _wb_moves mv ON m.member_id = mv.dup
UNION ALL
SELECT ?, m.member_id, m.merged_into, mv.survivor
FROM members m JOIN _wb_moves mv ON m.merged_into = mv.dup
"""
_SET_MEMBERS = """
UPDATE members SET merged_into = l.{column}
FROM identity_merge_members l
WHERE l.merge_id = ? AND members.member_id = l.member_id
"""
# Orders follow: every order owned by a merged-away record moves to its survivor (this also catches orders
# imported for such a record after an earlier merge).
_LOG_ORDERS = """
INSERT INTO identity_merge_orders
SELECT DISTINCT ?, o.order_id, o.source_member_id, o.member_id, m.merged_into
FROM orders o JOIN members m ON m.member_id = o.member_id AND m.merged_into IS NOT NULL
"""
_MOVE_ORDERS = (
    "UPDATE orders SET member_id = m.merged_into FROM members m "
    "WHERE orders.member_id = m.member_id AND m.merged_into IS NOT NULL"
)
#: the orders a merge moved (or its undo moved back): their entries among the tills' paid orders follow
_MERGED_ORDERS = "o.order_id IN (SELECT order_id FROM identity_merge_orders WHERE merge_id = ?)"
_RESTORE_ORDERS = """
UPDATE orders SET member_id = l.old_member_id
FROM identity_merge_orders l
WHERE l.merge_id = ? AND orders.order_id = l.order_id
  AND orders.source_member_id IS NOT DISTINCT FROM l.source_member_id
  AND orders.member_id = l.new_member_id
"""


def apply_run(db: DuckDBEngine, run_id: int) -> Merge:
    """Merge the clusters of `run_id`; when nothing moves, no merge is recorded (`merge_id` is None)."""
    with db.transaction():
        merge_id = int(value(db, "SELECT nextval('identity_merge_seq')"))
        db.execute(_MOVES, [run_id])
        db.execute(_LOG_MEMBERS, [merge_id, merge_id])
        db.execute(_SET_MEMBERS.format(column="new_merged_into"), [merge_id])
        db.execute(_LOG_ORDERS, [merge_id])
        moved = db.fetchall(_MOVE_ORDERS)
        till_orders.sync(db.con, _MERGED_ORDERS, [merge_id])
        n_members = _count(db, "identity_merge_members", merge_id)
        n_orders = int(moved[0][0]) if moved else 0
        db.execute("DROP TABLE _wb_moves")
        if n_members == 0 and n_orders == 0:
            # Nothing changed (e.g. `dedupe --apply` run again): record no merge, so `--undo` still reverses the
            # last real one. The logs hold no rows for this id; the sequence value is simply not used.
            return Merge(merge_id=None, run_id=run_id, members=0, orders=0)
        db.execute(
            "INSERT INTO identity_merges VALUES (?, ?, current_timestamp::TIMESTAMP, NULL, ?, ?)",
            [merge_id, run_id, n_members, n_orders],
        )
    return Merge(merge_id=merge_id, run_id=run_id, members=n_members, orders=n_orders)


def undo_last(db: DuckDBEngine) -> Merge:
    """Reverse the most recent merge that has not been undone."""
    rows = db.fetchall(
        "SELECT merge_id, run_id, orders FROM identity_merges WHERE undone_at IS NULL ORDER BY merge_id DESC LIMIT 1"
    )
    if not rows:
        raise NotFoundError(
            _("there is no applied merge to undo"),
            hint=_("Run `winback dedupe --apply` first; `--undo` reverses the most recent one, one at a time."),
        )
    merge_id, run_id, expected = (int(v) for v in rows[0])
    with db.transaction():
        moved_back = db.fetchall(_RESTORE_ORDERS, [merge_id])
        till_orders.sync(db.con, _MERGED_ORDERS, [merge_id])
        db.execute(_SET_MEMBERS.format(column="old_merged_into"), [merge_id])
        n_orders = int(moved_back[0][0]) if moved_back else 0
        if n_orders != expected:
            raise InputError(
                _(
                    (
                        "cannot undo merge {merge_id} exactly: {n_orders} orders still point at its "
                        "survivors, it moved {expected}"
                    ),
                    merge_id=merge_id,
                    n_orders=n_orders,
                    expected=expected,
                ),
                hint=_(
                    "Orders were imported, edited or merged again after it; nothing was changed. "
                    "Undo later merges first, or re-import the orders."
                ),
            )
        db.execute("UPDATE identity_merges SET undone_at = current_timestamp::TIMESTAMP WHERE merge_id = ?", [merge_id])
    return Merge(
        merge_id=merge_id, run_id=run_id, members=_count(db, "identity_merge_members", merge_id), orders=n_orders
    )


def _count(db: DuckDBEngine, table: str, merge_id: int) -> int:
    return int(value(db, f"SELECT count(*) FROM {table} WHERE merge_id = ?", [merge_id]) or 0)
