"""Versioned schema. Each `migrations/NNN_name.sql` runs once, in order; all pending ones (and their Python steps in
AFTER) run in one transaction, so a warehouse is either fully upgraded or untouched."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib import resources

import duckdb

from winback.warehouse.transaction import transaction

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


Step = Callable[[duckdb.DuckDBPyConnection], object]

#: the domain steps a migration may need, by name; the app passes them in (the warehouse imports no domain room)
REBUILD_SEGMENTS_VIEW = "rebuild_segments_view"


def _segments_become_a_view(con: duckdb.DuckDBPyConnection, hooks: Mapping[str, Step]) -> None:
    """After 005: build the view from the stored snapshots and rules (the lifecycle room's step, passed in by the
    app); the old rows go only if the view reproduces every one of them (a row no rule set explains, e.g. planted
    by hand, is kept in member_segments_v4). Without the step the placeholder view stays, so the old rows are
    dropped only when there are none."""
    rebuild = hooks.get(REBUILD_SEGMENTS_VIEW)
    if rebuild is not None:
        rebuild(con)
    differ = con.execute(
        "SELECT count(*) FROM ((SELECT * FROM member_segments_v4 EXCEPT ALL SELECT * FROM member_segments) "
        "UNION ALL (SELECT * FROM member_segments EXCEPT ALL SELECT * FROM member_segments_v4))"
    ).fetchone()
    if differ is not None and differ[0] == 0:
        con.execute("DROP TABLE member_segments_v4")


def _snapshots_become_a_view(con: duckdb.DuckDBPyConnection, hooks: Mapping[str, Step]) -> None:
    """After 015: rebuild member_snapshot as the view over the stored rows and the member facts (the lifecycle
    room's step, which also rebuilds member_segments), then check that every stored snapshot reads exactly as
    before (rows and their hashes per date); a difference fails the upgrade (rolled back, warehouse untouched)."""
    rebuild = hooks.get(REBUILD_SEGMENTS_VIEW)
    if rebuild is not None:
        rebuild(con)
    # per date: the row count and the sum of every row's hash (a multiset fingerprint: one streaming pass over
    # each side, where EXCEPT ALL would hold a 10M-row snapshot in memory twice)
    print_ = "SELECT as_of, count(*) AS n, sum(hash(t)::HUGEINT) AS h FROM {} t GROUP BY as_of ORDER BY as_of"
    before = con.execute(print_.format("member_snapshot_stored")).fetchall()
    after = con.execute(print_.format("member_snapshot")).fetchall()
    if before != after:
        raise RuntimeError(
            f"migration 015: member_snapshot as a view differs from the stored snapshots (per date: {before} "
            f"before, {after} after); the upgrade was rolled back and the warehouse is unchanged"
        )


_FINGERPRINT = "SELECT as_of, count(*) AS n, sum(hash(t)::HUGEINT) AS h FROM {} t GROUP BY as_of ORDER BY as_of"


def _snapshots_read_the_same(con: duckdb.DuckDBPyConnection, hooks: Mapping[str, Step]) -> None:
    """After 018: the member_snapshot view as it was (018's SQL leaves it alone) against the view rebuilt by this
    version's lifecycle step (its new branches read per-(x, T) predictions; the stored dates keep theirs): every
    date's rows (count and sum of row hashes) must be the same, or the upgrade fails and is rolled back."""
    rebuild = hooks.get(REBUILD_SEGMENTS_VIEW)
    if rebuild is None:
        return
    before = con.execute(_FINGERPRINT.format("member_snapshot")).fetchall()
    rebuild(con)
    after = con.execute(_FINGERPRINT.format("member_snapshot")).fetchall()
    if before != after:
        raise RuntimeError(
            f"migration 018: member_snapshot rebuilt differs from the snapshots as they read before (per date: "
            f"{before} before, {after} after); the upgrade was rolled back and the warehouse is unchanged"
        )


# Python steps for data the SQL alone cannot rebuild, keyed by the migration that needs them; they run after the
# last pending migration's SQL (so they see the final schema), in the same transaction.
AFTER: dict[int, Callable[[duckdb.DuckDBPyConnection, Mapping[str, Step]], None]] = {
    5: _segments_become_a_view,
    15: _snapshots_become_a_view,
    18: _snapshots_read_the_same,
}


def available_migrations() -> list[tuple[int, str, str]]:
    """(version, file name, SQL) for every shipped migration, ordered by version."""
    out = []
    for entry in resources.files("winback.warehouse").joinpath("migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            out.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    out.sort()
    versions = [v for v, _, _ in out]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version number: {versions}")
    return out


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection, hooks: Mapping[str, Step] | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied. `hooks`: the domain steps some migrations need
    (see AFTER), given by the app object."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    pending = [(v, name, sql) for v, name, sql in available_migrations() if v not in done]
    if not pending:
        return []
    with transaction(con):  # all pending migrations and their Python steps, or none of them
        for version, name, sql in pending:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
        for version, _, _ in pending:
            if version in AFTER:
                AFTER[version](con, hooks or {})
    applied = [name for _, name, _ in pending]
    return applied
