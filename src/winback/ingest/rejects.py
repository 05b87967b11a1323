"""Rows that could not be loaded: list them, or export them for someone to fix."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError, NotFoundError
from winback.ingest.sqltext import lit
from winback.ingest.types import ConflictList, RejectList

_EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json"}


def _where(import_id: int | None) -> str:
    return "" if import_id is None else f"WHERE r.import_id = {int(import_id)}"


def _check_import(db: DuckDBEngine, import_id: int | None) -> None:
    if import_id is None:
        return
    if not db.scalar("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]):
        raise NotFoundError(
            f"there is no import {import_id}", hint="`winback rejects` without --import lists every import's rejects."
        )


def _select(import_id: int | None) -> str:
    return (
        "SELECT r.import_id, i.file, r.row_number, r.reason, CAST(r.raw AS VARCHAR) AS raw, "
        "regexp_extract(i.file, '[^/\\\\]+$') || ' row ' || r.row_number || ': ' || r.reason AS message "
        f"FROM rejects r LEFT JOIN imports i USING (import_id) {_where(import_id)} "
        "ORDER BY r.import_id, r.row_number"
    )


def _total(db: DuckDBEngine, import_id: int | None) -> int:
    return int(db.scalar(f"SELECT count(*) FROM rejects r {_where(import_id)}") or 0)


def list_rejects(db: DuckDBEngine, import_id: int | None = None, limit: int = 50) -> RejectList:
    _check_import(db, import_id)
    total = _total(db, import_id)
    rows = db.dicts(_select(import_id) + f" LIMIT {int(limit)}")
    return RejectList(import_id, total, rows)


def export_rejects(db: DuckDBEngine, path: Path, import_id: int | None = None) -> int:
    """Write the rejects to CSV (UTF-8 with BOM, opens in Excel), Parquet or JSON lines; returns the row count."""
    fmt = _EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot export rejects to {path.name}", hint="Use a file name ending in .csv, .parquet or .jsonl."
        )
    _check_import(db, import_id)
    if fmt == "csv":  # written here, not by COPY, to start with a BOM so that Excel reads the Chinese text
        return _write_csv(db.query(_select(import_id)), path)
    db.execute(f"COPY ({_select(import_id)}) TO {lit(str(path))} (FORMAT {fmt})")
    return _total(db, import_id)


def _write_csv(table: Any, path: Path) -> int:
    """An Arrow table of rejects as CSV with a BOM, batch by batch (None is an empty cell, as csv writes it)."""
    n = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=10_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            w.writerows(zip(*columns, strict=True))
            n += batch.num_rows
    return n


def _conflicts_select(import_id: int | None) -> str:
    masked = (
        "CASE WHEN c.field = 'phone' AND length(c.value) >= 7 THEN left(c.value, 3) || '****' || right(c.value, 4) "
        "ELSE c.value END"
    )
    where = "" if import_id is None else f"WHERE c.import_id = {int(import_id)}"
    return (
        "SELECT c.import_id, i.file, c.kind, c.key, c.field, c.row_number, "
        f"{masked} AS value, c.kept FROM import_conflicts c LEFT JOIN imports i USING (import_id) {where} "
        "ORDER BY c.import_id, c.key, c.field, c.row_number"
    )


def _conflicts_total(db: DuckDBEngine, import_id: int | None) -> int:
    where = "" if import_id is None else f"WHERE import_id = {int(import_id)}"
    return int(db.scalar(f"SELECT count(*) FROM import_conflicts {where}") or 0)


def list_conflicts(db: DuckDBEngine, import_id: int | None = None, limit: int = 50) -> ConflictList:
    """The values on which rows repeating a key disagreed (phones masked), one row per (key, field, row)."""
    _check_import(db, import_id)
    rows = db.dicts(_conflicts_select(import_id) + f" LIMIT {int(limit)}")
    return ConflictList(import_id, _conflicts_total(db, import_id), rows)


def export_conflicts(db: DuckDBEngine, path: Path, import_id: int | None = None) -> int:
    """Write the conflicts to CSV (UTF-8 with BOM), Parquet or JSON lines; returns the row count."""
    fmt = _EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot export conflicts to {path.name}", hint="Use a file name ending in .csv, .parquet or .jsonl."
        )
    _check_import(db, import_id)
    if fmt == "csv":
        return _write_csv(db.query(_conflicts_select(import_id)), path)
    db.execute(f"COPY ({_conflicts_select(import_id)}) TO {lit(str(path))} (FORMAT {fmt})")
    return _conflicts_total(db, import_id)
