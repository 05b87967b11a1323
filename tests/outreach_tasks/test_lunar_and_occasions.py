"""The lunisolar calendar against the `holidays` package's published tables, and the everyday journeys' calendar
(birthdays incl. lunar ones, member days, festivals, seasons, catch-up windows)."""

from __future__ import annotations

import datetime as dt

import pytest
from holidays.calendars.chinese import _ChineseLunisolar
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.errors import ConfigError
from winback.i18n import t, using
from winback.outreach import lunar, occasions
from winback.outreach.journeys import load_rules, parse_rules

#: lunar (month, day) of the package's tables (Hong Kong Observatory data, 1901–2099)
TABLES = {
    "LUNAR_NEW_YEAR_DATES": (1, 1),
    "BUDDHA_BIRTHDAY_DATES": (4, 8),
    "DRAGON_BOAT_DATES": (5, 5),
    "MID_AUTUMN_DATES": (8, 15),
    "DOUBLE_NINTH_DATES": (9, 9),
}
#: the one disagreement: the new moon of 2057's ninth month falls minutes after midnight in Beijing; an error of a
#: few minutes in ΔT extrapolated 30 years ahead puts it on the day before
KNOWN = {("DOUBLE_NINTH_DATES", 2057)}


def test_lunar_dates_match_the_published_tables_for_1901_to_2099() -> None:
    checked, wrong = 0, []
    for table, (month, day) in TABLES.items():
        for year, (m, d) in getattr(_ChineseLunisolar, table).items():
            checked += 1
            got = lunar.to_solar(year, month, day)
            if got != dt.date(year, m, d) and (table, year) not in KNOWN:
                wrong.append((table, year, dt.date(year, m, d), got))
    assert checked >= 990 and wrong == []


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(1950, 1, 1), dt.date(2090, 12, 31)))
def test_solar_to_lunar_and_back_is_the_same_day(day: dt.date) -> None:
    year, month, d, leap = lunar.from_solar(day)
    assert 1 <= month <= 12 and 1 <= d <= 30
    assert lunar.to_solar(year, month, d, leap=leap) == day


def test_lunar_years_have_12_or_13_months_of_29_or_30_days() -> None:
    for year in range(1950, 2091):
        months = lunar.lunar_months(year)
        assert len(months) in (12, 13) and [m for m, leap, *_ in months if not leap] == list(range(1, 13))
        assert all(n in (29, 30) for *_, n in months)
        assert sum(leap for _, leap, *_ in months) == (len(months) == 13)
    assert [(m, leap) for m, leap, *_ in lunar.lunar_months(2023) if leap] == [(2, True)]  # 闰二月 2023
    assert [(m, leap) for m, leap, *_ in lunar.lunar_months(2025) if leap] == [(6, True)]  # 闰六月 2025


def test_birthday_keys_solar_leap_day_and_lunar_short_months() -> None:
    solar, lun = occasions.birthday_keys(dt.date(2027, 2, 21), dt.date(2027, 2, 21), 7)  # announces 2027-02-28
    assert (2, 28, dt.date(2027, 2, 28)) in solar and (2, 29, dt.date(2027, 2, 28)) in solar  # 29 Feb, common year
    y, m, d, _ = lunar.from_solar(dt.date(2027, 2, 28))
    assert (m, d, dt.date(2027, 2, 28)) in lun and y == 2027
    # a lunar 三十 is kept on the last day (廿九) of a 29-day month
    short = next(start + dt.timedelta(days=28) for month, leap, start, n in lunar.lunar_months(2026) if n == 29)
    _, lun = occasions.birthday_keys(short, short, 0)
    assert {(k[1], k[2]) for k in lun} == {(29, short), (30, short)}


