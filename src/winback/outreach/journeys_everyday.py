"""The everyday journeys' enrolment for one run day: the calendar (outreach.occasions) matched to members
(outreach.store_occasions), written to journey_audience for the journey's scenario to read (target.journey).

`enrol(db, journey, rules, first, day)` returns (members enrolled, what was announced). `check_scenario` makes
sure the scenario really reads that audience: a scenario without `target.journey = <journey id>` would launch to
its whole segment (a birthday greeting to everyone), so the run refuses it and says how to fix the rules.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from winback.errors import ConfigError
from winback.i18n import _
from winback.outreach import occasions, store_occasions
from winback.outreach.journeys import Journey, JourneyRules

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def enrol(db: DuckDBEngine, j: Journey, rules: JourneyRules, first: dt.date, day: dt.date) -> tuple[int, str]:
    """Enrol journey `j` for the run of `day` covering [first, day]; (members, the occasions announced)."""
    if j.kind == "birthday":
        solar, lunar_keys = occasions.birthday_keys(first, day, j.days_before)
        n = store_occasions.enrol_birthdays(db, j.id, day, solar, lunar_keys, j.profile_fields)
        span = occasions.announced(first, day, j.days_before)
        return n, _range(span)
    if j.kind == "tier_upgrade":
        return store_occasions.enrol_tier_upgrades(db, j.id, day, j.tiers), ""
    if j.kind == "points_expiry":
        dates = occasions.expiry_dates(first, day, j.days_before)
        yearly = next((d for d in dates if j.expires and (d.month, d.day) == j.expires), None)
        fields = list(j.profile_fields)
        return store_occasions.enrol_points_expiry(db, j.id, day, dates, yearly, j.min_points, fields), _range(dates)
    found = _calendar(j, rules, first, day)
    if not found:
        store_occasions.clear(db, j.id, day)
        return 0, ""
    detail = ",".join(i for _, i in found)
    return store_occasions.enrol_everyone(db, j.id, day, found[0][0], detail), detail


def _calendar(j: Journey, rules: JourneyRules, first: dt.date, day: dt.date) -> list[tuple[dt.date, str]]:
    """(occasion, id) of the member-wide occasions (member day, festivals, seasons) the run announces."""
    if j.kind == "member_day":
        assert j.day_of_month is not None  # checked when the rules were read
        return [(d, f"member_day {d}") for d in occasions.member_days(first, day, j.days_before, j.day_of_month)]
    if j.kind == "festival":
        return occasions.festival_days(first, day, j.days_before, [rules.festivals[f] for f in j.festivals])
    if j.kind == "season":
        return occasions.yearly_days(first, day, j.days_before, list(j.seasons))
    raise ConfigError(_("journey {id!r}: kind {kind!r} has no calendar", id=j.id, kind=j.kind))


def _range(days: list[dt.date]) -> str:
    if not days:
        return ""
    return f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]}"


def scenario_targets(scenarios_file: str | Path | None, scenario_id: str) -> str | None:
    """The journey id a scenario's target reads (target.journey), from the playbook file (the `scenarios`
    setting, else the shipped rules/scenarios.toml); None when it has none or the scenario is unknown (the launch
    then says what is wrong)."""
    if scenarios_file:
        text = Path(scenarios_file).read_text(encoding="utf-8")
    else:
        text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None  # the launch reports the broken file
    for raw in data.get("scenario", []):
        if raw.get("id") == scenario_id:
            target = raw.get("target", {})
            return str(target["journey"]) if isinstance(target, dict) and "journey" in target else None
    return None


def check_scenario(j: Journey, scenarios_file: str | Path | None) -> str | None:
    """Why the journey cannot launch its scenario (the scenario does not read the journey's audience), or None."""
    if j.kind == "scenario" or scenario_targets(scenarios_file, j.scenario) == j.id:
        return None
    return _(
        "scenario {scenario!r} does not read journey {id!r}'s audience: give it target.journey = {id!r} in the "
        "scenarios file, or it would reach its whole segment",
        scenario=j.scenario,
        id=j.id,
    )
