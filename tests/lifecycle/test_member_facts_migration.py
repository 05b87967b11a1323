"""Migration 030: member_facts.member_id is stored uncompressed (the full rebuild's write no longer pays DuckDB's
DICT_FSST analysis of every distinct member id). A warehouse upgraded from 029 keeps every fact row (every
version, open and closed) and every snapshot date reads exactly as before; refreshes go on as usual."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest
from lc_helpers import AS_OF, add_orders, build_small

from winback.app import Winback
from winback.config import Settings
from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.refresh import refresh
from winback.warehouse.migrate import available_migrations

FINGERPRINT = "SELECT as_of, count(*), sum(hash(t)::HUGEINT) FROM member_snapshot t GROUP BY as_of ORDER BY as_of"


def _before_030(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in available_migrations():
        if version < 30:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
    return con


def _member_id_sql(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'member_facts'").fetchone()
    assert row is not None
    return str(row[0])


def test_migration_30_keeps_every_fact_row_and_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "v29.duckdb"
    old = _before_030(path)
    build_small(old)
    wh = DuckDBEngine(old)
    later = AS_OF + dt.timedelta(days=20)
    refresh(wh, wh, later)
    add_orders(old, [("L1", "M001", "2024-07-05 10:00:00", 88.0, "paid")])
    refresh(wh, wh, AS_OF)  # a backfill: versions closed and reopened around it
    refresh(wh, wh, later + dt.timedelta(days=3))
    facts = old.execute("SELECT * FROM member_facts ORDER BY ALL").fetchall()
    snapshots = old.execute(FINGERPRINT).fetchall()
    segments = old.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall()
    assert old.execute("SELECT count(*) FROM member_facts WHERE valid_to IS NOT NULL").fetchone()[0] > 0  # type: ignore[index]
    assert len(snapshots) == 3
    assert "USING COMPRESSION" not in _member_id_sql(old)
    old.close()

    con = Winback(Settings(db_path=path)).db().con  # as every entry point: migrates 030
    assert "member_id VARCHAR USING COMPRESSION Uncompressed NOT NULL" in _member_id_sql(con)
    assert con.execute("SELECT * FROM member_facts ORDER BY ALL").fetchall() == facts
    assert con.execute(FINGERPRINT).fetchall() == snapshots
    assert con.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall() == segments
    db = DuckDBEngine(con)
    refresh(db, db, later + dt.timedelta(days=5))  # the upgraded table takes new rows
    assert con.execute(FINGERPRINT).fetchall()[:3] == snapshots
    con.execute("CHECKPOINT")
    kinds = con.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('member_facts') "
        "WHERE column_name = 'member_id' AND segment_type = 'VARCHAR'"
    ).fetchall()
    assert kinds == [("Uncompressed",)]
    con.close()


def test_migration_30_refuses_a_copy_that_differs(tmp_path: Path) -> None:
    """The migration's check: a copy with a row missing fails the upgrade, and nothing is changed."""
    path = tmp_path / "v29.duckdb"
    old = _before_030(path)
    build_small(old)
    wh = DuckDBEngine(old)
    refresh(wh, wh, AS_OF)
    before = old.execute("SELECT * FROM member_facts ORDER BY ALL").fetchall()
    sql = next(sql for version, _name, sql in available_migrations() if version == 30)
    lossy = sql.replace("INSERT INTO member_facts_030 SELECT * FROM member_facts;",
                        "INSERT INTO member_facts_030 SELECT * FROM member_facts LIMIT 1;")  # fmt: skip
    assert lossy != sql
    old.execute("BEGIN")
    with pytest.raises(duckdb.Error, match="migration 030"):
        old.execute(lossy)
    old.execute("ROLLBACK")
    assert old.execute("SELECT * FROM member_facts ORDER BY ALL").fetchall() == before
    assert "USING COMPRESSION" not in _member_id_sql(old)
    old.close()
