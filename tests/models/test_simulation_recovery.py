"""Simulate from known parameters: the fitters recover them, and the closed-form predictions match the simulation.

Tolerances are 4 standard errors: the fit's own asymptotic standard errors for parameters, and the Monte-Carlo
standard error of a mean for predictions, so a correct implementation fails with probability well under 1e-3.
"""

from __future__ import annotations

import numpy as np
import pytest

from winback.models import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter
from winback.models.simulate import purchase_times, simulate_beta_geo, simulate_gamma_gamma, transaction_values

TRUE = {"r": 0.6, "alpha": 5.0, "a": 0.8, "b": 2.5}
FITTERS = {False: BetaGeoFitter, True: ModifiedBetaGeoFitter}


@pytest.mark.parametrize("modified", [False, True], ids=["bg_nbd", "mbg_nbd"])
def test_parameters_are_recovered_within_four_standard_errors(modified: bool) -> None:
    T = np.random.default_rng(10).uniform(20, 80, 30_000)
    sim = simulate_beta_geo(30_000, **TRUE, T=T, modified=modified, rng=11)
    model = FITTERS[modified]().fit(sim.x, sim.t_x, sim.T)
    assert model.converged_
    se = model.standard_errors()
    for name, value in TRUE.items():
        assert abs(model.params_[name] - value) < 4 * se[name], (name, model.params_[name], se[name])
        assert se[name] < 0.25 * value  # the data do pin the parameter down


def test_gamma_gamma_parameters_are_recovered_within_four_standard_errors() -> None:
    x = np.random.default_rng(12).integers(1, 15, 20_000).astype(float)
    mean_value, _ = simulate_gamma_gamma(x, 6.0, 4.0, 15.0, rng=13)
    gg = GammaGammaFitter().fit(x, mean_value)
    se = gg.standard_errors()
    for name, value in {"p": 6.0, "q": 4.0, "v": 15.0}.items():
        assert abs(gg.params_[name] - value) < 4 * se[name], (name, gg.params_[name], se[name])


def _split_at(sim_total, horizon: float, t_obs: float):  # type: ignore[no-untyped-def]
    """Histories observed to t_obs and purchases in (t_obs, t_obs + horizon] from one simulated path each."""
    idx, times = purchase_times(sim_total, rng=21)
    n = len(sim_total.x)
    early = times <= t_obs
    x = np.bincount(idx[early], minlength=n).astype(float)
    t_x = np.zeros(n)
    np.maximum.at(t_x, idx[early], times[early])
    future = np.bincount(idx[~early], minlength=n).astype(float)
    return x, t_x, future


@pytest.mark.parametrize("modified", [False, True], ids=["bg_nbd", "mbg_nbd"])
def test_predictions_match_simulated_futures(modified: bool) -> None:
    n, t_obs, horizon = 60_000, 30.0, 20.0
    sim = simulate_beta_geo(n, **TRUE, T=t_obs + horizon, modified=modified, rng=20)
    x, t_x, future = _split_at(sim, horizon, t_obs)
    T = np.full(n, t_obs)
    model = FITTERS[modified].from_dict({"model": FITTERS[modified].model_name, "params": TRUE})

    def close(pred: np.ndarray, outcome: np.ndarray) -> None:
        tol = 4 * outcome.std() / np.sqrt(len(outcome)) + 1e-12
        assert abs(pred.mean() - outcome.mean()) < tol, (pred.mean(), outcome.mean(), tol)

    # unconditional expectation over the first t_obs, and conditional expectations, overall and by history
    close(model.expected_purchases(np.array([t_obs])), x)
    pred = model.conditional_expected_purchases(horizon, x, t_x, T)
    quiet = model.p_no_purchase(horizon, x, t_x, T)
    for group in (x >= 0, x == 0, x == 1, x >= 3, (x > 0) & (t_x < 10)):
        close(pred[group], future[group])
        close(quiet[group], (future[group] == 0).astype(float))
    # P(alive) is calibrated against the true state at t_obs (a drop-out before t_obs shows no later purchase)
    alive_obs = simulate_beta_geo(n, **TRUE, T=t_obs, modified=modified, rng=22)
    p = model.p_alive(alive_obs.x, alive_obs.t_x, alive_obs.T)
    for group in (alive_obs.x >= 0, alive_obs.x == 0, alive_obs.x >= 2):
        close(p[group], alive_obs.alive[group].astype(float))


def test_purchase_times_are_consistent_with_histories() -> None:
    sim = simulate_beta_geo(5_000, **TRUE, T=40.0, rng=30)
    idx, times = purchase_times(sim, rng=31)
    n = len(sim.x)
    np.testing.assert_array_equal(np.bincount(idx, minlength=n), sim.x)
    last = np.zeros(n)
    np.maximum.at(last, idx, times)
    np.testing.assert_array_equal(last, sim.t_x)
    assert np.all(times > 0) and np.all(times <= 40.0)
    assert np.all(np.diff(idx) >= 0)


def test_mbg_one_time_buyers_can_be_dead_but_bg_ones_cannot() -> None:
    bg = simulate_beta_geo(20_000, **TRUE, T=30.0, rng=40)
    mbg = simulate_beta_geo(20_000, **TRUE, T=30.0, modified=True, rng=40)
    assert bg.alive[bg.x == 0].all()
    assert not mbg.alive[mbg.x == 0].all()


def test_gamma_gamma_expected_value_matches_next_simulated_transaction() -> None:
    x = np.random.default_rng(50).integers(1, 8, 80_000).astype(float)
    mean_value, nu = simulate_gamma_gamma(x, 6.0, 4.0, 15.0, rng=51)
    nxt = transaction_values(nu, 6.0, rng=52)
    gg = GammaGammaFitter.from_dict({"model": "gamma_gamma", "params": {"p": 6.0, "q": 4.0, "v": 15.0}})
    pred = gg.conditional_expected_value(x, mean_value)
    for group in (x >= 1, x == 1, x >= 5, mean_value > np.median(mean_value)):
        tol = 4 * nxt[group].std() / np.sqrt(group.sum())
        assert abs(pred[group].mean() - nxt[group].mean()) < tol
    assert gg.population_mean_value() == pytest.approx(6.0 * 15.0 / 3.0)
