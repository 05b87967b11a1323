"""The Spark hand-off exports warehouse tables to Parquet under a temp directory; that path goes into the COPY as
an escaped string literal, so a directory holding a quote works (it used to break the SQL). No Spark session needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from winback.engine.duckdb_engine import DuckDBEngine
from winback.engine.spark import export_tables


@pytest.mark.parametrize("dirname", ["it's here", "a''b", "x' (FORMAT csv); --", "back\\slash 'q'"])
def test_export_tables_into_a_directory_with_quotes(tmp_path: Path, dirname: str) -> None:
    db = DuckDBEngine(duckdb.connect())
    db.execute("CREATE TABLE members (member_id VARCHAR, name VARCHAR, extra JSON)")
    db.execute("""INSERT INTO members VALUES ('M1', '张三', '{"a": 1}'), ('M2', 'O''Brien', NULL)""")
    out = export_tables(db, ["members"], tmp_path / dirname)
    path = out["members"]
    assert path == tmp_path / dirname / "members.parquet"
    assert path.exists()
    table = pq.read_table(path)
    assert sorted(table.column("member_id").to_pylist()) == ["M1", "M2"]
    assert table.schema.field("extra").type == "string"  # JSON goes to Spark as text
    # nothing was written outside the given directory
    assert [p.name for p in tmp_path.iterdir()] == [dirname]
