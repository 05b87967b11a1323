"""member_segments is a view: each snapshot's segments follow from its rows and the rules its refresh used."""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path

import duckdb
import pytest
from lc_helpers import AS_OF, build_small

from winback.app import Winback
from winback.config import Settings
from winback.engine import DuckDBEngine
from winback.errors import EngineError
from winback.lifecycle.refresh import refresh
from winback.lifecycle.rules import default_schemes, parse_schemes
from winback.lifecycle.segments_view import EMPTY_SQL, grouped_runs, segments_view_sql
from winback.lifecycle.store import rebuild_segments_view
from winback.warehouse import connect
from winback.warehouse.migrate import available_migrations

EARLY = AS_OF.replace(month=3)
STRICT = """
[schemes.seed_cn]
zh = "严格分层"
en = "Strict layers"
rules = [
  { segment = "never_purchased", when = "recency_days IS NULL", zh = "无消费", en = "never purchased" },
  { segment = "active", when = "recency_days < 30", zh = "活跃", en = "active (< 30 days)" },
  { segment = "lost", when = "true", zh = "流失", en = "lost" },
]
"""


def _segments(con: duckdb.DuckDBPyConnection, as_of: dt.date, scheme: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = ?", [as_of, scheme]
    ).fetchall()
    return dict(rows)


def _expected(con: duckdb.DuckDBPyConnection, as_of: dt.date, case_sql: str) -> dict[str, str]:
    rows = con.execute(f"SELECT member_id, {case_sql} FROM member_snapshot WHERE as_of = ?", [as_of]).fetchall()
    return dict(rows)


