"""Input checks shared by the fitters: every bad input becomes a `ModelError` that says what, where and what to do."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from winback.errors import ModelError

FloatArray = NDArray[np.float64]

MIN_CUSTOMERS = 20


def as_float_array(name: str, values: ArrayLike) -> FloatArray:
    """Convert to a 1-D float64 array; reject non-numeric or non-finite values with a clear message."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"{name} must be numeric; got values of type {np.asarray(values).dtype}.",
            hint="Pass numbers (counts or durations), not text.",
        ) from exc
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ModelError(f"{name} must be one-dimensional; got shape {arr.shape}.", hint="Pass one value per customer.")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelError(
            f"{name} has {int(bad.sum())} non-finite value(s) (NaN or infinity), "
            f"first at position {first}: {arr[first]}.",
            hint="Drop or fill those customers before fitting.",
        )
    return arr


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def check_same_length(**arrays: FloatArray) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ModelError(
            f"inputs must have one value per customer; got lengths {lengths}.",
            hint="Pass arrays of equal length.",
        )
    return next(iter(lengths.values()))


def check_history(x: FloatArray, t_x: FloatArray, T: FloatArray) -> None:
    """Check (x, t_x, T) histories: x a non-negative integer count, 0 <= t_x <= T, t_x = 0 when x = 0."""
    check_same_length(x=x, t_x=t_x, T=T)
    for name, arr in (("x (repeat purchases)", x), ("t_x (recency)", t_x), ("T (age)", T)):
        neg = arr < 0
        if neg.any():
            i = _first(neg)
            raise ModelError(
                f"{name} must not be negative; {int(neg.sum())} value(s) are, first at position {i}: {arr[i]}.",
                hint="Times are measured from each customer's first purchase; counts exclude the first purchase.",
            )
    frac = x != np.round(x)
    if frac.any():
        i = _first(frac)
        raise ModelError(
            f"x (repeat purchases) must be whole numbers; position {i} has {x[i]}.",
            hint="x counts repeat purchase occasions (same-day purchases merged).",
        )
    late = t_x > T
    if late.any():
        i = _first(late)
        raise ModelError(
            f"t_x (time of last purchase) exceeds T (time observed) for {int(late.sum())} customer(s), "
            f"first at position {i}: t_x={t_x[i]}, T={T[i]}.",
            hint="Both are measured from the first purchase; T runs to the end of the calibration period.",
        )
    orphan = (x == 0) & (t_x != 0)
    if orphan.any():
        i = _first(orphan)
        raise ModelError(
            f"customers without repeat purchases (x=0) must have t_x=0; {int(orphan.sum())} do not, "
            f"first at position {i}: t_x={t_x[i]}.",
            hint="t_x is the time of the last repeat purchase, which is 0 when there is none.",
        )


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    """Weights default to 1; they must be finite, non-negative and one per row."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_float_array("weights", weights)
    if len(w) != n:
        raise ModelError(
            f"weights must have one value per row ({n}); got {len(w)}.", hint="Pass the counts from compress()."
        )
    if (w < 0).any():
        i = _first(w < 0)
        raise ModelError(f"weights must not be negative; position {i} has {w[i]}.", hint="Weights are customer counts.")
    return w


def check_enough(n_customers: float, what: str = "customers") -> None:
    if n_customers < MIN_CUSTOMERS:
        raise ModelError(
            f"too little data to fit: {n_customers:g} {what}, at least {MIN_CUSTOMERS} are needed.",
            hint="Widen the calibration period or the member selection.",
        )
