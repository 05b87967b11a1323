"""Query results as lists of dicts (column name → value)."""

from __future__ import annotations

from typing import Any

import duckdb

from winback.errors import InputError


def dict_rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
    try:
        cur = con.execute(sql, params or [])
    except duckdb.CatalogException as exc:
        raise InputError(
            f"the warehouse lacks a table or column this command needs ({exc})",
            hint="Run `winback init` to bring its schema up to date, then `winback refresh` for the snapshot.",
        ) from exc
    cols = [d[0] for d in cur.description or []]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
