"""The background jobs' SQL: DuckDB's thread pool held below the machine's cores while a job runs, so that one core
stays free for the pages and the tills (DuckDB's `threads` is a setting of the database instance: every cursor of
the server's warehouse, the job's and the tills' rounds alike, shares the one pool); and the checkpoints, which the
writer makes after its jobs instead of a till's commit making them.

A checkpoint (the write-ahead log folded into the database file) runs inside whichever commit finds the log past
`checkpoint_threshold` (DuckDB's default: 16 MiB) with no other writer at work: in a server that refreshes while the
tills redeem, that was often a till round's COMMIT (0.2-1 s at a 2M-member brand, every till of the round waiting).
The server raises the threshold to AUTO_CHECKPOINT, a backstop, and the writer checkpoints after a job once the log
is past CHECKPOINT_AFTER."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from winback.errors import EngineError
from winback.web.store_users import Warehouse

#: the log's size at which any commit checkpoints (a backstop: the writer checkpoints long before)
AUTO_CHECKPOINT = "1GiB"
#: the log's size past which the writer checkpoints after a job (a refresh that changed nothing logs ~5 MB)
CHECKPOINT_AFTER = 64 * 2**20


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


def hold_checkpoints(db: Warehouse) -> None:
    """Commits checkpoint only past AUTO_CHECKPOINT of log (for the database instance, until it closes)."""
    db.execute(f"SET checkpoint_threshold = '{AUTO_CHECKPOINT}'")


def checkpoint_if_due(db: Warehouse, path: Path | str) -> bool:
    """CHECKPOINT when the log of the warehouse at `path` is past CHECKPOINT_AFTER; False when it was not due, or
    could not be made now (another writer at work: the next job's end tries again)."""
    try:
        if os.path.getsize(f"{path}.wal") < CHECKPOINT_AFTER:
            return False
    except OSError:  # no log: nothing to fold in
        return False
    try:
        db.execute("CHECKPOINT")
    except EngineError:
        return False
    return True
