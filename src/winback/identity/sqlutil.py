"""Small DuckDB helpers. DuckDB 2 keeps a result open until it is fully fetched, so never stop at fetchone()."""

from __future__ import annotations

from typing import Any

import duckdb


def first_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> tuple[Any, ...] | None:
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    row = first_row(con, sql, params)
    return None if row is None else row[0]
