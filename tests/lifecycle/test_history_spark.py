"""Issue 14 on Spark: `refresh --history monthly`'s one pass over the orders (history_sql.py) on the Spark engine
writes the member facts the DuckDB engine writes, and every date's snapshot reads the same."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lc_helpers import AS_OF
from test_history import _fill, _snapshot

from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.history import refresh_history
from winback.warehouse import connect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


def test_history_on_spark_equals_duckdb(tmp_path: Path, spark: SparkSession) -> None:
    from winback.engine.spark import spark_engine_for_warehouse

    members = [(10 * i - 30, "VIP" if i % 2 else None) for i in range(12)]
    orders = [(i % 12, (37 * i) % 270, i % 24, 20 + i, "refunded" if i % 9 == 0 else "paid") for i in range(60)]
    dbs = []
    for name in ("duck", "lake"):
        con = connect(tmp_path / f"{name}.duckdb")
        _fill(con, members, orders)
        dbs.append(DuckDBEngine(con))
    duck, lake = dbs
    runs = refresh_history(duck, duck, AS_OF)
    engine = spark_engine_for_warehouse(lake, session=spark)
    try:
        on_spark = refresh_history(engine, lake, AS_OF)
    finally:
        engine.close()
    assert [r.as_of for r in on_spark] == [r.as_of for r in runs]
    facts = "SELECT * FROM member_facts ORDER BY member_id, valid_from"
    assert lake.fetchall(facts) == duck.fetchall(facts)
    for r in runs:
        assert _snapshot(lake, r.as_of) == _snapshot(duck, r.as_of), r.as_of
    for db in dbs:
        db.close()
