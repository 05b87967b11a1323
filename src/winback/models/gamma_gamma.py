"""Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value").

Each transaction value z ~ Gamma(p, ν) (shape p, rate ν); across customers ν ~ Gamma(q, v) (shape q, rate v).
For a customer with x transactions of mean value m̄ the density of m̄ is

    f(m̄ | p, q, v, x) = Γ(px+q) / (Γ(px) Γ(q)) · v^q · m̄^(px-1) · x^(px) / (v + x m̄)^(px+q)

and the expected value of their next transaction given (x, m̄) is

    E[Z | x, m̄] = p (v + x m̄) / (p x + q - 1)
               = (q-1)/(px+q-1) · p v/(q-1) + px/(px+q-1) · m̄      (a weighted mean of population and own mean).

Fit only on repeat buyers (x >= 1 repeat transactions, m̄ > 0 their mean value); spend must be roughly independent
of purchase frequency for the model to hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from winback.errors import ModelError
from winback.i18n import N_, _
from winback.models.base import Fitter
from winback.models.beta_geo_likelihood import CHUNK
from winback.models.compress import aggregate
from winback.models.inputs import FloatArray, as_float_array, check_enough, check_same_length, check_weights
from winback.models.optimise import check_identified, maximise, numeric_hessian, standard_errors


@dataclass(frozen=True)
class GammaGammaData:
    """(x, m̄) rows with counts, with everything that does not depend on the parameters computed once.

    Gamma functions of p·x + q depend on x only and are evaluated per distinct x; per row only ln(v + x m̄) and
    1/(v + x m̄) are needed at each evaluation.
    """

    n_customers: float
    ux: FloatArray
    counts_by_x: FloatArray
    ln_ux: FloatArray
    counts: FloatArray
    x: FloatArray
    xm: FloatArray  # x · m̄
    cx: FloatArray  # counts · x
    sum_ln_m: float  # Σ counts · ln m̄
    sum_x_ln_m: float  # Σ counts · x · ln m̄

    @classmethod
    def build(cls, x: FloatArray, m: FloatArray, counts: FloatArray) -> GammaGammaData:
        ux, inv_x = np.unique(x, return_inverse=True)
        counts_by_x = np.bincount(inv_x, weights=counts, minlength=len(ux))
        ln_m = np.log(m)
        return cls(
            float(counts.sum()), ux, counts_by_x, np.log(ux), counts, x, x * m, counts * x,
            float(counts @ ln_m), float((counts * x) @ ln_m),
        )  # fmt: skip


def gamma_gamma_loglik_and_grad(theta: FloatArray, data: GammaGammaData) -> tuple[float, FloatArray]:
    """Total log-likelihood at θ = ln(p, q, v) and its gradient with respect to θ."""
    p, q, v = np.exp(theta)
    pux = p * data.ux
    per_x = gammaln(pux + q) - gammaln(pux) + pux * data.ln_ux
    s_ln = s_xln = s_inv = s_xinv = 0.0
    for lo in range(0, len(data.xm), CHUNK):  # cache-sized blocks, as in the BG/NBD likelihood
        hi = lo + CHUNK
        vxm = data.xm[lo:hi] + v
        ln_vxm = np.log(vxm)
        inv_vxm = 1.0 / vxm
        c, cx = data.counts[lo:hi], data.cx[lo:hi]
        s_ln += float(c @ ln_vxm)
        s_xln += float(cx @ ln_vxm)
        s_inv += float(c @ inv_vxm)
        s_xinv += float(cx @ inv_vxm)
    n = data.n_customers
    ll = (
        float(data.counts_by_x @ per_x)
        + n * (q * np.log(v) - gammaln(q))
        + p * data.sum_x_ln_m
        - data.sum_ln_m
        - p * s_xln
        - q * s_ln
    )
    psi_x = digamma(pux + q)
    g_p = float((data.counts_by_x * data.ux) @ (psi_x - digamma(pux) + data.ln_ux)) + data.sum_x_ln_m - s_xln
    g_q = float(data.counts_by_x @ psi_x) + n * (np.log(v) - digamma(q)) - s_ln
    g_v = n * q / v - p * s_xinv - q * s_inv
    return float(ll), np.array([g_p * p, g_q * q, g_v * v])


def gamma_gamma_per_customer_loglik(theta: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    """Log density of each customer's mean value (uncompressed; the reference for tests and diagnostics)."""
    p, q, v = np.exp(theta)
    px = p * x
    return np.asarray(
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v)
        + (px - 1.0) * np.log(m) + px * np.log(x) - (px + q) * np.log(v + x * m),
        dtype=np.float64,
    )  # fmt: skip


