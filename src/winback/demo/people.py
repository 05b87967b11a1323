"""Members of the demo brand, one chunk at a time: who they are, where and how they joined, how they buy.

Each member gets a BG/NBD-like purchase process: a rate λ ~ Gamma(r, 1/α) per day (scaled by their main
category's replenishment speed) and a dropout probability p ~ Beta(a, b) after each purchase; plus a spend level
ν ~ Gamma (the mean of their order amounts). Pure numpy/Arrow; chunk k is drawn from its own random stream, so a
chunk does not depend on the chunks before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from winback.demo import ids
from winback.demo.brand import STREAM_MEMBERS, Brand, DemoSpec
from winback.demo.calendar import daily_intensity
from winback.demo.people_names import chinese_names
from winback.demo.vocab import CATEGORIES


@dataclass(frozen=True)
class Behaviour:
    """Population parameters of the purchase process (days as the time unit)."""

    r: float = 0.25  # λ ~ Gamma(shape r, rate α), clipped at lam_max
    alpha: float = 2.0
    lam_max: float = 0.2
    a: float = 0.55  # p ~ Beta(a, b)
    b: float = 1.5
    spend_shape: float = 3.0  # ν ~ Gamma(shape, scale): the member's mean order amount
    spend_scale: float = 110.0
    buyer_offline: float = 0.93  # share of store registrations that buy when they join
    buyer_online: float = 0.55  # share of online registrations that ever buy
    online_share: float = 0.3  # share of members who registered online
    phone_invalid: float = 0.065
    phone_missing: float = 0.045
    wechat_in_erp_online: float = 0.7  # ERP records that carry a WeChat id (mini-program registrations mostly)
    wechat_in_erp_offline: float = 0.2


@dataclass
class Members:
    """One chunk of members; arrays are aligned, `index` is the global member number."""

    index: np.ndarray
    member_id: pa.Array
    name: pa.Array
    female: np.ndarray
    birthday: np.ndarray  # datetime64[D]
    has_birthday: np.ndarray
    register_day: np.ndarray  # day index from spec.start
    online: np.ndarray  # registered online
    store: np.ndarray  # home store index, -1 = none
    guide: np.ndarray  # exclusive guide index, -1 = none
    phone: pa.Array  # the person's true mobile number
    phone_state: np.ndarray  # 0 valid, 1 invalid in the export, 2 missing in the export
    wechat: pa.Array  # the person's WeChat id (everyone has one)
    wechat_in_erp: np.ndarray
    consent_sms: np.ndarray
    consent_wechat: np.ndarray
    category: np.ndarray  # main category index
    lam: np.ndarray  # purchases per day while alive
    p: np.ndarray  # dropout probability after each purchase
    nu: np.ndarray  # mean order amount
    buyer: np.ndarray  # ever buys

    def __len__(self) -> int:
        return len(self.index)


def bounded_normal(rng: np.random.Generator, mean: float, sd: float, lo: float, hi: float, n: int) -> np.ndarray:
    """Normal draws inside [lo, hi]; the few outside are redrawn uniformly (no pile-up at the bounds)."""
    x = rng.normal(mean, sd, n)
    out = (x < lo) | (x > hi)
    x[out] = rng.uniform(lo, hi, int(out.sum()))
    return x


def registration_weights(spec: DemoSpec) -> np.ndarray:
    """Probability of each day being someone's registration day: growth over time, busier at promotions."""
    growth = np.linspace(0.75, 1.25, spec.days)
    w = growth * daily_intensity(spec.start, spec.end) ** 0.6
    return w / w.sum()


def _guides(rng: np.random.Generator, brand: Brand, store: np.ndarray, share: np.ndarray) -> np.ndarray:
    """A guide of the given store for members where `share` is true (and who have a store), else -1."""
    has = share & (store >= 0)
    return np.where(has, brand.random_guide(rng, np.maximum(store, 0)), -1)


def make_members(spec: DemoSpec, brand: Brand, chunk: int, offset: int, n: int, beh: Behaviour) -> Members:
    rng = spec.rng(STREAM_MEMBERS, chunk)
    index = np.arange(offset, offset + n, dtype=np.int64)
    female = rng.random(n) < 0.86
    age_days = (bounded_normal(rng, 33, 8.5, 18, 68, n) * 365.25).astype(np.int64)
    birthday = np.datetime64(spec.end, "D") - age_days.astype("timedelta64[D]")
    has_birthday = rng.random(n) < 0.85
    # registration: a day, then a store open that day; a quarter of those who picked a store that opened later
    # join in its opening burst instead (新店开业)
    day = rng.choice(spec.days, size=n, p=registration_weights(spec))
    online = rng.random(n) < beh.online_share
    store = brand.weighted_stores(rng, n)
    late = day < brand.store_open_day[store]
    burst = late & (rng.random(n) < 0.25)
    opened = brand.store_open_day[store[burst]]
    day[burst] = np.minimum(opened + rng.exponential(45.0, len(opened)).astype(np.int64), spec.days - 1)
    for _ in range(8):  # the others choose again among the stores already open
        late = day < brand.store_open_day[store]
        if not late.any():
            break
        store[late] = brand.weighted_stores(rng, int(late.sum()))
    store = np.where(day < brand.store_open_day[store], 0, store)  # store 0 is the brand's oldest
    store = np.where(online & (rng.random(n) < 0.45), -1, store)
    guide = _guides(rng, brand, store, np.where(online, rng.random(n) < 0.4, rng.random(n) < 0.92))
    u = rng.random(n)
    phone_state = np.where(u < beh.phone_invalid, 1, np.where(u < beh.phone_invalid + beh.phone_missing, 2, 0))
    shares = np.array([c.share for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=n, p=shares / shares.sum())
    cycle = np.array([c.cycle_factor for c in CATEGORIES])[category]
    price = np.array([c.price for c in CATEGORIES])[category] / 300.0
    lam = np.minimum(rng.gamma(beh.r, 1.0 / beh.alpha, n) * cycle, beh.lam_max)
    p = rng.beta(beh.a, beh.b, n)
    nu = rng.gamma(beh.spend_shape, beh.spend_scale, n) * price**0.5
    buyer = rng.random(n) < np.where(online, beh.buyer_online, beh.buyer_offline)
    return Members(
        index=index,
        member_id=ids.card_numbers(index),
        name=chinese_names(rng, female),
        female=female,
        birthday=birthday,
        has_birthday=has_birthday,
        register_day=day.astype(np.int64),
        online=online,
        store=store,
        guide=guide,
        phone=ids.mobile_numbers(index, spec.seed),
        phone_state=phone_state,
        wechat=ids.wechat_ids(index, spec.seed),
        wechat_in_erp=rng.random(n) < np.where(online, beh.wechat_in_erp_online, beh.wechat_in_erp_offline),
        consent_sms=rng.random(n) < 0.68,
        consent_wechat=rng.random(n) < np.where(online, 0.8, 0.55),
        category=category,
        lam=lam,
        p=p,
        nu=nu,
        buyer=buyer,
    )
