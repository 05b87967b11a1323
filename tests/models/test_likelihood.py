"""The analytic log-likelihoods and gradients: against finite differences, row-wise sums, and extreme inputs."""

from __future__ import annotations

import numpy as np
import pytest

import winback.models.beta_geo_likelihood as bgl
from winback.models import compress
from winback.models.gamma_gamma import GammaGammaData, gamma_gamma_loglik_and_grad, gamma_gamma_per_customer_loglik
from winback.models.inputs import FloatArray
from winback.models.simulate import simulate_beta_geo, simulate_gamma_gamma


def _fd_grad(f, theta: FloatArray, h: float = 1e-6) -> FloatArray:  # type: ignore[no-untyped-def]
    out = np.empty_like(theta)
    for i in range(len(theta)):
        e = np.zeros_like(theta)
        e[i] = h
        out[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return out


def _histories(seed: int, shift: int) -> bgl.BetaGeoData:
    sim = simulate_beta_geo(3000, 0.7, 5.0, 0.9, 2.5, np.linspace(5, 60, 3000), modified=bool(shift), rng=seed)
    x, t, T, c = compress(sim.x, np.round(sim.t_x, 1), sim.T)
    return bgl.BetaGeoData.build(x, t, T, c.astype(float), shift)


@pytest.mark.parametrize("shift", [0, 1], ids=["bg_nbd", "mbg_nbd"])
@pytest.mark.parametrize("theta", [[-1.4, 1.5, -0.2, 0.9], [0.5, -1.0, 1.2, -0.5], [2.0, 3.0, -2.0, 2.0]])
def test_beta_geo_gradient_matches_finite_differences(shift: int, theta: list[float]) -> None:
    data = _histories(1, shift)
    th = np.array(theta)
    _, grad = bgl.loglik_and_grad(th, data)
    fd = _fd_grad(lambda z: bgl.loglik_and_grad(z, data)[0], th)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shift", [0, 1])
def test_compressed_total_equals_sum_of_per_customer_logliks(shift: int) -> None:
    sim = simulate_beta_geo(2000, 0.5, 4.0, 0.8, 2.0, 40.0, modified=bool(shift), rng=3)
    t_x = np.round(sim.t_x, 2)
    theta = np.log([0.5, 4.0, 0.8, 2.0])
    rowwise = bgl.per_customer_loglik(theta, sim.x, t_x, sim.T, shift).sum()
    x, t, T, c = compress(sim.x, t_x, sim.T)
    total, _ = bgl.loglik_and_grad(theta, bgl.BetaGeoData.build(x, t, T, c.astype(float), shift))
    assert total == pytest.approx(rowwise, rel=1e-12)


def test_block_size_does_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _histories(2, 0)
    theta = np.log([0.7, 5.0, 0.9, 2.5])
    ref = bgl.loglik_and_grad(theta, data)
    monkeypatch.setattr(bgl, "CHUNK", 7)
    small = bgl.loglik_and_grad(theta, data)
    assert small[0] == pytest.approx(ref[0], rel=1e-12)
    np.testing.assert_allclose(small[1], ref[1], rtol=1e-10)


@pytest.mark.parametrize("shift", [0, 1])
def test_subsample_keeps_the_share_of_customers(shift: int) -> None:
    data = _histories(4, shift)
    sub = data.subsample(0.25, seed=1)
    assert sub.n_customers == pytest.approx(0.25 * data.n_customers, rel=0.08)
    assert sub.counts_by_x.sum() == pytest.approx(sub.n_customers)
    assert sub.counts_by_T.sum() == pytest.approx(sub.n_customers)


def test_huge_counts_and_ages_stay_finite() -> None:
    x = np.array([0.0, 1.0, 5_000.0, 200_000.0, 3.0])
    t_x = np.array([0.0, 1e6, 9.9e6, 1e7, 1e-9])
    T = np.array([1e7, 1e7, 1e7, 1e7, 1e7])
    for shift in (0, 1):
        data = bgl.BetaGeoData.build(x, t_x, T, np.ones(5), shift)
        ll, grad = bgl.loglik_and_grad(np.log([0.3, 2.0, 0.7, 1.5]), data)
        assert np.isfinite(ll) and np.all(np.isfinite(grad))
        rows = bgl.per_customer_loglik(np.log([0.3, 2.0, 0.7, 1.5]), x, t_x, T, shift)
        assert np.all(np.isfinite(rows)) and rows.sum() == pytest.approx(ll, rel=1e-12)


@pytest.mark.parametrize("theta", [[1.8, 1.3, 2.7], [0.0, 0.5, 0.0], [-1.0, 2.0, 4.0]])
def test_gamma_gamma_gradient_matches_finite_differences(theta: list[float]) -> None:
    x = np.random.default_rng(5).integers(1, 30, 500).astype(float)
    m, _ = simulate_gamma_gamma(x, 6.0, 4.0, 15.0, rng=5)
    data = GammaGammaData.build(x, m, np.ones_like(x))
    th = np.array(theta)
    total, grad = gamma_gamma_loglik_and_grad(th, data)
    assert total == pytest.approx(gamma_gamma_per_customer_loglik(th, x, m).sum(), rel=1e-12)
    fd = _fd_grad(lambda z: gamma_gamma_loglik_and_grad(z, data)[0], th)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-4)


def test_large_data_takes_the_multilevel_path_and_reaches_the_plain_optimum(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subsample warm start + Newton refinement ends where plain L-BFGS-B on all rows ends, for any weights."""
    import winback.models.beta_geo as bg

    T = np.random.default_rng(60).integers(5, 200, 40_000).astype(float)
    sim = simulate_beta_geo(40_000, 0.6, 20.0, 0.8, 3.0, T, rng=61)
    x, t, T, c = compress(sim.x, np.round(sim.t_x), T)
    for weights in (c.astype(float), c * 1.37):
        plain = bg.BetaGeoFitter().fit(x, t, T, weights=weights)
        monkeypatch.setattr(bg, "WARM_START_ROWS", 300)  # forces a subsample level of ~2,500 customers
        monkeypatch.setattr(bg, "MIN_LEVEL_CUSTOMERS", 2_000)
        multi = bg.BetaGeoFitter().fit(x, t, T, weights=weights)
        monkeypatch.undo()
        assert plain.converged_ and multi.converged_
        assert multi.loglik_ == pytest.approx(plain.loglik_, abs=1e-3)
        for name, value in plain.params_.items():
            assert multi.params_[name] == pytest.approx(value, rel=1e-3)


def test_predictions_for_huge_histories_are_finite_and_plausible() -> None:
    from winback.models import BetaGeoFitter, ModifiedBetaGeoFitter

    x = np.array([0.0, 1.0, 5_000.0, 200_000.0])
    t_x = np.array([0.0, 1e6, 9.9e6, 1e7])
    T = np.full(4, 1e7)
    for cls in (BetaGeoFitter, ModifiedBetaGeoFitter):
        m = cls.from_dict({"model": cls.model_name, "params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}})
        for values in (
            m.p_alive(x, t_x, T),
            m.conditional_expected_purchases(1e5, x, t_x, T),
            m.p_no_purchase(1e5, x, t_x, T),
        ):
            assert np.all(np.isfinite(values))
        # 200,000 purchases up to the end of 1e7 time units: still alive, buying at ~0.02 per unit
        assert float(m.p_alive(x, t_x, T)[3]) > 0.999
        assert float(m.conditional_expected_purchases(1e5, x, t_x, T)[3]) == pytest.approx(2000, rel=0.01)
        assert np.isfinite(m.expected_purchases(1e9))
