from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from winback.warehouse import transaction


@pytest.fixture
def mem() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("CREATE TABLE t (x INTEGER)")
    c.execute("INSERT INTO t VALUES (0)")
    yield c
    c.close()


def _rows(c: duckdb.DuckDBPyConnection) -> list[int]:
    return [r[0] for r in c.execute("SELECT x FROM t ORDER BY x").fetchall()]


def _in_transaction(c: duckdb.DuckDBPyConnection) -> bool:
    # BEGIN fails inside an open transaction; a plain read does not tell.
    try:
        c.execute("BEGIN TRANSACTION")
    except duckdb.TransactionException:
        return True
    c.execute("ROLLBACK")
    return False


def test_commits_on_success(mem: duckdb.DuckDBPyConnection) -> None:
    with transaction(mem) as c:
        assert c is mem
        mem.execute("INSERT INTO t VALUES (1), (2)")
    assert not _in_transaction(mem)
    assert _rows(mem) == [0, 1, 2]


def test_commits_on_a_warehouse_file(con: duckdb.DuckDBPyConnection) -> None:
    with transaction(con):
        con.execute("CREATE TABLE tx_probe (x INTEGER)")
        con.execute("INSERT INTO tx_probe VALUES (7)")
    assert con.execute("SELECT x FROM tx_probe").fetchall() == [(7,)]


def test_rolls_back_on_exception(mem: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError), transaction(mem):
        mem.execute("INSERT INTO t VALUES (1)")
        mem.execute("UPDATE t SET x = x + 10")
        raise ValueError("boom")
    assert not _in_transaction(mem)
    assert _rows(mem) == [0]


def test_rolls_back_on_keyboard_interrupt(mem: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(KeyboardInterrupt), transaction(mem):
        mem.execute("INSERT INTO t VALUES (1)")
        raise KeyboardInterrupt
    assert not _in_transaction(mem)
    assert _rows(mem) == [0]


def test_rolls_back_on_a_failing_statement(mem: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error), transaction(mem):
        mem.execute("INSERT INTO t VALUES (1)")
        mem.execute("INSERT INTO no_such_table VALUES (1)")
    assert not _in_transaction(mem)
    assert _rows(mem) == [0]


def test_exception_propagates_unchanged(mem: duckdb.DuckDBPyConnection) -> None:
    err = RuntimeError("original")
    with pytest.raises(RuntimeError) as info, transaction(mem):
        raise err
    assert info.value is err
    assert info.value.args == ("original",)
    assert info.value.__cause__ is None


def test_usable_again_after_rollback(mem: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError), transaction(mem):
        mem.execute("INSERT INTO t VALUES (1)")
        raise ValueError
    with transaction(mem):
        mem.execute("INSERT INTO t VALUES (2)")
    assert _rows(mem) == [0, 2]
