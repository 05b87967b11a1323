"""Quintile breakpoints and 1–5 scores from value counts (pure).

The engine returns compact `(value, count)` pairs (a GROUP BY), so the breakpoints are exact, identical on every
engine, and cheap for 10M members. Breakpoint k (k = 1..4) is the smallest value v whose cumulative share reaches
k/5 (a discrete quantile). A value's score is 1 + the number of breakpoints it exceeds, so tied values always share
a score (a column where 60 % of members have 1 order gives them all f_score 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PROBS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)


def breakpoints(values: Sequence[float], counts: Sequence[int], probs: Sequence[float] = PROBS) -> list[float]:
    """Discrete quantiles of a distribution given as distinct values with counts. Empty input → []."""
    v = np.asarray(values, dtype=float)
    c = np.asarray(counts, dtype=np.int64)
    if v.size == 0 or c.sum() <= 0:
        return []
    order = np.argsort(v, kind="stable")
    v, c = v[order], c[order]
    cum = np.cumsum(c)
    total = int(cum[-1])
    out = []
    for p in probs:
        # smallest value whose cumulative count reaches p * total (integer arithmetic: no float edge cases)
        need = int(np.ceil(p * total - 1e-9))
        idx = int(np.searchsorted(cum, max(need, 1), side="left"))
        out.append(float(v[min(idx, v.size - 1)]))
    return out


def score(value: float, breaks: Sequence[float], *, higher_is_better: bool = True) -> int:
    """1–5 score of one value (reference implementation of `score_sql`)."""
    above = sum(1 for b in breaks if value > b)
    return 1 + above if higher_is_better else 5 - above


def score_sql(column_sql: str, breaks: Sequence[float], *, higher_is_better: bool = True) -> str:
    """SQL for the 1–5 score of `column_sql` against literal breakpoints (NULL stays NULL)."""
    if not breaks:
        return "CAST(NULL AS INTEGER)"
    # DOUBLE literals: a bare 78.0 is a DECIMAL in DuckDB, and comparing with it casts every row's value
    terms = " + ".join(f"CASE WHEN {column_sql} > CAST({float(b)!r} AS DOUBLE) THEN 1 ELSE 0 END" for b in breaks)
    base = f"1 + {terms}" if higher_is_better else f"5 - ({terms})"
    return f"CASE WHEN {column_sql} IS NULL THEN CAST(NULL AS INTEGER) ELSE CAST({base} AS INTEGER) END"
