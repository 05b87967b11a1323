"""Opening the warehouse file: lock handling and migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from winback.errors import EngineError, InputError, WarehouseLockedError
from winback.warehouse.migrate import Step, migrate

_PID = re.compile(r"PID (\d+)")


def connect(
    path: Path | str,
    *,
    read_only: bool = False,
    threads: int | None = None,
    hooks: Mapping[str, Step] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the DuckDB file (creating it and applying migrations unless read-only; `hooks`: see migrate())."""
    path = Path(path)
    if read_only and not path.exists():
        raise InputError(
            f"no warehouse at {path}",
            hint="Import data first (winback import …) or run `winback demo`, or point --db / WINBACK_DB at it.",
        )
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, str | int] = {}
    if threads:
        config["threads"] = threads
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            pid = _PID.search(text)
            who = f"process {pid.group(1)}" if pid else "another process"
            raise WarehouseLockedError(
                f"the warehouse {path} is in use by {who}",
                hint=("Only one writer may hold it: wait for the other command to finish, or stop it, and try again."),
            ) from exc
        raise EngineError(f"cannot open the warehouse {path}: {text}") from exc
    if not read_only:
        try:
            migrate(con, hooks)
        except BaseException:
            con.close()
            raise
    return con


@contextmanager
def open_warehouse(path: Path | str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()
