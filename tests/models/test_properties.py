"""Property tests (hypothesis) of the predictions over wide parameter and history ranges."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.models import BetaGeoFitter, ModifiedBetaGeoFitter, compress
from winback.models.beta_geo import _BetaGeoFamily

positive = st.floats(0.05, 20.0)
scale = st.floats(0.01, 1000.0)
params = st.fixed_dictionaries({"r": positive, "alpha": scale, "a": positive, "b": positive})
family = st.sampled_from([BetaGeoFitter, ModifiedBetaGeoFitter])
count = st.integers(0, 500)
age = st.floats(0.0, 2000.0)
share = st.floats(0.0, 1.0)


def _model(cls: type[_BetaGeoFamily], p: dict[str, float]) -> _BetaGeoFamily:
    return cls.from_dict({"model": cls.model_name, "params": p})


def _history(x: int, T: float, share_tx: float) -> tuple[float, float, float]:
    return float(x), (T * share_tx if x > 0 else 0.0), T


@settings(max_examples=150, deadline=None)
@given(family, params, count, age, share)
def test_p_alive_is_a_probability(cls: type[_BetaGeoFamily], p: dict[str, float], x: int, T: float, s: float) -> None:
    pa = float(_model(cls, p).p_alive(*_history(x, T, s)))
    assert 0.0 <= pa <= 1.0


@settings(max_examples=50, deadline=None)
@given(params, age)
def test_bg_nbd_customers_without_repeat_purchases_are_alive(p: dict[str, float], T: float) -> None:
    assert float(_model(BetaGeoFitter, p).p_alive(0, 0, T)) == 1.0


@settings(max_examples=150, deadline=None)
@given(family, params, count, age, st.floats(0.01, 500.0), share)
def test_p_alive_falls_with_age_and_rises_with_recency(
    cls: type[_BetaGeoFamily], p: dict[str, float], x: int, T: float, more: float, s: float
) -> None:
    m = _model(cls, p)
    x_, t_x, T_ = _history(x, T, s)
    now = float(m.p_alive(x_, t_x, T_))
    assert float(m.p_alive(x_, t_x, T_ + more)) <= now  # same history, observed longer without a purchase
    if x > 0:
        assert float(m.p_alive(x_, min(t_x + more, T_), T_)) >= now  # last purchase later


@settings(max_examples=150, deadline=None)
@given(family, params, count, age, share, st.floats(0.0, 1000.0))
def test_conditional_predictions_are_finite_and_in_range(
    cls: type[_BetaGeoFamily], p: dict[str, float], x: int, T: float, s: float, t: float
) -> None:
    m = _model(cls, p)
    h = _history(x, T, s)
    e = float(m.conditional_expected_purchases(t, *h))
    assert np.isfinite(e) and e >= 0.0
    assert float(m.conditional_expected_purchases(t + 1.0, *h)) >= e - 1e-9 * max(1.0, e)
    q = float(m.p_no_purchase(t, *h))
    assert 0.0 <= q <= 1.0


@settings(max_examples=100, deadline=None)
@given(family, params, st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=6))
def test_unconditional_expectation_is_finite_and_grows_with_time(
    cls: type[_BetaGeoFamily], p: dict[str, float], ts: list[float]
) -> None:
    t = np.sort(np.array(ts))
    e = _model(cls, p).expected_purchases(t)
    assert np.all(np.isfinite(e)) and np.all(e >= 0)
    assert np.all(np.diff(e) >= -1e-9 * np.maximum(1.0, e[1:]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(3, 6)), min_size=1, max_size=80))
def test_compress_keeps_every_customer(rows: list[tuple[int, int, int]]) -> None:
    arr = np.array(rows, dtype=float)
    for offset in (0.0, 0.5):  # whole numbers take the packed-key path, fractions the lexicographic one
        x, t_x, T, counts = compress(arr[:, 0], arr[:, 1] + offset, arr[:, 2])
        assert counts.sum() == len(rows)
        expanded = sorted(zip(np.repeat(x, counts), np.repeat(t_x - offset, counts), np.repeat(T, counts), strict=True))
        assert expanded == sorted(map(tuple, arr.tolist()))
        keys = list(zip(x, t_x, T, strict=True))
        assert keys == sorted(set(keys))


@settings(max_examples=40, deadline=None)
@given(params, st.integers(0, 50), st.floats(0.0, 200.0), st.floats(0.1, 300.0))
def test_closed_form_expectation_equals_direct_integration(p: dict[str, float], x: int, T: float, t: float) -> None:
    """The Euler-transformed 2F1 form against a quadrature of E[(1 - (α'/(α'+pt))^r') / p] over the Beta posterior."""
    from winback.models.beta_geo import _expected_if_alive_by_quadrature

    for cls in (BetaGeoFitter, ModifiedBetaGeoFitter):
        m = _model(cls, p)
        alive = float(m.p_alive(x, T if x else 0.0, T))
        closed = float(m.conditional_expected_purchases(t, x, T if x else 0.0, T)) / alive
        n = x + cls.shift
        direct = _expected_if_alive_by_quadrature(t, p["r"] + x, p["alpha"] + T, p["a"], p["b"] + n)
        assert np.isclose(closed, direct, rtol=1e-6, atol=1e-9)
