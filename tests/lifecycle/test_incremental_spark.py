"""Issue 14 on Spark: the incremental refresh on the Spark engine gives the snapshot the DuckDB engine gives, after
a full first refresh, a day of imported orders, a status change and a merge (the same operations on two
warehouses; each Spark refresh reads the warehouse tables exported to Parquet, as the CLI does)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from test_incremental_refresh import Brand

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.refresh import RefreshResult, refresh

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


def _on_spark(db: DuckDBEngine, session: SparkSession, as_of: dt.date) -> RefreshResult:
    from winback.engine.spark import spark_engine_for_warehouse

    engine = spark_engine_for_warehouse(db, session=session)
    try:
        return refresh(engine, db, as_of, refit_change=-1.0)
    finally:
        engine.close()


def _rows(db: DuckDBEngine, as_of: dt.date) -> list[dict[str, Any]]:
    return db.dicts("SELECT * FROM member_snapshot WHERE as_of = ? ORDER BY member_id", [as_of])


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def test_incremental_refresh_on_spark_equals_duckdb(tmp_path: Path, spark: SparkSession) -> None:
    brand = Brand(tmp_path, 40)
    brand.members()
    brand.add_orders([((7 * i) % 40, (11 * i) % 88, 40 + i % 70, True) for i in range(240)])
    duck, lake = brand.dbs
    first, second = dt.date(2024, 4, 1), dt.date(2024, 4, 3)
    refresh(duck, duck, first, refit_change=-1.0)
    on_spark = _on_spark(lake, spark, first)
    assert on_spark.facts and on_spark.facts["mode"] == "full"
    brand.add_orders([(3, 91, 70, True), (5, 92, 80, True), (6, 60, 15, True)])  # two new days, one late order
    brand.flip_status(4)
    brand.merge(1, 2)
    inc_duck = refresh(duck, duck, second, refit_change=-1.0)
    inc_spark = _on_spark(lake, spark, second)
    assert inc_duck.facts == inc_spark.facts and inc_spark.facts and inc_spark.facts["mode"] == "incremental"
    assert inc_spark.engine == "spark"
    assert inc_duck.segments == inc_spark.segments
    for day in (first, second):
        a, b = _rows(duck, day), _rows(lake, day)
        assert len(a) == len(b) > 0
        for ra, rb in zip(a, b, strict=True):
            diff = {k: (ra[k], rb[k]) for k in ra if not _same(ra[k], rb[k])}
            assert not diff, f"{day} member {ra['member_id']}: DuckDB vs Spark {diff}"
    for db in brand.dbs:
        db.close()
