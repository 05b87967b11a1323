"""Tiers in the brand's rank order (common/tiers.py), not Unicode order, wherever tiers are listed."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from lc_helpers import AS_OF

from winback.common.tiers import shipped_order, tier_order, tier_rank
from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.views import segment_summary


def test_the_shipped_rank_is_lowest_first() -> None:
    assert shipped_order() == ("普通", "高级", "贵宾", "至尊贵宾")
    assert sorted(shipped_order()) != list(shipped_order())  # Unicode order would be wrong
    assert tier_order(["贵宾", "普通", "至尊贵宾", "高级", None]) == [None, "普通", "高级", "贵宾", "至尊贵宾"]


def test_unlisted_tiers_follow_by_mean_spend() -> None:
    assert tier_order(["金卡", "银卡", "普通"], {"金卡": 900.0, "银卡": 300.0}) == ["普通", "银卡", "金卡"]


@given(st.lists(st.sampled_from(["普通", "高级", "贵宾", "至尊贵宾", "金卡", "", None]), max_size=20))
def test_the_order_is_a_permutation_that_keeps_the_ranks(seen: list[str | None]) -> None:
    order = tier_order(seen)
    assert sorted(order, key=str) == sorted(set(seen), key=str)
    listed = [t for t in order if t in shipped_order()]
    assert listed == sorted(listed, key=shipped_order().index)
    rank = tier_rank(order)
    assert all(rank(a) < rank(b) for a, b in itertools.pairwise(order))


def test_segments_by_tier_follow_the_rank(small_wh: DuckDBEngine) -> None:
    d = segment_summary(small_wh, scheme="seed_cn", by="tier", as_of=AS_OF).to_dict()
    groups = list(dict.fromkeys(r["tier"] for r in d["segments"]))
    assert groups == [None, "regular", "VIP"]  # no tier first; unlisted tiers by mean spend (VIP spends more)
