"""Issue 15, "`rejects --json/--export` print raw phones": through the CLI, the phones inside rejected rows are
masked in the listing, in --json and in every export format; `--show-phones` shows them whole and each such
reveal or export is in the audit log (migration 010's table, the one the web console writes) with who, when,
what and which file."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()
PHONE = "13812345678"


@pytest.fixture()
def wh(tmp_path: Path) -> str:
    """A warehouse whose one members import rejected a row carrying a full mobile number."""
    f = tmp_path / "members.csv"
    f.write_text(f"会员编号,姓名,手机号,注册时间\nM1,张三,13912345670,2024-01-02\n,李四,{PHONE},2024-01-03\n",
                 encoding="utf-8")  # fmt: skip
    db = str(tmp_path / "wb.duckdb")
    res = runner.invoke(app, ["--db", db, "import", "members", str(f), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows_rejected"] == 1
    return db


def _audit(db: str) -> list[tuple]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(
            "SELECT username, action, target, detail, logged_at FROM audit_log ORDER BY audit_id"
        ).fetchall()


def test_listing_and_json_are_masked_and_not_audited(wh: str) -> None:
    for args in (["rejects"], ["--lang", "en", "rejects"]):
        res = runner.invoke(app, ["--db", wh, *args])
        assert res.exit_code == 0 and "members.csv" in res.output and PHONE not in res.output
    res = runner.invoke(app, ["--db", wh, "rejects", "--json"])
    assert res.exit_code == 0 and PHONE not in res.stdout
    assert "138****5678" in json.loads(res.stdout)["rejects"][0]["raw"]
    assert _audit(wh) == []


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_exports_are_masked_private_and_not_audited(wh: str, tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"r.{ext}"
    res = runner.invoke(app, ["--db", wh, "rejects", "--export", str(out), "--json"])
    assert res.exit_code == 0, res.output
    text = str(pq.read_table(out).to_pylist()) if ext == "parquet" else out.read_text(encoding="utf-8-sig")
    assert PHONE not in text and "138****5678" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert _audit(wh) == []


def test_show_phones_reveal_is_audited(wh: str) -> None:
    res = runner.invoke(app, ["--db", wh, "rejects", "--show-phones", "--json"])
    assert res.exit_code == 0, res.output
    assert PHONE in json.loads(res.stdout)["rejects"][0]["raw"]
    [(who, action, target, detail, at)] = _audit(wh)
    assert who.startswith("cli") and action == "phone_reveal" and target == "rejects" and at is not None
    assert json.loads(detail) == {"what": "rejects", "import_id": None, "rows": 1, "phones": "full"}


def test_show_phones_export_is_audited_with_the_file(wh: str, tmp_path: Path) -> None:
    out = tmp_path / "full.csv"
    res = runner.invoke(app, ["--db", wh, "--lang", "en", "rejects", "--export", str(out), "--show-phones"])
    assert res.exit_code == 0, res.output
    assert PHONE in out.read_text(encoding="utf-8-sig")
    assert "recorded in the audit log" in res.output
    [(who, action, target, detail, _at)] = _audit(wh)
    assert (who.startswith("cli"), action, target) == (True, "export", "full.csv")
    d = json.loads(detail)
    assert d["file"] == str(out.resolve()) and d["rows"] == 1 and d["phones"] == "full"


def test_show_phones_with_conflicts_is_refused(wh: str) -> None:
    res = runner.invoke(app, ["--db", wh, "--lang", "en", "rejects", "--conflicts", "--show-phones"])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "--show-phones applies to rejected rows" in res.output


def test_rejects_speak_chinese_by_default(wh: str) -> None:
    res = runner.invoke(app, ["--db", wh, "rejects"])
    assert res.exit_code == 0 and "原因" in res.output


def _brand_db(tmp_path: Path) -> Path:
    """Ten members with phones and their orders, imported and refreshed through the CLI."""
    db = str(tmp_path / "brand.duckdb")
    m = tmp_path / "m.csv"
    m.write_text("会员卡号,姓名,手机号码,注册时间\n" + "".join(f"M{i},会员{i},1381234{i:04d},2024-01-0{1 + i % 9}\n"
                                                  for i in range(10)), encoding="utf-8")  # fmt: skip
    o = tmp_path / "o.csv"
    o.write_text("单号,会员卡号,销售时间,实收金额\n" + "".join(f"A{i},M{i % 10},2025-0{1 + i % 9}-1{i % 9},{10 + i}\n"
                                                for i in range(40)), encoding="utf-8")  # fmt: skip
    for args in (["import", "members", str(m)], ["import", "orders", str(o)], ["refresh", "--as-of", "2025-12-31"]):
        res = runner.invoke(app, ["--db", db, *args])
        assert res.exit_code == 0, res.output
    return Path(db)


def test_members_show_phones_listing_and_export_are_audited(tmp_path: Path) -> None:
    """`winback members --show-phones` (on screen or --export) is in the audit log too; masked lists are not."""
    db = str(_brand_db(tmp_path))
    res = runner.invoke(app, ["--db", db, "members", "--limit", "5", "--json"])
    assert res.exit_code == 0, res.output
    assert _audit(db) == []
    res = runner.invoke(app, ["--db", db, "members", "--limit", "5", "--show-phones", "--json"])
    assert res.exit_code == 0, res.output
    out = tmp_path / "call list.xlsx"
    res = runner.invoke(app, ["--db", db, "members", "--show-phones", "--export", str(out)])
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [(who1, act1, target1, d1, _a1), (_who2, act2, target2, d2, _a2)] = _audit(db)
    assert (who1.startswith("cli"), act1, target1) == (True, "phone_reveal", "members")
    assert json.loads(d1)["rows"] == 5 and json.loads(d1)["phones"] == "full"
    assert (act2, target2, json.loads(d2)["file"]) == ("export", "call list.xlsx", str(out.resolve()))
