"""Pure statistics for campaign measurement: differences in rates and means with confidence intervals.

Conventions: "treated" (an arm) minus "control"; two-sided tests; `alpha` is the test level, the interval is
(1 − alpha). Where a quantity is undefined (an empty arm, zero variance in both arms) it is None, never NaN,
so results always serialise to JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats as sps


@dataclass(frozen=True)
class Difference:
    """A difference (treated − control) with its interval and test."""

    diff: float | None
    ci_low: float | None
    ci_high: float | None
    statistic: float | None
    p_value: float | None
    se: float | None
    df: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)

    def scaled(self, factor: float) -> Difference:
        """The same test for `factor` × the difference (e.g. per-member → total); statistic and p unchanged."""

        def s(v: float | None) -> float | None:
            return None if v is None else v * factor

        lo, hi = s(self.ci_low), s(self.ci_high)
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        se = None if self.se is None else self.se * abs(factor)
        return Difference(s(self.diff), lo, hi, self.statistic, self.p_value, se, self.df)


@dataclass(frozen=True)
class Summary:
    """Sufficient statistics of one arm for a numeric outcome."""

    n: int
    mean: float
    var: float  # sample variance (ddof=1); 0 when n < 2

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Summary:
        a = np.asarray(values, dtype=float)
        n = int(a.size)
        if n == 0:
            return cls(0, math.nan, 0.0)
        return cls(n, float(a.mean()), float(a.var(ddof=1)) if n > 1 else 0.0)


def _none_if_nan(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)


def welch(treated: Summary, control: Summary, alpha: float = 0.05) -> Difference:
    """Welch's unequal-variance t test and interval for mean(treated) − mean(control).

    df by Welch–Satterthwaite. Equals scipy.stats.ttest_ind(equal_var=False) on the raw samples.
    """
    if treated.n < 1 or control.n < 1:
        return Difference(None, None, None, None, None, None, None)
    diff = treated.mean - control.mean
    v1, v0 = treated.var / treated.n, control.var / control.n
    se = math.sqrt(v1 + v0)
    if se == 0.0 or treated.n < 2 or control.n < 2:
        return Difference(diff, None, None, None, None, _none_if_nan(se) if se else 0.0, None)
    # Welch–Satterthwaite df is scale-free: scale by the larger variance so tiny variances cannot underflow
    r1, r0 = v1 / max(v1, v0), v0 / max(v1, v0)
    df = (r1 + r0) ** 2 / (r1**2 / (treated.n - 1) + r0**2 / (control.n - 1))
    t = diff / se
    p = 2.0 * float(sps.t.sf(abs(t), df))
    q = float(sps.t.ppf(1.0 - alpha / 2.0, df))
    return Difference(diff, diff - q * se, diff + q * se, t, p, se, df)


def welch_samples(
    treated: Sequence[float] | np.ndarray, control: Sequence[float] | np.ndarray, alpha: float = 0.05
) -> Difference:
    return welch(Summary.of(treated), Summary.of(control), alpha)


def two_proportions(x1: int, n1: int, x0: int, n0: int, alpha: float = 0.05) -> Difference:
    """z test of p1 = p0 (pooled SE) with a Wald interval for p1 − p0 (unpooled SE)."""
    if n1 < 1 or n0 < 1:
        return Difference(None, None, None, None, None, None)
    p1, p0 = x1 / n1, x0 / n0
    diff = p1 - p0
    pooled = (x1 + x0) / (n1 + n0)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    z = float(sps.norm.ppf(1.0 - alpha / 2.0))
    if se_pooled == 0.0:
        return Difference(diff, diff - z * se, diff + z * se, None, None, se)
    stat = diff / se_pooled
    p = 2.0 * float(sps.norm.sf(abs(stat)))
    return Difference(diff, diff - z * se, diff + z * se, stat, p, se)


def mde_proportion(p0: float, n_treated: int, n_control: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest absolute lift in a response rate (from base rate p0) detectable with this power."""
    if n_treated < 1 or n_control < 1 or not 0.0 < p0 < 1.0:
        return None
    k = float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))
    return k * math.sqrt(p0 * (1 - p0) * (1 / n_treated + 1 / n_control))


def mde_mean(sd: float, n_treated: int, n_control: int, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """Smallest difference in a mean (outcome standard deviation `sd`) detectable with this power."""
    if n_treated < 1 or n_control < 1 or sd <= 0:
        return None
    k = float(sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power))
    return k * sd * math.sqrt(1 / n_treated + 1 / n_control)


def incremental_revenue(treated: Summary, control: Summary, alpha: float = 0.05) -> Difference:
    """(mean revenue per member, treated − control) × treated size, with its interval and Welch test."""
    return welch(treated, control, alpha).scaled(float(treated.n))


def incremental_roi(incremental: float | None, margin: float, cost: float) -> float | None:
    """(incremental revenue × margin − cost) / cost; None when there is no cost or no estimate."""
    if incremental is None or cost <= 0:
        return None
    return (incremental * margin - cost) / cost


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (step-down, monotone), None passed through."""
    idx = [i for i, p in enumerate(p_values) if p is not None]
    m = len(idx)
    order = sorted(idx, key=lambda i: p_values[i])  # type: ignore[arg-type, return-value]
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        p = p_values[i]
        assert p is not None
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
