"""DuckDB engine: runs SQL as written, on the warehouse connection."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from winback.errors import EngineError


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: list[object] | None = None) -> pa.Table:
        try:
            return self.con.execute(sql, params or []).to_arrow_table()
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
