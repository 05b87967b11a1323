"""A cheap fingerprint of what the members and orders say (`data_stamp`): a figure summed from them at refresh time
is used while the stamp is the same, and computed live once it is not.

It changes with every import (members, orders, stores, staff: a new `imports` row), every order written by any
other path (the demo's responder: the order count), every status change an import records, every dedupe run, merge
and undo, and every opt-out. Reading it costs a few counts (milliseconds at 10M members)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

STAMP_SQL = """
    SELECT concat_ws(':',
        (SELECT count(*) FROM imports), (SELECT coalesce(max(import_id), 0) FROM imports),
        (SELECT count(*) FROM orders), (SELECT count(*) FROM members),
        (SELECT count(*) FROM order_status_changes),
        (SELECT count(*) FROM identity_runs), (SELECT count(*) FROM identity_merges),
        (SELECT count(undone_at) FROM identity_merges),
        (SELECT count(opted_out_at) FROM members))
"""


def data_stamp(con: duckdb.DuckDBPyConnection) -> str:
    """The members' and orders' fingerprint now (see the module's docstring)."""
    row = con.execute(STAMP_SQL).fetchone()
    return str(row[0]) if row else ""
