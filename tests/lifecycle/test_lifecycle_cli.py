"""The lifecycle commands on the command line: one JSON object each, tables for people, clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lc_helpers import build_small
from typer.testing import CliRunner

from winback.cli.main import app
from winback.warehouse import connect

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "cli.duckdb"
    con = connect(path)
    build_small(con)
    con.close()
    return path


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # exactly one JSON object


def test_refresh_json_contract(db: Path) -> None:
    d = _json(["--db", str(db), "refresh", "--json"])
    assert d["as_of"] == "2024-07-02"  # the day after the last order
    assert d["members"] == 7  # m5, registered on 2024-07-01, is in it now
    assert set(d["model"]) >= {"name", "params", "time_unit", "loglik"}
    assert isinstance(d["model"]["params"], dict)
    assert d["segments"]["seed_cn"]["never_purchased"] == 3
    assert set(d["segments"]) == {"seed_cn", "months", "cycle", "lifecycle", "rfm", "value"}
    for counts in d["segments"].values():
        assert sum(counts.values()) == 7


def test_refresh_history_and_reading_commands(db: Path, tmp_path: Path) -> None:
    d = _json(["--db", str(db), "refresh", "--as-of", "2024-07-01", "--history", "monthly", "--json"])
    assert d["as_of"] == "2024-07-01" and d["history"][0] == "2022-02-01" and len(d["history"]) == 30
    seg = _json(["--db", str(db), "segments", "--scheme", "months", "--json"])
    assert seg["as_of"] == "2024-07-01" and seg["segments"][0]["segment"] == "never_purchased"
    tr = _json(["--db", str(db), "transitions", "--from", "2024-03-01", "--to", "2024-07-01", "--json"])
    assert tr["woke_up"] == 1 and tr["slid"] == 1
    mem = _json(["--db", str(db), "members", "--segment", "active", "--store", "S1", "--json"])
    assert [m["member_id"] for m in mem["members"]] == ["m1"] and mem["members"][0]["phone"] == "138****5678"
    assert mem["phones"] == "masked"
    full = _json(["--db", str(db), "members", "--segment", "active", "--store", "S1", "--show-phones", "--json"])
    assert full["phones"] == "full" and full["members"][0]["phone"] == "13812345678"
    out = tmp_path / "list.csv"
    exp = _json(["--db", str(db), "members", "--scheme", "value", "--export", str(out), "--json"])
    assert exp["count"] == 6 and exp["format"] == "csv" and out.exists()
    ex = _json(["--db", str(db), "explain", "m1", "--json"])
    assert ex["schemes"]["seed_cn"]["rule"] == "recency_days < 90"
    human = runner.invoke(app, ["--db", str(db), "--lang", "en", "explain", "m1"])
    assert human.exit_code == 0 and "recency_days < 90" in human.output
    human = runner.invoke(app, ["--db", str(db), "segments", "--by", "tier"])
    assert human.exit_code == 0 and "活跃会员" in human.output and "VIP" in human.output


def test_user_rules_file(db: Path, tmp_path: Path) -> None:
    rules = Path(__file__).with_name("data_rules_vip.toml")
    d = _json(["--db", str(db), "refresh", "--as-of", "2024-07-01", "--rules", str(rules), "--json"])
    assert d["segments"]["vip_sleepers"] == {"vip_sleeping": 0, "vip_awake": 2, "others": 4}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["refresh", "--as-of", "1 July", "--json"], "is not a date"),
        (["refresh", "--engine", "oracle", "--json"], "unknown engine"),
        (["segments", "--json"], "no snapshot has been built yet"),
        (["explain", "m1", "--json"], "no snapshot has been built yet"),
    ],
)
def test_errors_are_one_json_object(db: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["--db", str(db), "--lang", "en", *args])
    assert result.exit_code == 2
    assert message in json.loads(result.stdout)["error"]["message"]


def test_bad_rules_file_is_named(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    shutil.copy(Path(__file__).with_name("data_rules_vip.toml"), bad)
    bad.write_text(bad.read_text(encoding="utf-8").replace("tier = 'VIP'", "tier = (SELECT 1)"), encoding="utf-8")
    result = runner.invoke(app, ["--db", str(db), "--lang", "en", "refresh", "--rules", str(bad)])
    assert result.exit_code == 2
    assert "segment 'vip_sleeping'" in result.output and "subqueries are not allowed" in result.output
    result = runner.invoke(app, ["--db", str(db), "refresh", "--rules", str(bad)])  # the default language
    assert result.exit_code == 2
    assert "分群 'vip_sleeping'" in result.output and "条件中不允许子查询" in result.output
    assert "Traceback" not in result.output


def test_segments_and_schemes_are_named_in_either_language(db: Path) -> None:
    """`members --segment 活跃会员` is `--segment active`; a scheme by its Chinese name; a wrong name lists choices."""
    _json(["--db", str(db), "refresh", "--json"])

    def ids(*args: str) -> list[str]:
        return [m["member_id"] for m in _json(["--db", str(db), "members", *args, "--json"])["members"]]

    assert ids("--segment", "active") == ids("--segment", "活跃会员") == ids("--segment", "Active") != []
    assert ids("--segment", "never_purchased") == ids("--segment", "无消费会员")
    assert ids("--scheme", "lifecycle", "--segment", "potential") == ids(
        "--scheme", "会员生命周期", "--segment", "潜在会员"
    )
    bad = runner.invoke(app, ["--db", str(db), "members", "--segment", "睡着的", "--json"])
    assert bad.exit_code == 2
    err = json.loads(bad.stdout)["error"]
    assert "没有分群 '睡着的'" in err["message"] and "silent (沉默会员" in err["hint"]
    seg = _json(["--db", str(db), "segments", "--scheme", "会员生命周期", "--json"])
    assert seg["scheme"] == "lifecycle"
