"""DuckDB engine: runs SQL as written, on the warehouse connection."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pyarrow as pa

from winback.engine.base import copy_into_warehouse
from winback.errors import EngineError


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: list[object] | None = None) -> pa.Table:
        try:
            # The relational API hands Arrow over without the extra copy a DB-API result makes.
            return self.con.sql(sql, params=params or None).to_arrow_table()
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB failed: {exc}") from exc

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        try:
            self.con.execute(sql, params or [])
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB failed: {exc}") from exc

    def register(self, name: str, table: pa.Table) -> None:
        self.con.register(name, table)

    def unregister(self, name: str) -> None:
        self.con.unregister(name)

    def insert_into_warehouse(
        self, con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], sql: str
    ) -> int:
        """INSERT INTO … SELECT in place when `con` is this engine's connection, else via Arrow."""
        if con is not self.con:
            return copy_into_warehouse(self, con, table, columns, sql)
        cols = ", ".join(f'"{c}"' for c in columns)
        try:
            row = self.con.execute(f'INSERT INTO "{table}" ({cols}) {sql}').fetchone()
        except duckdb.Error as exc:
            raise EngineError(f"DuckDB failed writing {table}: {exc}") from exc
        return int(row[0]) if row else 0
