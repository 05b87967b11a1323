"""What keeps the back-test honest and the calibrated model sound, on hand-made data: a member's tier at a past
date from the spend up to that date (not today's tier), the calibration of repurchasers and AOV (each shrunk toward
the model as it is), the back-test spans a young brand falls back to, and the default without a back-test."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from winback.common.tiers import shipped_order, shipped_rules
from winback.planner import estimate as est
from winback.planner import matrix, sql
from winback.planner.planning import choose
from winback.planner.types import CellFacts


def test_the_shipped_tiers_are_rules_over_lifetime_spend() -> None:
    rules = shipped_rules()
    assert [t for t, _v in rules] == list(shipped_order())
    assert [v for _t, v in rules] == [0.0, 2500.0, 8000.0, 20000.0]  # the demo ERP's thresholds (demo/vocab.py)


def test_the_demo_assigns_its_tiers_by_the_shipped_rules() -> None:
    from winback.demo.vocab import TIER_THRESHOLDS, TIERS

    assert tuple(zip(TIERS, TIER_THRESHOLDS, strict=True)) == shipped_rules()


def test_a_tier_at_a_past_date_is_the_one_its_spend_then_earned() -> None:
    """Today's tier says nothing about a past snapshot: the expression reads the snapshot's lifetime spend."""
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE member_snapshot (member_id VARCHAR, tier VARCHAR, monetary DECIMAL(18, 2))")
        con.execute("INSERT INTO member_snapshot VALUES ('a', '至尊贵宾', 0), ('b', '至尊贵宾', 2499.99), "
                    "('c', '普通', 2500), ('d', NULL, 8000), ('e', '普通', 20000.5), ('f', '贵宾', NULL)")  # fmt: skip
        expr = sql.tier_expr(shipped_rules())
        got = dict(con.execute(f"SELECT member_id, {expr} FROM member_snapshot").fetchall())
        assert got == {"a": "普通", "b": "普通", "c": "高级", "d": "贵宾", "e": "至尊贵宾", "f": "普通"}
        stored = dict(con.execute(f"SELECT member_id, {sql.tier_expr(())} FROM member_snapshot").fetchall())
        assert stored["d"] == sql.NO_TIER and stored["a"] == "至尊贵宾"  # no rules: the stored tier
        quoted = sql.tier_expr([("it's", 0.0), ("b", 1.0)])
        assert con.execute(f"SELECT {quoted} FROM member_snapshot WHERE member_id = 'a'").fetchone() == ("it's",)
    finally:
        con.close()
    assert "{tier}" not in sql.tiered(sql.CELL_FACTS, "x") and "x AS tier" in sql.tiered(sql.CELL_FACTS, "x")


def _parts(members: int, reps: float, aov: float) -> est.Parts:
    return est.Parts(members, reps, reps * 0.5, aov, 4.0, 900.0)


def test_calibration_corrects_repurchasers_and_aov_shrunk_toward_the_model() -> None:
    key, small, unseen = ("prechurn_high", "普通"), ("churned", "高级"), ("potential", "普通")
    now = {key: _parts(1000, 200.0, 120.0), small: _parts(600, 10.0, 300.0), unseen: _parts(900, 9.0, 80.0)}
    big = ("churned", "普通")  # the model under-predicts it by half: its tier 高级 is not dragged along
    predicted = {key: _parts(800, 300.0, 100.0), small: _parts(500, 4.0, 250.0), big: _parts(9000, 600.0, 50.0)}
    actual = [
        CellFacts("prechurn_high", "普通", 800, 150, 150 * 75.0, 0.0),
        CellFacts("churned", "高级", 500, 4, 1000.0, 0.0),
        CellFacts("churned", "普通", 9000, 900, 1.0, 0.0),
    ]
    out = est.calibrate(now, predicted, actual)
    c = est.CAL_PSEUDO
    assert out[key].reps == pytest.approx(200.0 * (150 + c) / (300 + c))
    assert out[key].aov == pytest.approx(120.0 * (150 * 75.0 + c * 100.0) / ((150 + c) * 100.0))
    # a cell with 4 repurchasers the model predicted well keeps the model's figures, whatever its stage's big tier did
    assert out[small].reps == pytest.approx(10.0, rel=0.01) and out[small].aov == pytest.approx(300.0)
    assert out[unseen] == now[unseen]  # not covered by the old model: left as it is
    assert out[key].reps_var > now[key].reps_var * ((150 + c) / (300 + c)) ** 2  # the ratio's own uncertainty


def test_a_young_brand_backtests_over_the_half_period() -> None:
    as_of = dt.date(2025, 11, 21)
    assert matrix.backtest_spans(as_of, 365) == [(dt.date(2024, 11, 21), 365), (dt.date(2025, 5, 23), 182)]
    assert matrix.backtest_spans(as_of, 30) == [(dt.date(2025, 10, 22), 30), (dt.date(2025, 11, 6), 15)]
    assert matrix.backtest_spans(as_of, 1) == [(dt.date(2025, 11, 20), 1)]


def test_the_default_without_a_backtest_is_the_calibrated_model_where_it_exists() -> None:
    both = {("calibrated", "calibrated"), ("model", "model"), ("model", "empirical")}
    c = choose(None, None, None, needs="2025-05-23", available=both)
    assert (c.repurchasers, c.aov) == ("calibrated", "calibrated") and c.backtest is None
    assert "2025-05-23" in c.reason
    c = choose(None, None, None, available=both - {("calibrated", "calibrated")})
    assert (c.repurchasers, c.aov) == ("model", "model")


def _err(total: float, cells: list[float]) -> dict[str, object]:
    rows = [{"stage": f"s{i}", "tier": "普通", "repurchasers": v, "revenue": v} for i, v in enumerate(cells)]
    return {"repurchasers": total, "revenue": total, "cells": rows}


def test_a_small_backtest_win_does_not_replace_the_calibrated_model() -> None:
    """The calibrated model stays unless another estimator beats it clearly: by more than CLEARLY standard errors
    of the cells' paired differences. A win that comes from a few cells, others going the other way, is noise."""
    cal = _err(0.06, [0.01, 0.02, 0.27, 0.01, 0.12, 0.15, 0.36, 0.09])
    mod = _err(0.08, [0.01, 0.00, 0.40, 0.01, 0.00, 0.02, 0.18, 0.02])  # better in total score, mixed by cell
    assert est.score(mod, "repurchasers") < est.score(cal, "repurchasers")
    diff, se = est.margin(mod, cal, "repurchasers")
    assert 0 < diff <= est.CLEARLY * se
    assert est.prefer({"model": mod, "calibrated": cal}, est.RATE_PREFERENCE, "repurchasers") == ("calibrated",
                                                                                                   "model")  # fmt: skip
    clear = _err(0.01, [0.0, 0.0, 0.05, 0.0, 0.02, 0.03, 0.08, 0.02])
    assert est.prefer({"model": clear, "calibrated": cal}, est.RATE_PREFERENCE, "repurchasers") == ("model", None)
    # without the calibrated model the model is the one preferred; the past rates must beat it clearly
    assert est.prefer({"model": mod, "empirical": cal}, est.RATE_PREFERENCE, "repurchasers")[0] == "model"


def test_the_pick_says_why_the_preferred_estimator_stayed() -> None:
    from winback.planner.types import CellEstimate

    actual = [CellFacts("s", f"t{i}", 1000, 100, 10_000.0, 0.0) for i in range(4)]

    def cells(reps: list[float]) -> list[CellEstimate]:
        return [CellEstimate("s", f"t{i}", 1000, r, 5.0, r * 100.0, 50.0) for i, r in enumerate(reps)]

    cands = {("calibrated", a): cells([101, 99, 130, 100]) for a in ("calibrated", "model", "empirical")}
    cands |= {(r, a): cells([100, 100, 100, 125]) for r in ("model", "empirical", "blend")
              for a in ("calibrated", "model", "empirical")}  # fmt: skip
    c = choose(cands, actual, "2025-05-23")
    assert (c.repurchasers, c.aov) == ("calibrated", "calibrated")
    assert "并不明显更好" in c.reason and "仍用校准后的模型" in c.reason
