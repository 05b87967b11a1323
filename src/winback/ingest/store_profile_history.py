"""The member profile history (migration 016): what changed in the tracked fields between members imports.

`member_profile_state` holds each member's tier, points, birthday, home store and guide as the last members import
left them; `record_changes` (called once a members import committed) writes one `member_profile_changes` row per
field that changed (old and new value, the import) and moves the state on. Nothing is overwritten: the changes are
the history (the tier upgrade journey reads them). A member new to the warehouse starts a state without a change.
Idempotent: a second call after the same import finds nothing changed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from winback.errors import EngineError, outdated_schema

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

TRACKED = ("tier", "points", "birthday", "store_id", "guide_id")


def record_changes(db: DuckDBEngine, import_id: int | None = None, *, at: dt.datetime | None = None) -> int:
    """Compare the members the import wrote (every member when `import_id` is None) with their last state;
    returns the number of field changes recorded."""
    scope = "m.merged_into IS NULL" + (" AND m.import_id = ?" if import_id is not None else "")
    params: list[object] = [import_id] if import_id is not None else []
    when = at or _finished_at(db, import_id)
    changed = " UNION ALL ".join(
        f"SELECT m.member_id, '{f}' AS field, CAST(s.{f} AS VARCHAR) AS old_value, CAST(m.{f} AS VARCHAR) AS new_value "
        f"FROM members m JOIN member_profile_state s USING (member_id) WHERE {scope} "
        f"AND m.{f} IS NOT NULL AND m.{f} IS DISTINCT FROM s.{f}"
        for f in TRACKED
    )
    try:
        with db.transaction():
            row = db.fetchone(
                "INSERT INTO member_profile_changes (member_id, field, old_value, new_value, import_id, changed_at) "
                f"SELECT member_id, field, old_value, new_value, ?, ? FROM ({changed}) ORDER BY member_id, field",
                [import_id, when, *params * len(TRACKED)],
            )
            cols = ", ".join("m." + f for f in TRACKED)
            db.execute(
                f"INSERT OR REPLACE INTO member_profile_state SELECT m.member_id, {cols}, m.import_id, ? "
                f"FROM members m WHERE {scope}",
                [when, *params],
            )
    except EngineError as exc:
        raise outdated_schema(exc, "the member profile history needs") from exc
    return int(row[0]) if row else 0


def _finished_at(db: DuckDBEngine, import_id: int | None) -> dt.datetime:
    """When the import committed (the change's time), else now."""
    row = db.fetchone(
        "SELECT coalesce(max(finished_at), current_timestamp::TIMESTAMP) FROM imports WHERE import_id = ?", [import_id]
    )
    return row[0] if row else dt.datetime.now()  # type: ignore[no-any-return]
