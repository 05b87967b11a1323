"""The engine interface."""

from __future__ import annotations

from typing import Protocol

import pyarrow as pa


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
