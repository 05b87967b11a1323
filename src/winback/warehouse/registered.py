"""One context manager for Python data (Arrow tables, record batches) that SQL on the warehouse reads by name."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, data: Any) -> Iterator[str]:
    """Make `data` (anything `con.register` takes) readable as the view `name` for the block; yields the name.
    The view is gone afterwards, also when the block raises (a later statement cannot read stale rows)."""
    con.register(name, data)
    try:
        yield name
    finally:
        con.unregister(name)
