"""The brand's fixed parts: the demo's parameters, its stores (real cities, some opened recently) and its staff.

Pure: numpy in, numpy and Arrow out. `make_brand(spec)` is deterministic in `spec`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from winback.demo import ids
from winback.demo.defaults import DEFAULT_END, DEFAULT_MEMBERS, DEFAULT_SEED, DEFAULT_YEARS
from winback.demo.people_names import chinese_names
from winback.demo.vocab import CITIES, MALLS, ONLINE_STORE_ID, ONLINE_STORE_NAME, ROADS

#: random streams (SeedSequence spawn keys) so each part of the brand is independent of the others
STREAM_STORES = 1
STREAM_STAFF = 2
STREAM_MEMBERS = 3
STREAM_WALKIN = 4


@dataclass(frozen=True)
class DemoSpec:
    members: int = DEFAULT_MEMBERS
    years: int = DEFAULT_YEARS
    seed: int = DEFAULT_SEED
    end: dt.date = DEFAULT_END

    @property
    def start(self) -> dt.date:
        """First day of the exported history."""
        return self.end - dt.timedelta(days=round(365.25 * self.years) - 1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def rng(self, *stream: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, *stream]))


@dataclass
class Brand:
    """Stores (the physical ones first, the online shop last) and staff, as arrays for sampling."""

    store_id: np.ndarray  # str
    store_name: np.ndarray
    city: np.ndarray
    region: np.ndarray
    address: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    store_open_day: np.ndarray  # int: day index relative to spec.start (negative = before the history)
    store_weight: np.ndarray  # relative traffic, physical stores only (0 for the online shop)
    guide_id: np.ndarray  # str
    guide_name: np.ndarray
    guide_store: np.ndarray  # int index into the store arrays
    guide_role: np.ndarray  # 导购 | 店长
    guide_phone: np.ndarray
    guide_wechat: np.ndarray
    guide_hired_day: np.ndarray
    guide_left_day: np.ndarray  # int, or a large number when still employed

    @property
    def n_physical(self) -> int:
        return len(self.store_id) - 1

    @property
    def online_store(self) -> int:
        return len(self.store_id) - 1

    def random_guide(self, rng: np.random.Generator, store: np.ndarray) -> np.ndarray:
        """A guide (index) of each given store, uniformly among its staff; every store has at least one."""
        order = np.argsort(self.guide_store, kind="stable")
        starts = np.searchsorted(self.guide_store[order], np.arange(len(self.store_id) + 1))
        counts = np.diff(starts)
        pick = (rng.random(len(store)) * counts[store]).astype(np.int64)
        return order[starts[store] + pick]

    def weighted_stores(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n physical stores drawn by traffic (opening dates not considered)."""
        w = self.store_weight[: self.n_physical]
        return rng.choice(self.n_physical, size=n, p=w / w.sum())


def store_count(members: int) -> int:
    """About one store per 2,500 members, at least 12, at most 1,500."""
    return int(np.clip(round(members / 2500), 12, 1500))


def _store_names(rng: np.random.Generator, n: int) -> tuple[list[str], list[str], list[int], list[str]]:
    """Store ids, names like '上海徐汇店' / '上海徐汇万象城店', and city indexes, n stores spread by city weight."""
    weights = np.array([c.weight for c in CITIES], dtype=float)
    city_idx = np.sort(rng.choice(len(CITIES), size=n, p=weights / weights.sum()))
    city_idx[: min(n, len(CITIES))] = np.arange(min(n, len(CITIES)))  # every city has at least one store
    city_idx = np.sort(city_idx)
    ids_: list[str] = []
    names: list[str] = []
    districts: list[str] = []
    used: set[str] = set()
    per_city: dict[int, int] = {}
    for ci in city_idx.tolist():
        city = CITIES[ci]
        k = per_city.get(ci, 0)
        per_city[ci] = k + 1
        district = city.districts[k % len(city.districts)]
        name = f"{city.name}{district}店"
        j = k // len(city.districts)
        while name in used:
            mall = MALLS[(j + k) % len(MALLS)]
            name = f"{city.name}{district}{mall}店" if j < len(MALLS) else f"{city.name}{district}{j}号店"
            j += 1
        used.add(name)
        ids_.append(f"{city.code}{k + 1:03d}")
        names.append(name)
        districts.append(district)
    return ids_, names, city_idx.tolist(), districts


