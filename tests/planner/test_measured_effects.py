"""A measure's effect comes from the brand's own measured campaigns when there are any: a big-sale campaign with a
control group on the demo brand, simulated responses, then the plan's churned-stage measure (whose scenario is
big_sale) carries the measured incremental revenue per member — equal to an independent computation — and
the measures without campaigns stay labelled seed defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from plan_helpers import PlannerBrand
from typer.testing import CliRunner

from winback.cli.main import app

LAUNCH = "2026-11-21T09:00:00"
AFTER = "2026-12-06T12:00:00"


def _json(db: str, *args: str, now: str) -> dict[str, Any]:
    res = CliRunner().invoke(app, ["--db", db, "--lang", "en", *args, "--json"], env={"WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def measured(planner_brand: PlannerBrand, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    db = str(tmp_path_factory.mktemp("measured") / "wb.duckdb")
    shutil.copy(planner_brand.db, db)
    cid = _json(db, "campaign", "create", "--scenario", "big_sale", "--holdout", "0.5", now=LAUNCH)["campaign"][
        "campaign_id"]  # fmt: skip
    _json(db, "campaign", "launch", cid, now=LAUNCH)
    _json(db, "demo", "respond", cid, "--uplift", "0.08", "--seed", "3", now=AFTER)
    return db, cid


def _independent_effect(db: str, cid: str) -> tuple[float, int]:
    """Mean window revenue of treated minus control among the campaign's members in the churned stage."""
    con = duckdb.connect(db, read_only=True)
    try:
        rows = con.execute(
            """
            WITH c AS (SELECT as_of, CAST(CAST(launched_at AS DATE) AS TIMESTAMP) AS w0,
                              CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS w1
                       FROM campaigns WHERE campaign_id = ?),
                 m AS (SELECT cm.member_id, cm.arm = 'control' AS ctl FROM campaign_members cm, c
                       JOIN member_snapshot s ON s.as_of = c.as_of
                       WHERE cm.campaign_id = ? AND s.member_id = cm.member_id AND s.lifecycle_stage = 'churned')
            SELECT m.ctl, count(*), sum(coalesce((SELECT sum(o.amount) FROM orders o, c WHERE o.member_id = m.member_id
                       AND o.status IN ('paid', 'refunded') AND o.ordered_at >= c.w0 AND o.ordered_at < c.w1), 0))
            FROM m GROUP BY m.ctl
            """,
            [cid, cid],
        ).fetchall()
    finally:
        con.close()
    by = {bool(r[0]): (int(r[1]), float(r[2])) for r in rows}
    (nt, st), (nc, sc) = by[False], by[True]
    return st / nt - sc / nc, nt + nc


def test_measured_campaign_sets_the_effect(measured: tuple[str, str]) -> None:
    db, cid = measured
    plan = _json(db, "plan", "create", "--period", "2026-11-21:2027-11-20", "--target-revenue", "20000000",
                 "--new-member-revenue", "0", now=AFTER)  # fmt: skip
    sol = _json(db, "plan", "solve", plan["plan_id"], now=AFTER)
    churned = [o for o in sol["chosen"] if o["measure"] == "churned_high_quality"]
    assert churned, sol["chosen"]
    diff, n = _independent_effect(db, cid)
    for o in churned:
        e = o["effect"]
        assert e["source"] == "measured" and e["campaigns"] == [cid] and e["n"] == n
        assert e["revenue_per_member"] == pytest.approx(diff, abs=1e-3)
        assert e["low"] <= e["revenue_per_member"] <= e["high"]
        assert cid in e["detail"]
    others = [o for o in sol["chosen"] if o["measure"] != "churned_high_quality"]
    assert others and all(o["effect"]["source"] == "seed_default" for o in others)


def test_before_the_window_ends_the_campaign_is_not_used(measured: tuple[str, str], tmp_path: Path) -> None:
    db, _ = measured
    plan = _json(db, "plan", "create", "--period", "2026-11-21:2027-11-20", "--target-revenue", "20000000",
                 "--new-member-revenue", "0", now="2026-11-30T12:00:00")  # fmt: skip
    sol = _json(db, "plan", "solve", plan["plan_id"], now="2026-11-30T12:00:00")
    assert all(o["effect"]["source"] == "seed_default" for o in sol["chosen"])
