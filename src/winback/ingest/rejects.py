"""Rows that could not be loaded: list them, or export them for someone to fix."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from winback.common.export import csv_cell, private_file, write_parquet
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError, NotFoundError
from winback.i18n import _
from winback.ingest.types import ConflictList, RejectList

_EXPORT_FORMATS = {".csv": "csv", ".parquet": "parquet", ".json": "json", ".jsonl": "json"}


def _where(import_id: int | None) -> str:
    return "" if import_id is None else f"WHERE r.import_id = {int(import_id)}"


def _check_import(db: DuckDBEngine, import_id: int | None) -> None:
    if import_id is None:
        return
    if not db.scalar("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]):
        raise NotFoundError(
            _("there is no import {import_id}", import_id=import_id),
            hint=_("`winback rejects` without --import lists every import's rejects."),
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


#: a Chinese mobile number inside a rejected row's text (11 digits from 13x..19x, maybe +86 and - or spaces), with
#: the characters around it so that longer digit runs (order ids, barcodes) are left alone; RE2 has no lookbehind
_MOBILE_IN_TEXT = r"(^|[^0-9])(?:\+?86[- ]?)?(1[3-9][0-9])[- ]?[0-9]{4}[- ]?([0-9]{4})($|[^0-9])"
_MASKED_COLUMNS = ("raw", "reason", "message")


def masked_rejects(table: pa.Table) -> pa.Table:
    """`table` with every mobile number in its raw values, reasons and messages masked like every other phone
    (138****5678) (pure; vectorised)."""
    for name in _MASKED_COLUMNS:
        if name not in table.column_names:
            continue
        col = table.column(name)
        for _twice in range(2):  # twice: two numbers separated by one character share that character
            col = pc.replace_substring_regex(col, _MOBILE_IN_TEXT, r"\1\2****\3\4")
        table = table.set_column(table.column_names.index(name), name, col)
    return table


def list_rejects(
    db: DuckDBEngine, import_id: int | None = None, limit: int = 50, *, show_phones: bool = False
) -> RejectList:
    """The rejected rows (phones in their raw values masked unless `show_phones`)."""
    _check_import(db, import_id)
    total = _total(db, import_id)
    table = db.query(_select(import_id) + f" LIMIT {int(limit)}")
    rows = (table if show_phones else masked_rejects(table)).to_pylist()
    return RejectList(import_id, total, rows)


def export_rejects(db: DuckDBEngine, path: Path, import_id: int | None = None, *, show_phones: bool = False) -> int:
    """Write the rejects to CSV (UTF-8 with BOM, opens in Excel), Parquet or JSON lines, privately (0600) and
    atomically, phones in the raw values masked unless `show_phones`; returns the row count."""
    fmt = _EXPORT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            _("cannot export rejects to {file}", file=path.name),
            hint=_("Use a file name ending in .csv, .parquet or .jsonl."),
        )
    _check_import(db, import_id)
    table = db.query(_select(import_id))
    return _write(table if show_phones else masked_rejects(table), path, fmt)


def audit_unmasked(
    db: DuckDBEngine, *, at: dt.datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> None:
    """One entry in the audit log (migration 010's `audit_log`, which the web console writes too) for rejects shown
    or exported with full phone numbers: who, when, what (`action`: phone_reveal | export), which file or rows."""
    db.execute(
        "INSERT INTO audit_log (logged_at, username, role, action, target, detail) VALUES (?, ?, NULL, ?, ?, ?)",
        [at, actor, action, target, json.dumps(detail, ensure_ascii=False)],
    )


def _write(table: pa.Table, path: Path, fmt: str) -> int:
    """Through the shared safe writer: a private file renamed into place (not COPY, which follows the umask)."""
    if fmt == "csv":  # with a BOM so that Excel reads the Chinese text
        return _write_csv(table, path)
    if fmt == "parquet":
        return write_parquet(table, path)
    with private_file(path) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8", newline="\n")
        for row in table.to_pylist():
            text.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        text.flush()
        text.detach()
    return table.num_rows


def _write_csv(table: Any, path: Path) -> int:
    """An Arrow table of rejects as CSV with a BOM, batch by batch (None is an empty cell, as csv writes it); text
    that would start a formula gets a leading '."""
    n = 0
    with private_file(path) as raw:
        fh = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        w = csv.writer(fh)
        w.writerow(table.column_names)
        for batch in table.to_batches(max_chunksize=10_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            w.writerows([csv_cell(v) if isinstance(v, str) else v for v in row] for row in zip(*columns, strict=True))
            n += batch.num_rows
        fh.flush()
        fh.detach()
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
            _("cannot export conflicts to {file}", file=path.name),
            hint=_("Use a file name ending in .csv, .parquet or .jsonl."),
        )
    _check_import(db, import_id)
    return _write(db.query(_conflicts_select(import_id)), path, fmt)
