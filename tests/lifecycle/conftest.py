from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from lc_helpers import AS_OF, build_small

from winback.engine import DuckDBEngine
from winback.lifecycle.refresh import refresh
from winback.warehouse import connect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hand-built warehouse refreshed at 2024-03-01 and at AS_OF (2024-07-01); read-only for tests."""
    path = tmp_path_factory.mktemp("lifecycle") / "small.duckdb"
    con = connect(path)
    build_small(con)
    eng = DuckDBEngine(con)
    refresh(eng, eng, AS_OF.replace(month=3))
    refresh(eng, eng, AS_OF)
    con.close()
    return path


@pytest.fixture
def small(small_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(small_db, read_only=True)
    yield con
    con.close()


@pytest.fixture
def small_wh(small: duckdb.DuckDBPyConnection) -> DuckDBEngine:
    """The `small` warehouse as the lifecycle functions take it."""
    return DuckDBEngine(small)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local SparkSession for the lifecycle room's Spark parity tests (marker spark); skipped without Spark."""
    from winback.engine.spark import SparkOptions, spark_available, start_session

    missing = spark_available()
    if missing:
        pytest.skip(f"Spark is unavailable: {missing}")
    yield start_session(SparkOptions(master="local[1]", driver_memory="1g"))
