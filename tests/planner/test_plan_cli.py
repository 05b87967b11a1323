"""`winback plan history|create|solve|export|review` on the demo brand, through the CLI: the JSON contract, the
what-if refusal, the solver's budget, the workbook (openpyxl, Chinese headers), the review's actuals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from plan_helpers import PlannerBrand

PERIOD = "2025-11-21:2026-11-20"


@pytest.fixture(scope="module")
def plan(planner_brand: PlannerBrand) -> dict[str, Any]:
    code, data, out = planner_brand.run("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21",
                                        "--target-revenue", "4000000", "--new-member-revenue", "0",
                                        "--promotion", "618", "--json")  # fmt: skip
    assert code == 0, out
    return data


def test_create_json_contract(plan: dict[str, Any]) -> None:
    for key in ("plan_id", "period", "target_revenue", "status_quo", "gap", "cells", "estimator"):
        assert key in plan
    assert plan["period"] == {"start": "2025-11-21", "end": "2026-11-20", "days": 365}
    sq = plan["status_quo"]
    for part in ("repurchasers", "revenue"):
        assert sq[part]["low"] <= sq[part]["low_80"] <= sq[part]["value"] <= sq[part]["high_80"] <= sq[part]["high"]
    assert plan["existing_target"] == pytest.approx(4_000_000)
    assert plan["gap"] == pytest.approx(4_000_000 - sq["revenue"]["value"], abs=0.01)
    for c in plan["cells"]:
        assert {"stage", "tier", "members", "repurchasers", "revenue"} <= set(c)
    assert sum(c["members"] for c in plan["cells"]) == sq["members"]
    assert sum(c["revenue"] for c in plan["cells"]) == pytest.approx(sq["revenue"]["value"], abs=1)
    assert sum(c["gap"] for c in plan["cells"]) == pytest.approx(plan["gap"], abs=1)
    # stages in seed 004's order, tiers in the brand's rank order
    stages = list(dict.fromkeys(c["stage"] for c in plan["cells"]))
    assert stages == ["new", "active_repeat", "prechurn_high", "prechurn_low", "churned", "trial", "potential"]
    tiers = [c["tier"] for c in plan["cells"] if c["stage"] == "active_repeat"]
    assert tiers == ["普通", "高级", "贵宾", "至尊贵宾"]


def test_members_are_the_snapshot(planner_brand: PlannerBrand, plan: dict[str, Any]) -> None:
    con = duckdb.connect(planner_brand.db, read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM member_snapshot WHERE as_of = DATE '2025-11-21'").fetchone()
    finally:
        con.close()
    assert n is not None and plan["status_quo"]["members"] == n[0]


def test_what_if_without_a_measure_is_refused(planner_brand: PlannerBrand) -> None:
    code, data, out = planner_brand.run("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21",
                                        "--target-revenue", "4000000", "--what-if", "active_repeat/高级:aov+5%",
                                        "--json", lang="en")  # fmt: skip
    assert code == 2, out
    err = data["error"]
    assert err["type"] == "InputError"
    assert "without a measure" in err["message"] and "active_repeat/高级" in err["message"]
    assert "@MEASURE" in err["hint"] and "active_targeted_coupon" in err["hint"]
    code, _, out = planner_brand.run(
        "plan",
        "create",
        "--period",
        PERIOD,
        "--as-of",
        "2025-11-21",
        "--target-revenue",
        "4000000",
        "--what-if",
        "active_repeat/高级:aov+5%",
    )
    assert code == 2 and "没有指定措施" in out and "@措施" in out


def test_what_if_beyond_the_measure_or_on_the_wrong_lever_is_refused(planner_brand: PlannerBrand) -> None:
    base = ("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21", "--target-revenue", "4000000", "--json")
    code, data, _ = planner_brand.run(
        *base, "--what-if", "active_repeat/高级:aov+50%@active_targeted_coupon", lang="en"
    )
    assert code == 2 and "delivers at most" in data["error"]["message"]
    code, data, _ = planner_brand.run(
        *base, "--what-if", "active_repeat/高级:rate+5%@active_targeted_coupon", lang="en"
    )
    assert code == 2 and "does not change the rate" in data["error"]["message"]


def test_a_what_if_with_its_measure_is_taken(planner_brand: PlannerBrand) -> None:
    code, data, out = planner_brand.run("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21",
                                        "--target-revenue", "1000000", "--new-member-revenue", "0", "--what-if",
                                        "active_repeat/高级:aov+3%@active_targeted_coupon", "--json")  # fmt: skip
    assert code == 0, out
    assert data["gap"] < 0  # the status quo already reaches this target ...
    code, sol, out = planner_brand.run("plan", "solve", data["plan_id"], "--json")
    assert code == 0, out
    # ... and still the what-if's measure is in the plan, as the operator tied it
    assert [(o["measure"], o["stage"], o["tier"], o["forced"]) for o in sol["chosen"]] == [
        ("active_targeted_coupon", "active_repeat", "高级", True)
    ]


def test_solve_closes_what_it_can_and_respects_the_budget(planner_brand: PlannerBrand, plan: dict[str, Any]) -> None:
    code, sol, out = planner_brand.run("plan", "solve", plan["plan_id"], "--json")
    assert code == 0, out
    for key in (
        "status",
        "chosen",
        "expected_contribution",
        "cost",
        "incremental_roi",
        "probability_of_target",
        "phases",
    ):
        assert key in sol
    assert sol["chosen"] and 0 <= sol["probability_of_target"] <= 1
    assert sol["cost"] == pytest.approx(sum(o["cost"] for o in sol["chosen"]), abs=0.05)
    cells = {(o["stage"], o["tier"], o["lever"]) for o in sol["chosen"]}
    assert len(cells) == len(sol["chosen"])  # one measure per cell and lever
    assert all(o["effect"]["source"] == "seed_default" for o in sol["chosen"])  # the demo has no campaigns
    # capacity: a measure reaches only the members its channel may contact (big_sale is an SMS: valid mobile, SMS
    # consent, not opted out), counted independently; the tier at the as-of is the one the member's spend up to it
    # earned (rules/tiers.toml's min_spend)
    con = duckdb.connect(planner_brand.db, read_only=True)
    try:
        sms = dict(con.execute(
            "SELECT CASE WHEN s.monetary >= 20000 THEN '至尊贵宾' WHEN s.monetary >= 8000 THEN '贵宾' "
            "WHEN s.monetary >= 2500 THEN '高级' ELSE '普通' END, count(*) "
            "FROM member_snapshot s JOIN members m USING (member_id) "
            "WHERE s.as_of = DATE '2025-11-21' AND s.lifecycle_stage = 'churned' AND m.phone_status = 'mobile' "
            "AND m.consent_sms AND m.opted_out_at IS NULL GROUP BY 1").fetchall())  # fmt: skip
    finally:
        con.close()
    churned = [o for o in sol["chosen"] if o["measure"] == "churned_high_quality"]
    assert churned and all(o["audience"] == sms[o["tier"]] for o in churned)
    members = {(c["stage"], c["tier"]): c["members"] for c in plan["cells"]}
    assert all(o["audience"] < members[(o["stage"], o["tier"])] for o in churned)
    assert {p["phase"] for p in sol["phases"]} == {"warm_up", "burst", "steady", "ending"}
    assert sum(p["target_incremental_revenue"] for p in sol["phases"]) == pytest.approx(
        sum(o["gain"] for o in sol["chosen"]), rel=1e-3
    )
    budget = sol["cost"] / 3
    code, small, out = planner_brand.run("plan", "solve", plan["plan_id"], "--budget", f"{budget:.2f}", "--json")
    assert code == 0, out
    assert small["cost"] <= budget + 0.01 and small["incremental"]["value"] <= sol["incremental"]["value"]
    assert small["mode"] == "budget"
    code, none, _ = planner_brand.run("plan", "solve", plan["plan_id"], "--guide-hours", "0", "--json")
    assert all(o["guide_hours"] == 0 for o in none["chosen"])


def test_export_workbook_opens_with_chinese_headers(
    planner_brand: PlannerBrand, plan: dict[str, Any], tmp_path: Path
) -> None:
    assert planner_brand.run("plan", "solve", plan["plan_id"], "--json")[0] == 0
    out = tmp_path / "plan.xlsx"
    code, data, text = planner_brand.run("plan", "export", plan["plan_id"], "--out", str(out), "--json")
    assert code == 0, text
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["历史", "现状预估", "缺口", "措施", "分阶段策略"] == data["sheets"]
    heads = {ws.title: [c.value for c in ws[1]] for ws in wb.worksheets}
    assert heads["历史"][:8] == [
        "周期",
        "生命周期阶段",
        "会员等级",
        "会员数",
        "回购人数",
        "回购率",
        "回购客单价",
        "贡献金额",
    ]
    assert heads["现状预估"][:4] == ["生命周期阶段", "会员等级", "会员数", "回购人数"]
    assert heads["缺口"] == ["生命周期阶段", "会员等级", "会员数", "现状贡献金额", "目标贡献金额", "缺口"]
    assert heads["措施"][:3] == ["措施", "生命周期阶段", "会员等级"]
    assert heads["分阶段策略"][:8] == ["阶段", "开始", "结束", "目标人群", "对应策略", "玩法", "玩法细节", "宣传推广"]
    gap = wb["缺口"]
    assert gap.freeze_panes == "C2"
    assert gap.cell(2, 1).value == "新会员" and gap.cell(2, 4).number_format == "#,##0"
    last = gap.max_row
    assert gap.cell(last, 1).value == "合计" and gap.cell(last, 6).value == pytest.approx(plan["gap"], abs=1)
    phases = wb["分阶段策略"]
    assert {phases.cell(r, 1).value for r in range(2, phases.max_row + 1)} == {"潜在期", "爆发期", "稳定期", "结束期"}
    assert all(
        not str(c.value).startswith("=")
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    )


def test_review_compares_with_what_happened(planner_brand: PlannerBrand, plan: dict[str, Any]) -> None:
    code, data, out = planner_brand.run("plan", "review", plan["plan_id"], "--json")
    assert code == 0, out
    assert data["complete"] is True
    total = data["total"]
    assert total["estimate_revenue"] == pytest.approx(plan["status_quo"]["revenue"]["value"], abs=1)
    assert total["target_revenue"] == pytest.approx(4_000_000, abs=1)
    assert total["actual_revenue"] == pytest.approx(sum(c["actual_revenue"] for c in data["cells"]), abs=1)
    assert total["actual_vs_estimate"] == pytest.approx(
        total["actual_revenue"] / total["estimate_revenue"] - 1, abs=1e-3
    )


def test_history_matrix(planner_brand: PlannerBrand, tmp_path: Path) -> None:
    code, data, out = planner_brand.run("plan", "history", "--years", "3", "--json")
    assert code == 0, out
    # the demo's history starts 2023-11-21: the first year has no members at its start and is left out
    assert [p["period"]["start"] for p in data["periods"]] == ["2024-11-21", "2025-11-21"]
    assert data["notes"]
    last = data["periods"][-1]
    assert last["total"]["members"] == sum(c["members"] for c in last["cells"])
    assert "*/*" in last["change"] and last["change"]["*/*"]["members"] is not None
    code, by_stage, _ = planner_brand.run("plan", "history", "--by", "stage", "--json")
    assert {c["tier"] for p in by_stage["periods"] for c in p["cells"]} == {"*"}
    out_file = tmp_path / "history.xlsx"
    assert planner_brand.run("plan", "history", "--export", str(out_file), "--json")[0] == 0
    assert openpyxl.load_workbook(out_file).sheetnames == ["历史"]


def test_missing_snapshot_and_unknown_plan_say_what_to_do(planner_brand: PlannerBrand) -> None:
    code, data, _ = planner_brand.run("plan", "create", "--period", "2026-01-01:2026-12-31", "--as-of",
                                      "2026-01-01", "--target-revenue", "100", "--json", lang="en")  # fmt: skip
    assert code == 2 and "winback refresh --as-of 2026-01-01" in data["error"]["hint"]
    code, data, _ = planner_brand.run("plan", "solve", "P-nope", "--json", lang="en")
    assert code == 2 and data["error"]["type"] == "NotFoundError" and "plan create" in data["error"]["hint"]
    code, data, _ = planner_brand.run("plan", "create", "--period", "20x7", "--target-revenue", "1", "--json")
    assert code == 2 and data["error"]["type"] == "InputError"


def test_a_brand_planner_file_is_kept_with_the_plan(planner_brand: PlannerBrand, tmp_path: Path) -> None:
    from importlib import resources

    shipped = resources.files("winback.planner").joinpath("planner.toml").read_text(encoding="utf-8")
    head = shipped.split("[[measure]]")[0]
    tail = "[[promotion]]" + shipped.split("[[promotion]]", 1)[1]
    mine = (
        head
        + (
            '[[measure]]\nid = "vip_salon"\nzh = "贵宾沙龙"\nen = "VIP salon"\nlever = "aov"\nscenario = "online_gmv"\n'
            'stages = ["active_repeat"]\nruns = 1\ncost_per_contact = 50\nminutes_per_contact = 0\n'
            "default = { aov = 0.05, low = 0.0, high = 0.1 }\n\n"
        )
        + tail
    )
    path = tmp_path / "brand_planner.toml"
    path.write_text(mine, encoding="utf-8")
    code, data, out = planner_brand.run("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21",
                                        "--target-revenue", "4000000", "--new-member-revenue", "0",
                                        "--planner-file", str(path), "--json")  # fmt: skip
    assert code == 0, out
    path.unlink()  # solving later uses the file as it was when the plan was made
    code, sol, out = planner_brand.run("plan", "solve", data["plan_id"], "--json")
    assert code == 0, out
    assert {o["measure"] for o in sol["chosen"]} == {"vip_salon"}
    assert {o["stage"] for o in sol["chosen"]} == {"active_repeat"}
    bad = tmp_path / "bad.toml"
    bad.write_text("[[measure]]\nid = 1\n", encoding="utf-8")
    code, err, _ = planner_brand.run("plan", "create", "--period", PERIOD, "--as-of", "2025-11-21",
                                     "--target-revenue", "4000000", "--planner-file", str(bad), "--json")  # fmt: skip
    assert code == 2 and err["error"]["type"] == "ConfigError"
