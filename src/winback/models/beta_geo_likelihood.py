"""Log-likelihood and its analytic gradient for the BG/NBD family, on compressed data.

One customer with x repeat purchases, the last at t_x, observed for T (all from the first purchase):

    L = B(a, b+n)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))                   (alive at T)
      + δ · B(a+1, b+n-1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x))         (dropped out after the last purchase)

BG/NBD (Fader, Hardie & Lee 2005): n = x and δ = [x > 0] (drop-out happens only after a repeat purchase).
MBG/NBD (Batislam, Denizel & Filiztekin 2007): n = x + 1 and δ = 1 (a customer may drop out right after the first
purchase, so one-time buyers can be dead).

Using B(a+1, b+n-1) = B(a, b+n) · a / (b+n-1) the log-likelihood is

    ℓ = c(x) - (r+x) ln(α+T) + softplus(d),   d = ln(a/(b+n-1)) + (r+x) (ln(α+T) - ln(α+t_x))  (d = -∞ if δ = 0)
    c(x) = ln Γ(r+x) - ln Γ(r) + r ln α + ln B(a, b+n) - ln B(a, b)

which never overflows for large x or T. Everything that depends on x only is computed once per distinct x.
Parameters are optimised as θ = ln(r, α, a, b); the gradient is returned with respect to θ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.special import betaln, digamma, expit, gammaln

from winback.models.inputs import FloatArray

CHUNK = 8_192  # rows per block: 64 KB temporaries stay in cache and under malloc's mmap threshold (4x faster)


@dataclass(frozen=True)
class BetaGeoData:
    """Compressed histories prepared for fast repeated evaluation.

    Terms that depend on x only are summed per distinct x, terms in ln(α+T) per distinct T; only the drop-out
    term needs every row, and only rows that can have dropped out (x > 0 for BG/NBD) are kept for it.
    """

    shift: int  # 0 for BG/NBD, 1 for MBG/NBD
    n_customers: float
    ux: FloatArray  # distinct x (dense table)
    counts_by_x: FloatArray
    uT: FloatArray  # distinct T
    counts_by_T: FloatArray  # customers per T
    xcounts_by_T: FloatArray  # sum of x over customers per T
    ut: FloatArray  # distinct t_x
    # rows that can have dropped out
    counts: FloatArray
    x: FloatArray
    inv_x: NDArray[np.intp]
    inv_T: NDArray[np.intp]
    inv_t: NDArray[np.intp]

    @classmethod
    def build(cls, x: FloatArray, t_x: FloatArray, T: FloatArray, counts: FloatArray, shift: int) -> BetaGeoData:
        if not np.all(counts > 0):
            keep = counts > 0
            x, t_x, T, counts = x[keep], t_x[keep], T[keep], counts[keep]
        ux, inv_x = _index(x)
        uT, inv_T = _index(T)
        ut, inv_t = _index(t_x)
        return cls._assemble(shift, counts, x, ux, inv_x, uT, inv_T, ut, inv_t)

    @classmethod
    def _assemble(
        cls,
        shift: int,
        counts: FloatArray,
        x: FloatArray,
        ux: FloatArray,
        inv_x: NDArray[np.intp],
        uT: FloatArray,
        inv_T: NDArray[np.intp],
        ut: FloatArray,
        inv_t: NDArray[np.intp],
    ) -> BetaGeoData:
        counts_by_x = np.bincount(inv_x, weights=counts, minlength=len(ux))
        counts_by_T = np.bincount(inv_T, weights=counts, minlength=len(uT))
        xcounts_by_T = np.bincount(inv_T, weights=counts * x, minlength=len(uT))
        if shift == 0:
            rows = _rows_where(x > 0)
            counts, x, inv_x, inv_T, inv_t = (a[rows] for a in (counts, x, inv_x, inv_T, inv_t))
        return cls(
            shift, float(counts_by_x.sum()), ux, counts_by_x, uT, counts_by_T, xcounts_by_T, ut,
            counts, x, inv_x, inv_T, inv_t,
        )  # fmt: skip

    @property
    def n_rows(self) -> int:
        return len(self.counts)

    def subsample(self, fraction: float, seed: int = 0) -> BetaGeoData:
        """A random fraction of the customers (binomial thinning of the counts), for a cheap first fit."""
        rng = np.random.default_rng(seed)
        # customers who cannot have dropped out (x = 0 in BG/NBD) live only in the per-T counts
        zero_T = self.counts_by_T - np.bincount(self.inv_T, weights=self.counts, minlength=len(self.uT))
        sub = _thin(self.counts, fraction, rng)
        sub_zero = _thin(np.maximum(zero_T, 0.0), fraction, rng)
        keep = sub > 0
        counts, x, inv_x, inv_T, inv_t = sub[keep], self.x[keep], self.inv_x[keep], self.inv_T[keep], self.inv_t[keep]
        data = BetaGeoData._assemble(self.shift, counts, x, self.ux, inv_x, self.uT, inv_T, self.ut, inv_t)
        if sub_zero.any():  # add the thinned x = 0 customers back (ux[0] == 0 whenever such customers exist)
            counts_by_x = data.counts_by_x.copy()
            counts_by_x[0] += sub_zero.sum()
            data = replace(
                data,
                n_customers=data.n_customers + float(sub_zero.sum()),
                counts_by_x=counts_by_x,
                counts_by_T=data.counts_by_T + sub_zero,
            )
        return data


def _thin(counts: FloatArray, fraction: float, rng: np.random.Generator) -> FloatArray:
    """Keep each customer with probability `fraction` (binomial); non-integer weights keep or drop whole rows."""
    whole = np.round(counts)
    if np.allclose(counts, whole, rtol=0.0, atol=1e-9):
        return rng.binomial(whole.astype(np.int64), fraction).astype(np.float64)
    return np.asarray(counts * (rng.random(len(counts)) < fraction), dtype=np.float64)


def _rows_where(mask: NDArray[np.bool_]) -> slice | NDArray[np.intp]:
    """The rows where mask holds: a slice (no copy) when they are contiguous, as in sorted `compress` output."""
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return slice(0, 0)
    if idx[-1] - idx[0] + 1 == len(idx):
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


def _index(values: FloatArray) -> tuple[FloatArray, NDArray[np.intp]]:
    """Distinct values and the index of each value among them (direct for small whole numbers, else by sorting)."""
    if len(values) == 0:
        return np.zeros(1), np.zeros(0, dtype=np.intp)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo <= 200_000 and lo == np.floor(lo):
        idx = (values - lo).astype(np.intp)
        if np.array_equal(idx + lo, values):  # whole numbers: a dense table lo..hi (unused entries are cheap)
            return np.arange(lo, hi + 1.0), idx
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq, inv.astype(np.intp)


def loglik_and_grad(theta: FloatArray, data: BetaGeoData) -> tuple[float, FloatArray]:
    """Total log-likelihood at θ = ln(r, α, a, b) and its gradient with respect to θ."""
    r, alpha, a, b = np.exp(theta)
    ux = data.ux
    n_u = ux + data.shift
    has2_u = n_u > 0
    safe_n = np.where(has2_u, n_u, 1.0)

    # terms per distinct x and per distinct T
    c_u = gammaln(r + ux) - gammaln(r) + r * np.log(alpha) + betaln(a, b + n_u) - betaln(a, b)
    lc2_u = np.where(has2_u, np.log(a) - np.log(b + safe_n - 1.0), -np.inf)
    lT_u = np.log(alpha + data.uT)
    lt_u = np.log(alpha + data.ut)
    rT_u = 1.0 / (alpha + data.uT)
    rt_u = 1.0 / (alpha + data.ut)
    rx_by_T = r * data.counts_by_T + data.xcounts_by_T  # Σ (r + x) per T

    # the drop-out term, row by row in cache-sized blocks
    s_softplus = s_gap = s_alpha = 0.0
    w2_by_x = np.zeros(len(ux))
    for lo in range(0, data.n_rows, CHUNK):
        hi = lo + CHUNK
        iT, it, ix = data.inv_T[lo:hi], data.inv_t[lo:hi], data.inv_x[lo:hi]
        cw = data.counts[lo:hi]
        gap = lT_u[iT] - lt_u[it]  # ln(α+T) - ln(α+t_x) >= 0
        rx = data.x[lo:hi] + r
        d = lc2_u[ix] + rx * gap
        e = np.exp(-np.abs(d))
        q = 1.0 / (1.0 + e)
        softplus = np.maximum(d, 0.0) - np.log(q)
        cw2 = cw * np.where(d >= 0, q, e * q)  # customers × posterior P(dropped out)
        s_softplus += float(cw @ softplus)
        s_gap += float(cw2 @ gap)
        s_alpha += float((cw2 * rx) @ (rT_u[iT] - rt_u[it]))
        w2_by_x += np.bincount(ix, weights=cw2, minlength=len(ux))

    total = float(c_u @ data.counts_by_x - lT_u @ rx_by_T + s_softplus)

    psi_abn = digamma(a + b + n_u)
    psi_ab = digamma(a + b)
    g_r = (digamma(r + ux) - digamma(r) + np.log(alpha)) @ data.counts_by_x - lT_u @ data.counts_by_T + s_gap
    g_alpha = r / alpha * data.n_customers - rT_u @ rx_by_T + s_alpha
    g_a = (psi_ab - psi_abn) @ data.counts_by_x + w2_by_x.sum() / a
    g_b = (digamma(b + n_u) - psi_abn - digamma(b) + psi_ab) @ data.counts_by_x - (
        np.where(has2_u, 1.0 / (b + safe_n - 1.0), 0.0) @ w2_by_x
    )
    return total, np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])


def per_customer_loglik(theta: FloatArray, x: FloatArray, t_x: FloatArray, T: FloatArray, shift: int) -> FloatArray:
    """Log-likelihood of each history (uncompressed), for diagnostics and tests."""
    r, alpha, a, b = np.exp(theta)
    n = x + shift
    has2 = n > 0
    safe_n = np.where(has2, n, 1.0)
    c = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + n) - betaln(a, b)
    lT = np.log(alpha + T)
    d = np.where(has2, np.log(a) - np.log(b + safe_n - 1.0), -np.inf) + (r + x) * (lT - np.log(alpha + t_x))
    return np.asarray(c - (r + x) * lT + np.logaddexp(0.0, d), dtype=np.float64)


def p_dropout_given_history(
    params: tuple[float, float, float, float], x: FloatArray, t_x: FloatArray, T: FloatArray, shift: int
) -> FloatArray:
    """Posterior probability that a customer with this history has dropped out (1 - P(alive))."""
    r, alpha, a, b = params
    n = x + shift
    has2 = n > 0
    safe_n = np.where(has2, n, 1.0)
    d = np.where(has2, np.log(a) - np.log(b + safe_n - 1.0), -np.inf) + (r + x) * (
        np.log(alpha + T) - np.log(alpha + t_x)
    )
    return np.asarray(expit(d), dtype=np.float64)
