"""One context manager for atomic writes to the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction on `con`: all of its writes are kept, or none.

    BEGIN TRANSACTION on entry, COMMIT when the block ends normally. On any exception, KeyboardInterrupt and
    SystemExit included (an interrupted import must leave the warehouse unchanged), ROLLBACK and re-raise the
    exception unchanged. A COMMIT that fails is rolled back the same way. Yields `con`.
    """
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
