"""Compress customer histories to unique rows with counts: the sufficient statistics the fitters need."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from winback.models.inputs import FloatArray, as_float_array, check_same_length


def _integer_key(columns: tuple[FloatArray, ...]) -> tuple[NDArray[np.int64], list[int]] | None:
    """Pack whole, non-negative columns into one int64 key (same order as lexicographic), if it fits."""
    spans: list[int] = []
    for c in columns:
        lo, hi = float(c.min()), float(c.max())
        if lo < 0 or hi > 2**40 or not np.array_equal(c, np.floor(c)):
            return None
        spans.append(int(hi) + 1)
    if float(np.prod([float(s) for s in spans])) >= 2.0**62:
        return None
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for c, span in zip(columns, spans, strict=True):
        key *= span
        key += c.astype(np.int64)
    return key, spans


def unique_rows(*columns: FloatArray) -> tuple[list[FloatArray], NDArray[np.int64]]:
    """Unique rows of equally long float columns (sorted lexicographically) and how often each occurs."""
    n = len(columns[0]) if columns else 0
    if n == 0:
        return [np.empty(0) for _ in columns], np.empty(0, dtype=np.int64)
    packed = _integer_key(columns)
    if packed is not None:  # whole numbers (e.g. days): one integer sort instead of a lexicographic one
        key, spans = packed
        ukey, counts = np.unique(key, return_counts=True)
        out: list[FloatArray] = []
        for span in reversed(spans):
            out.append((ukey % span).astype(np.float64))
            ukey = ukey // span
        return out[::-1], counts.astype(np.int64)
    order = np.lexsort(columns[::-1])
    sorted_cols = [c[order] for c in columns]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for c in sorted_cols:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, n)).astype(np.int64)
    return [c[starts] for c in sorted_cols], counts


def _strictly_increasing(columns: tuple[FloatArray, ...]) -> bool:
    """True if the rows are already sorted lexicographically without repeats (as `compress` returns them)."""
    if len(columns[0]) < 2:
        return True
    greater = np.zeros(len(columns[0]) - 1, dtype=bool)
    equal = np.ones(len(columns[0]) - 1, dtype=bool)
    for c in columns:
        greater |= equal & (c[1:] > c[:-1])
        equal &= c[1:] == c[:-1]
    return bool(greater.all())


def aggregate(columns: tuple[FloatArray, ...], weights: FloatArray) -> tuple[list[FloatArray], FloatArray]:
    """Merge rows that are equal in every column, summing their weights (a no-op on `compress` output)."""
    if _strictly_increasing(columns):
        return list(columns), weights
    order = np.lexsort(columns[::-1])
    cols = [c[order] for c in columns]
    change = np.zeros(len(order), dtype=bool)
    change[0] = True
    for c in cols:
        change[1:] |= c[1:] != c[:-1]
    starts = np.flatnonzero(change)
    return [c[starts] for c in cols], np.add.reduceat(weights[order], starts)


def compress(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, NDArray[np.int64]]:
    """Return the unique (x, t_x, T) triples and the number of customers with each.

    Fitting on the result with ``weights=counts`` gives exactly the same likelihood as fitting on the raw arrays.
    Round times first (e.g. to whole days) to make the compression effective.
    """
    xa, ta, Ta = as_float_array("x", x), as_float_array("t_x", t_x), as_float_array("T", T)
    check_same_length(x=xa, t_x=ta, T=Ta)
    (ux, ut, uT), counts = unique_rows(xa, ta, Ta)
    return ux, ut, uT, counts