def make_stores(spec: DemoSpec) -> dict[str, np.ndarray]:
    rng = spec.rng(STREAM_STORES)
    n = store_count(spec.members)
    sid, names, city_list, districts = _store_names(rng, n)
    city_idx = np.array(city_list)
    cities = [CITIES[i] for i in city_list]
    # opening day: most stores are older than the history; a quarter opened during it, a few in its last year
    open_day = -rng.integers(60, 365 * 8, size=n)
    recent = rng.random(n) < 0.25
    open_day[recent] = rng.integers(0, spec.days - 30, size=int(recent.sum()))
    first_in_city = np.r_[True, np.diff(city_idx) != 0]
    open_day[first_in_city] = -rng.integers(365 * 3, 365 * 10, size=int(first_in_city.sum()))
    # a few stores opened in the history's last year (never the brand's first store)
    n_last_year = max(2, n // 25)
    later = np.flatnonzero(~first_in_city)
    pool = later if len(later) >= n_last_year else np.arange(1, n)
    last_year = rng.choice(pool, size=n_last_year, replace=False)
    open_day[last_year] = rng.integers(spec.days - 365, spec.days - 30, size=n_last_year)
    weight = rng.lognormal(0.0, 0.5, size=n) * np.array([c.weight for c in cities]) ** 0.3
    lat = np.array([c.lat for c in cities]) + rng.normal(0, 0.04, size=n)
    lon = np.array([c.lon for c in cities]) + rng.normal(0, 0.04, size=n)
    roads = rng.integers(0, len(ROADS), n)
    numbers = rng.integers(1, 999, n)
    address = [
        f"{c.name}市{d}{'' if d.endswith('区') else '区'}{ROADS[int(r)]}{int(no)}号"
        for c, d, r, no in zip(cities, districts, roads, numbers, strict=True)
    ]
    online_open = -365 * 6
    return {
        "store_id": np.array([*sid, ONLINE_STORE_ID]),
        "store_name": np.array([*names, ONLINE_STORE_NAME]),
        "city": np.array([c.name for c in cities] + ["上海"]),
        "region": np.array([c.region for c in cities] + ["线上"]),
        "address": np.array([*address, ""]),
        "latitude": np.round(np.append(lat, np.nan), 5),
        "longitude": np.round(np.append(lon, np.nan), 5),
        "store_open_day": np.append(open_day, online_open).astype(np.int64),
        "store_weight": np.append(weight, 0.0),
    }


def make_brand(spec: DemoSpec) -> Brand:
    stores = make_stores(spec)
    rng = spec.rng(STREAM_STAFF)
    n_phys = len(stores["store_id"]) - 1
    weight = stores["store_weight"][:n_phys]
    # one 店长 and 3-10 导购 per store, more in busier stores; the online shop has two 客服 guides
    n_guides = np.clip(np.round(2 + 3 * weight / weight.mean() + rng.poisson(1.0, n_phys)), 3, 10).astype(int)
    guide_store = np.concatenate([np.repeat(np.arange(n_phys), n_guides + 1), np.full(2, n_phys)])
    first_of_store = np.r_[0, np.cumsum(n_guides + 1)[:-1]]
    role = np.full(len(guide_store), "导购", dtype=object)
    role[first_of_store] = "店长"
    role[-2:] = "客服"
    n = len(guide_store)
    open_day = stores["store_open_day"][guide_store]
    founding = rng.random(n) < 0.6
    later = open_day + (rng.random(n) * (spec.days - 20 - open_day)).astype(np.int64)
    hired = np.where(founding, open_day - rng.integers(5, 40, n), later)
    left = np.full(n, 10**6, dtype=np.int64)
    leaving = (rng.random(n) < 0.15) & (role == "导购")
    left[leaving] = np.maximum(hired[leaving] + 90, rng.integers(0, spec.days, int(leaving.sum())))
    left = np.where(left >= spec.days, 10**6, left)
    female = rng.random(n) < 0.85
    index = np.arange(n)
    return Brand(
        store_id=stores["store_id"],
        store_name=stores["store_name"],
        city=stores["city"],
        region=stores["region"],
        address=stores["address"],
        latitude=stores["latitude"],
        longitude=stores["longitude"],
        store_open_day=stores["store_open_day"],
        store_weight=stores["store_weight"],
        guide_id=np.array([f"G{i + 1:05d}" for i in range(n)]),
        guide_name=np.array(chinese_names(rng, female).to_pylist()),
        guide_store=guide_store,
        guide_role=role.astype(str),
        guide_phone=np.array(ids.mobile_numbers(index + ids.STAFF_BASE, spec.seed).to_pylist()),
        guide_wechat=np.array(ids.wechat_ids(index + ids.STAFF_BASE, spec.seed).to_pylist()),
        guide_hired_day=hired.astype(np.int64),
        guide_left_day=left,
    )


def day_dates(spec: DemoSpec, days: np.ndarray) -> np.ndarray:
    """Day indexes (0 = spec.start) -> datetime64[D]."""
    return np.datetime64(spec.start, "D") + days.astype("timedelta64[D]")


def stores_table(spec: DemoSpec, b: Brand) -> pa.Table:
    """stores.csv as the brand's ERP exports it (Chinese headers)."""
    opened = day_dates(spec, b.store_open_day)
    return pa.table(
        {
            "门店编号": b.store_id,
            "门店名称": b.store_name,
            "城市": b.city,
            "区域": b.region,
            "地址": pa.array([a or None for a in b.address.tolist()], pa.string()),
            "纬度": pa.array(b.latitude, pa.float64(), from_pandas=True),
            "经度": pa.array(b.longitude, pa.float64(), from_pandas=True),
            "开业日期": pa.array(opened.astype(str)),
        }
    )


def staff_table(spec: DemoSpec, b: Brand) -> pa.Table:
    """staff.csv (Chinese headers); 离职日期 empty while employed."""
    hired = day_dates(spec, b.guide_hired_day).astype(str)
    left = [None if d >= 10**6 else str(day_dates(spec, np.array([d]))[0]) for d in b.guide_left_day.tolist()]
    return pa.table(
        {
            "工号": b.guide_id,
            "姓名": b.guide_name,
            "门店编号": b.store_id[b.guide_store],
            "岗位": b.guide_role,
            "手机": b.guide_phone,
            "微信号": b.guide_wechat,
            "入职日期": pa.array(hired),
            "离职日期": pa.array(left, pa.string()),
        }
    )
