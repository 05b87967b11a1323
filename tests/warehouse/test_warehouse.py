from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from winback.errors import InputError, WarehouseLockedError
from winback.warehouse import connect, current_version, migrate
from winback.warehouse.migrate import available_migrations


def test_migrations_apply_once(con) -> None:
    latest = available_migrations()[-1][0]
    assert current_version(con) == latest
    assert migrate(con) == []
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"members", "orders", "order_items", "imports", "rejects", "stores", "staff", "events"} <= tables


def test_read_only_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no warehouse"):
        connect(tmp_path / "nope.duckdb", read_only=True)


def test_locked_file_names_the_holder(db_path: Path) -> None:
    connect(db_path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(db_path)!r})
                print("locked", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseLockedError, match=f"process {holder.pid}"):
            connect(db_path)
    finally:
        holder.communicate("")
