"""Qini curve and coefficient, uplift@k and the decile table agree with an independent, loop-by-loop reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from winback.models.uplift_metrics import decile_table, evaluate, qini_coefficient, qini_curve, uplift_at


def _reference(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> tuple[list[float], float]:
    """Qini by walking the ranking one member at a time (ties in input order), area by the trapezoid rule."""
    order = sorted(range(len(score)), key=lambda i: (-score[i], i))
    nt = nc = 0
    yt = yc = 0.0
    curve = [0.0]
    for i in order:
        if treated[i]:
            nt, yt = nt + 1, yt + y[i]
        else:
            nc, yc = nc + 1, yc + y[i]
        curve.append(yt - yc * nt / nc if nc else 0.0)
    n = len(score)
    area = 0.0
    for k in range(1, n + 1):
        g1 = curve[k] - (k / n) * curve[-1]
        g0 = curve[k - 1] - ((k - 1) / n) * curve[-1]
        area += (g0 + g1) / 2 / n
    return curve, area


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    treated = rng.random(n) < 0.5
    score = np.round(rng.normal(size=n), 1)  # rounded: ties happen
    y = (rng.random(n) < 0.1 + 0.2 * treated * (score > 0)) * rng.gamma(2, 100, n)
    return score, treated, y


def test_qini_matches_the_reference() -> None:
    score, treated, y = _data(3000, 1)
    curve, area = _reference(score, treated, y)
    np.testing.assert_allclose(qini_curve(score, treated, y), curve, rtol=1e-10, atol=1e-8)
    coef, got_area = qini_coefficient(score, treated, y)
    assert got_area == pytest.approx(area, rel=1e-9)
    assert coef == pytest.approx(area / abs(curve[-1]), rel=1e-9)
    assert coef > 0.05  # the score carries the effect: clearly better than random


@given(st.integers(min_value=2, max_value=60), st.integers(min_value=0, max_value=10_000))
def test_qini_matches_the_reference_on_any_small_experiment(n: int, seed: int) -> None:
    score, treated, y = _data(n, seed)
    curve, area = _reference(score, treated, y)
    np.testing.assert_allclose(qini_curve(score, treated, y), curve, rtol=1e-9, atol=1e-7)
    assert qini_coefficient(score, treated, y)[1] == pytest.approx(area, rel=1e-9, abs=1e-9)


def test_deciles_and_uplift_at_match_the_reference() -> None:
    score, treated, y = _data(2503, 2)
    order = sorted(range(len(score)), key=lambda i: (-score[i], i))
    table = decile_table(score, treated, y)
    assert [d["members"] for d in table] == [251, 251, 251, 250, 250, 250, 250, 250, 250, 250]
    start = 0
    for d in table:
        idx = order[start : start + d["members"]]
        start += d["members"]
        t = [y[i] for i in idx if treated[i]]
        c = [y[i] for i in idx if not treated[i]]
        diff = sum(t) / len(t) - sum(c) / len(c)
        var_t = sum((v - sum(t) / len(t)) ** 2 for v in t) / (len(t) - 1)
        var_c = sum((v - sum(c) / len(c)) ** 2 for v in c) / (len(c) - 1)
        se = (var_t / len(t) + var_c / len(c)) ** 0.5
        assert d["observed"] == pytest.approx(diff, rel=1e-9)
        assert d["ci"][0] == pytest.approx(diff - 1.959963984540054 * se, rel=1e-9)
        assert d["ci"][1] == pytest.approx(diff + 1.959963984540054 * se, rel=1e-9)
        assert d["predicted"] == pytest.approx(sum(score[i] for i in idx) / len(idx), rel=1e-9, abs=1e-12)
        assert (d["treated"], d["control"]) == (len(t), len(c))
    top = order[: round(0.3 * len(score))]
    t = [y[i] for i in top if treated[i]]
    c = [y[i] for i in top if not treated[i]]
    assert uplift_at(score, treated, y, 0.3)["observed"] == pytest.approx(sum(t) / len(t) - sum(c) / len(c))


def test_evaluate_shapes_and_a_group_without_control() -> None:
    score, treated, y = _data(500, 3)
    out = evaluate(score, treated, y)
    assert out["rows"] == 500 and out["qini_curve"][0] == [0.0, 0.0] and out["qini_curve"][-1][0] == 1.0
    assert [u["fraction"] for u in out["uplift_at"]] == [0.1, 0.2, 0.3, 0.5] and len(out["deciles"]) == 10
    only_treated = decile_table(np.arange(20.0), np.ones(20, dtype=bool), np.ones(20))
    assert only_treated[0]["observed"] is None and only_treated[0]["ci"] == [None, None]