def test_each_snapshot_keeps_the_rules_it_was_refreshed_with(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    build_small(con)
    rules = tmp_path / "strict.toml"
    rules.write_text(STRICT, encoding="utf-8")
    eng = DuckDBEngine(con)
    refresh(eng, eng, EARLY)
    res = refresh(eng, eng, AS_OF, rules_files=[rules])

    strict = parse_schemes(tomllib.loads(STRICT), "strict")["seed_cn"]
    shipped = default_schemes()["seed_cn"]
    early, late = _segments(con, EARLY, "seed_cn"), _segments(con, AS_OF, "seed_cn")
    assert early == _expected(con, EARLY, shipped.case_sql())
    assert late == _expected(con, AS_OF, strict.case_sql())
    assert set(late.values()) <= {"never_purchased", "active", "lost"}
    assert res.segments["seed_cn"] == {s: list(late.values()).count(s) for s in strict.segments}
    # one row per member per scheme of each run, no more
    for as_of in (EARLY, AS_OF):
        n_members = con.execute("SELECT count(*) FROM member_snapshot WHERE as_of = ?", [as_of]).fetchone()
        n_schemes = len(
            json.loads(con.execute("SELECT rules FROM snapshot_runs WHERE as_of = ?", [as_of]).fetchone()[0])
        )
        n_rows = con.execute("SELECT count(*) FROM member_segments WHERE as_of = ?", [as_of]).fetchone()
        assert n_rows[0] == n_members[0] * n_schemes
    # refreshing EARLY again with the shipped rules leaves AS_OF on its strict rules
    refresh(eng, eng, EARLY)
    assert _segments(con, AS_OF, "seed_cn") == late
    con.close()


def test_a_failed_refresh_keeps_the_view(tmp_path: Path, english: None) -> None:
    con = connect(tmp_path / "w.duckdb")
    build_small(con)
    eng = DuckDBEngine(con)
    refresh(eng, eng, AS_OF)
    before = con.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[schemes.bad]\nzh = "坏"\nen = "bad"\nrules = [\n'
        '  { segment = "x", when = "CAST(tier AS INTEGER) > 1", zh = "x", en = "x" },\n'
        '  { segment = "y", when = "true", zh = "y", en = "y" },\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(EngineError, match="applying the schemes failed"):
        refresh(eng, eng, EARLY, rules_files=[bad])
    assert con.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall() == before
    assert con.execute("SELECT count(*) FROM snapshot_runs WHERE as_of = ?", [EARLY]).fetchone() == (0,)
    con.close()


def test_invalid_stored_rules_leave_their_dates_out_and_nothing_else(tmp_path: Path) -> None:
    """A hand-edited snapshot_runs.rules that no longer validates must not break later refreshes or upgrades."""
    con = connect(tmp_path / "w.duckdb")
    build_small(con)
    eng = DuckDBEngine(con)
    refresh(eng, eng, EARLY)
    broken = con.execute("SELECT rules FROM snapshot_runs WHERE as_of = ?", [EARLY]).fetchone()[0]
    con.execute(
        "UPDATE snapshot_runs SET rules = ? WHERE as_of = ?",
        [broken.replace("recency_days < 90", "recency_dayz < 90"), EARLY],
    )
    res = refresh(eng, eng, AS_OF)
    assert any("2024-03-01" in n and "recency_dayz" in n and "winback refresh --as-of" in n for n in res.notes)
    assert con.execute("SELECT count(*) FROM member_segments WHERE as_of = ?", [EARLY]).fetchone() == (0,)
    assert sum(res.segments["seed_cn"].values()) == res.members
    con.close()


def _open_as_the_app(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the file as every entry point does: the app hands warehouse/ the lifecycle room's migration step."""
    return Winback(Settings(db_path=path)).db().con


def _back_to_stored_segments(con: duckdb.DuckDBPyConnection) -> None:
    """Roll the schema back to before migration 005: member_segments the table it was, holding the view's rows;
    the next connect() applies 005, 006, 011 and 015 (the migrations that reshape member_snapshot) again; the
    migrations of other rooms stay applied (007 adds columns and cannot run twice)."""
    con.execute("CREATE TABLE seg_rows AS SELECT * FROM member_segments")
    con.execute("DROP VIEW member_segments")
    con.execute("CREATE TABLE member_segments AS SELECT * FROM seg_rows")
    con.execute("DROP TABLE seg_rows")
    # and before migration 015: member_snapshot the table of rows it was (every column stored)
    con.execute("CREATE TABLE snap_rows AS SELECT * EXCLUDE (expected_revenue_90d, clv_flag) FROM member_snapshot")
    con.execute("DROP VIEW member_snapshot")
    for table in ("member_snapshot_stored", "member_facts", "snapshot_priors", "snapshot_predictions"):
        con.execute(f"DROP TABLE {table}")
    con.execute("ALTER TABLE snap_rows RENAME TO member_snapshot")
    con.execute("""UPDATE snapshot_runs SET settings = json_merge_patch(settings, '{"storage": null}')""")
    con.execute("DELETE FROM schema_migrations WHERE version IN (5, 6, 11, 15)")


def test_migration_keeps_segment_rows_the_rules_cannot_explain(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = connect(path)
    build_small(con)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF)
    _back_to_stored_segments(con)
    con.execute("INSERT INTO member_segments VALUES (?, 'hand_made', 'u1', 'special')", [AS_OF])
    con.close()

    con = _open_as_the_app(path)
    kept = con.execute("SELECT * FROM member_segments_v4 WHERE scheme = 'hand_made'").fetchall()
    assert kept == [(AS_OF, "hand_made", "u1", "special")]
    assert con.execute("SELECT count(*) FROM member_segments WHERE scheme = 'hand_made'").fetchone() == (0,)
    con.close()


def test_migration_turns_stored_segments_into_the_view(tmp_path: Path) -> None:
    """A warehouse from before migration 005 (member_segments a table) keeps every snapshot's segments."""
    path = tmp_path / "old.duckdb"
    con = connect(path)
    build_small(con)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF)
    expected = con.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall()
    _back_to_stored_segments(con)
    con.close()

    con = _open_as_the_app(path)  # applies 005 and rebuilds the view from snapshot_runs
    kinds = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = 'member_segments'")
    assert kinds.fetchone() == ("VIEW",)
    assert con.execute("SELECT * FROM member_segments ORDER BY ALL").fetchall() == expected
    gone = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'member_segments_v4'")
    assert gone.fetchone() == (0,)  # the view reproduced every stored row, so the old rows were dropped
    assert max(v for v, _, _ in available_migrations()) >= 5
    con.close()


def test_view_sql_shape() -> None:
    assert segments_view_sql([]) == EMPTY_SQL
    shipped = list(default_schemes().values())
    rules = json.dumps({s.name: s.to_dict() for s in shipped}, ensure_ascii=False)
    relabelled = json.loads(rules)
    relabelled["seed_cn"]["zh"], relabelled["seed_cn"]["source"] = "另一个名字", "/elsewhere/rules.toml"
    runs, problems = grouped_runs([(EARLY, rules), (AS_OF, json.dumps(relabelled))])
    assert not problems
    assert len(runs) == 1 and runs[0][0] == [EARLY, AS_OF]  # same predicates share their branches
    sql = segments_view_sql(runs)
    assert sql.count("UNION ALL") == len(shipped) - 1
    assert "COALESCE(value_layer, CASE" in sql and "COALESCE(lifecycle_stage, CASE" in sql


def test_empty_warehouse_has_an_empty_view(tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    assert con.execute("SELECT count(*) FROM member_segments").fetchone() == (0,)
    rebuild_segments_view(DuckDBEngine(con))
    cols = [r[0] for r in con.execute("DESCRIBE member_segments").fetchall()]
    assert cols == ["as_of", "scheme", "member_id", "segment"]
    con.close()


def test_derived_snapshot_columns_agree_with_the_refresh(small: duckdb.DuckDBPyConnection) -> None:
    """The generated columns (recency_days, overdue_ratio, …) give the values the refresh computed its stored
    lifecycle stage from: re-applying the lifecycle rules to the table's rows reproduces lifecycle_stage."""
    lifecycle = default_schemes()["lifecycle"]
    rows = small.execute(
        f"SELECT count(*), count(*) FILTER (WHERE lifecycle_stage = {lifecycle.case_sql()}) FROM member_snapshot"
    ).fetchone()
    assert rows is not None and rows[0] > 0 and rows[0] == rows[1]


def test_migration_6_keeps_every_snapshot_value(tmp_path: Path) -> None:
    """A warehouse at schema 5 (every snapshot column stored) migrates to generated columns with the same rows."""
    ref = connect(tmp_path / "ref.duckdb")
    build_small(ref)
    wh = DuckDBEngine(ref)
    refresh(wh, wh, AS_OF)
    # the columns migration 011 added are not in a schema-5 table (and stay NULL in rows migrated from it)
    added = "EXCLUDE (expected_revenue_90d, clv_flag)"
    expected = ref.sql(f"SELECT * {added} FROM member_snapshot ORDER BY member_id").fetchall()
    ref.execute(f"COPY (SELECT * {added} FROM member_snapshot) TO '{tmp_path / 'snap.parquet'}' (FORMAT parquet)")
    ref.close()

    path = tmp_path / "v5.duckdb"
    old = duckdb.connect(str(path))
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)")
    for version, name, sql in available_migrations():
        if version <= 5:
            old.execute(sql)
            old.execute("INSERT INTO schema_migrations VALUES (?, ?, current_timestamp::TIMESTAMP)", [version, name])
    old.execute(f"INSERT INTO member_snapshot SELECT * FROM read_parquet('{tmp_path / 'snap.parquet'}')")
    old.close()

    con = connect(path)
    assert con.sql(f"SELECT * {added} FROM member_snapshot ORDER BY member_id").fetchall() == expected
    new_values = "SELECT count(*) FROM member_snapshot WHERE clv_flag IS NOT NULL OR expected_revenue_90d IS NOT NULL"
    assert con.execute(new_values).fetchall() == [(0,)]
    generated = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'member_snapshot_stored' AND is_generated "
        "AND column_name IN ('recency_days', 'aov', 'rfm_code')"
    ).fetchone()
    assert generated == (3,)
    with pytest.raises(duckdb.BinderException, match="generated column"):
        con.execute(
            "INSERT INTO member_snapshot_stored (as_of, member_id, orders, purchase_days, monetary, recency_days) "
            "VALUES (DATE '2024-01-01', 'x', 0, 0, 0, 5)"
        )
    con.close()
