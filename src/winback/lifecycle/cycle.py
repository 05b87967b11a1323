"""The personal purchase cycle: a credibility-weighted mean of the member's inter-purchase intervals (pure).

A member with n intervals (n = purchase_days - 1) spanning S days (first to last purchase day) has a raw mean
interval S / n, which is noisy for small n. The estimate shrinks it toward the cohort's prior cycle c0 (the median
mean interval of repeat buyers in the member's tier × home store; falling back to the tier, then to all repeat
buyers, then to a default when fewer than `min_cohort` repeat buyers are available):

    cycle = (S + k · c0) / (n + k) = w · (S / n) + (1 − w) · c0,    w = n / (n + k)

This is the Bühlmann credibility estimator with credibility constant k (= expected within-member variance of
intervals / variance of members' true cycles); k behaves like k pseudo-intervals of length c0. Members with one
purchase day get c0; never-purchased members get no cycle. Default k = 2.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CycleSettings:
    k: float = 2.0  # credibility constant: pseudo-intervals at the prior
    min_cohort: int = 30  # repeat buyers a cohort (tier × store, then tier) needs to supply its own prior
    default_days: float = 90.0  # prior when no member has bought twice

    def __post_init__(self) -> None:
        if not self.k > 0:
            raise ValueError(f"cycle shrinkage k must be > 0, got {self.k}")
        if self.min_cohort < 1:
            raise ValueError(f"min_cohort must be >= 1, got {self.min_cohort}")
        if not self.default_days > 0:
            raise ValueError(f"default cycle must be > 0 days, got {self.default_days}")

    def to_dict(self) -> dict[str, float]:
        return {"k": self.k, "min_cohort": self.min_cohort, "default_days": self.default_days}


def shrunk_cycle(purchase_days: int, span_days: float, prior_days: float, k: float) -> float | None:
    """Reference implementation of the SQL in `cycle_sql` (used by tests and `explain`)."""
    if purchase_days < 1:
        return None
    n = purchase_days - 1
    return (span_days + k * prior_days) / (n + k)


def cycle_weight(purchase_days: int, k: float) -> float | None:
    if purchase_days < 1:
        return None
    n = purchase_days - 1
    return n / (n + k)


def cycle_sql(purchase_days: str, span_days: str, prior: str, k: float) -> str:
    """SQL for `shrunk_cycle` over the named columns (NULL for never-purchased members)."""
    kk = float(k)
    return (
        f"CASE WHEN {purchase_days} >= 1 THEN (CAST({span_days} AS DOUBLE) + {kk!r} * {prior}) "
        f"/ (CAST({purchase_days} - 1 AS DOUBLE) + {kk!r}) END"
    )


def weight_sql(purchase_days: str, k: float) -> str:
    kk = float(k)
    return (
        f"CASE WHEN {purchase_days} >= 1 THEN CAST({purchase_days} - 1 AS DOUBLE) "
        f"/ (CAST({purchase_days} - 1 AS DOUBLE) + {kk!r}) END"
    )
