"""Engine parity: the lifecycle refresh gives the same snapshot, segments and counts on DuckDB and on Spark."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest
from brand_fixture import AS_OF, build_brand

from winback.engine import DuckDBEngine
from winback.engine.spark import spark_engine_for_warehouse
from winback.lifecycle.refresh import RefreshResult, refresh
from winback.warehouse import connect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def brand_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("parity") / "brand.duckdb"
    con = connect(path)
    build_brand(con)
    con.close()
    return path


@pytest.fixture(scope="module")
def duckdb_run(brand_db: Path) -> tuple[Path, RefreshResult]:
    path = brand_db.with_name("duck.duckdb")
    shutil.copy(brand_db, path)
    con = connect(path)
    wh = DuckDBEngine(con)
    result = refresh(wh, wh, AS_OF)
    con.close()
    return path, result


def _rows(path: Path, table: str) -> list[dict[str, Any]]:
    con = connect(path, read_only=True)
    try:
        rel = con.sql(f"SELECT * FROM {table} ORDER BY ALL")
        cols = rel.columns
        return [dict(zip(cols, r, strict=True)) for r in rel.fetchall()]
    finally:
        con.close()


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def assert_same_tables(left: Path, right: Path, table: str) -> int:
    a, b = _rows(left, table), _rows(right, table)
    assert len(a) == len(b), f"{table}: {len(a)} rows on DuckDB, {len(b)} on Spark"
    for ra, rb in zip(a, b, strict=True):
        diff = {k: (ra[k], rb[k]) for k in ra if not _same(ra[k], rb[k])}
        assert not diff, f"{table} member {ra.get('member_id')}: DuckDB vs Spark {diff}"
    return len(a)


def test_spark_refresh_equals_duckdb(
    brand_db: Path, duckdb_run: tuple[Path, RefreshResult], spark_session: SparkSession
) -> None:
    duck_path, duck_result = duckdb_run
    spark_path = brand_db.with_name("spark.duckdb")
    shutil.copy(brand_db, spark_path)
    con = connect(spark_path)
    wh = DuckDBEngine(con)
    engine = spark_engine_for_warehouse(wh, session=spark_session)  # warehouse tables exported to Parquet
    try:
        spark_result = refresh(engine, wh, AS_OF)
        assert engine.table_names() == ["members", "orders"]  # the refresh's temporary tables were dropped
    finally:
        engine.close()
        con.close()
    assert spark_result.engine == "spark"
    assert spark_result.segments == duck_result.segments
    assert spark_result.breakpoints == duck_result.breakpoints
    assert spark_result.members == duck_result.members > 1000
    assert assert_same_tables(duck_path, spark_path, "member_snapshot") == duck_result.members
    assert assert_same_tables(duck_path, spark_path, "member_segments") > duck_result.members
    # the fixture is not trivial: several segments of every scheme are populated
    for scheme, counts in duck_result.segments.items():
        assert sum(1 for n in counts.values() if n > 0) >= 2, scheme


def test_spark_reads_the_users_parquet(
    tmp_path: Path, brand_db: Path, duckdb_run: tuple[Path, RefreshResult], spark_session: SparkSession
) -> None:
    """`orders`/`members` from the user's own Parquet (a directory of part files) instead of the warehouse."""
    src = duckdb.connect(str(brand_db), read_only=True)
    lake = tmp_path / "lake"
    (lake / "orders").mkdir(parents=True)
    src.execute(
        f"COPY (SELECT * EXCLUDE (extra) FROM orders WHERE status <> 'paid') TO '{lake / 'orders' / 'part-0.parquet'}'"
    )
    src.execute(
        f"COPY (SELECT * EXCLUDE (extra) FROM orders WHERE status = 'paid') TO '{lake / 'orders' / 'part-1.parquet'}'"
    )
    src.execute(f"COPY (SELECT * EXCLUDE (extra) FROM members) TO '{lake / 'members.parquet'}'")
    src.close()
    target = tmp_path / "empty.duckdb"
    con = connect(target)  # an empty warehouse: every input row comes from the lake
    parquet = {"orders": lake / "orders", "members": lake / "members.parquet"}
    wh = DuckDBEngine(con)
    engine = spark_engine_for_warehouse(wh, parquet=parquet, session=spark_session)
    try:
        result = refresh(engine, wh, AS_OF)
    finally:
        engine.close()
        con.close()
    assert result.segments == duckdb_run[1].segments
    assert_same_tables(duckdb_run[0], target, "member_snapshot")
