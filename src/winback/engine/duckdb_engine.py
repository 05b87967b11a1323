"""DuckDB engine: runs SQL as written, on the warehouse connection. The warehouse itself is a DuckDBEngine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import duckdb

from winback.engine.base import Engine, Params
from winback.engine.dialect import DIALECTS

if TYPE_CHECKING:  # DuckDB imports pyarrow itself when a result is fetched as Arrow (a CLI import never does)
    import pyarrow as pa

_CONFLICT = (duckdb.TransactionException,)
_CATALOG = (duckdb.CatalogException, duckdb.BinderException)
_CONSTRAINT = (duckdb.ConstraintException,)
_IO = (duckdb.IOException, duckdb.PermissionException)


class DuckDBEngine(Engine):
    dialect = DIALECTS["duckdb"]

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con  # the raw connection: for the warehouse's migrations and for libraries (splink) only

    def _execute(self, sql: str, params: Params) -> None:
        self.con.execute(sql, params or [])

    def _query(self, sql: str, params: Params) -> pa.Table:
        # The relational API hands Arrow over without the extra copy a DB-API result makes.
        return self.con.sql(sql, params=params or None).to_arrow_table()

    def _fetchall(self, sql: str, params: Params) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def _dicts(self, sql: str, params: Params) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        cols = [d[0] for d in cur.description or []]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]

    def _executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        self.con.executemany(sql, rows)

    def _register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def _unregister(self, name: str) -> None:
        self.con.unregister(name)

    def _is_backend_error(self, exc: Exception) -> bool:
        return isinstance(exc, duckdb.Error)

    def _kind(self, exc: Exception) -> str:
        if isinstance(exc, _CONFLICT):
            return "conflict"
        if isinstance(exc, _CONSTRAINT):
            return "constraint"
        if isinstance(exc, _CATALOG):
            return "catalog"
        if isinstance(exc, _IO):
            return "io"
        return "other"

    def _insert_into(self, warehouse: Engine, table: str, columns: Sequence[str], sql: str) -> int:
        """INSERT INTO … SELECT in place when the warehouse is this connection, else via Arrow."""
        if not isinstance(warehouse, DuckDBEngine) or warehouse.con is not self.con:
            return super()._insert_into(warehouse, table, columns, sql)  # type: ignore[arg-type]
        cols = ", ".join(f'"{c}"' for c in columns)
        row = self.con.execute(f'INSERT INTO "{table}" ({cols}) {sql}').fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        self.con.close()
