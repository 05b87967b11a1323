"""Where a running server announces itself to the CLI: `<warehouse>.server`, a private file (0600) next to the
warehouse with its url, token and pid (web/cli_bridge.py, cli/remote.py). Light: the CLI reads it on every
command, so this module imports nothing heavy."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: the read-only commands: they run at once (on their own cursor); every other command queues as a writer job
READS = frozenset({"scenarios", "segments", "transitions", "members", "explain", "overview", "quality", "rejects",
                   "funnel", "info", "staff"})  # fmt: skip


def server_file(db_path: Path | str) -> Path:
    """Where a server announces itself: next to the warehouse file."""
    return Path(f"{Path(db_path).resolve()}.server")


@contextmanager
def announced(db_path: Path | str, url: str, token: str) -> Iterator[Path]:
    """Write the server file (0600, replacing a stale one) for the block; remove it after, if still ours."""
    path = server_file(db_path)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, f)
    try:
        yield path
    finally:
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
                path.unlink()
        except (OSError, ValueError):
            pass


def command_of(argv: list[str]) -> str | None:
    """The command name of a winback argument list (after the global --db/--lang options)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--db", "--lang"):
            i += 2
            continue
        if a.startswith("-"):
            i += 1
            continue
        return a
    return None
