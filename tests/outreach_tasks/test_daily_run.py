"""`winback run --date D`: journeys enrolled once per day (twice = nothing new), skipped days caught up once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from winback.campaigns.scenarios import load_playbook
from winback.cli.main import app
from winback.errors import ConfigError, InputError
from winback.outreach.journeys import ArmSums, covers_from, load_journeys, parse_journeys, pause_rule, run_moment

runner = CliRunner()
LADDER = {"ladder_2m", "ladder_4m", "ladder_6m"}


def _run(db: str, now: str, *args: str, ok: bool = True) -> Any:
    res = runner.invoke(app, ["--db", db, "run", *args, "--json"], env={"WINBACK_NOW": now})
    assert (res.exit_code == 0) == ok, res.output
    return json.loads(res.stdout)


def test_days_covered_and_the_moment_of_a_run() -> None:
    d = dt.date(2026, 11, 21)
    assert covers_from(None, d) == d
    assert covers_from(d - dt.timedelta(days=3), d) == d - dt.timedelta(days=2)
    assert covers_from(d, d) is None and covers_from(d, d - dt.timedelta(days=1)) is None
    now = dt.datetime(2026, 11, 21, 15, 30)
    assert run_moment(d, now) == now
    assert run_moment(d - dt.timedelta(days=1), now) == dt.datetime(2026, 11, 20, 9, 0)
    with pytest.raises(InputError, match=r"after today|之后"):
        run_moment(d + dt.timedelta(days=1), now)


def _arm(values: list[float], discounts: float = 0.0) -> ArmSums:
    return ArmSums(len(values), sum(values), sum(v * v for v in values), discounts)


def test_a_rung_pauses_only_on_evidence_of_a_negative_incremental_margin() -> None:
    assert pause_rule([]) == pause_rule([(_arm([]), _arm([1.0]), 0.6, 1.5)])
    assert not pause_rule([]).paused
    nothing = pause_rule([(_arm([0.0] * 400), _arm([0.0] * 40), 0.6, 1.5)])  # nobody bought: cost only
    assert nothing.paused and nothing.incremental_margin == -600.0 and nothing.upper_95 == -600.0
    assert "upper bound" in nothing.say("en") and "已暂停" in nothing.say("zh")
    noisy = pause_rule([(_arm([0.0] * 390 + [300.0] * 10), _arm([0.0] * 38 + [300.0] * 2), 0.6, 1.5)])
    assert noisy.incremental_margin is not None and noisy.incremental_margin < 0 and not noisy.paused
    good = pause_rule([(_arm([0.0] * 300 + [200.0] * 100), _arm([0.0] * 36 + [200.0] * 4), 0.6, 1.5)])
    assert good.incremental_margin is not None and good.incremental_margin > 0 and not good.paused
    two = pause_rule([(_arm([0.0] * 400), _arm([0.0] * 40), 0.6, 1.5)] * 2)
    assert two.campaigns == 2 and two.incremental_margin == -1200.0
    assert ArmSums(3, 6.0, 14.0).mean_var() == (2.0, 1.0)


def test_the_shipped_journeys_name_scenarios_of_the_playbook() -> None:
    scenarios = load_playbook().scenarios
    journeys = load_journeys()
    assert [j.scenario for j in journeys][:3] == ["ladder_2m_care_call", "ladder_4m_call_voucher", "ladder_6m_discount"]
    assert all(j.scenario in scenarios and j.name_zh and j.name_en for j in journeys)
    with pytest.raises(ConfigError, match=r"twice|两次"):
        parse_journeys('[[journey]]\nid="a"\nname_zh="甲"\nname_en="a"\nscenario="x"\n' * 2)
    with pytest.raises(ConfigError, match=r"lacks|缺少"):
        parse_journeys('[[journey]]\nid="a"\n')


def test_run_twice_creates_nothing_and_a_skipped_day_is_caught_up_once(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    first = _run(db, "2026-11-21T10:00")
    assert first["day"] == "2026-11-21" and first["created_tasks"] > 0 and first["created_touches"] > 0
    launched = [j for j in first["journeys"] if j["status"] == "launched"]
    assert {j["journey_id"] for j in launched} >= LADDER and sum(j["tasks"] for j in launched) == first["created_tasks"]
    again = _run(db, "2026-11-21T18:00", "--date", "2026-11-21")
    assert (again["created_tasks"], again["created_touches"], again["escalated"]) == (0, 0, 0)
    assert {j["status"] for j in again["journeys"]} == {"covered"}
    later = _run(db, "2026-11-24T10:00")  # the 22nd and 23rd were skipped
    assert all(j["covers"] == ["2026-11-22", "2026-11-24"] for j in later["journeys"])
    assert {j["status"] for j in later["journeys"]} <= {"launched", "nobody_due"}
    skipped = _run(db, "2026-11-24T11:00", "--date", "2026-11-23")
    assert (skipped["created_tasks"], skipped["created_touches"]) == (0, 0)
    assert {j["status"] for j in skipped["journeys"]} == {"covered"}
    err = _run(db, "2026-11-24T11:00", "--date", "2026-11-25", ok=False)
    assert "之后" in err["error"]["message"]  # zh by default
    # the history ends on 2026-11-20: nobody bought in the first day's windows, so each rung lost its contact cost
    # with certainty and pauses itself (the campaigns of the 24th are still in their window)
    paused = _run(db, "2026-12-06T10:00")
    rungs = [j for j in paused["journeys"] if j["journey_id"] in LADDER]
    assert {j["status"] for j in rungs} == {"paused"}, paused["journeys"]
    assert all("upper bound" in j["note"] or "上限" in j["note"] for j in rungs)
    assert sum(j["tasks"] for j in rungs) == sum(j["touches"] for j in rungs) == 0