def test_a_catch_up_announces_the_skipped_days_once_and_nothing_already_past() -> None:
    d = dt.date(2026, 11, 24)
    assert occasions.announced(d, d, 7) == [dt.date(2026, 12, 1)]
    assert occasions.announced(dt.date(2026, 11, 22), d, 7) == [
        dt.date(2026, 11, 29) + dt.timedelta(days=i) for i in range(3)
    ]
    assert occasions.announced(dt.date(2026, 11, 1), d, 0) == [d]  # 23 skipped days: only today's birthdays
    assert occasions.member_days(dt.date(2026, 11, 16), dt.date(2026, 11, 17), 1, 18) == [dt.date(2026, 11, 18)]
    assert occasions.member_days(dt.date(2027, 2, 27), dt.date(2027, 2, 27), 1, 31) == [dt.date(2027, 2, 28)]
    assert occasions.member_days(dt.date(2026, 11, 18), dt.date(2026, 11, 18), 1, 18) == []


def test_festivals_from_the_statutory_calendar_and_computed_lunar_days() -> None:
    rules = load_rules()
    fest = list(rules.festivals.values())
    got = dict((i, d) for d, i in occasions.festival_days(dt.date(2026, 1, 1), dt.date(2026, 1, 1), 0, fest))
    assert got == {"new_year": dt.date(2026, 1, 1)}
    year = {i: d for d, i in (occasions.festival_days(x, x, 0, fest)[0] for x in _days_with(fest, 2026))}
    assert year["spring_festival"] == dt.date(2026, 2, 17) and year["mid_autumn"] == dt.date(2026, 9, 25)
    assert year["qixi"] == dt.date(2026, 8, 19) and year["lantern"] == dt.date(2026, 3, 3)
    assert year["double_ninth"] == dt.date(2026, 10, 18) and year["laba"] == dt.date(2026, 1, 26)
    assert year["national_day"] == dt.date(2026, 10, 1) and year["dragon_boat"] == dt.date(2026, 6, 19)
    ahead = occasions.festival_days(dt.date(2026, 9, 22), dt.date(2026, 9, 22), 3, fest)
    assert ahead == [(dt.date(2026, 9, 25), "mid_autumn")]
    seasons = next(j for j in rules.journeys if j.kind == "season").seasons
    assert occasions.yearly_days(dt.date(2026, 2, 27), dt.date(2026, 3, 1), 0, list(seasons)) == [
        (dt.date(2026, 3, 1), "spring")
    ]


def _days_with(fest: list[occasions.Festival], year: int) -> list[dt.date]:
    return [d for f in fest for y in (year - 1, year) if (d := f.date(y)) and d.year == year]


def test_the_shipped_rules_and_their_errors() -> None:
    rules = load_rules()
    kinds = {j.id: j.kind for j in rules.journeys}
    assert {"birthday", "member_day", "festival", "season", "tier_upgrade", "points_expiry"} <= set(kinds.values())
    base = '[[journey]]\nid = "b"\nname_zh = "生日"\nname_en = "b"\nscenario = "birthday_gift"\n'
    with using("en"):
        with pytest.raises(ConfigError, match="kind 'nope' is unknown"):
            parse_rules(base + 'kind = "nope"\n')
        with pytest.raises(ConfigError, match="day_of_month"):
            parse_rules(base + 'kind = "member_day"\n')
        with pytest.raises(ConfigError, match="unknown festivals"):
            parse_rules(base + 'kind = "festival"\nfestivals = ["mars_day"]\n')
        with pytest.raises(ConfigError, match="days_before"):
            parse_rules(base + 'kind = "birthday"\ndays_before = 400\n')
        with pytest.raises(ConfigError, match="exactly one of"):
            parse_rules('[[festival]]\nid = "x"\nname_zh = "x"\nname_en = "x"\nlunar = "01-15"\nsolar = "01-15"\n')
        with pytest.raises(ConfigError, match="MM-DD"):
            parse_rules(base + 'kind = "season"\nseasons = [{ id = "s", starts = "13-40" }]\n')


def test_the_errors_are_in_chinese() -> None:
    try:
        with using("zh"):
            parse_rules('[[journey]]\nid = "b"\nname_zh = "生日"\nname_en = "b"\nscenario = "x"\nkind = "member_day"\n')
    except ConfigError as exc:
        assert "会员日需要" in exc.message and t("run before, last day", "zh") == "已运行过，最后一天"
    else:
        raise AssertionError("no error")
