"""Rows that could not be loaded: list them, or export them for someone to fix."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from winback.errors import InputError, NotFoundError
from winback.ingest.sqltext import lit

_EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json"}


@dataclass
class RejectList:
    import_id: int | None
    total: int
    rows: list[dict[str, Any]]  # import_id, file, row_number, reason, raw, message

    def to_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "total": self.total, "shown": len(self.rows), "rejects": self.rows}


def _where(import_id: int | None) -> str:
    return "" if import_id is None else f"WHERE r.import_id = {int(import_id)}"


def _check_import(con: duckdb.DuckDBPyConnection, import_id: int | None) -> None:
    if import_id is None:
        return
    row = con.execute("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]).fetchone()
    if not row or not row[0]:
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


def list_rejects(con: duckdb.DuckDBPyConnection, import_id: int | None = None, limit: int = 50) -> RejectList:
    _check_import(con, import_id)
    total_row = con.execute(f"SELECT count(*) FROM rejects r {_where(import_id)}").fetchone()
    cur = con.execute(_select(import_id) + f" LIMIT {int(limit)}")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return RejectList(import_id, int(total_row[0]) if total_row else 0, rows)


def export_rejects(con: duckdb.DuckDBPyConnection, path: Path, import_id: int | None = None) -> int:
    """Write the rejects to CSV (UTF-8 with BOM, opens in Excel), Parquet or JSON lines; returns the row count."""
    fmt = _EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot export rejects to {path.name}", hint="Use a file name ending in .csv, .parquet or .jsonl."
        )
    _check_import(con, import_id)
    if fmt == "csv":  # written here, not by COPY, to start with a BOM so that Excel reads the Chinese text
        cur = con.execute(_select(import_id))
        n = 0
        with path.open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([d[0] for d in cur.description])
            while batch := cur.fetchmany(10_000):
                w.writerows(batch)
                n += len(batch)
        return n
    con.execute(f"COPY ({_select(import_id)}) TO {lit(str(path))} (FORMAT {fmt})")
    row = con.execute(f"SELECT count(*) FROM rejects r {_where(import_id)}").fetchone()
    return int(row[0]) if row else 0
