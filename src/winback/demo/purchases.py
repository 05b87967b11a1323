"""Purchase events of a chunk of members (BG/NBD-like, with seasonality) and of walk-in customers.

A buyer makes a first purchase when joining; repeat purchases then arrive as a Poisson process with the member's
own rate λ in "busy time" (the running sum of `calendar.daily_intensity`, so promotions pull purchases forward);
after each purchase the member drops out with probability p. Vectorised: every member's repeats are one slice of
a flat array of exponential gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from winback.demo.brand import Brand, DemoSpec
from winback.demo.calendar import daily_intensity
from winback.demo.people import Members, bounded_normal


@dataclass
class Purchases:
    """One row per sale; `member` is the index within the chunk, -1 for a walk-in customer."""

    member: np.ndarray
    day: np.ndarray
    second: np.ndarray  # seconds after midnight
    store: np.ndarray
    guide: np.ndarray  # -1 = no guide recorded
    online: np.ndarray
    amount: np.ndarray  # RMB, 2 decimals

    def __len__(self) -> int:
        return len(self.member)


@dataclass
class Outcome:
    """What each member of the chunk did (aligned with the Members arrays)."""

    orders: np.ndarray  # sales in the history
    first_day: np.ndarray  # -1 = never bought
    last_day: np.ndarray
    alive_at_end: np.ndarray


class Calendar:
    """Busy time: S[d] is the cumulative intensity at the start of day d (S[0] = 0, S[days] = total)."""

    def __init__(self, spec: DemoSpec) -> None:
        self.intensity = daily_intensity(spec.start, spec.end)
        self.cum = np.r_[0.0, np.cumsum(self.intensity)]
        self.promo = self.intensity >= 2.0

    def to_busy(self, day: np.ndarray, frac: np.ndarray) -> np.ndarray:
        return self.cum[day] + frac * self.intensity[day]

    def to_day(self, busy: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.cum, busy, side="right") - 1


def _segment_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each segment (consecutive segments of the given lengths)."""
    if len(values) == 0:
        return values.astype(float)
    total = np.cumsum(values)
    starts = np.cumsum(counts) - counts
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0.0)
    return total - np.repeat(before, counts)


def simulate(
    spec: DemoSpec, brand: Brand, m: Members, cal: Calendar, rng: np.random.Generator
) -> tuple[Purchases, Outcome]:
    n = len(m)
    days = spec.days
    buyers = np.flatnonzero(m.buyer)
    # first purchase: on the registration day in store, within a few days online
    delay = np.where(m.online[buyers], rng.geometric(0.35, len(buyers)) - 1, 0)
    first_day = np.minimum(m.register_day[buyers] + delay, days - 1)
    first_busy = cal.to_busy(first_day, rng.random(len(buyers)))
    horizon = cal.cum[-1] - first_busy
    lam = m.lam[buyers]
    g = rng.geometric(m.p[buyers])  # purchases made before dropping out, the first one included
    mean = lam * horizon
    cap = np.ceil(mean + 6.0 * np.sqrt(mean) + 6.0).astype(np.int64)
    k = np.minimum(g - 1, cap)
    gaps = rng.exponential(1.0, int(k.sum())) / np.repeat(lam, k)
    # a gap past the horizon ends the member's history anyway; capping it keeps the flat cumulative sum exact
    # (one astronomically long gap would otherwise swallow the precision of every later member's times)
    gaps = np.minimum(gaps, np.repeat(horizon, k) + 1.0)
    busy = np.repeat(first_busy, k) + _segment_cumsum(gaps, k)
    owner = np.repeat(np.arange(len(buyers)), k)
    keep = busy < cal.cum[-1]
    busy, owner = busy[keep], owner[keep]
    repeats = np.bincount(owner, minlength=len(buyers))
    repeat_day = np.minimum(cal.to_day(busy), days - 1)
    # all sales: first purchases then repeats
    who = np.r_[buyers, buyers[owner]]
    day = np.r_[first_day, repeat_day].astype(np.int64)
    orders = np.zeros(n, dtype=np.int64)
    orders[buyers] = 1 + repeats
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, who, day)
    first = np.full(n, -1, dtype=np.int64)
    first[buyers] = first_day
    alive = np.zeros(n, dtype=bool)
    alive[buyers] = repeats < g - 1
    is_first = np.arange(len(who)) < len(buyers)
    sales = _place(spec, brand, m, cal, rng, who, day, is_first)
    return sales, Outcome(orders=orders, first_day=first, last_day=last, alive_at_end=alive)


