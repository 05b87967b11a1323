"""Acceptance on the demo brand, through the CLI: refresh → create → launch → demo respond → report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()


def _json(db: str, *args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["--db", db, *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


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
    launched = _json(db, "campaign", "launch", cid)
    assert abs(launched["arms"]["control"] - 0.2 * n) <= 1
    assert all(b["chi2_p_value"] > 0.5 for b in launched["balance"])
    sim = _json(db, "demo", "respond", cid, "--uplift", "0.06", "--seed", "5")
    rep = _json(db, "campaign", "report", cid, "--by", "store")
    for arm, truth in sim["truth"].items():
        v = rep["versus_control"][arm]
        lo, hi = v["incremental_revenue_ci"]
        assert lo <= truth["incremental_revenue"] <= hi, (arm, lo, hi, truth)
        assert rep["arms"][arm]["redeemed"] > 0
    assert sum(rep["arms"][a]["redeemed"] for a in ("A", "B")) == sim["redeemed"]
    assert sum(sum(a["members"] for a in g["arms"].values()) for g in rep["by"]["groups"]) == n
