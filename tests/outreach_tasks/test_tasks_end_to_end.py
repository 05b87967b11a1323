"""Acceptance on the demo brand, through the CLI: launch → tasks export → fill in outcomes → tasks import (twice)
→ campaign report counts the contacts per arm → targets per store → escalation → staff leaderboard."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from winback.cli.main import app
from winback.outreach.tasks import RANK

runner = CliRunner()
LAUNCH = "2026-11-21T10:00"
LATER = "2026-11-23T18:00"
FILL = ["已联系", "已邀约", "已到店", "已成交", "联系不上", "婉拒", "invited", "visited"]


def _cli(db: str, now: str, *args: str, ok: bool = True) -> Any:
    res = runner.invoke(app, ["--db", db, *args, "--json"], env={"WINBACK_NOW": now})
    assert (res.exit_code == 0) == ok, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def launched(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the demo brand with one launched new-store campaign and its task sheet, filled in and imported."""
    tmp = tmp_path_factory.mktemp("tasks_e2e")
    db = str(tmp / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    cid = _cli(db, LAUNCH, "campaign", "create", "--scenario", "new_store_opening")["campaign"]["campaign_id"]
    launch = _cli(db, LAUNCH, "campaign", "launch", cid)
    sheet = tmp / "tasks.xlsx"
    export = _cli(db, LATER, "tasks", "export", "--campaign", cid, "--out", str(sheet))
    filled, truth = _fill(sheet, tmp / "filled.xlsx")
    first = _cli(db, LATER, "tasks", "import", str(filled))
    return {
        "db": db,
        "cid": cid,
        "launch": launch,
        "export": export,
        "sheet": sheet,
        "filled": filled,
        "truth": truth,
        "first": first,
        "tmp": tmp,
    }


def _fill(src: Path, dst: Path) -> tuple[Path, dict[str, str]]:
    """Fill every other row with an outcome (zh and en mixed), plus three bad rows in the first guide's sheet."""
    wb = openpyxl.load_workbook(src)
    truth: dict[str, str] = {}
    k = 0
    for ws in wb.worksheets[1:]:
        head = [c.value for c in ws[1]]
        tid, out = head.index("任务号") + 1, head.index("结果") + 1
        for r in range(2, ws.max_row + 1):
            k += 1
            if k % 2:
                value = FILL[k % len(FILL)]
                ws.cell(r, out).value = value
                truth[ws.cell(r, tid).value] = value
    ws = wb.worksheets[1]
    bad = ws.max_row + 1
    ws.cell(bad, 1).value, ws.cell(bad, out).value = "C9999:nobody", "已联系"
    ws.cell(bad + 1, 1).value, ws.cell(bad + 1, out).value = ws.cell(2, 1).value, "maybe"
    wb.save(dst)
    return dst, truth


def _code(text: str) -> str:
    from winback.outreach.tasks import parse_outcome

    code = parse_outcome(text)
    assert code is not None
    return code


def test_the_sheet_has_a_card_per_task_and_masks_phones(launched: dict[str, Any]) -> None:
    e, launch = launched["export"], launched["launch"]
    assert e["tasks"] == launch["tasks"] == launch["arms"]["A"]
    wb = openpyxl.load_workbook(launched["sheet"], read_only=True)
    assert wb.sheetnames[0] == "说明" and len(wb.sheetnames) == e["guides"] + 1
    rows = 0
    for ws in wb.worksheets[1:]:
        data = list(ws.iter_rows(values_only=True))
        head = list(data[0])
        assert head[-4:] == ["结果", "备注", "记录人", "日期"]
        for r in data[1:]:
            card = dict(zip(head, r, strict=True))
            rows += 1
            assert card["手机"] is None or re.fullmatch(r"\d{3}\*{4}\d{4}", card["手机"]), card["手机"]
            assert card["话术"] and card["券码"] and card["券码"] in card["话术"]
            assert card["门店"] and card["导购"]  # names, not ids (or the "no store / no guide" labels)
    assert rows == e["tasks"]
    favourites = [r[10] for ws in wb.worksheets[1:] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert sum(f is not None for f in favourites) > 0.9 * rows  # the favourite category comes from order_items


def test_import_records_each_outcome_once_and_rejects_bad_rows(launched: dict[str, Any]) -> None:
    first, truth = launched["first"], launched["truth"]
    assert first["recorded"] == first["tasks_changed"] == len(truth)
    assert sorted(r["reason"] for r in first["rejected"]) == ["没有这个任务号", "结果 'maybe' 不是可选值之一"]
    assert first["rows"] == len(truth) + 2
    again = _cli(launched["db"], LATER, "tasks", "import", str(launched["filled"]))
    assert (again["recorded"], again["tasks_changed"], again["unchanged"]) == (0, 0, len(truth))
    listed = _cli(launched["db"], LATER, "tasks", "list", "--campaign", launched["cid"], "--limit", "0")
    by_id = {t["task_id"]: t for t in listed["tasks"]}
    for tid, value in truth.items():
        code = _code(value)
        assert by_id[tid]["outcome"] == code
        assert by_id[tid]["status"] == ("failed" if code == "unreachable" else "done")


def test_campaign_report_counts_contacts_invitations_and_visits_per_arm(launched: dict[str, Any]) -> None:
    rep = _cli(launched["db"], LATER, "campaign", "report", launched["cid"])
    reached = sum(_code(v) != "unreachable" for v in launched["truth"].values())
    assert rep["arms"]["A"]["contacted"] >= reached  # a task recorded done is a contact
    assert rep["arms"]["control"]["contacted"] == 0
    codes = [_code(v) for v in launched["truth"].values()]
    assert rep["arms"]["A"]["invited"] == sum(RANK[c] >= RANK["invited"] for c in codes)  # invited, visited, bought
    assert rep["arms"]["A"]["visited"] == sum(RANK[c] >= RANK["visited"] for c in codes)
    assert rep["arms"]["control"]["invited"] == rep["arms"]["control"]["visited"] == 0


def test_done_moves_forward_only_and_is_idempotent(launched: dict[str, Any]) -> None:
    db, cid = launched["db"], launched["cid"]
    open_task = _cli(db, LATER, "tasks", "list", "--campaign", cid, "--status", "open", "--limit", "1")["tasks"][0]
    tid = open_task["task_id"]
    d = _cli(db, LATER, "tasks", "done", tid, "--outcome", "visited", "--note", "周六来过")
    assert (d["recorded"], d["changed"], d["status"], d["task_outcome"]) == (True, True, "done", "visited")
    back = _cli(db, LATER, "tasks", "done", tid, "--outcome", "contacted")
    assert (back["recorded"], back["changed"], back["task_outcome"]) == (True, False, "visited")
    same = _cli(db, LATER, "tasks", "done", tid, "--outcome", "visited")
    assert (same["recorded"], same["changed"]) == (False, False)
    err = _cli(db, LATER, "tasks", "done", "C9999:x", "--outcome", "visited", ok=False)
    assert set(err["error"]) == {"type", "message", "hint"}
    err = _cli(db, LATER, "tasks", "done", tid, "--outcome", "called", ok=False)
    assert "未知的结果" in err["error"]["message"]  # the CLI speaks zh by default


def test_targets_per_store_and_their_completion(launched: dict[str, Any]) -> None:
    db, cid = launched["db"], launched["cid"]
    t = _cli(db, LATER, "tasks", "targets", cid)
    assert t["metrics"] == ["invited", "visited", "purchased"]  # new_store_opening's KPIs name all three
    listed = _cli(db, LATER, "tasks", "list", "--campaign", cid, "--limit", "0")["tasks"]
    ranks = Counter(RANK[x["outcome"]] for x in listed if x["outcome"])
    assert t["total"]["done"]["invited"] == sum(n for r, n in ranks.items() if r >= 2)
    assert t["total"]["done"]["visited"] == sum(n for r, n in ranks.items() if r >= 3)
    assert t["total"]["tasks"] == len(listed) == sum(s["tasks"] for s in t["stores"])
    for s in t["stores"]:
        assert s["targets"]["invited"] >= s["targets"]["visited"] >= s["targets"]["purchased"] >= 1
    store = next(s for s in t["stores"] if s["store_name"])
    set_ = _cli(db, LATER, "tasks", "targets", cid, "--store", store["store_name"], "--set", "invited=3")
    assert set_["stores"][0]["targets"]["invited"] == 3
    assert set_["stores"][0]["completion"]["invited"] == store["done"]["invited"] / 3
    err = _cli(db, LATER, "tasks", "targets", cid, "--set", "invited=3", ok=False)
    assert "--store" in err["error"]["message"]


def test_overdue_tasks_go_to_the_store_manager_once(launched: dict[str, Any]) -> None:
    db, cid = launched["db"], launched["cid"]
    late = "2026-11-29T09:00"  # due 7 days after the launch
    open_now = _cli(db, late, "tasks", "list", "--campaign", cid, "--status", "overdue", "--limit", "0")
    esc = _cli(db, late, "tasks", "escalate")
    assert esc["escalated"] >= open_now["total"] > 0
    assert _cli(db, late, "tasks", "escalate")["escalated"] == 0
    manager = next(m for m in esc["by_manager"] if m["manager_id"])
    mine = _cli(db, late, "tasks", "list", "--guide", manager["manager_id"], "--status", "open", "--limit", "0")
    assert sum(t["escalated_to"] == manager["manager_id"] for t in mine["tasks"]) == manager["tasks"]


def test_staff_leaderboard_ranks_guides_by_name_with_shrinkage(launched: dict[str, Any]) -> None:
    db, cid = launched["db"], launched["cid"]
    _cli(db, "2026-12-06T10:00", "demo", "respond", cid, "--uplift", "0.06", "--seed", "3")
    board = _cli(db, "2026-12-06T10:00", "staff", "leaderboard", "--period", "30d")
    assert board["campaigns"] == [cid] and "DerSimonian" in board["rule"]
    guides = board["guides"]
    assert [g["rank"] for g in guides] == list(range(1, len(guides) + 1)) and len(guides) > 20
    assert all(not re.fullmatch(r"G\d+", g["guide"]) and g["store"] for g in guides)  # names, not ids
    scores = [g["shrunk_uplift"] for g in guides]
    assert scores == sorted(scores, reverse=True)
    mu = board["prior"]["pooled_uplift"]
    for g in guides:
        lo, hi = sorted((mu, g["uplift"] if g["uplift"] is not None else mu))
        assert lo - 1e-9 <= g["shrunk_uplift"] <= hi + 1e-9
        if g["incremental"] is not None:
            assert g["incremental_ci"][0] <= g["incremental"] <= g["incremental_ci"][1]
    assert sum(g["tasks"] for g in guides) <= launched["launch"]["tasks"]
    one = _cli(db, "2026-12-06T10:00", "staff", "leaderboard", "--store", guides[0]["store"], "--period", "30d")
    assert {g["store"] for g in one["guides"]} == {guides[0]["store"]}
    same = {g["guide_id"]: g["shrunk_uplift"] for g in guides}
    assert all(g["shrunk_uplift"] == same[g["guide_id"]] for g in one["guides"])  # one brand-wide prior


def test_the_funnel_per_arm_agrees_with_the_tasks_and_the_report(launched: dict[str, Any]) -> None:
    db, cid = launched["db"], launched["cid"]
    f = _cli(db, LATER, "funnel", cid)
    arms = {a["arm"]: a for a in f["arms"]}
    assert set(arms) == {"control", "A"} and set(f["definitions"]) == set(f["stages"])
    control, treated = arms["control"]["stages"], arms["A"]["stages"]
    assert control["tasks"] == control["queued"] == control["contacted"] == 0
    listed = _cli(db, LATER, "tasks", "list", "--campaign", cid, "--limit", "0")["tasks"]
    assert treated["tasks"] == len(listed) == treated["queued"]
    assert treated["contacted"] == sum(t["status"] == "done" for t in listed)
    assert treated["invited"] == sum(RANK.get(t["outcome"] or "", -1) >= 2 for t in listed)
    assert treated["visited"] >= sum(RANK.get(t["outcome"] or "", -1) >= 3 for t in listed)
    rep = _cli(db, LATER, "campaign", "report", cid)
    for arm in ("control", "A"):
        assert arms[arm]["members"] == rep["arms"][arm]["members"]
        assert arms[arm]["stages"]["purchased"] == rep["arms"][arm]["responders"]
