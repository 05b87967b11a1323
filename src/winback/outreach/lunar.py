"""The Chinese lunisolar calendar (农历) computed from astronomy: lunar date -> solar date. Pure.

Month starts are the Beijing-time (UTC+8) days of the new moons (Meeus, *Astronomical Algorithms*, ch. 49, with
the planetary terms); principal solar terms (中气) from the Sun's apparent longitude (ch. 25, low accuracy,
~0.01° ≈ 15 minutes). Month 11 is the month that holds the winter solstice; a "year" of 13 months between two
month-11 starts has a leap month: the first month without a principal term (无中气置闰). Checked against the
`holidays` package's published tables of 春节 (1/1), 佛诞 (4/8), 端午 (5/5), 中秋 (8/15) and 重阳 (9/9) for
1901–2099 (tests/outreach_tasks/test_lunar.py).
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache

_RAD = math.pi / 180
_UNIX_JD = 2440587.5  # 1970-01-01 00:00 UT
_EPOCH = dt.date(1970, 1, 1)
_NEW_MOON_TERMS = (  # (coefficient, power of E, multiples of M, M', F, Ω)
    (-0.40720, 0, 0, 1, 0, 0),
    (0.17241, 1, 1, 0, 0, 0),
    (0.01608, 0, 0, 2, 0, 0),
    (0.01039, 0, 0, 0, 2, 0),
    (0.00739, 1, -1, 1, 0, 0),
    (-0.00514, 1, 1, 1, 0, 0),
    (0.00208, 2, 2, 0, 0, 0),
    (-0.00111, 0, 0, 1, -2, 0),
    (-0.00057, 0, 0, 1, 2, 0),
    (0.00056, 1, 1, 2, 0, 0),
    (-0.00042, 0, 0, 3, 0, 0),
    (0.00042, 1, 1, 0, 2, 0),
    (0.00038, 1, 1, 0, -2, 0),
    (-0.00024, 1, -1, 2, 0, 0),
    (-0.00017, 0, 0, 0, 0, 1),
    (-0.00007, 0, 2, 1, 0, 0),
    (0.00004, 0, 0, 2, -2, 0),
    (0.00004, 0, 3, 0, 0, 0),
    (0.00003, 0, 1, 1, -2, 0),
    (0.00003, 0, 0, 2, 2, 0),
    (-0.00003, 0, 1, 1, 2, 0),
    (0.00003, 0, -1, 1, 2, 0),
    (-0.00002, 0, -1, 1, -2, 0),
    (-0.00002, 0, 1, 3, 0, 0),
    (0.00002, 0, 0, 4, 0, 0),
)
_PLANETARY = (  # (coefficient, A at k=0, rate per lunation)
    (0.000325, 299.77, 0.107408),
    (0.000165, 251.88, 0.016321),
    (0.000164, 251.83, 26.651886),
    (0.000126, 349.42, 36.412478),
    (0.000110, 84.66, 18.206239),
    (0.000062, 141.74, 53.303771),
    (0.000060, 207.14, 2.453732),
    (0.000056, 154.84, 7.306860),
    (0.000047, 34.52, 27.261239),
    (0.000042, 207.19, 0.121824),
    (0.000040, 291.34, 1.844379),
    (0.000037, 161.72, 24.198154),
    (0.000035, 239.56, 25.513099),
    (0.000023, 331.55, 3.592518),
)


def _delta_t_days(year: float) -> float:
    """TT − UT in days (Espenak–Meeus polynomials, good to seconds for 1900–2100)."""
    if year < 1920:
        t = year - 1900
        s = -2.79 + 1.494119 * t - 0.0598939 * t**2 + 0.0061966 * t**3 - 0.000197 * t**4
    elif year < 1941:
        t = year - 1920
        s = 21.20 + 0.84493 * t - 0.076100 * t**2 + 0.0020936 * t**3
    elif year < 1961:
        t = year - 1950
        s = 29.07 + 0.407 * t - t**2 / 233 + t**3 / 2547
    elif year < 1986:
        t = year - 1975
        s = 45.45 + 1.067 * t - t**2 / 260 - t**3 / 718
    elif year < 2005:
        t = year - 2000
        s = 63.86 + 0.3345 * t - 0.060374 * t**2 + 0.0017275 * t**3 + 0.000651814 * t**4 + 0.00002373599 * t**5
    elif year < 2050:
        t = year - 2000
        s = 62.92 + 0.32217 * t + 0.005589 * t**2
    else:
        s = -20 + 32 * ((year - 1820) / 100) ** 2 - 0.5628 * (2150 - year)
    return s / 86400


def _beijing_day(jde: float) -> dt.date:
    """The Beijing civil date of a moment given in Julian Ephemeris Days (TT)."""
    year = 2000 + (jde - 2451545.0) / 365.25
    jd_ut = jde - _delta_t_days(year)
    return _EPOCH + dt.timedelta(days=math.floor(jd_ut + 8 / 24 - _UNIX_JD))


def new_moon_jde(k: int) -> float:
    """The k-th new moon after 2000-01-06 (k may be negative), in JDE (Meeus 49.1 and table 49.A)."""
    t = k / 1236.85
    jde = 2451550.09766 + 29.530588861 * k + 0.00015437 * t**2 - 0.000000150 * t**3 + 0.00000000073 * t**4
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    m = (2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3) * _RAD
    mp = (201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3 - 0.000000058 * t**4) * _RAD
    f = (160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3 + 0.000000011 * t**4) * _RAD
    om = (124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3) * _RAD
    for c, pe, a, b, cf, co in _NEW_MOON_TERMS:
        jde += c * e**pe * math.sin(a * m + b * mp + cf * f + co * om)
    for c, a0, rate in _PLANETARY:
        a = a0 + rate * k - (0.009173 * t**2 if a0 == 299.77 else 0.0)
        jde += c * math.sin(a * _RAD)
    return jde


def _sun_longitude(jde: float) -> float:
    """The Sun's apparent ecliptic longitude in degrees (Meeus ch. 25, low accuracy)."""
    t = (jde - 2451545.0) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t**2
    m = (357.52911 + 35999.05029 * t - 0.0001537 * t**2) * _RAD
    c = (
        (1.914602 - 0.004817 * t - 0.000014 * t**2) * math.sin(m)
        + (0.019993 - 0.000101 * t) * math.sin(2 * m)
        + 0.000289 * math.sin(3 * m)
    )
    om = (125.04 - 1934.136 * t) * _RAD
    return (l0 + c - 0.00569 - 0.00478 * math.sin(om)) % 360


