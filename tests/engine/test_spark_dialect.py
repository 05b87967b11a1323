"""The same DuckDB-dialect SQL gives the same rows on DuckDB and, transpiled, on Spark."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pytest
from dialect_cases import CASES, assert_same, fixture_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.engine import DuckDBEngine
from winback.engine.spark import SparkEngine

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

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


moments = st.datetimes(min_value=dt.datetime(2019, 1, 1), max_value=dt.datetime(2026, 12, 31))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(moments, moments), min_size=1, max_size=40))
def test_date_diff_agrees_on_random_moments(
    pairs: list[tuple[dt.datetime, dt.datetime]], duck: DuckDBEngine, spark_session: SparkSession
) -> None:
    """DuckDB counts unit boundaries; the translated SQL must too, for every unit the refresh could use."""
    rows = pa.table(
        {
            "i": list(range(len(pairs))),
            "a": pa.array([p[0] for p in pairs], pa.timestamp("us")),
            "b": pa.array([p[1] for p in pairs], pa.timestamp("us")),
        }
    )
    units = ("day", "week", "month", "quarter", "year", "hour")
    sql = (
        "SELECT i, "
        + ", ".join(f"date_diff('{u}', a, b) AS {u}" for u in units)
        + ", date_diff('day', CAST(a AS DATE), CAST(b AS DATE)) AS days_of_dates FROM pairs ORDER BY i"
    )
    spark = SparkEngine(spark_session)
    duck.register("pairs", rows)
    spark.register("pairs", rows)
    try:
        assert_same(duck.query(sql).to_pylist(), spark.query(sql).to_pylist())
    finally:
        duck.unregister("pairs")
        spark.unregister("pairs")
