"""Opening the warehouse file: lock handling and migrations."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from winback.errors import EngineError, InputError, WarehouseLockedError
from winback.i18n import _
from winback.warehouse.migrate import Step, migrate

_PID = re.compile(r"PID (\d+)")
#: the first pause between two tries on a busy file (doubling up to _MAX_PAUSE)
_FIRST_PAUSE, _MAX_PAUSE = 0.05, 1.0


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    threads: int | None = None,
    hooks: Mapping[str, Step] | None = None,
    lock_wait: float = 0.0,
    on_wait: Callable[[], object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file (creating it and applying migrations unless read-only; `hooks`: see migrate()).

    A file another process holds is tried again with doubling pauses for up to `lock_wait` seconds (the
    `lock_wait` setting); `on_wait` is called once when the waiting starts. Then WarehouseLockedError says who
    holds it and what to do."""
    path = Path(path)
    if read_only and not path.exists():
        raise InputError(
            _("no warehouse at {path}", path=path),
            hint=_("Import data first (winback import …) or run `winback demo`, or point --db / WINBACK_DB at it."),
        )
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if not read_only:
        private_files()
    config: dict[str, str | int] = {}
    if threads:
        config["threads"] = threads
    con = _open_waiting(path, read_only, config, lock_wait, on_wait)
    if not read_only:
        try:
            migrate(con, hooks)
        except BaseException:
            con.close()
            raise
    return con


def private_files() -> None:
    """Make every file this process creates from now on private to its user (the umask gains 077).

    DuckDB creates the warehouse, its write-ahead log (deleted at each checkpoint and created again by the next
    write) and its spill directory with the process umask; they hold every member's phone. Narrowing the umask once,
    for the life of a process that writes the warehouse, makes them 0600 (0700) whatever umask it was started with."""
    current = os.umask(0o077)
    os.umask(current | 0o077)


def _open_waiting(
    path: Path, read_only: bool, config: dict[str, str | int], lock_wait: float, on_wait: Callable[[], object] | None
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + max(lock_wait, 0.0)
    pause = _FIRST_PAUSE
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise EngineError(_("cannot open the warehouse {path}: {text}", path=path, text=text)) from exc
            left = deadline - time.monotonic()
            if left <= 0:
                raise _locked(path, text, lock_wait, read_only) from exc
            if on_wait is not None and pause == _FIRST_PAUSE:
                on_wait()
            time.sleep(min(pause, left))
            pause = min(pause * 2, _MAX_PAUSE)


def _locked(path: Path, text: str, waited: float, read_only: bool) -> WarehouseLockedError:
    pid = _PID.search(text)
    who = _("process {pid}", pid=pid.group(1)) if pid else _("another process")
    after = _(" (waited {seconds:g} s)", seconds=waited) if waited > 0 else ""
    want = _("read it") if read_only else _("write to it")
    return WarehouseLockedError(
        _(
            "the warehouse {path} is in use by {who}, which holds it for writing; cannot {want}{after}",
            path=path,
            who=who,
            want=want,
            after=after,
        ),
        hint=_(
            "Only one process may write to it, and none may read while it does: wait for the other command to "
            "finish (or stop it) and try again, or allow a longer wait with WINBACK_LOCK_WAIT=SECONDS."
        ),
    )


@contextmanager
def open_warehouse(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
