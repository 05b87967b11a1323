"""Acceptance on the demo brand (fixed seeds), through the CLI: campaign 1 is launched with a holdout and answered
by the simulator (whose true effect varies with loyalty and order value); an uplift model is fitted on it; the
next campaign is targeted with it at a budget of 30 % of its audience. The same audience is then launched
untargeted and simulated, so every member's true effect (the oracle, demo_member_truth) is known and the
targeted selection can be scored against the oracle's best 30 %, random targeting and P(alive) targeting."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()
T1 = "2026-11-21T09:00:00"  # the day after the demo history's last day
T1_END = "2026-12-06T10:00:00"  # campaign 1's 14-day window has ended
T2 = "2026-12-21T09:00:00"  # the next campaign, past the frequency cap
T2_END = "2027-01-05T10:00:00"
CREATE = ["campaign", "create", "--scenario", "online_gmv", "--variant", "A:voucher:30:100"]


def _json(db: str, now: str, *args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["--db", db, "--lang", "en", *args, "--json"], env={"WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def brand(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Campaign 1 learned from, the model, the targeted draft C0002 and its untargeted twin C0003 simulated."""
    db = str(tmp_path_factory.mktemp("uplift") / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    _json(db, T1, "refresh")
    c1 = _json(db, T1, *CREATE, "--holdout", "0.5")
    _json(db, T1, "campaign", "launch", "C0001")
    _json(db, T1_END, "demo", "respond", "C0001", "--seed", "11")
    _json(db, T1_END, "campaign", "close", "C0001")
    fit = _json(db, T2, "uplift", "fit", "--campaign", "C0001", "--outcome", "revenue")
    targeted = _json(db, T2, *CREATE, "--holdout", "0.1", "--target", f"uplift:{fit['model_id']}", "--budget", "30%")
    twin = _json(db, T2, *CREATE, "--holdout", "0.5")
    _json(db, T2, "campaign", "close", "C0002")  # the targeted draft is discarded; its decisions stay on record
    _json(db, T2, "campaign", "launch", "C0003")
    _json(db, T2_END, "demo", "respond", "C0003", "--seed", "12")
    return {"db": db, "c1": c1, "fit": fit, "targeted": targeted, "twin": twin}


def _rows(db: str, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_model_fitted_on_the_first_campaign_targets_the_second(brand: dict[str, Any]) -> None:
    fit, tg = brand["fit"], brand["targeted"]["targeting"]
    assert fit["model_id"] == "U0001" and fit["learner"] == "x" and fit["source"] == {"campaigns": ["C0001"]}
    assert fit["rows_train"] + fit["rows_valid"] == brand["c1"]["preview"]["audience"]["members"]
    assert fit["validation"]["A"]["qini_coefficient"] > 0
    audience = brand["twin"]["preview"]["audience"]["members"]
    assert tg["method"] == "uplift" and tg["model_id"] == "U0001" and tg["audience"] == audience
    assert tg["kept"] == round(0.3 * audience) == tg["counts"]["target"] + tg["counts"]["explore"]
    assert sum(tg["counts"].values()) == audience
    assert tg["counts"]["sure_thing"] > 0 and tg["counts"]["no_response"] > 0
    assert tg["counts"]["explore"] == round(0.1 * tg["kept"])
    lo, hi = tg["expected_incremental_revenue_ci"]
    assert lo < tg["expected_incremental_revenue"] < hi
    assert brand["targeted"]["preview"]["audience"]["members"] == tg["kept"]  # the preview is of the kept members


def test_targeting_captures_most_of_the_oracles_incremental_revenue(brand: dict[str, Any]) -> None:
    db = brand["db"]
    truth = dict(_rows(db, "SELECT member_id, incremental_revenue FROM demo_member_truth WHERE campaign_id = 'C0003'"))
    decided = _rows(db, "SELECT member_id, decision, predicted_uplift FROM uplift_campaign_members "
                        "WHERE campaign_id = 'C0002' ORDER BY member_id")  # fmt: skip
    assert {m for m, _, _ in decided} == set(truth)  # the twin's audience is the targeted draft's
    true = np.array([truth[m] for m, _, _ in decided])
    kept = np.array([d in ("target", "explore") for _, d, _ in decided])
    pred = np.array([p for _, _, p in decided])
    k = int(kept.sum())
    oracle = np.sort(true)[::-1][:k].sum()
    p_alive = dict(_rows(db, "SELECT s.member_id, coalesce(s.p_alive, 0) FROM member_snapshot s "
                             "JOIN campaigns c ON c.as_of = s.as_of WHERE c.campaign_id = 'C0003'"))  # fmt: skip
    by_alive = np.argsort(-np.array([p_alive[m] for m, _, _ in decided]), kind="stable")[:k]
    capture = {
        "selection": true[kept].sum() / oracle,
        "model ranking": true[np.argsort(-pred, kind="stable")[:k]].sum() / oracle,
        "random": true.mean() * k / oracle,
        "p_alive": true[by_alive].sum() / oracle,
    }
    print("capture of the oracle's incremental revenue at 30 %:", {n: round(v, 3) for n, v in capture.items()})
    assert capture["selection"] >= 0.70 and capture["model ranking"] >= 0.70
    assert capture["selection"] - capture["random"] >= 0.2 and capture["selection"] - capture["p_alive"] >= 0.15
    tg = brand["targeted"]["targeting"]
    lo, hi = tg["expected_incremental_revenue_ci"]
    print("expected incremental revenue of the kept members", tg["expected_incremental_revenue"], (lo, hi),
          "model's sum", tg["predicted_incremental_revenue"], "truth", true[kept].sum())  # fmt: skip
    assert lo <= true[kept].sum() <= hi  # the held-out interval covers what the kept members would really bring


def test_without_a_model_targeting_falls_back_to_value_at_stake(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    _json(db, T1, "refresh")
    d = _json(db, T1, *CREATE, "--target", "uplift", "--top", "500")
    tg = d["targeting"]
    assert tg["method"] == "value_at_stake" and tg["model_id"] is None and tg["kept"] == 500
    assert "value at stake" in tg["note"] and tg["counts"]["sure_thing"] == tg["counts"]["no_response"] == 0
    text = runner.invoke(app, ["--db", db, "--lang", "zh", *CREATE, "--target", "uplift", "--top", "500"],
                         env={"WINBACK_NOW": T1})  # fmt: skip
    assert text.exit_code == 0, text.output
    launched = _json(db, T1, "campaign", "launch", "C0001")
    assert launched["members"] == 500
