"""The import's own SQL around the loaders: session settings, the memory ceiling, the one write transaction
(the loaders' plan plus the `imports` row), the blanked counts, and dropping the temporary objects afterwards."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import EngineError
from winback.ingest import load_master, readers
from winback.ingest.memory import needs_lowering, shown_limit_bytes
from winback.ingest.plan import Plan, scalar
from winback.ingest.types import ImportResult
from winback.ingest.validate import PARSED

#: temporary tables the loaders create (dropped after every import, also a failed one)
TEMP_TABLES = (
    PARSED,
    "wb_fold",
    "wb_incoming",
    "wb_planned",
    "wb_lines",
    "wb_cascade",
    "wb_orders_agg",
    "wb_orders_existing",
    "wb_status_changes",
    "wb_conflicts",
    "wb_lines_repeated",
    "wb_fact_rows",
    "wb_row_shift",
)
_PHONE_LOOKUPS = ("wb_phone_prefix", "wb_phone_other")


@contextlib.contextmanager
def bounded_memory(db: DuckDBEngine, limit: int) -> Iterator[None]:
    """Lower DuckDB's memory limit to `limit` bytes for the block (never raise it), then put it back."""
    current = str(db.scalar("SELECT current_setting('memory_limit')"))
    if not needs_lowering(current, limit):
        yield
        return
    db.execute("RESET memory_limit")
    was_default = str(db.scalar("SELECT current_setting('memory_limit')")) == current
    db.execute(f"SET memory_limit = '{limit}B'")
    try:
        yield
    finally:
        db.execute("RESET memory_limit" if was_default else f"SET memory_limit = '{shown_limit_bytes(current)}B'")


@contextlib.contextmanager
def setting_off(db: DuckDBEngine, name: str) -> Iterator[None]:
    """Turn the boolean DuckDB setting `name` off for the block, then put back what it was."""
    was = scalar(db, f"SELECT current_setting('{name}')::BOOLEAN::INTEGER")
    db.execute(f"SET {name} = false")
    try:
        yield
    finally:
        db.execute(f"SET {name} = {'true' if was else 'false'}")


def blanked_counts(db: DuckDBEngine) -> dict[str, int]:
    """Master data: how many unreadable optional values each field had (left empty, kept in `extra`)."""
    rows = db.fetchall(f"SELECT f, count(*) FROM (SELECT unnest(_blanked) AS f FROM {PARSED}) GROUP BY f ORDER BY f")
    return {str(k): int(v) for k, v in rows}


def write_import(
    db: DuckDBEngine, plan: Plan, result: ImportResult, *, sha256: str, before_commit: Callable[[], None]
) -> int:
    """The plan's writes and the `imports` row in one transaction; returns the new import id. `before_commit`
    runs once everything is written but not yet committed (an exception there rolls it all back)."""
    with db.transaction():
        import_id = scalar(db, "SELECT nextval('import_id_seq')")
        assert plan.apply is not None
        plan.apply(db, import_id)
        db.execute(
            "INSERT INTO imports (import_id, kind, file, file_sha256, file_format, encoding, date_format, mapping, "
            "started_at, finished_at, rows_in, rows_loaded, rows_updated, rows_rejected, rows_duplicate, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP, current_timestamp::TIMESTAMP, "
            "?, ?, ?, ?, ?, 'committed')",
            [
                import_id,
                result.kind,
                result.file,
                sha256,
                result.file_format,
                result.encoding,
                result.date_format,
                json.dumps(result.mapping, ensure_ascii=False),
                result.rows_in,
                result.rows_loaded,
                result.rows_updated,
                result.rows_rejected,
                result.rows_duplicate,
            ],
        )
        before_commit()
    return import_id


def cleanup(db: DuckDBEngine, staged: readers.Staged | None) -> None:
    """Drop every temporary object of the import (and the staged file's temporary copies)."""
    db.execute("DROP VIEW IF EXISTS temp.wb_lines")
    for t in TEMP_TABLES:
        db.execute(f"DROP TABLE IF EXISTS temp.{t}")
    db.execute("DROP VIEW IF EXISTS temp.wb_lines_loadable")
    for v in _PHONE_LOOKUPS:
        with contextlib.suppress(EngineError):
            db.unregister(v)
    readers.drop_staging(db)
    if staged:
        staged.cleanup()


@contextlib.contextmanager
def scratch_warehouse() -> Iterator[DuckDBEngine]:
    """An empty in-memory warehouse (a dry run when the warehouse file does not exist yet)."""
    from winback.warehouse.connection import connect

    db = DuckDBEngine(connect(":memory:"))
    try:
        yield db
    finally:
        db.close()


def conflicts_shown(db: DuckDBEngine, limit: int) -> list[dict[str, Any]]:
    """The first `limit` conflicting keys of the import being planned: {key, fields: {field: {rows, values,
    kept}}}, phones masked."""
    from winback.common.phones import mask_phone  # phonenumbers: imported only when conflicts are shown

    out: dict[str, dict[str, Any]] = {}
    for key, field, rows, values, kept in load_master.conflicts_shown(db, limit):
        if field == "phone":
            values, kept = [mask_phone(v) for v in values], mask_phone(kept)
        entry = out.setdefault(key, {"key": key, "fields": {}})
        entry["fields"][field] = {"rows": rows, "values": values, "kept": kept}
    return list(out.values())
