"""Atomicity (a killed or failed import changes nothing) and the CLI (`--json`, rejects, errors)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from ingest_util import write_csv
from typer.testing import CliRunner

from winback.cli.main import app
from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest import import_file
from winback.warehouse import connect

HEADER = ["单号", "会员卡号", "销售时间", "实收金额"]


def _orders(path: Path, start: int, n: int) -> Path:
    return write_csv(
        path, HEADER, [[str(i), f"M{i % 7}", "2024-01-02 10:00", f"{i}.5"] for i in range(start, start + n)]
    )


def _snapshot(db: Path) -> tuple[object, ...]:
    con = connect(db, read_only=True)
    try:
        return tuple(
            con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("orders", "imports", "rejects", "order_items")
        )
    finally:
        con.close()


def test_killed_import_leaves_the_warehouse_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    con = connect(db)
    import_file(DuckDBEngine(con), "orders", _orders(tmp_path / "a.csv", 0, 100))
    con.close()
    before = _snapshot(db)
    big = _orders(tmp_path / "b.csv", 1000, 20_000)
    # the child kills itself with SIGKILL once every row is written inside the transaction, before COMMIT
    child = textwrap.dedent(
        f"""
        import os, signal
        from winback.app import Winback
        from winback.config import Settings
        def progress(stage, done, total):
            if stage == "commit":
                os.kill(os.getpid(), signal.SIGKILL)
        with Winback(Settings.load(db_path={str(db)!r})) as wb:
            wb.ingest.import_file("orders", {str(big)!r}, progress=progress)
        print("not reached")
        """
    )
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not reached" not in proc.stdout
    assert _snapshot(db) == before  # the file still opens and holds exactly what it held
    con = connect(db)
    r = import_file(DuckDBEngine(con), "orders", big)
    assert r.rows_loaded == 20_000
    con.close()


def test_failed_import_rolls_back(con, db, tmp_path: Path) -> None:
    import_file(db, "orders", _orders(tmp_path / "a.csv", 0, 10))
    before = con.execute("SELECT count(*), sum(amount) FROM orders").fetchone()

    def boom(stage: str, done: int, total: int | None) -> None:
        if stage == "commit":
            raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        import_file(db, "orders", _orders(tmp_path / "b.csv", 50, 10), progress=boom)
    assert con.execute("SELECT count(*), sum(amount) FROM orders").fetchone() == before
    assert con.execute("SELECT count(*) FROM imports").fetchone() == (1,)


runner = CliRunner()


def test_cli_json_is_one_object_and_rejects_are_listed(tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    f = write_csv(tmp_path / "o.csv", HEADER, [["1", "M1", "2024-01-02", "5"], ["2", "M1", "2024-01-02", "5,5"]])
    res = runner.invoke(app, ["--db", db, "import", "orders", str(f), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # exactly one JSON object, nothing else
    for key in ("import_id", "rows_in", "rows_loaded", "rows_rejected", "rows_duplicate", "date_format", "encoding"):
        assert key in data
    assert (data["rows_in"], data["rows_loaded"], data["rows_rejected"], data["kind"]) == (2, 1, 1, "orders")
    assert data["mapping"] == {
        "单号": "order_id",
        "会员卡号": "member_id",
        "销售时间": "ordered_at",
        "实收金额": "amount",
    }

    res = runner.invoke(app, ["--db", db, "rejects", "--import", str(data["import_id"]), "--json"])
    listing = json.loads(res.stdout)
    assert listing["total"] == 1
    assert listing["rejects"][0]["message"] == 'o.csv row 2: amount "5,5" is not a number'

    out = tmp_path / "rejects.csv"
    res = runner.invoke(app, ["--db", db, "--lang", "en", "rejects", "--export", str(out)])
    assert res.exit_code == 0 and "1 rejects written" in res.stdout
    assert "5,5" in out.read_text(encoding="utf-8-sig")

    res = runner.invoke(app, ["--db", db, "import", "orders", str(f), "--dry-run", "--json"])
    assert json.loads(res.stdout)["rows_duplicate"] == 1 and json.loads(res.stdout)["import_id"] is None


def test_cli_errors_have_no_traceback(tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    res = runner.invoke(app, ["--db", db, "--lang", "en", "import", "orders", str(tmp_path / "missing.csv")])
    assert res.exit_code == 2 and "no such file" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["--db", db, "import", "orders", str(tmp_path / "missing.csv"), "--json"])
    assert json.loads(res.stdout)["error"]["type"] == "InputError"
    runner.invoke(app, ["--db", db, "init"])
    res = runner.invoke(app, ["--db", db, "--lang", "en", "rejects", "--import", "99"])
    assert res.exit_code == 2 and "there is no import 99" in res.output
    res = runner.invoke(app, ["--db", db, "rejects", "--import", "99"])
    assert res.exit_code == 2 and "没有编号为 99 的导入" in res.output
