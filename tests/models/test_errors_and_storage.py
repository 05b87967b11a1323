"""Bad input becomes a ModelError that says what was wrong; non-convergence is reported; fits store as JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from winback.errors import ModelError, WinbackError
from winback.models import (
    BetaGeoFitter,
    GammaGammaFitter,
    ModelConvergenceWarning,
    ModifiedBetaGeoFitter,
    WeakFitWarning,
)
from winback.models.inputs import FloatArray
from winback.models.simulate import simulate_beta_geo

pytestmark = pytest.mark.usefixtures("english")  # these tests assert the English wording

Histories = tuple[FloatArray, FloatArray, FloatArray]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, t, T: (x[:10], t[:10], T[:10]), "too little data"),
        (lambda x, t, T: (x * 0, t * 0, T), "no customer"),
        (lambda x, t, T: (np.where(np.arange(len(x)) == 5, np.nan, x), t, T), "non-finite"),
        (lambda x, t, T: (x, t, np.where(np.arange(len(x)) == 0, np.inf, T)), "non-finite"),
        (lambda x, t, T: (x, t + 100, T), "exceeds T"),
        (lambda x, t, T: (x - 5, t, T), "must not be negative"),
        (lambda x, t, T: (x + 0.5, t, T), "whole numbers"),
        (lambda x, t, T: (x, t + (x == 0) * 1.0, T), "x=0"),
        (lambda x, t, T: (x, t[:-1], T), "one value per customer"),
        (lambda x, t, T: (np.array(["a"] * len(x)), t, T), "numeric"),
    ],
)
@pytest.mark.parametrize("cls", [BetaGeoFitter, ModifiedBetaGeoFitter])
def test_bad_histories_raise_model_error(cdnow: Histories, cls: type, change, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match=message) as info:
        cls().fit(*change(*cdnow))
    assert isinstance(info.value, WinbackError) and info.value.hint


def test_bad_weights_raise_model_error(cdnow: Histories) -> None:
    n = len(cdnow[0])
    with pytest.raises(ModelError, match="negative"):
        BetaGeoFitter().fit(*cdnow, weights=-np.ones(n))
    with pytest.raises(ModelError, match="one value per row"):
        BetaGeoFitter().fit(*cdnow, weights=np.ones(n - 1))
    with pytest.raises(ModelError, match="too little"):  # 19 customers in total
        BetaGeoFitter().fit(*cdnow, weights=np.r_[np.ones(19), np.zeros(n - 19)])


def test_weights_equal_repeated_rows(cdnow: Histories) -> None:
    x, t, T = (a[:300] for a in cdnow)
    w = np.random.default_rng(0).integers(1, 4, 300)
    weighted = BetaGeoFitter().fit(x, t, T, weights=w)
    repeated = BetaGeoFitter().fit(np.repeat(x, w), np.repeat(t, w), np.repeat(T, w))
    assert weighted.loglik_ == pytest.approx(repeated.loglik_, rel=1e-10)
    assert weighted.n_ == repeated.n_ == w.sum() and weighted.n_unique_ == repeated.n_unique_


def test_non_convergence_is_reported_not_hidden(cdnow: Histories) -> None:
    with pytest.warns(ModelConvergenceWarning, match="did not converge"):
        m = BetaGeoFitter(max_iter=2).fit(*cdnow)
    assert m.converged_ is False
    assert m.warning_ and "Do not use" in m.warning_
    assert m.to_dict()["converged"] is False


def test_unidentified_parameters_are_reported() -> None:
    """Nobody ever drops out (p ≈ 0): a and b are not pinned down and run to the edge."""
    sim = simulate_beta_geo(3000, 2.0, 10.0, 1e-3, 1e3, 50.0, rng=1)
    with pytest.warns(ModelConvergenceWarning):
        m = BetaGeoFitter().fit(sim.x, sim.t_x, sim.T)
    assert not m.converged_ and m.warning_ and "flat" in m.warning_


def test_weakly_determined_parameters_are_flagged_but_kept(cdnow: Histories) -> None:
    """135 CDNOW customers: the optimum exists but a and b are loose; the fit stands with a warning."""
    x, t, T = (a[:135] for a in cdnow)
    with pytest.warns(WeakFitWarning, match="weakly determine"):
        m = BetaGeoFitter().fit(x, t, T)
    assert m.converged_ and m.warning_ and "weakly" in m.warning_
    full = BetaGeoFitter().fit(*cdnow)
    assert full.warning_ is None


def test_gamma_gamma_input_errors() -> None:
    x = np.arange(1, 41, dtype=float)
    m = np.linspace(10, 50, 40)
    with pytest.raises(ModelError, match="repeat buyers only"):
        GammaGammaFitter().fit(x - 1, m)
    with pytest.raises(ModelError, match="positive"):
        GammaGammaFitter().fit(x, -m)
    with pytest.raises(ModelError, match="too little"):
        GammaGammaFitter().fit(x[:5], m[:5])
    with pytest.raises(ModelError, match="no parameters"):
        GammaGammaFitter().conditional_expected_value(x, m)


def test_predictions_need_parameters_and_valid_inputs() -> None:
    with pytest.raises(ModelError, match="fit"):
        BetaGeoFitter().p_alive(1, 1, 2)
    m = BetaGeoFitter.from_dict({"model": "bg_nbd", "params": {"r": 0.2, "alpha": 4, "a": 0.8, "b": 2.4}})
    with pytest.raises(ModelError, match="non-negative"):
        m.p_alive(-1, 0, 3)
    with pytest.raises(ModelError, match="horizon"):
        m.conditional_expected_purchases(np.nan, 1, 1, 3)


def test_to_dict_round_trips_through_json(cdnow: Histories) -> None:
    m = ModifiedBetaGeoFitter("weeks").fit(*cdnow)
    stored = json.loads(json.dumps(m.to_dict()))
    assert stored["model"] == "mbg_nbd" and stored["time_unit"] == "weeks" and stored["n"] == 2357
    back = ModifiedBetaGeoFitter.from_dict(stored)
    assert back.params_ == m.params_ and back.loglik_ == m.loglik_ and back.converged_
    np.testing.assert_array_equal(back.p_alive(*cdnow), m.p_alive(*cdnow))
    with pytest.raises(ModelError, match="not 'bg_nbd'"):
        BetaGeoFitter.from_dict(stored)
    with pytest.raises(ModelError, match="lack"):
        BetaGeoFitter.from_dict({"model": "bg_nbd", "params": {"r": 1.0}})


@pytest.mark.parametrize("cls", [BetaGeoFitter, ModifiedBetaGeoFitter])
def test_expectations_are_continuous_across_a_equal_one(cls: type) -> None:
    def at(a: float) -> FloatArray:
        m = cls.from_dict({"model": cls.model_name, "params": {"r": 0.5, "alpha": 3.0, "a": a, "b": 2.0}})
        return m.conditional_expected_purchases(np.array([0.5, 10.0, 100.0]), 3, 20.0, 30.0)

    exact = at(1.0)
    for a in (1.0 - 3e-4, 1.0 + 3e-4, 1.0 + 5e-5):
        np.testing.assert_allclose(at(a), exact, rtol=2e-3)
    assert np.all(np.diff(exact) > 0)


def test_boundary_solutions_are_not_called_converged(cdnow: Histories) -> None:
    """The first 100/105 CDNOW customers: the optimum runs off to a → 0 (or a flat ridge), which is reported."""
    for n in (100, 105):
        with pytest.warns(ModelConvergenceWarning):
            m = BetaGeoFitter().fit(*(a[:n] for a in cdnow))
        assert not m.converged_ and m.warning_ and "Do not use" in m.warning_
