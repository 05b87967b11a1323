"""Survivor rule, connected components and phone masking: pure functions, tested directly."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given
from hypothesis import strategies as st

from winback.common.masking import mask_phone
from winback.identity.clusters import connected_components, pairs_at
from winback.identity.survivor import Candidate, choose_survivor

D = dt.date


def test_survivor_prefers_erp_then_orders_then_oldest() -> None:
    wechat_rich = Candidate("G1", "guide_wechat", 9, D(2015, 1, 1))
    erp_poor = Candidate("E2", "erp", 0, D(2023, 1, 1))
    assert choose_survivor([wechat_rich, erp_poor]).member_id == "E2"
    erp_more = Candidate("E3", "erp", 3, D(2023, 1, 1))
    assert choose_survivor([erp_poor, erp_more]).member_id == "E3"
    erp_older = Candidate("E4", "erp", 3, D(2019, 5, 1))
    assert choose_survivor([erp_more, erp_older]).member_id == "E4"
    erp_undated = Candidate("E0", "erp", 3, None)
    assert choose_survivor([erp_undated, erp_more]).member_id == "E3"  # unknown date counts as newest
    twin = Candidate("E1", "erp", 3, D(2019, 5, 1))
    assert choose_survivor([erp_older, twin]).member_id == "E1"  # full tie: smallest id
    assert choose_survivor([Candidate("X", "ERP", 0, None), wechat_rich]).member_id == "X"  # case-insensitive


candidates = st.lists(
    st.builds(
        Candidate,
        member_id=st.text("ABCDEFG0123", min_size=1, max_size=4),
        source=st.sampled_from(["erp", "guide_wechat", "pos", None]),
        orders=st.integers(0, 5),
        register_date=st.one_of(st.none(), st.dates(D(2010, 1, 1), D(2026, 1, 1))),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda c: c.member_id,
)


@given(candidates, st.randoms())
def test_survivor_does_not_depend_on_order_and_is_erp_when_any(cs: list[Candidate], rnd: random.Random) -> None:
    shuffled = list(cs)
    rnd.shuffle(shuffled)
    s = choose_survivor(cs)
    assert choose_survivor(shuffled) == s
    if any(c.source == "erp" for c in cs):
        assert s.source == "erp"
        assert s.orders == max(c.orders for c in cs if c.source == "erp")


edges = st.lists(st.tuples(st.sampled_from("abcdefghij"), st.sampled_from("abcdefghij")), max_size=15)


@given(edges)
def test_components_match_a_naive_closure(es: list[tuple[str, str]]) -> None:
    comps = connected_components(es)
    # naive: grow each node's reachable set until nothing changes
    reach = {x: {x} for e in es for x in e}
    changed = True
    while changed:
        changed = False
        for a, b in es:
            merged = reach[a] | reach[b]
            for x in merged:
                if reach[x] != merged:
                    reach[x] = reach[x] | merged
                    changed = True
    expected = sorted({tuple(sorted(s)) for s in reach.values() if len(s) > 1})
    assert [tuple(c) for c in comps] == expected
    flat = [x for c in comps for x in c]
    assert len(flat) == len(set(flat))  # a partition


def test_pairs_at_threshold_is_inclusive() -> None:
    pairs = [("a", "b", 0.9), ("b", "c", 0.89999), ("c", "d", 1.0)]
    assert pairs_at(pairs, 0.9) == [("a", "b"), ("c", "d")]
    assert connected_components(pairs_at(pairs, 0.5)) == [["a", "b", "c", "d"]]


def test_mask_phone_hides_the_middle_digits() -> None:
    assert mask_phone("13812345678") == "138****5678"
    masked = mask_phone("+8613812345678")
    assert masked is not None and "1234" not in masked and masked.endswith("138****5678")
    assert mask_phone(None) is None
