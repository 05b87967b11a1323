"""Issue 14: history without copies. Snapshots are rebuilt from the member facts valid at their date (the
member_snapshot view); migration 015 keeps every snapshot stored before it, row for row; an extra snapshot date
stores only the facts that changed and its small tables; a refresh at an earlier date (backfill) leaves the later
dates exactly as they were."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from lc_helpers import AS_OF, add_orders, build_small

from winback.app import Winback
from winback.config import Settings
from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.refresh import refresh
from winback.warehouse import connect
from winback.warehouse.migrate import available_migrations

RUN_TABLES = ("snapshot_runs", "model_fits")


def _rows(con: duckdb.DuckDBPyConnection, table: str, as_of: dt.date | None = None) -> list[tuple[object, ...]]:
    where = f" WHERE as_of = DATE '{as_of}'" if as_of else ""
    return con.execute(f"SELECT * FROM {table}{where} ORDER BY ALL").fetchall()


def test_migration_15_keeps_every_stored_snapshot(tmp_path: Path) -> None:
    """A warehouse at schema 14 with a stored snapshot (rows, runs, fits) upgrades to the view with the same rows
    and segments; a later refresh adds a date without touching it; refreshing the old date replaces its rows
    with facts and reads the same."""
    ref = connect(tmp_path / "ref.duckdb")
    build_small(ref)
    wh = DuckDBEngine(ref)
    refresh(wh, wh, AS_OF)
    expected = _rows(ref, "member_snapshot")
    segments = _rows(ref, "member_segments")
    for table in ("member_snapshot", *RUN_TABLES, "members", "orders"):
        ref.execute(f"COPY (SELECT * FROM {table}) TO '{tmp_path / table}.parquet' (FORMAT parquet)")
    ref.close()

    path = tmp_path / "v14.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in available_migrations():
        if version <= 14:
            old.execute(sql)
            old.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
    cols = {"member_snapshot": "* EXCLUDE (frequency, aov, tenure_days, recency_days, first_purchase_days, "
            "span_days, overdue_ratio, rfm_code)"}  # fmt: skip
    for table in ("member_snapshot", *RUN_TABLES, "members", "orders"):
        described = f"DESCRIBE SELECT {cols.get(table, '*')} FROM read_parquet('{tmp_path / table}.parquet')"
        names = ", ".join(r[0] for r in old.execute(f"SELECT column_name FROM ({described})").fetchall())
        old.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM read_parquet('{tmp_path / table}.parquet')")
    # as before 015: the settings say nothing about facts (the snapshot's rows are the record)
    old.execute("UPDATE snapshot_runs SET settings = json_object('cycle', json_extract(settings, '$.cycle'))")
    old.close()

    con = Winback(Settings(db_path=path)).db().con  # as every entry point: migrates 015 with the room's step
    assert con.execute("SELECT count(*) FROM member_facts").fetchone() == (0,)
    assert _rows(con, "member_snapshot") == expected
    assert _rows(con, "member_segments") == segments
    db = DuckDBEngine(con)
    later = AS_OF + dt.timedelta(days=10)
    refresh(db, db, later)
    assert _rows(con, "member_snapshot", AS_OF) == expected  # the stored date is untouched
    refresh(db, db, AS_OF)  # the old date again: now from facts, the same rows
    assert con.execute("SELECT count(*) FROM member_snapshot_stored").fetchone() == (0,)
    assert _rows(con, "member_snapshot", AS_OF) == expected
    con.close()


def test_backfill_keeps_later_dates_and_extra_dates_store_only_changes(tmp_path: Path) -> None:
    """A refresh at a date before existing snapshots (a backfill) leaves them reading exactly as before; a refresh
    at a new date with a few new orders adds fact rows only for the members who bought."""
    con = connect(tmp_path / "w.duckdb")
    build_small(con)
    db = DuckDBEngine(con)
    refresh(db, db, AS_OF)
    late = AS_OF + dt.timedelta(days=30)
    add_orders(con, [("n1", "m2", "2024-07-10 10:00:00", 30, "paid")])
    refresh(db, db, late, full=True)
    before = {d: _rows(con, "member_snapshot", d) for d in (AS_OF, late)}
    rows_before = con.execute("SELECT count(*) FROM member_facts").fetchone()
    early = AS_OF - dt.timedelta(days=60)
    refresh(db, db, early)  # backfill between nothing and AS_OF
    for d, rows in before.items():
        assert _rows(con, "member_snapshot", d) == rows, d
    assert len(_rows(con, "member_snapshot", early)) > 0
    assert rows_before is not None
    growth = con.execute("SELECT count(*) FROM member_facts").fetchone()
    assert growth is not None and growth[0] > rows_before[0]
    # the later date re-read through the view equals a fresh warehouse's full rebuild at that date
    fresh = connect(tmp_path / "fresh.duckdb")
    build_small(fresh)
    add_orders(fresh, [("n1", "m2", "2024-07-10 10:00:00", 30, "paid")])
    fdb = DuckDBEngine(fresh)
    refresh(fdb, fdb, late)
    assert _rows(fresh, "member_snapshot", late) == before[late]
    fresh.close()
    con.close()


def test_migration_15_refuses_a_view_that_loses_rows(tmp_path: Path) -> None:
    """The upgrade's check can fail: a rebuilt view missing a stored row rolls the whole upgrade back."""
    import pytest

    from winback.warehouse.migrate import REBUILD_SEGMENTS_VIEW, migrate

    path = tmp_path / "v14.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in available_migrations():
        if version <= 14:
            old.execute(sql)
            old.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
    old.execute(
        "INSERT INTO member_snapshot (as_of, member_id, orders, purchase_days, monetary) "
        "VALUES (DATE '2024-07-01', 'm1', 1, 1, 10), (DATE '2024-07-01', 'm2', 0, 0, 0)"
    )

    def lossy(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("CREATE OR REPLACE VIEW member_snapshot AS SELECT * FROM member_snapshot_stored LIMIT 1")

    with pytest.raises(RuntimeError, match="differs from the stored snapshots"):
        migrate(old, {REBUILD_SEGMENTS_VIEW: lossy})
    assert old.execute("SELECT max(version) FROM schema_migrations").fetchone() == (14,)
    assert old.execute("SELECT count(*) FROM member_snapshot").fetchone() == (2,)
    kind = old.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'member_snapshot'")
    assert kind.fetchone() == ("BASE TABLE",)
    old.close()