def solar_term_jde(year: int, longitude: float) -> float:
    """The moment in `year` the Sun reaches `longitude` (a multiple of 15°: 270 = winter solstice)."""
    day_of_year = ((longitude - 280) % 360) / 360 * 365.2422  # ≈ days after 1 January
    jde = 2451545.0 + (year - 2000) * 365.2422 + day_of_year - 1.5
    for _ in range(20):
        delta = ((longitude - _sun_longitude(jde) + 180) % 360) - 180
        jde += delta * 365.2422 / 360
        if abs(delta) < 1e-7:
            break
    return jde


def _k_near(jde: float) -> int:
    return round((jde - 2451550.09766) / 29.530588861)


def _month_start_on_or_before(day: dt.date) -> tuple[int, dt.date]:
    """(k, first day) of the lunar month that contains `day`."""
    jd = (day - _EPOCH).days + _UNIX_JD
    k = _k_near(jd) + 1
    while _beijing_day(new_moon_jde(k)) > day:
        k -= 1
    return k, _beijing_day(new_moon_jde(k))


@lru_cache(maxsize=512)
def _cycle(year: int) -> tuple[tuple[int, bool, dt.date, int], ...]:
    """The lunar months from the month-11 that holds the winter solstice of `year − 1` up to (not including) the
    one of `year`: (month number, leap, first day, days)."""
    ws_prev = _beijing_day(solar_term_jde(year - 1, 270))
    ws = _beijing_day(solar_term_jde(year, 270))
    k0, _ = _month_start_on_or_before(ws_prev)
    k1, _ = _month_start_on_or_before(ws)
    starts = [_beijing_day(new_moon_jde(k)) for k in range(k0, k1 + 1)]
    leap_at = -1
    if k1 - k0 == 13:  # one month too many: the first without a principal term is the leap month
        terms = [_beijing_day(solar_term_jde(y, lon)) for y in (year - 1, year) for lon in range(0, 360, 30)]
        for i in range(1, 13):
            if not any(starts[i] <= d < starts[i + 1] for d in terms):
                leap_at = i
                break
    out, number = [], 11
    for i in range(k1 - k0):
        leap = i == leap_at
        if i and not leap:
            number = number % 12 + 1
        out.append((number, leap, starts[i], (starts[i + 1] - starts[i]).days))
    return tuple(out)


def lunar_months(year: int) -> list[tuple[int, bool, dt.date, int]]:
    """The months of lunar year `year` (正月 … 腊月, the leap month after its namesake): (month, leap, first
    day, days)."""
    this, nxt = _cycle(year), _cycle(year + 1)
    first = next(i for i, m in enumerate(this) if m[0] == 1 and not m[1])
    first_next = next(i for i, m in enumerate(nxt) if m[0] == 1 and not m[1])
    return list(this[first:]) + list(nxt[:first_next])


def to_solar(year: int, month: int, day: int, *, leap: bool = False) -> dt.date:
    """The solar date of lunar `year`-`month`-`day`. A day 30 in a 29-day month falls on its last day (a birthday
    on 三十 is kept in a short year); a leap month that the year lacks means the ordinary month."""
    if not 1 <= month <= 12 or not 1 <= day <= 30:
        raise ValueError(f"no lunar date {month}-{day}")
    months = lunar_months(year)
    found = [m for m in months if m[0] == month and m[1] == leap] or [m for m in months if m[0] == month]
    _, _, start, days = found[0]
    return start + dt.timedelta(days=min(day, days) - 1)


def from_solar(day: dt.date) -> tuple[int, int, int, bool]:
    """(lunar year, month, day, leap) of a solar date."""
    for year in (day.year, day.year - 1):
        for month, leap, start, days in lunar_months(year):
            if start <= day < start + dt.timedelta(days=days):
                return year, month, (day - start).days + 1, leap
    raise ValueError(f"{day} is outside the computed lunar years")  # pragma: no cover - every day is in one
