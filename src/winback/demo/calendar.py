"""The shopping calendar: how busy each day is (weekends, 38 女王节, 618, 七夕, 双11, 双12, 年货节, 春节).

`daily_intensity` returns one multiplier per day, mean 1 over the window. Purchases are simulated in "busy time"
(the running sum of the intensity), so the same member buys more often around big promotions and less during
the Spring Festival holiday, while their long-run rate stays what was drawn for them.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: first day of the Spring Festival (农历正月初一)
SPRING_FESTIVAL = {
    2017: dt.date(2017, 1, 28),
    2018: dt.date(2018, 2, 16),
    2019: dt.date(2019, 2, 5),
    2020: dt.date(2020, 1, 25),
    2021: dt.date(2021, 2, 12),
    2022: dt.date(2022, 2, 1),
    2023: dt.date(2023, 1, 22),
    2024: dt.date(2024, 2, 10),
    2025: dt.date(2025, 1, 29),
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
}

#: (name, month, day, peak multiplier, days of ramp-up before the peak)
FIXED_PROMOS: tuple[tuple[str, int, int, float, int], ...] = (
    ("38女王节", 3, 8, 2.0, 6),
    ("618", 6, 18, 4.0, 17),
    ("七夕", 8, 10, 1.6, 4),  # the lunar date moves; a fixed mid-August bump is close enough for a demo
    ("双11", 11, 11, 6.0, 21),
    ("双12", 12, 12, 2.0, 5),
)


def day_range(start: dt.date, end: dt.date) -> np.ndarray:
    """Every day from start to end inclusive as datetime64[D]."""
    return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]")


def _bump(days: np.ndarray, peak: np.datetime64, height: float, ramp: int) -> np.ndarray:
    """A ramp of `ramp` days rising to `height` on the peak day, plus a short tail after it."""
    offset = (days - peak).astype(np.int64)
    out = np.zeros(len(days))
    rising = (offset <= 0) & (offset > -ramp - 1)
    out[rising] = (height - 1.0) * (1.0 + offset[rising] / (ramp + 1)) ** 3
    out[offset == 0] = height - 1.0
    tail = (offset > 0) & (offset <= 2)
    out[tail] = (height - 1.0) * 0.25 / offset[tail]
    return out


def daily_intensity(start: dt.date, end: dt.date) -> np.ndarray:
    """Relative busyness per day from start to end inclusive, normalised to mean 1."""
    days = day_range(start, end)
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    s = np.where(weekday >= 5, 1.3, 0.9)
    extra = np.zeros(len(days))
    for year in range(start.year - 1, end.year + 2):
        for _name, month, day, height, ramp in FIXED_PROMOS:
            extra += _bump(days, np.datetime64(dt.date(year, month, day), "D"), height, ramp)
        festival = SPRING_FESTIVAL.get(year)
        if festival is not None:
            # 年货节: three weeks of New Year shopping that ends a few days before the holiday
            extra += _bump(days, np.datetime64(festival - dt.timedelta(days=5), "D"), 2.2, 18)
            offset = (days - np.datetime64(festival, "D")).astype(np.int64)
            s = np.where((offset >= -1) & (offset <= 6), s * 0.35, s)  # shops are quiet over the holiday
    s = s + extra * np.where(s > 0.5, 1.0, 0.35)
    return s / s.mean()


def promo_days(start: dt.date, end: dt.date) -> np.ndarray:
    """Boolean per day: a big-promotion day (busyness at least twice the average)."""
    return daily_intensity(start, end) >= 2.0
