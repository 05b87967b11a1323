"""Versioned schema. Each `migrations/NNN_name.sql` runs once, in order, inside one transaction."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

import duckdb

from winback.warehouse.transaction import transaction

_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def _rebuild_segments_view(con: duckdb.DuckDBPyConnection) -> None:
    from winback.lifecycle.segments_view import rebuild_segments_view  # lifecycle imports nothing from here

    rebuild_segments_view(con)


# Python steps run right after a migration's SQL, in its transaction (data the SQL alone cannot rebuild).
AFTER: dict[int, Callable[[duckdb.DuckDBPyConnection], None]] = {5: _rebuild_segments_view}


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


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    done = {r[0] for r in con.execute("SELECT version FROM schema_migrations").fetchall()}
    applied = []
    for version, name, sql in available_migrations():
        if version in done:
            continue
        with transaction(con):
            con.execute(sql)
            if version in AFTER:
                AFTER[version](con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
        applied.append(name)
    return applied