class GammaGammaFitter(Fitter):
    """Gamma-Gamma spend model. Parameters p, q, v (v is γ in Fader & Hardie's note)."""

    model_name: ClassVar[str] = "gamma_gamma"
    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "v")

    def __init__(self, time_unit: str = "weeks", *, max_iter: int = 1000) -> None:
        super().__init__(time_unit, max_iter=max_iter)
        self._data: GammaGammaData | None = None

    def fit(self, frequency: ArrayLike, mean_value: ArrayLike, weights: ArrayLike | None = None) -> Self:
        """Fit on repeat buyers: `frequency` = number of repeat transactions (>= 1), `mean_value` = their mean (> 0)."""
        x = as_float_array("frequency", frequency)
        m = as_float_array("mean_value", mean_value)
        check_same_length(frequency=x, mean_value=m)
        w = check_weights(weights, len(x))
        bad_x = (x < 1) & (w > 0)
        if bad_x.any():
            i = int(np.flatnonzero(bad_x)[0])
            raise ModelError(
                _(
                    (
                        "the Gamma-Gamma model needs repeat buyers only; {sum} row(s) have frequency < "
                        "1, first at position {i}: {x}."
                    ),
                    sum=int(bad_x.sum()),
                    i=i,
                    x=x[i],
                ),
                hint=_("Select customers with frequency >= 1 before fitting."),
            )
        bad_m = (m <= 0) & (w > 0)
        if bad_m.any():
            i = int(np.flatnonzero(bad_m)[0])
            raise ModelError(
                _(
                    "mean_value must be positive; {sum} row(s) are not, first at position {i}: {m}.",
                    sum=int(bad_m.sum()),
                    i=i,
                    m=m[i],
                ),
                hint=_("Exclude customers whose refunds cancel their purchases."),
            )
        n = float(w.sum())
        check_enough(n, N_("repeat buyers"))
        keep = w > 0
        (ux, um), counts = aggregate((x[keep], m[keep]), w[keep])
        data = GammaGammaData.build(ux, um, counts)
        mean_m = float(counts @ um) / n
        theta0 = np.log(np.array([1.0, 2.0, mean_m]))

        def objective(th: FloatArray) -> tuple[float, FloatArray]:
            return gamma_gamma_loglik_and_grad(th, data)

        opt = maximise(objective, theta0, n, self.param_names, self.max_iter)
        opt = check_identified(opt, numeric_hessian(objective, opt.theta) / n, n, self.param_names)
        self._data = data
        self._store(opt, n, len(ux))
        return self

    def standard_errors(self) -> dict[str, float]:
        """Asymptotic standard errors of p, q, v from the observed information."""
        if self._data is None:
            raise ModelError(
                _("standard errors need the data of a fit in this session."), hint=_("Call fit(...) first.")
            )
        data = self._data
        theta = np.log(np.array(self._params()))
        return standard_errors(lambda th: gamma_gamma_loglik_and_grad(th, data), theta, self.param_names)

    def conditional_expected_value(self, frequency: ArrayLike, mean_value: ArrayLike) -> FloatArray:
        """Expected value of a customer's future transactions given x repeat transactions of mean m̄.

        With frequency 0 (no repeat transaction) this is the population mean p v / (q - 1).
        """
        p, q, v = self._params()
        x = np.asarray(frequency, dtype=np.float64)
        m = np.asarray(mean_value, dtype=np.float64)
        if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(~np.isfinite(m)):
            raise ModelError(_("frequency must be finite and >= 0 and mean_value finite for a prediction."))
        if q <= 1.0:
            raise ModelError(
                _("the fitted q = {q:.4g} <= 1, so the population mean spend is infinite.", q=q),
                hint=_("Spend is too heavy-tailed for this model; cap extreme transaction values and refit."),
            )
        m = np.where(x > 0, m, 0.0)
        return np.asarray(p * (v + x * m) / (p * x + q - 1.0), dtype=np.float64)

    def population_mean_value(self) -> float:
        """Mean spend per transaction across customers, p v / (q - 1) (infinite if q <= 1)."""
        p, q, v = self._params()
        return float(p * v / (q - 1.0)) if q > 1.0 else float("inf")
