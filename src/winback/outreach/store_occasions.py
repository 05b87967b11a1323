"""The everyday journeys' SQL: who a journey enrols on a run day, written to journey_audience (migration 016).

Every function replaces the journey's rows of that day in one transaction (a failed launch leaves rows the next
run of the day rewrites) and returns how many members it enrolled. The calendar (which birthdays, festivals,
expiry days a run announces) is decided in outreach.occasions; these statements only match members to it.
Members merged into another record are never enrolled; the campaign then applies the scenario's segments,
consent, opt-outs and the frequency cap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from winback.errors import EngineError, outdated_schema

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_INSERT = "INSERT INTO journey_audience (journey_id, day, member_id, occasion, detail) "


def _replace(db: DuckDBEngine, journey_id: str, day: dt.date, select: str, params: list[object]) -> int:
    """Delete the journey's rows of `day`, insert `select` (member_id, occasion, detail), return the count."""
    try:
        with db.transaction():
            db.execute("DELETE FROM journey_audience WHERE journey_id = ? AND day = ?", [journey_id, day])
            db.execute(
                f"{_INSERT} SELECT ?, ?, member_id, occasion, detail FROM ({select})", [journey_id, day, *params]
            )
            row = db.fetchone(
                "SELECT count(*) FROM journey_audience WHERE journey_id = ? AND day = ?", [journey_id, day]
            )
    except EngineError as exc:
        raise outdated_schema(exc, "everyday journeys need") from exc
    return int(row[0]) if row else 0


def clear(db: DuckDBEngine, journey_id: str, day: dt.date) -> int:
    """Nobody due: the day's rows go (a rerun of a failed day may have left some)."""
    return _replace(
        db,
        journey_id,
        day,
        "SELECT NULL::VARCHAR AS member_id, NULL::DATE AS occasion, NULL::VARCHAR AS detail WHERE FALSE",
        [],
    )


def enrol_everyone(db: DuckDBEngine, journey_id: str, day: dt.date, occasion: dt.date, detail: str) -> int:
    """A member day, a festival, a season: every member (the scenario's segments narrow it)."""
    return _replace(
        db,
        journey_id,
        day,
        "SELECT member_id, ?::DATE AS occasion, ? AS detail FROM members WHERE merged_into IS NULL",
        [occasion, detail],
    )


def _extra_in(fields: Mapping[str, Sequence[str]]) -> tuple[str, list[object]]:
    """A predicate on members.extra: one of `fields` holds one of its values (FALSE when none is configured)."""
    terms, params = [], []
    for key, values in fields.items():
        if values:
            terms.append(f"json_extract_string(m.extra, ?) IN ({', '.join('?' for _ in values)})")
            params += [f'$."{key}"', *values]
    return (f"coalesce({' OR '.join(terms)}, FALSE)" if terms else "FALSE"), params


def enrol_birthdays(
    db: DuckDBEngine,
    journey_id: str,
    day: dt.date,
    solar: list[tuple[int, int, dt.date]],
    lunar: list[tuple[int, int, dt.date]],
    lunar_when: Mapping[str, Sequence[str]],
) -> int:
    """Members whose birthday (solar month-day, or lunar month-day where the profile says lunar) is one of the
    announced keys; the occasion is this year's solar date of the birthday."""
    keys = pa.table(
        {
            "cal": ["solar"] * len(solar) + ["lunar"] * len(lunar),
            "m": pa.array([k[0] for k in solar + lunar], pa.int32()),
            "d": pa.array([k[1] for k in solar + lunar], pa.int32()),
            "occasion": pa.array([k[2] for k in solar + lunar], pa.date32()),
        }
    )
    is_lunar, params = _extra_in(lunar_when)
    select = f"""
        SELECT b.member_id, min(k.occasion) AS occasion, any_value(k.cal) AS detail
        FROM (SELECT m.member_id, month(m.birthday) AS m, day(m.birthday) AS d,
                     CASE WHEN {is_lunar} THEN 'lunar' ELSE 'solar' END AS cal
              FROM members m WHERE m.birthday IS NOT NULL AND m.merged_into IS NULL) b
        JOIN _bkeys k ON k.cal = b.cal AND k.m = b.m AND k.d = b.d
        GROUP BY b.member_id
    """
    with db.registered("_bkeys", keys):
        return _replace(db, journey_id, day, select, params)


def _date_of(fields: Sequence[str]) -> tuple[str, list[object]]:
    """The first of the profile's date fields that reads as a date (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD), or NULL."""
    terms, params = [], []
    for key in fields:
        v = "json_extract_string(m.extra, ?)"
        terms.append(
            f"coalesce(try_cast({v} AS DATE), try_strptime({v}, '%Y/%m/%d')::DATE, try_strptime({v}, '%Y%m%d')::DATE)"
        )
        params += [f'$."{key}"'] * 3
    return (f"coalesce({', '.join(terms)})" if terms else "NULL::DATE"), params


def enrol_points_expiry(
    db: DuckDBEngine,
    journey_id: str,
    day: dt.date,
    dates: list[dt.date],
    yearly: dt.date | None,
    min_points: float,
    fields: Sequence[str],
) -> int:
    """Members with at least `min_points` whose points expire on an announced day: the profile's expiry date, else
    (`yearly`, when the brand's yearly clearing day is announced) the clearing day."""
    expiry, params = _date_of(fields)
    select = f"""
        SELECT member_id, occasion, 'points ' || CAST(points AS BIGINT) AS detail FROM (
            SELECT m.member_id, m.points, coalesce({expiry}, ?::DATE) AS occasion
            FROM members m WHERE m.merged_into IS NULL AND m.points >= ?
        ) WHERE list_contains(?, occasion)
    """
    return _replace(db, journey_id, day, select, [*params, yearly, min_points, dates])


def enrol_tier_upgrades(db: DuckDBEngine, journey_id: str, day: dt.date, tiers: Sequence[str]) -> int:
    """Members whose latest recorded tier change (member_profile_changes) is a rise in `tiers` (lowest first) and
    who were not enrolled for that change by an earlier run day; the occasion is the day it was recorded."""
    ranks = pa.table({"tier": list(tiers), "rank": pa.array(range(len(tiers)), pa.int32())})
    select = """
        SELECT c.member_id, CAST(c.changed_at AS DATE) AS occasion, c.new_value || '<-' || c.old_value AS detail
        FROM (SELECT * FROM member_profile_changes WHERE field = 'tier'
              QUALIFY row_number() OVER (PARTITION BY member_id ORDER BY change_id DESC) = 1) c
        JOIN _ranks o ON o.tier = c.old_value JOIN _ranks n ON n.tier = c.new_value
        JOIN members m ON m.member_id = c.member_id AND m.merged_into IS NULL
        WHERE n.rank > o.rank AND NOT EXISTS (
            SELECT 1 FROM journey_audience a WHERE a.journey_id = ? AND a.member_id = c.member_id AND a.day < ?
              AND a.occasion = CAST(c.changed_at AS DATE) AND a.detail = c.new_value || '<-' || c.old_value)
    """
    with db.registered("_ranks", ranks):
        return _replace(db, journey_id, day, select, [journey_id, day])
