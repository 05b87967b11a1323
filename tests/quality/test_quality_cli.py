"""`winback quality` on the command line: one JSON object, tables for people, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from winback.cli.main import app
from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity import planted
from winback.identity.service import dedupe
from winback.identity.store import insert_planted
from winback.quality.service import quality_report
from winback.warehouse import connect

runner = CliRunner()


def test_json_is_the_service_report(tmp_path: Path) -> None:
    db = tmp_path / "q.duckdb"
    con = connect(db)
    insert_planted(DuckDBEngine(con), planted.generate(300, seed=3))
    dedupe(DuckDBEngine(con))
    expected = json.loads(json.dumps(quality_report(DuckDBEngine(con), by="source").to_dict(), default=str))
    con.close()
    result = runner.invoke(app, ["--db", str(db), "quality", "--by", "source", "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert got.pop("db") == str(db)
    assert got == expected
    assert got["total"]["measures"]["suspected_duplicate"]["count"] > 0
    human = runner.invoke(app, ["--db", str(db), "--lang", "en", "quality", "--by", "store"])
    assert human.exit_code == 0 and "missing profile fields" in human.output and "by store" in human.output


def test_missing_warehouse_and_bad_grouping(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "--lang", "en", "quality", "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["message"].startswith("no warehouse")
    result = runner.invoke(app, ["--db", str(tmp_path / "none.duckdb"), "quality", "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["message"].endswith("处没有数据仓库")
    connect(tmp_path / "q.duckdb").close()
    result = runner.invoke(app, ["--db", str(tmp_path / "q.duckdb"), "--lang", "en", "quality", "--by", "city"])
    assert result.exit_code == 2 and "cannot group" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["--db", str(tmp_path / "q.duckdb"), "quality", "--by", "city"])  # zh by default
    assert result.exit_code == 2 and "无法按 'city' 分组" in result.output and "Traceback" not in result.output
