"""The demo generator without a warehouse: identifiers, calendar, determinism, chunking, planted behaviour."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.common.phones import classify
from winback.demo import generate as gen_mod
from winback.demo import ids
from winback.demo.brand import DemoSpec, make_brand
from winback.demo.calendar import daily_intensity
from winback.demo.generate import generate
from winback.demo.people import Behaviour, make_members
from winback.demo.purchases import Calendar, _segment_cumsum, simulate
from winback.demo.vocab import CATEGORIES

SMALL = DemoSpec(members=1500, years=2, seed=11, end=dt.date(2026, 11, 20))


def _xlsx_values(path: Path) -> list[tuple[object, ...]]:
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    finally:
        wb.close()


@given(space=st.integers(10, 5000), key=st.integers(2, 10**6))
@settings(max_examples=40, deadline=None)
def test_scramble_is_a_bijection(space: int, key: int) -> None:
    prime = next(p for p in range(space + 1, 2 * space + 100) if all(p % d for d in range(2, int(p**0.5) + 1)))
    if (prime - 1) % 5 == 0:  # x^5 is a permutation only when gcd(5, prime - 1) = 1
        return
    out = ids.scramble(np.arange(space), space, prime, key % (prime - 2) + 2)
    assert sorted(out.tolist()) == list(range(space))


def test_phones_are_valid_distinct_mobiles_and_wechat_ids_distinct() -> None:
    index = np.r_[np.arange(20_000), ids.WECHAT_ONLY_BASE + np.arange(2000), ids.STAFF_BASE + np.arange(500)]
    phones = ids.mobile_numbers(index, seed=3).to_pylist()
    assert len(set(phones)) == len(phones)
    assert all(classify(p)[1] == "mobile" for p in phones[::50])
    wx = ids.wechat_ids(index, seed=3).to_pylist()
    assert len(set(wx)) == len(wx) and all(w.startswith("wxid_") and len(w) == 15 for w in wx)


def test_segment_cumsum_restarts_per_segment() -> None:
    out = _segment_cumsum(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), np.array([2, 0, 3, 1]))
    assert out.tolist() == [1.0, 3.0, 3.0, 7.0, 12.0, 6.0]


def test_calendar_peaks_on_big_promotions_and_dips_at_spring_festival() -> None:
    start, end = dt.date(2025, 1, 1), dt.date(2025, 12, 31)
    s = daily_intensity(start, end)
    at = {d: s[(d - start).days] for d in (dt.date(2025, 11, 11), dt.date(2025, 6, 18), dt.date(2025, 1, 30))}
    assert s.mean() == pytest.approx(1.0)
    assert at[dt.date(2025, 11, 11)] == s.max() and at[dt.date(2025, 11, 11)] > 4
    assert at[dt.date(2025, 6, 18)] > 2.5
    assert at[dt.date(2025, 1, 30)] < 0.6  # 春节 (2025-01-29): shops are quiet


def test_same_seed_same_files_other_seed_other_brand(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    ga = generate(SMALL, a)
    generate(SMALL, b)
    generate(DemoSpec(members=1500, years=2, seed=12, end=SMALL.end), c)
    for key, path in ga.files.items():
        other = b / path.relative_to(a)
        if path.suffix == ".xlsx":  # the zip container stamps the time; the cells must match
            assert _xlsx_values(path) == _xlsx_values(other), key
        else:
            assert path.read_bytes() == other.read_bytes(), key
    assert (a / "members_erp.csv").read_bytes() != (c / "members_erp.csv").read_bytes()


def test_chunked_run_has_unique_ids_and_complete_truth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen_mod, "CHUNK", 700)  # 1,500 members in three chunks
    g = generate(SMALL, tmp_path)
    truth = pq.read_table(g.files["truth_members"])
    assert truth.num_rows == 1500 == len(set(truth.column("member_id").to_pylist()))
    orders = pq.read_table(g.files["orders"], columns=["单号", "状态"]).to_pylist()
    sale_ids = {o["单号"] for o in orders if o["状态"] == "销售"}
    refund_ids = [o["单号"] for o in orders if o["状态"] == "退货"]
    assert len(sale_ids) == g.orders and len(set(refund_ids)) == len(refund_ids) == g.refunds
    contacts = _xlsx_values(g.files["wechat"])
    header, rows = contacts[0], contacts[1:]
    wx = [r[header.index("微信号")] for r in rows]
    assert len(set(wx)) == len(wx) == g.wechat_contacts
    dups = pq.read_table(g.files["truth_duplicates"]).to_pylist()
    assert {d["same_person_as"] for d in dups} <= set(truth.column("member_id").to_pylist())
    assert {d["member_id"] for d in dups} <= {f"wx:{w}" for w in wx}


def test_each_member_has_own_rate_and_categories_set_the_pace() -> None:
    spec = DemoSpec(members=20_000, seed=5)
    brand = make_brand(spec)
    m = make_members(spec, brand, 0, 0, 20_000, Behaviour())
    assert np.std(m.lam) / np.mean(m.lam) > 1.0  # heterogeneous: Gamma with shape < 1
    assert len(np.unique(np.round(m.p, 6))) > 19_000
    by_cat = {c.name: np.mean(m.lam[m.category == i]) for i, c in enumerate(CATEGORIES)}
    assert by_cat["面膜"] > by_cat["护肤"] > by_cat["香氛"]  # masks are replenished fastest, perfume slowest
    sales, out = simulate(spec, brand, m, Calendar(spec), spec.rng(99))
    buyers = out.orders > 0
    assert np.array_equal(buyers, m.buyer)
    # members bought at their own pace: more orders for higher rates (Spearman-like check on quartiles)
    q = np.quantile(m.lam[buyers], [0.25, 0.75])
    slow = out.orders[buyers & (m.lam <= q[0])].mean()
    fast = out.orders[buyers & (m.lam >= q[1])].mean()
    assert fast > 3 * slow
    asleep = np.mean((out.last_day < 0) | (spec.days - 1 - out.last_day >= 90))
    assert 0.75 <= asleep <= 0.85  # the seeds' "80 % asleep"
    assert len(sales) / spec.members > 4  # heavy-tailed: about 5-7 sales per member at this size


def test_dormancy_and_volume_are_stable_across_seeds() -> None:
    """Guards the flat cumulative sum: one member with a near-zero rate must not distort every later member."""
    shares, volumes = [], []
    for seed in (1, 2, 3):
        spec = DemoSpec(members=20_000, seed=seed)
        brand = make_brand(spec)
        m = make_members(spec, brand, 0, 0, 20_000, Behaviour())
        sales, out = simulate(spec, brand, m, Calendar(spec), spec.rng(9))
        shares.append(np.mean((out.last_day < 0) | (spec.days - 1 - out.last_day >= 90)))
        volumes.append(len(sales) / spec.members)
        repeat_gaps = np.diff(np.sort(sales.day[sales.member == int(np.argmax(out.orders))]))
        assert repeat_gaps.mean() > 1.0  # the busiest member's purchases are spread out, not piled on one day
    assert max(shares) - min(shares) < 0.03 and 0.76 <= np.mean(shares) <= 0.84
    assert max(volumes) / min(volumes) < 1.25


def test_cli_option_defaults_are_the_demo_defaults() -> None:
    """`winback demo` spells its defaults out (its module imports no demo code at start-up): they must agree."""
    from winback.cli import demo_cmd
    from winback.demo import defaults

    for name in ("DEFAULT_END", "DEFAULT_MEMBERS", "DEFAULT_YEARS", "DEFAULT_SEED"):
        assert getattr(demo_cmd, name) == getattr(defaults, name), name
