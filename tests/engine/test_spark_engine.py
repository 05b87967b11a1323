"""SparkEngine: the Engine protocol on Spark, offline configuration, clear errors, warehouse export."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from winback.config import Settings
from winback.engine.spark import (
    SparkEngine,
    SparkOptions,
    export_tables,
    spark_available,
    spark_engine_for_warehouse,
    spark_engine_from_settings,
    start_session,
)
from winback.errors import ConfigError, EngineError, InputError

pytestmark = pytest.mark.usefixtures("english")  # these tests assert the English wording

if TYPE_CHECKING:
    import duckdb
    from pyspark.sql import SparkSession

    from winback.engine.duckdb_engine import DuckDBEngine


def _orders() -> pa.Table:
    return pa.table(
        {
            "member_id": ["a", "a", "b"],
            "ordered_at": pa.array(
                [dt.datetime(2024, 1, 1, 23), dt.datetime(2024, 1, 2, 1), dt.datetime(2024, 2, 1)], pa.timestamp("us")
            ),
            "amount": pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.20"), None], pa.decimal128(18, 2)),
        }
    )


# -- no Spark needed -------------------------------------------------------------------------------------------


def test_offline_configuration() -> None:
    conf = SparkOptions(local_dir="/tmp/x").conf()
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.driver.bindAddress"] == conf["spark.driver.host"] == "127.0.0.1"
    assert int(conf["spark.sql.shuffle.partitions"]) <= 16
    assert not any(k.startswith("spark.jars") for k in conf)


def test_jar_downloads_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"spark.jars.packages.*download"):
        SparkOptions(extra_conf={"spark.jars.packages": "org.apache:foo:1.0"}).conf()


def test_missing_java_is_a_clear_engine_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no java on PATH
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert spark_available() == "no Java runtime was found (java is not on PATH and JAVA_HOME is not set)"
    with pytest.raises(EngineError) as info:
        start_session()
    assert "Spark engine is unavailable" in info.value.message
    assert 'pip install "winback[spark]"' in str(info.value.hint) and "Java 17" in str(info.value.hint)


def test_missing_pyspark_is_a_clear_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "pyspark", None)  # import pyspark → ImportError
    assert spark_available() == "pyspark is not installed"
    with pytest.raises(EngineError, match="pyspark is not installed"):
        start_session()


def test_export_writes_json_columns_as_text(con: duckdb.DuckDBPyConnection, db: DuckDBEngine, tmp_path: Path) -> None:
    con.execute(
        "INSERT INTO members (member_id, phone_status, source, extra) VALUES ('m1', 'missing', 'erp', '{\"k\": 1}')"
    )
    paths = export_tables(db, ["members", "orders"], tmp_path / "x")
    back = con.execute(f"SELECT member_id, extra, typeof(extra) FROM '{paths['members']}'").fetchall()
    assert back == [("m1", '{"k": 1}', "VARCHAR")]
    assert con.execute(f"SELECT count(*) FROM '{paths['orders']}'").fetchall() == [(0,)]
    with pytest.raises(EngineError, match="no table 'nope'"):
        export_tables(db, ["nope"], tmp_path / "y")


def test_missing_parquet_path_is_an_input_error(db: DuckDBEngine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"Parquet path\(s\) not found: orders="):
        spark_engine_for_warehouse(db, parquet={"orders": tmp_path / "nothing-here"})


# -- on the shared SparkSession --------------------------------------------------------------------------------


@pytest.mark.spark
def test_session_is_offline_and_utc(spark_session: SparkSession) -> None:
    conf = spark_session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark_session.sparkContext.master.startswith("local")


@pytest.mark.spark
def test_arrow_round_trip_keeps_types(spark_engine: SparkEngine) -> None:
    spark_engine.register("o", _orders())
    out = spark_engine.query("SELECT * FROM o ORDER BY ordered_at")
    assert out.schema.field("ordered_at").type == pa.timestamp("us")  # naive, like DuckDB's TIMESTAMP
    assert out.schema.field("amount").type == pa.decimal128(18, 2)
    assert out.to_pylist() == _orders().to_pylist()


@pytest.mark.spark
def test_parameters(spark_engine: SparkEngine) -> None:
    spark_engine.register("o", _orders())
    rows = spark_engine.query(
        "SELECT member_id, date_diff('day', ordered_at, CAST(? AS DATE)) AS d FROM o WHERE member_id = ? "
        "ORDER BY ordered_at",
        ["2024-01-03", "a"],
    ).to_pylist()
    assert rows == [{"member_id": "a", "d": 2}, {"member_id": "a", "d": 1}]


@pytest.mark.spark
def test_create_table_as_select_is_materialised(spark_engine: SparkEngine) -> None:
    spark_engine.register("o", _orders())
    spark_engine.execute(
        "CREATE OR REPLACE TEMP TABLE per_member AS SELECT member_id, sum(amount) AS m FROM o GROUP BY 1"
    )
    spark_engine.unregister("o")  # the source is gone; the table holds its own rows
    assert spark_engine.query("SELECT * FROM per_member ORDER BY member_id").to_pylist() == [
        {"member_id": "a", "m": decimal.Decimal("3.30")},
        {"member_id": "b", "m": None},
    ]
    with pytest.raises(EngineError, match="table per_member already exists"):
        spark_engine.execute("CREATE TABLE per_member AS SELECT 1 AS x")
    spark_engine.execute("CREATE TABLE IF NOT EXISTS per_member AS SELECT 1 AS x")  # no-op
    spark_engine.execute("INSERT INTO per_member SELECT 'c', 4.5")
    spark_engine.execute("INSERT INTO per_member (m, member_id) SELECT 1, 'd'")
    assert spark_engine.query("SELECT member_id, m FROM per_member WHERE member_id >= 'c' ORDER BY 1").to_pylist() == [
        {"member_id": "c", "m": decimal.Decimal("4.50")},
        {"member_id": "d", "m": decimal.Decimal("1.00")},
    ]
    spark_engine.execute("DROP TABLE per_member")
    assert "per_member" not in spark_engine.table_names()
    spark_engine.execute("DROP TABLE IF EXISTS per_member")
    with pytest.raises(EngineError, match="table per_member does not exist"):
        spark_engine.execute("DROP TABLE per_member")


@pytest.mark.spark
def test_views_and_scripts(spark_engine: SparkEngine) -> None:
    spark_engine.execute("CREATE VIEW v AS SELECT 1 AS x; CREATE TEMP TABLE w AS SELECT x / 4 AS y FROM v")
    assert spark_engine.query("SELECT y FROM w").to_pylist() == [{"y": 0.25}]


@pytest.mark.spark
def test_errors_name_the_translated_sql(spark_engine: SparkEngine) -> None:
    with pytest.raises(EngineError) as info:
        spark_engine.query("SELECT no_such_column FROM (SELECT 1 AS x) s")
    assert info.value.message.startswith("Spark failed:")
    assert "no_such_column" in str(info.value.hint)
    with pytest.raises(EngineError, match="INSERT INTO elsewhere is not supported on Spark"):
        spark_engine.execute("INSERT INTO elsewhere SELECT 1")
    with pytest.raises(EngineError, match="without AS SELECT"):
        spark_engine.execute("CREATE TABLE t2 (x INTEGER)")


@pytest.mark.spark
def test_insert_into_warehouse(spark_engine: SparkEngine, con: duckdb.DuckDBPyConnection, db: DuckDBEngine) -> None:
    spark_engine.register("o", _orders())
    con.execute("CREATE TABLE landed (as_of DATE, scheme VARCHAR, member_id VARCHAR, segment VARCHAR)")
    n = spark_engine.insert_into_warehouse(
        db,
        "landed",
        ["as_of", "scheme", "member_id", "segment"],
        "SELECT DATE '2024-03-01', 'x', member_id, 'active' FROM o GROUP BY member_id",
    )
    assert n == 2
    assert con.execute("SELECT member_id FROM landed ORDER BY 1").fetchall() == [("a",), ("b",)]


@pytest.mark.spark
def test_settings_and_environment_point_at_the_lake(
    spark_session: SparkSession, db: DuckDBEngine, tmp_path: Path
) -> None:
    lake = tmp_path / "lake.parquet"
    import pyarrow.parquet as pq

    pq.write_table(_orders(), lake)
    environ = {"WINBACK_DB": str(tmp_path / "wb.duckdb"), "WINBACK_ENGINE": "spark"}
    settings = Settings.load({**environ, "WINBACK_SPARK_ORDERS_PARQUET": str(lake)})
    engine = spark_engine_from_settings(settings, db, session=spark_session)
    try:
        assert engine.query("SELECT count(*) AS n FROM orders").to_pylist() == [{"n": 3}]  # from the lake
        assert engine.query("SELECT count(*) AS n FROM members").to_pylist() == [{"n": 0}]  # exported warehouse
        tmp_dir = engine._tmp_dir
        assert tmp_dir is not None and tmp_dir.exists()
    finally:
        engine.close()
    assert not tmp_dir.exists()  # the export is removed on close
    assert not spark_session.sparkContext._jsc.sc().isStopped()  # a shared session is not stopped
