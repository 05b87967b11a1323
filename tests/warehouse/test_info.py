from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from winback.cli.main import app
from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest.service import import_file
from winback.warehouse.info import warehouse_info


def test_info_counts_tables_and_lists_last_imports(con, db_path: Path, tmp_path: Path) -> None:
    f = tmp_path / "stores.csv"
    f.write_text("门店编号,门店名称,城市\nSH001,上海徐汇店,上海\nBJ001,北京朝阳店,北京\n", encoding="utf-8")
    import_file(DuckDBEngine(con), "stores", f)
    info = warehouse_info(con).to_dict()
    assert info["tables"]["stores"] == 2 and info["tables"]["imports"] == 1
    assert info["views"] == ["member_segments", "member_snapshot"] and "member_segments" not in info["tables"]
    (last,) = info["last_imports"]
    assert (last["kind"], last["rows_in"], last["rows_loaded"], last["rows_rejected"]) == ("stores", 2, 2, 0)
    con.close()
    res = CliRunner().invoke(app, ["--db", str(db_path), "info", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["last_imports"][0]["file"].endswith("stores.csv")