def _place(
    spec: DemoSpec,
    brand: Brand,
    m: Members,
    cal: Calendar,
    rng: np.random.Generator,
    who: np.ndarray,
    day: np.ndarray,
    is_first: np.ndarray,
) -> Purchases:
    """Channel, store, guide, time of day and amount of each sale (a first purchase happens where the member
    registered: in their store, or online)."""
    n = len(who)
    online = rng.random(n) < np.where(m.online[who], 0.7, 0.12)
    online = np.where(is_first, m.online[who] & (rng.random(n) < 0.85), online)
    home = m.store[who]
    elsewhere = brand.weighted_stores(rng, n)
    at_home = (home >= 0) & ((rng.random(n) < 0.85) | is_first)
    store = np.where(online, brand.online_store, np.where(at_home, home, elsewhere))
    # a store that was not open yet on that day: the sale happens at the home store (or online)
    closed = brand.store_open_day[store] > day
    store = np.where(closed, np.where(home >= 0, home, brand.online_store), store)
    online = online | (store == brand.online_store)
    own_guide = m.guide[who]
    guide = np.where((store == home) & (own_guide >= 0) & (rng.random(n) < 0.8), own_guide, -1)
    pick = brand.random_guide(rng, store)
    guide = np.where((guide < 0) & ~online & (rng.random(n) < 0.75), pick, guide)
    guide = np.where(online & (own_guide >= 0) & (rng.random(n) < 0.3), own_guide, guide)
    promo = cal.promo[day]
    amount = rng.gamma(6.0, m.nu[who] / 6.0) * np.where(promo, 1.25, 1.0)
    return Purchases(
        member=who,
        day=day,
        second=_time_of_day(rng, online),
        store=store.astype(np.int64),
        guide=guide.astype(np.int64),
        online=online,
        amount=np.round(np.maximum(amount, 9.9), 1),
    )


def _time_of_day(rng: np.random.Generator, online: np.ndarray) -> np.ndarray:
    """Stores trade 10:00-22:00 with an afternoon and evening peak; online orders peak at night."""
    n = len(online)
    store_hour = bounded_normal(rng, 16.0, 3.0, 10.0, 21.95, n)
    online_hour = np.where(rng.random(n) < 0.6, rng.normal(21.0, 1.8, n), rng.uniform(0, 24, n)) % 24
    hour = np.where(online, online_hour, store_hour)
    return (hour * 3600).astype(np.int64)


def walk_ins(spec: DemoSpec, brand: Brand, cal: Calendar, rng: np.random.Generator, n: int) -> Purchases:
    """Sales to customers without a membership card: in stores, on busy days, guided more often than not."""
    p_day = cal.intensity / cal.intensity.sum()
    day = rng.choice(spec.days, size=n, p=p_day)
    store = brand.weighted_stores(rng, n)
    opened = brand.store_open_day[store]
    late = day < opened
    day[late] = opened[late] + (rng.random(int(late.sum())) * (spec.days - opened[late])).astype(np.int64)
    guide = np.where(rng.random(n) < 0.7, brand.random_guide(rng, store), -1)
    online = np.zeros(n, dtype=bool)
    return Purchases(
        member=np.full(n, -1, dtype=np.int64),
        day=day.astype(np.int64),
        second=_time_of_day(rng, online),
        store=store.astype(np.int64),
        guide=guide.astype(np.int64),
        online=online,
        amount=np.round(np.maximum(rng.gamma(4.0, 55.0, n) * np.where(cal.promo[day], 1.2, 1.0), 9.9), 1),
    )
