"""The same DuckDB-dialect SQL gives the same rows on DuckDB and, transpiled, on Spark."""

from __future__ import annotations

import duckdb
import pytest
from dialect_cases import CASES, assert_same, fixture_table

from winback.engine import DuckDBEngine
from winback.engine.spark import SparkEngine

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def duck() -> DuckDBEngine:
    con = duckdb.connect()
    engine = DuckDBEngine(con)
    engine.register("t", fixture_table())
    return engine


@pytest.fixture
def spark(spark_engine: SparkEngine) -> SparkEngine:
    spark_engine.register("t", fixture_table())
    return spark_engine


@pytest.mark.parametrize("sql", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_same_rows_on_both_engines(sql: str, duck: DuckDBEngine, spark: SparkEngine) -> None:
    assert_same(duck.query(sql).to_pylist(), spark.query(sql).to_pylist())
