"""BG/NBD and MBG/NBD customer-base models: fit by maximum likelihood, predict purchases and P(alive).

Data per customer, all measured from the customer's first purchase in the chosen `time_unit`:
x = number of repeat purchases (same-day purchases merged), t_x = time of the last repeat purchase (0 if x = 0),
T = time observed (to the end of the calibration period).

Model: while alive a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop
out with probability p ~ Beta(a, b). BG/NBD (Fader, Hardie & Lee 2005) flips the drop-out coin after each repeat
purchase; MBG/NBD (Batislam et al. 2007) flips it after the first purchase too, so one-time buyers can be dead.

Predictions (n = x for BG/NBD, x + 1 for MBG/NBD; z = t / (α+T+t)):
    P(alive)             = 1 / (1 + δ · a/(b+n-1) · ((α+T)/(α+t_x))^(r+x))
    E[Y(t) | history]    = (a+b+n-1)/(a-1) · [1 - (1-z)^(a-1) · 2F1(a+b+n-1-r-x, a-1; a+b+n-1; z)] · P(alive)
    E[X(t)]              = E[Y(t) | x=0, t_x=0, T=0]
    P(no purchase in t)  = 1 - P(alive) + P(alive) · ((α+T)/(α+T+t))^(r+x)
The expectation is the usual (1-z)^(r+x) 2F1(r+x, b+n; a+b+n-1; z) form after Euler's transformation, which keeps
the hypergeometric arguments small for large x.
"""

from __future__ import annotations

import warnings
from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import betaln, hyp2f1

from winback.errors import ModelError
from winback.i18n import _
from winback.models.base import Fitter
from winback.models.beta_geo_likelihood import BetaGeoData, loglik_and_grad, p_dropout_given_history
from winback.models.compress import aggregate
from winback.models.inputs import FloatArray, as_float_array, check_enough, check_history, check_weights
from winback.models.optimise import (
    Optimum,
    check_identified,
    maximise,
    numeric_hessian,
    refine,
    standard_errors,
)

# Above this many distinct histories the fit starts on a 1/16 subsample of the customers (see _optimise).
WARM_START_ROWS = 100_000
# Subsample levels keep at least this many customers, so their optimum is a sound start.
MIN_LEVEL_CUSTOMERS = 20_000
# Within this distance of a = 1 the closed form loses precision; predictions interpolate across a = 1.
A_NEAR_ONE = 1e-4


def _history(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    for name, arr in (("x", xa), ("t_x", ta), ("T", Ta)):
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ModelError(
                _(
                    "{name} must be finite and non-negative for a prediction; got {ravel}...",
                    name=name,
                    ravel=arr.ravel()[:5],
                )
            )
    return xa, ta, Ta


def _horizon(t: ArrayLike) -> FloatArray:
    tt = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(tt)) or np.any(tt < 0):
        raise ModelError(_("the horizon t must be finite and non-negative; got {ravel}.", ravel=tt.ravel()[:5]))
    return tt


