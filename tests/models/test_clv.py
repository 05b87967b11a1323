"""Customer lifetime value: the documented formula, checked by hand and by its telescoping identity."""

from __future__ import annotations

import numpy as np
import pytest

from winback.errors import ModelError
from winback.models import BetaGeoFitter, GammaGammaFitter, customer_lifetime_value

pytestmark = pytest.mark.usefixtures("english")  # these tests assert the English wording

BG = BetaGeoFitter.from_dict({"model": "bg_nbd", "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}})
GG = GammaGammaFitter.from_dict({"model": "gamma_gamma", "params": {"p": 6.25, "q": 3.74, "v": 15.44}})
X = np.array([0.0, 2.0, 1.0, 7.0])
TX = np.array([0.0, 30.43, 1.71, 35.0])
T = np.array([38.86, 38.86, 38.86, 38.86])
ZBAR = np.array([0.0, 22.35, 11.77, 40.0])


def test_undiscounted_clv_is_margin_times_value_times_expected_purchases() -> None:
    value = GG.conditional_expected_value(X, ZBAR)
    clv = customer_lifetime_value(BG, X, TX, T, value, horizon=52, step=52 / 12, margin=0.3)
    expected = 0.3 * value * BG.conditional_expected_purchases(52, X, TX, T)
    np.testing.assert_allclose(clv, expected, rtol=1e-12)


def test_discounting_by_hand_with_a_partial_last_step() -> None:
    value = np.full(4, 50.0)
    clv = customer_lifetime_value(BG, X, TX, T, value, horizon=10, step=4, discount_rate=0.1, margin=0.5)
    e = [BG.conditional_expected_purchases(tau, X, TX, T) for tau in (0.0, 4.0, 8.0, 10.0)]
    by_hand = 0.5 * 50.0 * sum((e[i] - e[i - 1]) / 1.1**i for i in (1, 2, 3))
    np.testing.assert_allclose(clv, by_hand, rtol=1e-12)


def test_clv_falls_with_the_discount_rate_and_ranks_buyers_sensibly() -> None:
    value = GG.conditional_expected_value(X, ZBAR)
    rates = [0.0, 0.01, 0.05, 0.2]
    clvs = [customer_lifetime_value(BG, X, TX, T, value, horizon=104, step=4, discount_rate=d) for d in rates]
    for lower, higher in zip(clvs[1:], clvs[:-1], strict=True):
        assert np.all(lower < higher)
    assert clvs[0][3] > clvs[0][1] > clvs[0][0] > 0  # frequent recent buyer > occasional > never repeated


def test_bad_clv_settings_raise_model_error() -> None:
    v = np.ones(4)
    for kwargs, message in (
        ({"horizon": 0, "step": 1}, "horizon"),
        ({"horizon": 10, "step": -1}, "step"),
        ({"horizon": 10, "step": 1, "discount_rate": -1.0}, "discount_rate"),
        ({"horizon": 10, "step": 1, "margin": float("nan")}, "margin"),
    ):
        with pytest.raises(ModelError, match=message):
            customer_lifetime_value(BG, X, TX, T, v, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="expected_value"):
        customer_lifetime_value(BG, X, TX, T, np.array([1.0, np.nan, 1.0, 1.0]), horizon=5, step=1)
