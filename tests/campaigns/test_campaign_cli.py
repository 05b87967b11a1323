"""The campaign, coupon and scenarios commands: one JSON object with --json, clear errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from winback.campaigns.coupons import check_symbol, display
from winback.cli.main import app
from winback.warehouse import connect

from .conftest import build_brand

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "cli.duckdb"
    con = connect(path)
    build_brand(con, n=1500)
    con.close()
    return str(path)


def _json(*args: str, code: int = 0) -> dict:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == code, res.output
    return json.loads(res.stdout)


def test_scenarios_json_lists_every_seed_scenario() -> None:
    d = _json("scenarios")
    ids = {s["id"] for s in d["scenarios"]}
    assert {
        "new_store_opening",
        "big_sale",
        "mid_month_push",
        "season_change",
        "drive_to_store",
        "online_gmv",
        "seed_referral",
    } <= ids
    assert {p["id"] for p in d["big_promo_phases"]} == {"warm_up", "burst", "steady", "ending"}
    assert [s["ladder_step"] for s in d["scenarios"] if s["ladder_step"]] == [1, 2, 3]
    assert all(s["name_zh"] and s["name_en"] and s["kpis"] for s in d["scenarios"])


def test_create_launch_show_list_report_close(db: str) -> None:
    d = _json(
        "--db",
        db,
        "campaign",
        "create",
        "--scenario",
        "season_change",
        "--holdout",
        "0.2",
        "--variant",
        "A:voucher:40:300",
        "--variant",
        "B:discount:10",
        "--window",
        "2w",
        "--stores",
        "S01,S02",
    )
    cid = d["campaign"]["campaign_id"]
    assert d["campaign"]["window_days"] == 14 and d["campaign"]["stores"] == ["S01", "S02"]
    assert {r["store_id"] for r in d["preview"]["audience"]["by_store"]} <= {"S01", "S02"}
    launched = _json("--db", db, "campaign", "launch", cid)
    assert set(launched["arms"]) == {"control", "A", "B"}
    assert _json("--db", db, "campaign", "list")["campaigns"][0]["status"] == "running"
    assert _json("--db", db, "campaign", "show", cid)["tasks"] == launched["tasks"]
    rep = _json("--db", db, "campaign", "report", cid, "--by", "guide")
    assert set(rep["versus_control"]) == {"A", "B"} and rep["by"]["column"] == "guide"
    assert rep["arms"]["A"]["responders"] == 0  # nobody has bought yet
    text = runner.invoke(app, ["--db", db, "--lang", "en", "campaign", "report", cid])
    assert text.exit_code == 0 and "winner" in text.stdout
    assert _json("--db", db, "campaign", "close", cid)["campaign"]["status"] == "closed"
    err = _json("--db", db, "--lang", "en", "campaign", "launch", cid, code=2)["error"]
    assert "only a draft can be launched" in err["message"]
    assert "只有草稿可以发起" in _json("--db", db, "campaign", "launch", cid, code=2)["error"]["message"]


def test_human_output_and_errors(db: str, tmp_path: Path) -> None:
    res = runner.invoke(app, ["--db", db, "--lang", "en", "campaign", "create", "--scenario", "big_sale"])
    assert res.exit_code == 0 and "holdout sizing" in res.stdout
    res = runner.invoke(app, ["--db", db, "--lang", "en", "campaign", "create", "--scenario", "nope"])
    assert res.exit_code == 2 and "no scenario 'nope'" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["--db", db, "campaign", "create", "--scenario", "nope"])
    assert res.exit_code == 2 and "没有场景 'nope'" in res.stderr and "big_sale (S级大促/特卖)" in res.stderr
    en = ["--db", db, "--lang", "en"]
    res = runner.invoke(app, [*en, "coupon", "redeem", "AAAA-BBBB-CCC0", "--order", "O1", "--store", "S01"])
    assert res.exit_code == 2 and "not a coupon code" in res.stderr
    res = runner.invoke(app, [*en, "campaign", "show", "C0404"])
    assert res.exit_code == 2 and "no campaign 'C0404'" in res.stderr
    good = "23456789ABC" + check_symbol("23456789ABC")
    bad = good[:-1] + ("2" if good[-1] != "2" else "3")
    assert _json("coupon", "qr", good, "--out", str(tmp_path / "x.svg"))["code"] == display(good)
    out = _json("--lang", "en", "coupon", "qr", bad, "--out", str(tmp_path / "y.svg"), code=2)
    assert "check symbol" in out["error"]["message"]


def test_preview_shows_the_cost_the_report_will_count_in_both_languages(db: str) -> None:
    zh = runner.invoke(app, ["--db", db, "campaign", "create", "--scenario", "new_store_opening"])
    assert zh.exit_code == 0, zh.output
    assert "预计券优惠" in zh.stdout and "种子默认值" in zh.stdout
    en = runner.invoke(app, ["--db", db, "--lang", "en", "campaign", "show", "C0001"])
    assert en.exit_code == 0 and "expected coupon discounts" in en.stdout and "seed default" in en.stdout


def test_a_scenario_is_named_in_either_language(db: str) -> None:
    by_zh = _json("--db", db, "campaign", "create", "--scenario", "S级大促/特卖")
    by_en = _json("--db", db, "campaign", "create", "--scenario", "big sale")
    assert by_zh["campaign"]["scenario"] == by_en["campaign"]["scenario"] == "big_sale"