def _expected_if_alive_by_quadrature(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """E[purchases in t | alive] = ∫ (1 - (α/(α+pt))^r) / p · Beta(p; a, b) dp, with λ ~ Gamma(r, α) integrated out."""

    from scipy.integrate import IntegrationWarning, quad  # imported here: only this fallback needs it

    def integrand(p: float) -> float:
        if p == 0.0:
            return r * t / alpha
        return float(-np.expm1(-r * np.log1p(p * t / alpha)) / p)

    log_beta = float(betaln(a, b))
    with warnings.catch_warnings():  # a roundoff notice at 1e-10 still leaves ~1e-9 accuracy
        warnings.simplefilter("ignore", IntegrationWarning)
        if a < 1.0 or b < 1.0:  # an endpoint singularity of the Beta density: QAWS integrates it exactly
            value, _ = quad(
                integrand, 0.0, 1.0, weight="alg", wvar=(a - 1.0, b - 1.0), epsabs=0.0, epsrel=1e-10, limit=200
            )
            return float(value / np.exp(log_beta))

        # A bounded density: integrate it explicitly, split around its mass. (QAWS's moments lose ~1e-9 of accuracy
        # when an exponent is large, e.g. b + n - 1 in the hundreds for a frequent buyer, and E[Y(t)] then stops
        # rising with t.)
        def weighted(p: float) -> float:
            if p <= 0.0 or p >= 1.0:
                edge = a if p <= 0.0 else b
                return integrand(p) * float(np.exp(-log_beta)) if edge == 1.0 else 0.0
            return integrand(p) * float(np.exp((a - 1.0) * np.log(p) + (b - 1.0) * np.log1p(-p) - log_beta))

        mean, sd = a / (a + b), float(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1.0))))
        points = sorted({min(max(mean + k * sd, 1e-12), 1.0 - 1e-12) for k in (-3.0, -1.0, 0.0, 1.0, 3.0, 8.0)})
        value, _ = quad(weighted, 0.0, 1.0, points=points, epsabs=0.0, epsrel=1e-12, limit=500)
    return float(value)


def _expected_if_alive(
    tt: FloatArray, xa: FloatArray, Ta: FloatArray, n: FloatArray, r: float, alpha: float, a: float, b: float
) -> FloatArray:
    """E[purchases in (T, T+t] | history, alive at T] by the Euler-transformed closed form (see module docstring)."""
    c = a + b + n - 1.0
    z = tt / (alpha + Ta + tt)
    with np.errstate(invalid="ignore", over="ignore"):  # failures are caught below
        hyp = hyp2f1(c - r - xa, a - 1.0, c, z)
        if_alive = np.asarray(c / (a - 1.0) * (1.0 - np.exp((a - 1.0) * np.log1p(-z)) * hyp), dtype=np.float64)
    if np.all(np.isfinite(if_alive)):
        return if_alive
    # scipy's 2F1 fails for some parameters (c - a - b an integer with z near 1): integrate those instead
    args = [np.ravel(arg) for arg in np.broadcast_arrays(if_alive, tt, r + xa, alpha + Ta, b + n)]
    flat = args[0].copy()
    for i in np.flatnonzero(~np.isfinite(flat)):
        flat[i] = _expected_if_alive_by_quadrature(args[1][i], args[2][i], args[3][i], a, args[4][i])
    return flat.reshape(np.broadcast(if_alive, tt, xa, Ta).shape)


