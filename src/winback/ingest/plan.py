"""What an import will do, counted before anything is written; shared by every kind's loader."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest.readers import READER_REJECTS, STAGED
from winback.ingest.sqltext import names_of, q
from winback.ingest.validate import PARSED, json_object_sql

Apply = Callable[[DuckDBEngine, int], None]


@dataclass
class Plan:
    rows_loaded: int = 0  # inserted + updated (in file rows)
    rows_updated: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    notes: list[str] = field(default_factory=list)
    status_changes: int = 0  # orders: status changes of orders already in the warehouse (recorded)
    identical_lines: int = 0  # orders: lines repeating an earlier line of their order exactly (kept)
    conflicts: int = 0  # master data: keys whose repeated rows disagree on a value
    apply: Apply | None = None  # writes the plan inside the caller's transaction


def scalar(db: DuckDBEngine, sql: str) -> int:
    """The first value of the first row as an int (0 when there is none or it is NULL)."""
    value = db.scalar(sql)
    return int(value) if value is not None else 0


def count_parse_rejects(db: DuckDBEngine) -> int:
    return scalar(db, f"SELECT count(*) FROM {PARSED} WHERE _err IS NOT NULL") + scalar(
        db, f"SELECT count(*) FROM {READER_REJECTS}"
    )


def write_rejects(db: DuckDBEngine, import_id: int, extra_sql: str | None = None) -> None:
    """Rows the reader could not split, rows that failed validation, and `extra_sql` (row_number, reason, raw)."""
    db.execute(f"INSERT INTO rejects SELECT {import_id}, row_number, reason, raw FROM {READER_REJECTS}")
    db.execute(f"INSERT INTO rejects SELECT {import_id}, _row, _err, _raw FROM {PARSED} WHERE _err IS NOT NULL")
    if extra_sql:
        db.execute(f"INSERT INTO rejects SELECT {import_id}, row_number, reason, raw FROM ({extra_sql})")


def raw_rows_sql(columns: Mapping[str, str] | Sequence[str], rows_table: str) -> str:
    """(_row, raw JSON) for the rows listed in `rows_table(_row)`, read back from the staging relation (`columns`:
    the file's columns -> their staging names)."""
    raw = json_object_sql([(c, q(n)) for c, n in names_of(columns).items()])
    return f"SELECT s._row, {raw} AS raw FROM {STAGED} s SEMI JOIN {rows_table} r ON s._row = r._row"
