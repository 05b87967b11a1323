"""The planner's pure pieces on hand-made data: periods, orders of stages and tiers, the matrix and its change, the
empirical estimator's shrinkage and trend, the model aggregation, what-if parsing, the phase table, the review."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from winback.errors import InputError
from winback.planner import estimate as est
from winback.planner import matrix
from winback.planner.measures import Offer, default_config, default_effect, option_for, parse_what_if
from winback.planner.phases import phase_table, promotion_in
from winback.planner.planning import plan_cells, split_target
from winback.planner.review import review_cells
from winback.planner.types import CellEstimate, CellFacts, Period


def test_periods() -> None:
    assert matrix.parse_period("2027") == Period(dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    p = matrix.parse_period("2027-06-01:2027-06-30")
    assert p.days == 30 and p.label() == "2027-06-01:2027-06-30"
    for bad in ("27", "2027-13-01:2027-12-31", "2027-06-30:2027-06-01", ""):
        with pytest.raises(InputError):
            matrix.parse_period(bad)
    past = matrix.past_periods(dt.date(2026, 11, 21), 365, 2)
    assert past == [Period(dt.date(2024, 11, 21), dt.date(2025, 11, 21)),
                    Period(dt.date(2025, 11, 21), dt.date(2026, 11, 21))]  # fmt: skip
    assert matrix.past_periods(dt.date(2026, 7, 1), 30, 1) == [Period(dt.date(2026, 6, 1), dt.date(2026, 7, 1))]
    assert matrix.add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)


def test_stage_and_tier_order() -> None:
    assert matrix.stage_order(["potential", "churned", "x", "new"], ["new", "churned", "potential"]) == [
        "new", "churned", "potential", "x"]  # fmt: skip
    spend = {"金卡": 900.0, "银卡": 300.0}
    assert matrix.tier_order({"金卡", "普通", "银卡", "", "贵宾"}, ["普通", "高级", "贵宾"], spend) == [
        "", "普通", "贵宾", "银卡", "金卡"]  # fmt: skip


def test_history_matrix_and_change() -> None:
    p1, p2 = Period(dt.date(2024, 1, 1), dt.date(2025, 1, 1)), Period(dt.date(2025, 1, 1), dt.date(2026, 1, 1))
    a = [CellFacts("new", "普通", 100, 20, 2000.0), CellFacts("new", "高级", 10, 5, 1000.0)]
    b = [CellFacts("new", "普通", 200, 50, 6000.0), CellFacts("churned", "普通", 50, 1, 10.0)]
    h = matrix.history([(p1, a), (p2, b)], ["new", "churned"], ["普通", "高级"], ["stage", "tier"])
    assert h[1].total.members == 250 and h[1].total.repurchasers == 51
    ch = h[1].change["new/普通"]
    assert ch["members"] == 1.0 and ch["rate"] == pytest.approx(0.25 / 0.2 - 1) and ch["aov"] == pytest.approx(0.2)
    assert h[1].change["churned/普通"]["members"] is None
    by_stage = matrix.history([(p1, a)], ["new"], [], ["stage"])
    assert [(c.stage, c.tier, c.members) for c in by_stage[0].cells] == [("new", "*", 110)]


def test_empirical_shrinks_small_cells_and_keeps_big_ones() -> None:
    last = [CellFacts("new", "普通", 10_000, 2_000, 200_000.0, 200_000.0 * 100 + 2_000 * 400),
            CellFacts("new", "贵宾", 2, 2, 20_000.0, 2 * 10_000.0 ** 2),
            CellFacts("churned", "贵宾", 100, 10, 5_000.0, 10 * 500.0 ** 2)]  # fmt: skip
    parts = est.empirical([last], {("new", "普通"): 1000, ("new", "贵宾"): 10, ("churned", "高级"): 5})
    big = parts[("new", "普通")]
    assert big.reps == pytest.approx(1000 * (2000 + 20 * 2002 / 10002) / 10020)
    assert big.aov == pytest.approx((200_000 + 10 * 200_000 / 2000) / 2010) and big.spend_var == pytest.approx(400)
    small = parts[("new", "贵宾")]  # 2 of 2 bought: shrunk toward the stage's 20 %
    assert 0.2 < small.reps / 10 < 0.3
    unseen = parts[("churned", "高级")]  # no such cell last period: its stage's rate, the overall AOV
    assert unseen.reps == pytest.approx(5 * 10 / 100) and unseen.aov == pytest.approx(225_000 / 2012)


def test_empirical_trend_is_damped_and_bounded() -> None:
    before = [CellFacts("new", "普通", 1000, 100, 10_000.0)]
    now = [CellFacts("new", "普通", 1000, 400, 40_000.0)]
    (p,) = est.empirical([before, now], {("new", "普通"): 1000}).values()
    (flat,) = est.empirical([now], {("new", "普通"): 1000}).values()
    assert p.reps == pytest.approx(flat.reps * 1.5)  # ×4 observed, √4 = 2, bounded at ×1.5


@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=1, max_size=30))
def test_intervals_contain_the_mean_and_grow_with_members(rows: list[tuple[int, float]]) -> None:
    last = [CellFacts("s", f"t{i}", n, round(n * r), 100.0 * round(n * r), 1e4 * round(n * r))
            for i, (n, r) in enumerate(rows)]  # fmt: skip
    targets = {(c.stage, c.tier): c.members for c in last}
    cells = est.combine(est.empirical([last], targets), est.empirical([last], targets))
    for c in cells:
        assert c.repurchasers_sd >= 0 and c.revenue_sd >= 0 and 0 <= c.repurchasers <= c.members
    _, reps_sd, rev, _ = est.totals(cells)
    assert reps_sd <= sum(c.repurchasers_sd for c in cells) + 1e-9
    assert math.isclose(rev, sum(c.revenue for c in cells), rel_tol=1e-9)


def test_model_parts_sum_members_and_fall_back() -> None:
    model = est.purchase_model("mbg_nbd", {"r": 0.6, "alpha": 1.2, "a": 0.5, "b": 0.7})
    inputs = {"stage": np.array(["new", "new", "churned"]), "tier": np.array(["普通", "普通", "普通"]),
              "x": np.array([0.0, 3.0, 1.0]), "t_x": np.array([0.0, 200.0, 30.0]),
              "big_t": np.array([30.0, 250.0, 700.0]), "value": np.array([100.0, 200.0, 50.0])}  # fmt: skip
    fb = {k: est.Parts(n, 0.1 * n, 1.0, 80.0, 0.5, 400.0) for k, n in
          {("new", "普通"): 2, ("churned", "普通"): 1, ("potential", "普通"): 7}.items()}  # fmt: skip
    parts = est.model_parts(model, 365, inputs, {k: v.members for k, v in fb.items()}, fb)
    p_buy, e_days = est.member_predictions(model, 365, inputs["x"], inputs["t_x"], inputs["big_t"])
    assert parts[("new", "普通")].reps == pytest.approx(p_buy[0] + p_buy[1])
    assert parts[("new", "普通")].aov == pytest.approx((100 * e_days[0] + 200 * e_days[1]) / (p_buy[0] + p_buy[1]))
    assert parts[("potential", "普通")] == fb[("potential", "普通")]  # never bought: no model
    assert p_buy[2] < p_buy[1]  # two years quiet after two purchases: less likely to buy than a regular


def _cells() -> list[CellEstimate]:
    return [CellEstimate("active_repeat", "高级", 100, 64.0, 3.0, 64_000.0, 5000.0),
            CellEstimate("new", "普通", 50, 10.0, 2.0, 5_000.0, 800.0)]  # fmt: skip


def test_what_if_parsing() -> None:
    cfg = default_config()
    w = parse_what_if("active_repeat/高级:aov+5%@active_targeted_coupon", cfg, _cells())
    assert (w.stage, w.tier, w.lever, w.change, w.measure) == ("active_repeat", "高级", "aov", 0.05,
                                                               "active_targeted_coupon")  # fmt: skip
    with pytest.raises(InputError) as no_measure:
        parse_what_if("new/普通:rate+0.02", cfg, _cells())
    assert "new_recommendation" in (no_measure.value.hint or "")
    for bad in ("new:rate", "new/钻石:rate@new_recommendation", "new/普通:rate@active_targeted_coupon"):
        with pytest.raises(InputError):
            parse_what_if(bad, cfg, _cells())


def test_default_effects_and_option_costs() -> None:
    cfg = default_config()
    cell = _cells()[0]
    m = cfg.measures["active_targeted_coupon"]
    e = default_effect(m, cell, "zh")
    assert e.source == "seed_default" and e.revenue_per_member == pytest.approx(0.64 * 0.06 * 1000)
    assert e.low <= e.revenue_per_member <= e.high
    opt = option_for(m, cell, Offer("discount", 10, 0, "sms", 14), e, 365)
    assert opt.audience == 100 and opt.messages == 200 and opt.guide_hours == 0
    assert opt.gain == pytest.approx(200 * e.revenue_per_member) and opt.cost > 200 * m.cost_per_contact
    call = cfg.measures["prechurn_guide_call"]
    pre = CellEstimate("prechurn_high", "普通", 60, 6.0, 2.0, 3000.0, 400.0)
    o = option_for(call, pre, Offer("voucher", 20, 0, "guide_task", 14), default_effect(call, pre, "zh"), 365)
    assert o.guide_hours == pytest.approx(60 * 6 / 60) and o.messages == 0


def test_target_split_and_cells() -> None:
    assert split_target(100.0, None, 30.0, 0.5)[:2] == (30.0, 70.0)
    assert split_target(100.0, 0.2, None, 0.5)[:2] == (20.0, 80.0)
    assert split_target(100.0, None, None, 0.4)[:2] == pytest.approx((40.0, 60.0))
    cells = plan_cells(_cells(), 138_000.0)
    assert [c["target_revenue"] for c in cells] == [128_000.0, 10_000.0] and cells[0]["gap"] == 64_000.0


def test_phase_table_spreads_each_option_once() -> None:
    cfg = default_config()
    period = Period(dt.date(2027, 1, 1), dt.date(2028, 1, 1))
    promo = promotion_in(cfg.promotions, period, "double11")
    assert promo is not None and promo["start"] == "2027-10-20" and promo["end"] == "2027-11-11"
    with pytest.raises(InputError):
        promotion_in(cfg.promotions, period, "black_friday")
    cell = _cells()[0]
    m = cfg.measures["active_targeted_coupon"]
    opt = option_for(m, cell, Offer("discount", 10, 0, "sms", 14), default_effect(m, cell, "zh"), 365)
    rows = phase_table(cfg.phases, [], promo, [opt], "zh")
    assert sum(r["target_incremental_revenue"] for r in rows) == pytest.approx(opt.gain, abs=0.05)
    assert sum(r["messages"] for r in rows) == pytest.approx(opt.messages, abs=2)
    assert rows[0]["start"] == "2027-10-20" and rows[-1]["end"] == "2027-11-11"
    days = [dt.date.fromisoformat(r["start"]) for r in rows]
    assert days == sorted(days)


def test_review_ratios() -> None:
    cells = plan_cells(_cells(), 138_000.0)
    rows, total = review_cells(cells, [CellFacts("active_repeat", "高级", 100, 70, 70_400.0)],
                               {("active_repeat", "高级"): 6_400.0})  # fmt: skip
    assert rows[0]["planned_revenue"] == 70_400.0 and rows[0]["actual_vs_plan"] == 0.0
    assert rows[1]["actual_revenue"] == 0.0 and rows[1]["actual_vs_estimate"] == -1.0
    assert total["actual_revenue"] == 70_400.0 and total["target_revenue"] == 138_000.0


def test_the_planner_ranks_tiers_as_rules_tiers_toml_does() -> None:
    """planner.toml does not repeat the tier rank: the shipped planner file takes rules/tiers.toml's order; a
    brand's planner file may still give its own."""
    from winback.common.tiers import shipped_order
    from winback.planner.measures import default_config, parse_config

    assert default_config().tiers == shipped_order() == ("普通", "高级", "贵宾", "至尊贵宾")
    assert parse_config('tiers = ["B", "A"]\n').tiers == ("B", "A")
