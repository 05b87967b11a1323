"""Shared helpers for ingest tests (a plain module: test folders are not packages)."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb


def write_csv(
    path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ","
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter)
        w.writerow(header)
        w.writerows(rows)
    return path


def table_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    out = {}
    for t in ("members", "orders", "order_items", "stores", "staff", "events", "imports", "rejects"):
        row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
        out[t] = int(row[0]) if row else 0
    return out


def parse_column(kind: str, field: str, values: Sequence[str | None]) -> tuple[list[tuple[Any, str | None]], Any]:
    """Run the real validation SQL on one column of text; returns [(typed value, reject reason)], date decision."""
    import pyarrow as pa

    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.ingest.aliases import ColumnMapping
    from winback.ingest.readers import STAGED
    from winback.ingest.validate import PARSED, build_parsed, detect_date_shapes
    from winback.ingest.values_sql import decide_date_format

    con = duckdb.connect()
    con.register("src", pa.table({"_row": list(range(1, len(values) + 1)), "col": pa.array(values, pa.string())}))
    con.execute(f"CREATE TEMP VIEW {STAGED} AS SELECT * FROM src")
    mapping = ColumnMapping(fields={field: "col"})
    db = DuckDBEngine(con)
    decision = decide_date_format(detect_date_shapes(db, kind, mapping, {}))
    build_parsed(db, kind, mapping, ["col"], decision.dm_order)
    out = con.execute(f"SELECT {field}, _err FROM {PARSED} ORDER BY _row").fetchall()
    con.close()
    return [(r[0], r[1]) for r in out], decision
