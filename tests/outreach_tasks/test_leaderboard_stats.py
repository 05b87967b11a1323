"""The leaderboard's statistics: per-guide incremental reactivations, the DerSimonian–Laird prior, shrinkage."""

from __future__ import annotations

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from winback.outreach import leaderboard as lb


def test_estimate_sums_campaigns_with_both_arms() -> None:
    e = lb.estimate("g", [lb.Cell("g", 30, 6, 10, 1), lb.Cell("g", 20, 2, 0, 0), lb.Cell("g", 0, 0, 5, 1)])
    assert e.n_evaluated == 30
    assert math.isclose(e.incremental or 0, 30 * (6 / 30 - 1 / 10))
    pt, pc = 7 / 32, 2 / 12
    assert math.isclose(e.variance or 0, 30**2 * (pt * (1 - pt) / 30 + pc * (1 - pc) / 10))
    lo, hi = e.interval()
    assert lo is not None and hi is not None and lo < (e.incremental or 0) < hi
    none = lb.estimate("h", [lb.Cell("h", 12, 3, 0, 0)])
    assert none.incremental is None and none.interval() == (None, None) and none.uplift is None


def test_prior_is_the_pooled_uplift_and_dersimonian_laird() -> None:
    es = [lb.estimate(str(i), [lb.Cell(str(i), 100, x, 100, 10)]) for i, x in enumerate((10, 20, 30, 40))]
    p = lb.prior(es)
    assert math.isclose(p.mean, (0 + 10 + 20 + 30) / 400)
    d = [e.uplift for e in es]
    w = [1 / (e.se or 1) ** 2 for e in es]
    fixed = sum(wi * di for wi, di in zip(w, d, strict=True)) / sum(w)  # type: ignore[operator]
    q = sum(wi * (di - fixed) ** 2 for wi, di in zip(w, d, strict=True))  # type: ignore[operator]
    tau2 = (q - 3) / (sum(w) - sum(x * x for x in w) / sum(w))
    assert math.isclose(p.tau2, tau2) and p.tau2 > 0
    same = lb.prior([lb.estimate(str(i), [lb.Cell(str(i), 100, 20, 100, 10)]) for i in range(5)])
    assert same.tau2 == 0.0


def _board(cells: dict[str, lb.Cell]) -> list[str]:
    es = {g: lb.estimate(g, [c]) for g, c in cells.items()}
    p = lb.prior(list(es.values()))
    return sorted(es, key=lambda g: lb.rank_key(lb.shrink(es[g], p), es[g], cells[g].n_treated, g))


def test_three_lucky_tasks_do_not_top_three_hundred_good_ones() -> None:
    rng = random.Random(3)
    cells = {}
    for i in range(30):  # a brand of ordinary guides: 12 % buy with the task, 8 % without
        n, nc = rng.randint(80, 200), rng.randint(10, 25)
        xt = sum(rng.random() < 0.12 for _ in range(n))
        xc = sum(rng.random() < 0.08 for _ in range(nc))
        cells[f"g{i}"] = lb.Cell(f"g{i}", n, xt, nc, xc)
    cells["lucky"] = lb.Cell("lucky", 3, 3, 1, 0)  # 3 tasks, 3 purchases: a raw uplift of 100 %
    cells["steady"] = lb.Cell("steady", 300, 75, 30, 2)  # 300 tasks, 25 % vs 7 %
    es = {g: lb.estimate(g, [c]) for g, c in cells.items()}
    assert (es["lucky"].uplift or 0) > (es["steady"].uplift or 0)
    order = _board(cells)
    assert order.index("steady") < order.index("lucky")
    assert order[0] == "steady"
    p = lb.prior(list(es.values()))
    assert lb.shrink(es["lucky"], p).weight < lb.shrink(es["steady"], p).weight / 5


@given(st.integers(1, 400), st.integers(0, 100), st.integers(1, 60), st.integers(0, 100))
def test_more_evidence_keeps_more_of_the_own_figure(n: int, xt_pct: int, nc: int, xc_pct: int) -> None:
    others = [lb.estimate(str(i), [lb.Cell(str(i), 100, 10 + 3 * i, 20, 2)]) for i in range(6)]
    p = lb.prior(others)
    small = lb.estimate("s", [lb.Cell("s", n, n * xt_pct // 100, nc, nc * xc_pct // 100)])
    big = lb.estimate("b", [lb.Cell("b", 10 * n, 10 * n * xt_pct // 100, 10 * nc, 10 * nc * xc_pct // 100)])
    s_small, s_big = lb.shrink(small, p), lb.shrink(big, p)
    assert 0.0 <= s_small.weight <= s_big.weight <= 1.0
    for s, e in ((s_small, small), (s_big, big)):
        lo, hi = sorted((p.mean, e.uplift or 0.0))
        assert lo - 1e-12 <= s.score <= hi + 1e-12  # the shrunk score lies between the prior and the own figure
        assert s.low <= s.score <= s.high


def test_a_guide_without_control_members_gets_the_prior() -> None:
    es = [lb.estimate(str(i), [lb.Cell(str(i), 100, 10 + 5 * i, 30, 3)]) for i in range(4)]
    p = lb.prior(es)
    s = lb.shrink(lb.estimate("x", [lb.Cell("x", 50, 40, 0, 0)]), p)
    assert s.score == p.mean and s.weight == 0.0 and s.low < p.mean < s.high


def test_the_interval_covers_the_true_incremental_about_95_percent() -> None:
    rng = random.Random(11)
    n, nc, pt, pc, hits, runs = 200, 60, 0.15, 0.08, 0, 400
    for _ in range(runs):
        xt = sum(rng.random() < pt for _ in range(n))
        xc = sum(rng.random() < pc for _ in range(nc))
        lo, hi = lb.estimate("g", [lb.Cell("g", n, xt, nc, xc)]).interval()
        hits += lo <= n * (pt - pc) <= hi  # type: ignore[operator]
    assert 0.91 <= hits / runs <= 0.99
