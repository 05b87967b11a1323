"""`winback refresh --engine spark --json` on the shared SparkSession: one JSON object on stdout, the snapshot in
the warehouse, orders read from the Parquet path in the environment, the session left running for other tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from brand_fixture import AS_OF, build_brand
from typer.testing import CliRunner

from winback.cli.main import app
from winback.warehouse import connect

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

pytestmark = pytest.mark.spark


def test_refresh_cli_on_spark(tmp_path: Path, spark_session: SparkSession, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "wb.duckdb"
    con = connect(db)
    build_brand(con, members=300)
    lake = tmp_path / "orders.parquet"
    con.execute(f"COPY (SELECT * EXCLUDE (extra) FROM orders) TO '{lake}' (FORMAT parquet)")
    con.execute("DELETE FROM orders")  # the orders now exist only in the "lake"
    con.close()
    monkeypatch.setenv("WINBACK_SPARK_ORDERS_PARQUET", str(lake))
    monkeypatch.setenv("WINBACK_SPARK_TMP", str(tmp_path))
    args = ["--db", str(db), "refresh", "--engine", "spark", "--as-of", str(AS_OF), "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout[:2000]
    data = json.loads(lines[0])
    assert data["engine"] == "spark"
    assert data["as_of"] == AS_OF.isoformat()
    check = duckdb.connect(str(db), read_only=True)
    try:
        stored = check.execute("SELECT count(*), count(last_purchase) FROM member_snapshot").fetchall()[0]
    finally:
        check.close()
    assert stored[0] == data["members"] and stored[1] > 0  # purchases came from the lake
    assert not list(tmp_path.glob("winback-spark-export-*"))  # the warehouse export was removed
    assert spark_session.sql("SELECT 1 AS one").collect()[0].one == 1  # the shared session was not stopped


def test_missing_lake_path_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINBACK_SPARK_ORDERS_PARQUET", str(tmp_path / "no-such-dir"))
    args = ["--lang", "en", "--db", str(tmp_path / "wb.duckdb"), "refresh", "--engine", "spark", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "InputError"
    assert "Parquet path(s) not found: orders=" in error["message"]


def test_parquet_paths_without_spark_are_refused(tmp_path) -> None:
    from typer.testing import CliRunner

    from winback.cli.main import app

    res = CliRunner().invoke(
        app,
        ["--lang", "en", "--db", str(tmp_path / "wb.duckdb"), "refresh", "--orders-parquet", "/lake/orders/", "--json"],
    )
    assert res.exit_code == 2
    assert "Spark engine only" in res.stdout
