"""The everyday journeys end to end on the demo brand through `winback run`: who each enrols (birthdays solar and
lunar, tier upgrades detected between members imports, points expiry, member day), each day a campaign with its own
control group, a second run of the day creating nothing, an upgrade congratulated once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
from typer.testing import CliRunner

from winback.cli.main import app
from winback.outreach import lunar

runner = CliRunner()
DAY = dt.date(2026, 11, 21)


def _cli(db: str, now: str, *args: str) -> Any:
    res = runner.invoke(app, ["--db", db, *args, "--json"], env={"WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _journey(result: dict[str, Any], jid: str) -> dict[str, Any]:
    return next(j for j in result["journeys"] if j["journey_id"] == jid)


def _sql(db: str, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(db) as con:
        return con.execute(sql, params or []).fetchall()


def _set_birthdays(db: str) -> tuple[set[str], set[str]]:
    """120 members born (solar) on 28 Nov, 40 with a lunar birthday on the lunar day of 28 Nov 2026, 40 more with
    that month-day solar but flagged lunar (so not due). Returns (solar due, lunar due)."""
    _, lm, ld, _ = lunar.from_solar(dt.date(2026, 11, 28))
    ids = [r[0] for r in _sql(db, "SELECT member_id FROM members WHERE merged_into IS NULL ORDER BY member_id")]
    solar, lun, decoy = ids[:120], ids[120:160], ids[160:200]
    with duckdb.connect(db) as con:
        con.execute("UPDATE members SET birthday = DATE '1990-01-01' WHERE month(birthday) = 11 AND day(birthday) = 28")
        con.execute("UPDATE members SET birthday = DATE '1988-11-28' WHERE list_contains(?, member_id)", [solar])
        for mids in (lun, decoy):
            born = dt.date(1985, lm, ld) if mids is lun else dt.date(1985, 11, 28)
            con.execute(
                "UPDATE members SET birthday = ?, "
                "extra = json_merge_patch(coalesce(extra, '{}'), '{\"生日类型\": \"农历\"}') "
                "WHERE list_contains(?, member_id)",
                [born, mids],
            )
    return set(solar), set(lun)


def test_birthdays_solar_and_lunar_with_a_holdout_and_nothing_twice(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    solar, lun = _set_birthdays(db)
    first = _cli(db, "2026-11-21T10:00", "run")
    b = _journey(first, "birthday")
    assert b["status"] == "launched" and b["note"] == "2026-11-28", b
    enrolled = dict(
        _sql(db, "SELECT member_id, detail FROM journey_audience WHERE journey_id = 'birthday' AND day = ?", [DAY])
    )
    assert set(enrolled) == solar | lun  # the decoys (solar 28 Nov but lunar) are not due; nobody else was born then
    assert {enrolled[m] for m in lun} == {"lunar"} and {enrolled[m] for m in solar} == {"solar"}
    arms = dict(
        _sql(
            db,
            "SELECT arm = 'control', count(*) FROM campaign_members WHERE campaign_id = ? GROUP BY 1",
            [b["campaign_id"]],
        )
    )
    assert arms.get(True, 0) > 0 and arms.get(False, 0) > 0  # the day's own control group
    assert sum(arms.values()) == b["members"]
    members = {
        r[0] for r in _sql(db, "SELECT member_id FROM campaign_members WHERE campaign_id = ?", [b["campaign_id"]])
    }
    assert members <= solar | lun
    again = _cli(db, "2026-11-21T18:00", "run")
    assert (again["created_tasks"], again["created_touches"]) == (0, 0)
    assert _journey(again, "birthday")["status"] == "covered"


def _members_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text("会员卡号,会员等级\n" + "".join(f"{m},{t}\n" for m, t in rows), encoding="utf-8")
    return path


def test_tier_upgrades_are_detected_between_imports_and_congratulated_once(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    base = _sql(
        db,
        "SELECT member_id, tier FROM members WHERE tier IN ('普通', '高级') AND merged_into IS NULL "
        "AND member_id IN (SELECT member_id FROM member_snapshot) ORDER BY member_id",
    )
    ups = [m for m, t in base if t == "普通"][:60]
    downs = [m for m, t in base if t == "高级"][:10]
    rows = [(m, "高级") for m in ups] + [(m, "普通") for m in downs]
    _cli(db, "2026-11-21T08:00", "import", "members", str(_members_csv(tmp_path / "m1.csv", rows)))
    changes = _sql(db, "SELECT member_id, old_value, new_value FROM member_profile_changes WHERE field = 'tier'")
    assert sorted(changes) == sorted([(m, "普通", "高级") for m in ups] + [(m, "高级", "普通") for m in downs])
    again = _cli(db, "2026-11-21T08:30", "import", "members", str(_members_csv(tmp_path / "m2.csv", rows)))
    assert again["rows_in"] == len(rows)
    assert len(_sql(db, "SELECT * FROM member_profile_changes")) == len(changes)  # nothing changed: no history
    first = _cli(db, "2026-11-21T10:00", "run")
    t = _journey(first, "tier_upgrade")
    assert t["status"] == "launched"
    enrolled = {r[0] for r in _sql(db, "SELECT member_id FROM journey_audience WHERE journey_id = 'tier_upgrade'")}
    assert enrolled == set(ups)  # upgrades only, not the downgrades
    nxt = _cli(db, "2026-11-22T10:00", "run")
    assert _journey(nxt, "tier_upgrade")["status"] == "nobody_due"  # congratulated once
    state = dict(_sql(db, "SELECT member_id, tier FROM member_profile_state WHERE list_contains(?, member_id)", [ups]))
    assert set(state.values()) == {"高级"}


def test_points_expiry_and_member_day_on_their_days(demo_brand: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    ids = [
        r[0] for r in _sql(db, "SELECT member_id FROM members WHERE points >= 100 AND merged_into IS NULL ORDER BY 1")
    ]
    with duckdb.connect(db) as con:  # ten members' profiles name their own expiry day: 2027-01-10
        con.execute(
            "UPDATE members SET extra = json_merge_patch(coalesce(extra, '{}'), '{\"积分到期日\": \"2027/01/10\"}') "
            "WHERE list_contains(?, member_id)",
            [ids[:10]],
        )
    dec1 = _cli(db, "2026-12-01T10:00", "run", "--date", "2026-12-01")  # 30 days before the yearly clearing day
    p = _journey(dec1, "points_expiry")
    assert p["status"] == "launched" and p["note"] == "2026-12-31"
    got = {r[0] for r in _sql(db, "SELECT member_id FROM journey_audience WHERE journey_id = 'points_expiry'")}
    assert got == set(ids[10:])
    assert _journey(dec1, "member_day")["status"] == "nobody_due"
    dec11 = _cli(db, "2026-12-17T10:00", "run", "--date", "2026-12-11")  # the 2nd..11th caught up: 01-10 announced
    got = {
        r[0]
        for r in _sql(
            db, "SELECT member_id FROM journey_audience WHERE journey_id = 'points_expiry' AND day = '2026-12-11'"
        )
    }
    assert got == set(ids[:10]) and _journey(dec11, "points_expiry")["covers"] == ["2026-12-02", "2026-12-11"]
    dec17 = _cli(db, "2026-12-17T10:00", "run")  # member day on the 18th, announced the day before
    m = _journey(dec17, "member_day")
    assert m["status"] == "launched" and m["note"] == "member_day 2026-12-18" and m["members"] > 0
    segments = {
        r[0]
        for r in _sql(db, "SELECT DISTINCT segment FROM campaign_members WHERE campaign_id = ?", [m["campaign_id"]])
    }
    assert segments <= {"active", "silent", "near_dormant"}  # the scenario's segments narrow the whole base


def test_a_ladder_rung_does_not_enrol_a_member_twice_and_close_skips_with_a_reason(
    demo_brand: Any, tmp_path: Path
) -> None:
    db = str(tmp_path / "wb.duckdb")
    shutil.copy(demo_brand.db_path, db)
    first = _cli(db, "2026-11-21T10:00", "run")
    c1 = _journey(first, "ladder_2m")["campaign_id"]
    week = _cli(db, "2026-11-30T10:00", "run")  # past the 7-day frequency cap: only the rung rule keeps them out
    rung = _journey(week, "ladder_2m")  # no new data: the same snapshot, the same members in the 60-119 day range
    assert _journey(first, "ladder_2m")["members"] > 0 and (rung["status"], rung["members"]) == ("nobody_due", 0)
    queued = _sql(db, "SELECT count(*) FROM touches WHERE campaign_id = ? AND status = 'queued'", [c1])[0][0]
    _cli(db, "2026-11-30T11:00", "campaign", "close", c1)
    after = dict(
        _sql(
            db,
            "SELECT status || ':' || coalesce(reason, ''), count(*) FROM touches WHERE campaign_id = ? GROUP BY 1",
            [c1],
        )
    )
    assert queued > 0 and after == {"skipped:campaign_closed": queued}