class _BetaGeoFamily(Fitter):
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    shift: ClassVar[int] = 0

    def __init__(self, time_unit: str = "weeks", *, max_iter: int = 1000) -> None:
        super().__init__(time_unit, max_iter=max_iter)
        self._data: BetaGeoData | None = None

    # ---------------------------------------------------------------- fitting
    def fit(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Fit by maximum likelihood. `weights` are customer counts per row (see `compress`)."""
        xa, ta, Ta = as_float_array("x", x), as_float_array("t_x", t_x), as_float_array("T", T)
        check_history(xa, ta, Ta)
        w = check_weights(weights, len(xa))
        n = float(w.sum())
        check_enough(n)
        if float(w[xa > 0].sum()) == 0:
            raise ModelError(
                _(
                    (
                        "no customer in the {n:g} given has a repeat purchase (all x = 0); purchase "
                        "rates cannot be fitted."
                    ),
                    n=n,
                ),
                hint=_("Use a longer calibration period or include customers with repeat purchases."),
            )
        if not np.all(w > 0):
            keep = w > 0
            xa, ta, Ta, w = xa[keep], ta[keep], Ta[keep], w[keep]
        (xa, ta, Ta), w = aggregate((xa, ta, Ta), w)
        data = BetaGeoData.build(xa, ta, Ta, w, self.shift)
        opt = self._optimise(data)
        self._data = data
        self._store(opt, n, len(xa))
        return self

    def _optimise(self, data: BetaGeoData) -> Optimum:
        """L-BFGS-B from a moment-based start; for large data, multilevel: fit a chain of 1/16 subsamples of the
        customers first, then refine on each larger level with Newton steps using the smallest level's Hessian
        (each costs one gradient evaluation). Any failed refinement falls back to L-BFGS-B on that level, and an
        untrustworthy subsample optimum (not converged or not identified) to plain L-BFGS-B on all the data."""
        names = self.param_names
        levels = [data]
        while levels[-1].n_rows > WARM_START_ROWS and levels[-1].n_customers / 16 >= MIN_LEVEL_CUSTOMERS:
            levels.append(levels[-1].subsample(1 / 16, seed=len(levels)))
        coarse = levels[-1]
        opt = maximise(
            lambda th: loglik_and_grad(th, coarse), self._start(coarse), coarse.n_customers, names, self.max_iter
        )
        hess = numeric_hessian(lambda th: loglik_and_grad(th, coarse), opt.theta) / coarse.n_customers
        opt = check_identified(opt, hess, coarse.n_customers, names)
        if len(levels) == 1:
            return opt
        if not opt.converged:  # the subsample gave no trustworthy start: plain L-BFGS-B on all the data
            start = self._start(data)
            full = maximise(lambda th: loglik_and_grad(th, data), start, data.n_customers, names, self.max_iter)
            hess = numeric_hessian(lambda th: loglik_and_grad(th, data), full.theta) / data.n_customers
            return check_identified(full, hess, data.n_customers, names)
        for level in reversed(levels[:-1]):

            def objective(th: FloatArray, lv: BetaGeoData = level) -> tuple[float, FloatArray]:
                return loglik_and_grad(th, lv)

            refined = refine(objective, opt.theta, hess, level.n_customers, names) if opt.converged else None
            opt = refined or maximise(objective, opt.theta, level.n_customers, names, self.max_iter)
        checked = check_identified(opt, hess, data.n_customers, names)
        if opt.converged and not checked.converged:  # the subsample's Hessian may be too rough: judge on all data
            full_hess = numeric_hessian(lambda th: loglik_and_grad(th, data), opt.theta) / data.n_customers
            checked = check_identified(opt, full_hess, data.n_customers, names)
        return checked

    @staticmethod
    def _start(data: BetaGeoData) -> FloatArray:
        """Starting point: r = 1 with α matching the mean purchase rate; a = 1, b = 3."""
        rate = float(data.xcounts_by_T.sum()) / max(float(data.uT @ data.counts_by_T), 1e-12)
        alpha = 1.0 / max(rate, 1e-8)
        return np.log(np.array([1.0, alpha, 1.0, 3.0]))

    def standard_errors(self) -> dict[str, float]:
        """Asymptotic standard errors of r, alpha, a, b from the observed information at the fitted optimum."""
        if self._data is None:
            raise ModelError(
                _("standard errors need the data of a fit in this session."), hint=_("Call fit(...) first.")
            )
        data = self._data
        theta = np.log(np.array(self._params()))
        return standard_errors(lambda th: loglik_and_grad(th, data), theta, self.param_names)

    # ------------------------------------------------------------ predictions
    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability that a customer with this history is still alive at T."""
        xa, ta, Ta = _history(x, t_x, T)
        params = self._params()
        return 1.0 - p_dropout_given_history(params, xa, ta, Ta, self.shift)  # type: ignore[arg-type]

    def conditional_expected_purchases(self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Expected number of purchases in (T, T+t] given the history (x, t_x, T): `expected_if_alive(t, x, T)`
        (which does not depend on t_x) times `p_alive(x, t_x, T)`."""
        xa, ta, Ta = _history(x, t_x, T)
        alive = self.p_alive(xa, ta, Ta)
        return np.asarray(self.expected_if_alive(t, xa, Ta) * alive, dtype=np.float64)

    def expected_if_alive(self, t: ArrayLike, x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Expected number of purchases in (T, T+t] of a customer alive at T with x repeat purchases (never
        negative). Independent of t_x, so it can be kept per (x, T) and multiplied by P(alive) later."""
        xa, _, Ta = _history(x, np.zeros_like(np.asarray(T, dtype=np.float64)), T)
        tt = _horizon(t)
        r, alpha, a, b = self._params()
        n = xa + self.shift
        if abs(a - 1.0) < A_NEAR_ONE:  # removable singularity of the closed form: interpolate across it
            lo = _expected_if_alive(tt, xa, Ta, n, r, alpha, 1.0 - A_NEAR_ONE, b)
            hi = _expected_if_alive(tt, xa, Ta, n, r, alpha, 1.0 + A_NEAR_ONE, b)
            w = (a - (1.0 - A_NEAR_ONE)) / (2 * A_NEAR_ONE)
            if_alive = (1.0 - w) * lo + w * hi
        else:
            if_alive = _expected_if_alive(tt, xa, Ta, n, r, alpha, a, b)
        return np.asarray(np.maximum(if_alive, 0.0), dtype=np.float64)  # max: roundoff at t ≈ 0

    def expected_purchases(self, t: ArrayLike) -> FloatArray:
        """Unconditional E[X(t)]: expected repeat purchases in the first t after a customer's first purchase."""
        zero = np.zeros_like(np.asarray(t, dtype=np.float64))
        return self.conditional_expected_purchases(t, zero, zero, zero)

    def p_no_purchase(self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> FloatArray:
        """Probability of no purchase in (T, T+t] given the history."""
        xa, ta, Ta = _history(x, t_x, T)
        tt = _horizon(t)
        r, alpha, _, _ = self._params()
        alive = self.p_alive(xa, ta, Ta)
        quiet_if_alive = np.exp((r + xa) * (np.log(alpha + Ta) - np.log(alpha + Ta + tt)))
        return np.asarray(1.0 - alive + alive * quiet_if_alive, dtype=np.float64)

    def probability_of_purchases(self, t: ArrayLike, k: ArrayLike) -> FloatArray:
        """Unconditional P(X(t) = k) for a new customer (k repeat purchases in the first t).

        P = B(a, b+k+s)/B(a,b) · NB(k) + δ · B(a+1, b+k+s-1)/B(a,b) · P(N(t) >= k), with s = 0 (BG) or 1 (MBG),
        NB the negative binomial pmf of the Poisson-gamma count N(t) and δ = 0 only for BG/NBD at k = 0.
        """
        from scipy.stats import nbinom  # imported here: scipy.stats costs ~0.25 s and only this method needs it

        tt = _horizon(t)
        kk = np.asarray(k, dtype=np.float64)
        r, alpha, a, b = self._params()
        n = kk + self.shift
        prob = alpha / (alpha + tt)
        alive = np.exp(betaln(a, b + n) - betaln(a, b) + nbinom.logpmf(kk, r, prob))
        has2 = n > 0
        safe_n = np.where(has2, n, 1.0)
        dead = np.where(
            has2, np.exp(betaln(a + 1.0, b + safe_n - 1.0) - betaln(a, b)) * nbinom.sf(kk - 1, r, prob), 0.0
        )
        return np.asarray(alive + dead, dtype=np.float64)


class BetaGeoFitter(_BetaGeoFamily):
    """BG/NBD (Fader, Hardie & Lee 2005). Parameters r, alpha (purchase rate), a, b (drop-out)."""

    model_name: ClassVar[str] = "bg_nbd"
    shift: ClassVar[int] = 0


class ModifiedBetaGeoFitter(_BetaGeoFamily):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): like BG/NBD, but customers may drop out right after their
    first purchase, so a one-time buyer is not assumed alive."""

    model_name: ClassVar[str] = "mbg_nbd"
    shift: ClassVar[int] = 1
