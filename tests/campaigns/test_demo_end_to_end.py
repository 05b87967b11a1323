"""Acceptance on the demo brand, through the CLI: refresh → create → launch → demo respond (twice, as the brand's
clock moves on) → report → close → report. The brand's now is WINBACK_NOW, set per command as an operator's
clock would move: nothing is written after it."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from winback.campaigns.outcomes import arm_cost, expected_discounts
from winback.cli.main import app

runner = CliRunner()
LAUNCH = "2026-11-21T09:00:00"  # the day after the demo history's last day
MID = "2026-11-27T18:00:00"  # halfway through the 14-day window
AFTER = "2026-12-06T12:00:00"  # the window (launch day + 14 days) has ended


def _json(db: str, *args: str, now: str = LAUNCH) -> dict[str, Any]:
    res = runner.invoke(app, ["--db", db, *args, "--json"], env={"WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _latest_sim_order(db: str) -> dt.datetime | None:
    con = duckdb.connect(db, read_only=True)
    try:
        row = con.execute("SELECT max(ordered_at) FROM orders WHERE order_id LIKE 'SIM-%'").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def test_demo_brand_campaign_report_covers_the_simulated_truth(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    _json(db, "refresh")
    d = _json(
        db,
        "campaign",
        "create",
        "--scenario",
        "new_store_opening",
        "--holdout",
        "0.2",
        "--variant",
        "A:voucher:50:200",
        "--variant",
        "B:discount:15",
    )
    cid = d["campaign"]["campaign_id"]
    n = d["preview"]["audience"]["members"]
    assert n > 1000 and d["preview"]["expected"]["rate_sources"] == ["seed default"]
    forecast = d["preview"]["expected"]
    assert forecast["redemption_rate_source"] == "seed default" and forecast["expected_discounts"] > 0
    launched = _json(db, "campaign", "launch", cid)
    assert abs(launched["arms"]["control"] - 0.2 * n) <= 1
    assert all(b["chi2_p_value"] > 0.5 for b in launched["balance"])

    # the clock at mid-window: responses up to now only; later the same simulation continues
    first = _json(db, "demo", "respond", cid, "--uplift", "0.06", "--seed", "5", now=MID)
    assert first["simulated_until"] == MID and first["window_complete"] is False and first["orders"] > 0
    latest = _latest_sim_order(db)
    assert latest is not None and latest <= dt.datetime.fromisoformat(MID)
    future = runner.invoke(app, ["--db", db, "--lang", "en", "demo", "respond", cid, "--until", "2026-12-01", "--json"],
                           env={"WINBACK_NOW": MID})  # fmt: skip
    assert future.exit_code == 2 and "after the brand's now" in json.loads(future.stdout)["error"]["message"]
    rest = _json(db, "demo", "respond", cid, now=AFTER)
    assert rest["window_complete"] is True and rest["truth"] == first["truth"] and rest["seed"] == 5
    sim = {**rest, "orders": first["orders"] + rest["orders"], "redeemed": first["redeemed"] + rest["redeemed"]}

    rep = _json(db, "campaign", "report", cid, "--by", "store", now=AFTER)
    assert rep["state"] == "complete"
    for arm, truth in sim["truth"].items():
        v = rep["versus_control"][arm]
        lo, hi = v["incremental_revenue_ci"]
        assert lo <= truth["incremental_revenue"] <= hi, (arm, lo, hi, truth)
        assert rep["arms"][arm]["redeemed"] > 0
    assert sum(rep["arms"][a]["redeemed"] for a in ("A", "B")) == sim["redeemed"]
    assert sum(sum(a["members"] for a in g["arms"].values()) for g in rep["by"]["groups"]) == n

    # the forecast's cost model is the report's: fed the realised figures it gives the report's cost exactly
    cpc = d["campaign"]["cost_per_contact"]
    by_arm = {a["arm"]: a for a in forecast["by_arm"]}
    for arm in ("A", "B"):
        got = rep["arms"][arm]
        realised = expected_discounts(
            got["responders"], got["redeemed"] / got["responders"], got["discounts"] / got["redeemed"]
        )
        assert arm_cost(got["members"], cpc, realised) == pytest.approx(rep["versus_control"][arm]["cost"])
        f = by_arm[arm]
        assert f["cost"] == pytest.approx(arm_cost(f["members"], cpc, f["expected_discounts"]))
        assert f["members"] == pytest.approx(got["members"], abs=1)
    assert forecast["cost"] == pytest.approx(sum(f["cost"] for f in by_arm.values()))

    closed = _json(db, "campaign", "close", cid, now=AFTER)
    assert closed["coupons_voided"] == sum(rep["arms"][a]["members"] - rep["arms"][a]["redeemed"] for a in "AB")
    assert _json(db, "campaign", "report", cid, now=AFTER)["state"] == "closed"
    text = runner.invoke(app, ["--db", db, "--lang", "en", "campaign", "report", cid], env={"WINBACK_NOW": AFTER})
    assert "closed (2026-12-06 12:00)" in text.stdout and "still open" not in text.stdout
    zh = runner.invoke(app, ["--db", db, "--lang", "zh", "campaign", "report", cid], env={"WINBACK_NOW": AFTER})
    assert "活动已结束" in zh.stdout
