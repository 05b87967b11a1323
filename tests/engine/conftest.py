"""One SparkSession for the whole test session (starting a JVM costs ~10 s), and a shared fixture data set."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from winback.engine.spark import SparkEngine, SparkOptions, spark_available, start_session

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark_session() -> Iterator[SparkSession]:
    missing = spark_available()
    if missing:
        pytest.skip(f"Spark tests need pyspark and Java: {missing}")
    local = tempfile.mkdtemp(prefix="winback-spark-tests-")
    session = start_session(SparkOptions(master="local[2]", driver_memory="1g", shuffle_partitions=2, local_dir=local))
    yield session
    session.stop()


@pytest.fixture
def spark_engine(spark_session: SparkSession) -> Iterator[SparkEngine]:
    """A SparkEngine on the shared session; views it created are dropped afterwards."""
    engine = SparkEngine(spark_session)
    before = set(engine.table_names())
    yield engine
    for name in set(engine.table_names()) - before:
        engine.unregister(name)
    engine.close()
