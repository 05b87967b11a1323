"""The background jobs' SQL: DuckDB's thread pool held below the machine's cores while a job runs, so that one core
stays free for the pages and the tills (DuckDB's `threads` is a setting of the database instance: every cursor of
the server's warehouse, the job's and the tills' rounds alike, shares the one pool)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from winback.web.store_users import Warehouse


@contextlib.contextmanager
def threads_at_most(db: Warehouse, n: int) -> Iterator[None]:
    """DuckDB's `threads` at most `n` (at least 1) while the block runs, then as it was."""
    before = int(db.scalar("SELECT current_setting('threads')") or 1)
    n = max(1, int(n))
    if n >= before:
        yield
        return
    db.execute(f"SET threads = {n}")
    try:
        yield
    finally:
        db.execute(f"SET threads = {before}")
