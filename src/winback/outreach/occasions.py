"""The everyday journeys' calendar: which occasions a run covering [first, last] must announce. Pure.

A journey announces an occasion `days_before` days ahead: the run of day D covering [first, D] (a catch-up run
covers the skipped days once) announces every occasion o with o − days_before in [first, D] and o ≥ D.

- birthday: the member's birthday (solar), or — where the profile says the birthday is a lunar one — the solar
  day of that lunar month and day this year (outreach.lunar); 29 February falls on 28 February in common years,
  a lunar 三十 on the last day of a 29-day month; lunar birthdays fall in the ordinary month, not a leap month.
- member_day: a fixed day of each month (the 31st falls on a short month's last day).
- festival: statutory holidays from the `holidays` package's China calendar (the first day of the named holiday),
  lunar festivals (七夕, 元宵, 重阳 …) computed, fixed solar days (520, 双11 …) — the `[[festival]]` table of
  rules/journeys.toml.
- season: fixed solar days (换季).
- points_expiry: each member's points expiry date (a profile field) or the brand's yearly clearing day.
- tier_upgrade: no calendar (the upgrades recorded since the last notice, outreach.store_occasions).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from winback.outreach import lunar


@dataclass(frozen=True)
class Festival:
    id: str
    name_zh: str
    name_en: str
    statutory: str | None = None  # the holiday's English name in holidays.China (language en_US)
    lunar: tuple[int, int] | None = None  # lunar (month, day)
    solar: tuple[int, int] | None = None  # solar (month, day)
    offset: int = 0  # days after the named day (除夕 = 春节 − 1)

    def date(self, year: int) -> dt.date | None:
        """The festival's day in (lunar or solar) year `year`, None when the calendar has no such day."""
        if self.statutory:
            found = _statutory(year).get(self.statutory)
            base = found
        elif self.lunar:
            base = lunar.to_solar(year, *self.lunar)
        elif self.solar:
            base = _clamped(year, *self.solar)
        else:
            base = None
        return base + dt.timedelta(days=self.offset) if base else None


@lru_cache(maxsize=64)
def _statutory(year: int) -> dict[str, dt.date]:
    """Holiday name -> its first day in `year` (China's statutory calendar, the `holidays` package)."""
    import holidays

    out: dict[str, dt.date] = {}
    for day, name in sorted(holidays.country_holidays("CN", years=year, language="en_US").items()):
        for part in str(name).split("; "):
            out.setdefault(part, day)
    return out


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def announced(first: dt.date, last: dt.date, days_before: int) -> list[dt.date]:
    """The occasion days a run of day `last` covering [first, last] announces: each day's occasion (the day plus
    `days_before`), except those already past on the run day (a long gap does not wish a happy birthday late)."""
    return [o for d in days(first, last) if (o := d + dt.timedelta(days=days_before)) >= last]


def member_days(first: dt.date, last: dt.date, days_before: int, day_of_month: int) -> list[dt.date]:
    """The member days (a fixed day of each month) announced by a run covering [first, last]."""
    return [o for o in announced(first, last, days_before) if o.day == min(day_of_month, _month_end(o))]


def _month_end(d: dt.date) -> int:
    return calendar.monthrange(d.year, d.month)[1]


def yearly_days(
    first: dt.date, last: dt.date, days_before: int, dates: list[tuple[str, tuple[int, int]]]
) -> list[tuple[dt.date, str]]:
    """(day, id) of fixed yearly days (MM-DD) announced by a run covering [first, last]."""
    wanted = set(announced(first, last, days_before))
    years = {d.year for d in wanted}
    return sorted((_clamped(y, *md), i) for i, md in dates for y in years if _clamped(y, *md) in wanted)


def festival_days(
    first: dt.date, last: dt.date, days_before: int, festivals: list[Festival]
) -> list[tuple[dt.date, str]]:
    """(day, festival id) of the festivals announced by a run covering [first, last]."""
    wanted = set(announced(first, last, days_before))
    years = {d.year + k for d in wanted for k in (-1, 0)}  # a lunar year's 腊八 falls in the next solar year
    out = {(d, f.id) for f in festivals for y in years if (d := f.date(y)) is not None and d in wanted}
    return sorted(out)


def birthday_keys(
    first: dt.date, last: dt.date, days_before: int
) -> tuple[list[tuple[int, int, dt.date]], list[tuple[int, int, dt.date]]]:
    """(solar keys, lunar keys): (month, day, the birthday this year) of the birthdays a run covering [first, last]
    announces — solar by the calendar day, lunar by the lunar month and day of that solar day."""
    solar: list[tuple[int, int, dt.date]] = []
    lunar_keys: list[tuple[int, int, dt.date]] = []
    for o in announced(first, last, days_before):
        solar.append((o.month, o.day, o))
        if o.month == 2 and o.day == 28 and not calendar.isleap(o.year):
            solar.append((2, 29, o))
        _, lm, ld, leap = lunar.from_solar(o)
        if leap:
            continue
        lunar_keys.append((lm, ld, o))
        if ld == 29 and lunar.to_solar(lunar.from_solar(o)[0], lm, 30) == o:  # a short month: 三十 is kept on 廿九
            lunar_keys.append((lm, 30, o))
    return solar, lunar_keys


def expiry_dates(first: dt.date, last: dt.date, days_before: int) -> list[dt.date]:
    """The expiry days a run covering [first, last] reminds of."""
    return announced(first, last, days_before)


def parse_month_day(text: str, where: str) -> tuple[int, int]:
    """'MM-DD' -> (month, day); ValueError naming `where` otherwise."""
    try:
        m, d = (int(x) for x in str(text).split("-"))
        dt.date(2000, m, d)  # a leap year: 02-29 is a valid yearly day
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a month-day (MM-DD)") from None
    return m, d
