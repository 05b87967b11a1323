"""The solver's choice is optimal on small cases (checked by brute force over every subset) and respects the
budget, the guide hours, the one-measure-per-cell-and-lever rule and forced what-ifs."""

from __future__ import annotations

import itertools
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from winback.planner.solver import groups, probability_at_least, solve
from winback.planner.types import Effect, Option

EFFECT = Effect(1.0, 0.5, 1.5, "seed_default", "test")
CELLS = [("new", "普通"), ("new", "高级"), ("churned", "普通")]


@st.composite
def option_lists(draw: st.DrawFn) -> list[Option]:
    n = draw(st.integers(1, 8))
    out = []
    for i in range(n):
        stage, tier = draw(st.sampled_from(CELLS))
        out.append(Option(
            measure=f"m{i}", stage=stage, tier=tier, lever=draw(st.sampled_from(["rate", "aov"])),
            audience=draw(st.integers(1, 500)), runs=1,
            gain=float(draw(st.integers(0, 1000))), gain_sd=0.0, cost=float(draw(st.integers(0, 300))),
            guide_hours=float(draw(st.sampled_from([0, 0, 5, 10, 20]))), messages=0, coupons=0.0, effect=EFFECT,
            forced=draw(st.booleans()) and draw(st.booleans()),
        ))  # fmt: skip
    return out


def feasible(opts: list[Option], subset: tuple[int, ...], hours: float | None, budget: float | None) -> bool:
    chosen = set(subset)
    if any(o.forced and i not in chosen for i, o in enumerate(opts)):
        return False
    if any(len(chosen & set(g)) > 1 for g in groups(opts)):
        return False
    if hours is not None and sum(opts[i].guide_hours for i in chosen) > hours + 1e-9:
        return False
    return budget is None or sum(opts[i].cost for i in chosen) <= budget + 1e-9


def subsets(n: int) -> list[tuple[int, ...]]:
    return [s for k in range(n + 1) for s in itertools.combinations(range(n), k)]


def totals(opts: list[Option], subset: tuple[int, ...]) -> tuple[float, float]:
    return sum(opts[i].gain for i in subset), sum(opts[i].cost for i in subset)


@settings(max_examples=150)
@given(opts=option_lists(), gap=st.integers(-100, 3000), hours=st.sampled_from([None, 0.0, 10.0, 25.0]))
def test_closing_the_gap_at_least_cost_is_optimal(opts: list[Option], gap: int, hours: float | None) -> None:
    choice = solve(opts, gap=float(gap), guide_hours=hours)
    ok = [s for s in subsets(len(opts)) if feasible(opts, s, hours, None)]
    if not ok:
        assert choice.status == "infeasible" and choice.chosen == ()
        return
    assert feasible(opts, choice.chosen, hours, None)
    gain, cost = totals(opts, choice.chosen)
    reaching = [s for s in ok if totals(opts, s)[0] >= gap]
    if reaching:
        assert choice.status == "optimal" and gain >= gap
        assert math.isclose(cost, min(totals(opts, s)[1] for s in reaching), abs_tol=1e-6)
    else:  # nothing closes the gap: the most gain there is
        assert choice.status == "gap_not_closable"
        assert math.isclose(gain, max(totals(opts, s)[0] for s in ok), abs_tol=1e-6)


@settings(max_examples=150)
@given(opts=option_lists(), budget=st.integers(0, 1500), hours=st.sampled_from([None, 10.0, 25.0]))
def test_within_a_budget_the_largest_gain_is_optimal(opts: list[Option], budget: int, hours: float | None) -> None:
    choice = solve(opts, gap=1e12, budget=float(budget), guide_hours=hours)
    ok = [s for s in subsets(len(opts)) if feasible(opts, s, hours, float(budget))]
    if not ok:
        assert choice.status == "infeasible"
        return
    assert choice.status == "optimal"
    assert feasible(opts, choice.chosen, hours, float(budget))
    gain, cost = totals(opts, choice.chosen)
    assert cost <= budget + 1e-9
    assert math.isclose(gain, max(totals(opts, s)[0] for s in ok), abs_tol=1e-6)


def test_one_measure_per_cell_and_lever() -> None:
    a = Option("a", "new", "普通", "rate", 10, 1, 100.0, 0.0, 1.0, 0.0, 0, 0.0, EFFECT)
    b = Option("b", "new", "普通", "rate", 10, 1, 100.0, 0.0, 1.0, 0.0, 0, 0.0, EFFECT)
    c = Option("c", "new", "普通", "aov", 10, 1, 100.0, 0.0, 1.0, 0.0, 0, 0.0, EFFECT)
    choice = solve([a, b, c], gap=1000.0)
    assert choice.status == "gap_not_closable" and len(choice.chosen) == 2 and 2 in choice.chosen


def test_probability_of_reaching_a_target() -> None:
    assert math.isclose(probability_at_least(100.0, 100.0, 10.0) or 0, 0.5)
    assert math.isclose(probability_at_least(80.4, 100.0, 10.0) or 0, 0.975, abs_tol=1e-3)
    assert probability_at_least(1.0, 0.0, 0.0) == 0.0 and probability_at_least(0.0, 1.0, 0.0) == 1.0
