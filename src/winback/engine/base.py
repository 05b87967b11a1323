"""The engine interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

from winback.warehouse.registered import registered

if TYPE_CHECKING:
    import duckdb


class Engine(Protocol):
    """Runs DuckDB-dialect SQL somewhere and hands results back as Arrow."""

    name: str

    def query(self, sql: str, params: list[object] | None = None) -> pa.Table:
        """Run a SELECT and return its rows."""
        ...

    def execute(self, sql: str, params: list[object] | None = None) -> None:
        """Run a statement for its effect (CREATE, INSERT …)."""
        ...

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table visible to SQL under `name` for this session."""
        ...

    def unregister(self, name: str) -> None: ...

    def insert_into_warehouse(
        self, con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], sql: str
    ) -> int:
        """Run the SELECT `sql` on this engine and append its rows to the DuckDB warehouse table `table`
        (its columns `columns`, in the SELECT's order) through the warehouse connection `con`; return the row count.

        Used by the lifecycle refresh to write the final snapshot: the heavy SQL runs on the engine, only the result
        lands in the warehouse. DuckDB on the same connection runs `INSERT INTO … SELECT` in place (no Arrow round
        trip). Any other engine (Spark) may simply `return copy_into_warehouse(self, con, table, columns, sql)`,
        which fetches the result as Arrow and inserts it; it must not commit or roll back `con` (the caller holds
        a transaction around several inserts).
        """
        ...


def copy_into_warehouse(
    engine: Engine, con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], sql: str
) -> int:
    """Generic `insert_into_warehouse`: fetch the SELECT's rows from `engine` as Arrow, insert them through `con`."""
    result = engine.query(sql)
    if result.num_rows == 0:
        return 0
    result = result.rename_columns(list(columns))
    view = f"wb_copy_{table}"
    with registered(con, view, result):
        cols = ", ".join(f'"{c}"' for c in columns)
        con.execute(f'INSERT INTO "{table}" ({cols}) SELECT {cols} FROM "{view}"')
    return int(result.num_rows)
