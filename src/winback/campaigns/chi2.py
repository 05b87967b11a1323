"""Pearson's chi-square test of independence for a launch's balance tables, without scipy. Pure.

A launch only needs one p-value per balance table; importing scipy.stats for it cost a whole-process launch about
a second of CPU. `independence_p` equals scipy.stats.chi2_contingency(matrix).pvalue (Yates' correction when
there is one degree of freedom, as scipy applies it) to about 1e-12; tests/campaigns/test_chi2.py compares them.
The survival function of the chi-square distribution is the regularized upper incomplete gamma function
Q(df/2, x/2): a power series below a + 1, a continued fraction (modified Lentz) above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

_EPS = 1e-16
_TINY = 1e-300
_MAX_TERMS = 10_000


def _lower_series(a: float, x: float) -> float:
    """P(a, x) by its power series (converges fast for x < a + 1)."""
    term = total = 1.0 / a
    n = 0
    while abs(term) > abs(total) * _EPS and n < _MAX_TERMS:
        n += 1
        term *= x / (a + n)
        total += term
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (converges fast for x ≥ a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h * math.exp(-x + a * math.log(x) - math.lgamma(a))


def chi2_sf(x: float, df: int) -> float:
    """P(X ≥ x) for X chi-square distributed with `df` degrees of freedom."""
    if x <= 0:
        return 1.0
    a, half = df / 2.0, x / 2.0
    if half < a + 1.0:
        return max(0.0, 1.0 - _lower_series(a, half))
    return _upper_fraction(a, half)


def independence_p(matrix: Sequence[Sequence[int]]) -> float:
    """The p-value of Pearson's chi-square test that rows and columns are independent (every row and column sum
    must be positive); Yates' continuity correction for a 2 × 2 table."""
    rows = [float(sum(r)) for r in matrix]
    cols = [float(sum(c)) for c in zip(*matrix, strict=True)]
    total = sum(rows)
    dof = (len(rows) - 1) * (len(cols) - 1)
    if dof == 0:
        return 1.0
    stat = 0.0
    for i, r in enumerate(matrix):
        for j, observed in enumerate(r):
            expected = rows[i] * cols[j] / total
            diff = observed - expected
            if dof == 1:  # Yates: move each cell half a count towards its expectation (no further)
                diff = math.copysign(max(abs(diff) - 0.5, 0.0), diff)
            stat += diff * diff / expected
    return chi2_sf(stat, dof)
