"""Applying a dedupe run to the warehouse, and undoing the last application exactly.

Apply: every non-survivor record of a cluster gets `members.merged_into` := survivor, records that had been
merged into it earlier follow it to the new survivor, and orders owned by any merged-away record move to its
survivor (`orders.source_member_id` keeps what the export said). Every value changed is logged first, so `undo` writes
the old values back and the tables are as they were before.
"""

from __future__ import annotations

from typing import Any

import duckdb

from winback.errors import InputError, NotFoundError
from winback.identity.sqlutil import scalar
from winback.warehouse.transaction import transaction


def apply_run(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, Any]:
    """Merge the clusters of `run_id`. Returns {merge_id, members, orders}."""
    with transaction(con):
        merge_id = int(scalar(con, "SELECT nextval('identity_merge_seq')"))
        # d → s for every non-survivor d of the run, provided d and s are still live records.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE _wb_moves AS
            SELECT c.member_id AS dup, c.cluster_id AS survivor
            FROM identity_clusters c
            JOIN members d ON d.member_id = c.member_id AND d.merged_into IS NULL
            JOIN members s ON s.member_id = c.cluster_id AND s.merged_into IS NULL
            WHERE c.run_id = ? AND NOT c.is_survivor
            """,
            [run_id],
        )
        con.execute(
            """
            INSERT INTO identity_merge_members
            SELECT ?, m.member_id, m.merged_into, mv.survivor
            FROM members m JOIN _wb_moves mv ON m.member_id = mv.dup
            UNION ALL
            SELECT ?, m.member_id, m.merged_into, mv.survivor
            FROM members m JOIN _wb_moves mv ON m.merged_into = mv.dup
            """,
            [merge_id, merge_id],
        )
        con.execute(
            """
            UPDATE members SET merged_into = l.new_merged_into
            FROM identity_merge_members l
            WHERE l.merge_id = ? AND members.member_id = l.member_id
            """,
            [merge_id],
        )
        # Orders follow: every order owned by a merged-away record moves to its survivor (this also catches
        # orders imported for such a record after an earlier merge).
        con.execute(
            """
            INSERT INTO identity_merge_orders
            SELECT DISTINCT ?, o.order_id, o.source_member_id, o.member_id, m.merged_into
            FROM orders o JOIN members m ON m.member_id = o.member_id AND m.merged_into IS NOT NULL
            """,
            [merge_id],
        )
        moved = con.execute(
            "UPDATE orders SET member_id = m.merged_into FROM members m "
            "WHERE orders.member_id = m.member_id AND m.merged_into IS NOT NULL",
        ).fetchall()
        n_members = _count(con, "identity_merge_members", merge_id)
        n_orders = int(moved[0][0]) if moved else 0
        con.execute(
            "INSERT INTO identity_merges VALUES (?, ?, current_timestamp::TIMESTAMP, NULL, ?, ?)",
            [merge_id, run_id, n_members, n_orders],
        )
        con.execute("DROP TABLE _wb_moves")
    return {"merge_id": merge_id, "run_id": run_id, "members": n_members, "orders": n_orders}


def undo_last(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Reverse the most recent merge that has not been undone. Returns {merge_id, members, orders}."""
    row = con.execute(
        "SELECT merge_id, run_id, orders FROM identity_merges WHERE undone_at IS NULL ORDER BY merge_id DESC LIMIT 1"
    ).fetchall()
    if not row:
        raise NotFoundError(
            "there is no applied merge to undo",
            hint="Run `winback dedupe --apply` first; `--undo` reverses the most recent one, one at a time.",
        )
    merge_id, run_id, expected = int(row[0][0]), int(row[0][1]), int(row[0][2])
    with transaction(con):
        moved_back = con.execute(
            """
            UPDATE orders SET member_id = l.old_member_id
            FROM identity_merge_orders l
            WHERE l.merge_id = ? AND orders.order_id = l.order_id
              AND orders.source_member_id IS NOT DISTINCT FROM l.source_member_id
              AND orders.member_id = l.new_member_id
            """,
            [merge_id],
        ).fetchall()
        con.execute(
            """
            UPDATE members SET merged_into = l.old_merged_into
            FROM identity_merge_members l
            WHERE l.merge_id = ? AND members.member_id = l.member_id
            """,
            [merge_id],
        )
        n_orders = int(moved_back[0][0]) if moved_back else 0
        if n_orders != expected:
            raise InputError(
                f"cannot undo merge {merge_id} exactly: {n_orders} orders still point at its survivors, "
                f"it moved {expected}",
                hint="Orders were imported, edited or merged again after it; nothing was changed. "
                "Undo later merges first, or re-import the orders.",
            )
        con.execute(
            "UPDATE identity_merges SET undone_at = current_timestamp::TIMESTAMP WHERE merge_id = ?", [merge_id]
        )
    return {
        "merge_id": merge_id,
        "run_id": run_id,
        "members": _count(con, "identity_merge_members", merge_id),
        "orders": n_orders,
    }


def _count(con: duckdb.DuckDBPyConnection, table: str, merge_id: int) -> int:
    row = con.execute(f"SELECT count(*) FROM {table} WHERE merge_id = ?", [merge_id]).fetchall()
    return int(row[0][0]) if row else 0
