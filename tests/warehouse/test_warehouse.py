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


@pytest.mark.usefixtures("english")
def test_read_only_missing_file_is_clear(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no warehouse"):
        connect(tmp_path / "nope.duckdb", read_only=True)


def _holder(db_path: Path) -> subprocess.Popen[str]:
    """Another process that holds the file for writing until its stdin closes (prints "locked" once it does)."""
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
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.usefixtures("english")
def test_locked_file_names_the_holder(db_path: Path) -> None:
    connect(db_path).close()
    holder = _holder(db_path)
    try:
        with pytest.raises(WarehouseLockedError, match=f"process {holder.pid}, which holds it for writing"):
            connect(db_path)
        with pytest.raises(WarehouseLockedError, match=r"cannot read it \(waited 0.2 s\)") as info:
            connect(db_path, read_only=True, lock_wait=0.2)
        assert "WINBACK_LOCK_WAIT" in str(info.value.hint)
    finally:
        holder.communicate("")


def test_a_busy_file_is_waited_for(db_path: Path) -> None:
    """The holder lets go while we wait (released from the wait's own callback, so no timing is assumed)."""
    connect(db_path).close()
    holder = _holder(db_path)
    waited: list[bool] = []

    def release() -> None:
        waited.append(True)
        holder.communicate("")

    try:
        con = connect(db_path, lock_wait=60, on_wait=release)
        con.close()
    finally:
        if holder.poll() is None:
            holder.communicate("")
    assert waited == [True]
