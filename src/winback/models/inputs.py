"""Input checks shared by the fitters: every bad input becomes a `ModelError` that says what, where and what to do."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from winback.errors import ModelError
from winback.i18n import N_, _

FloatArray = NDArray[np.float64]

MIN_CUSTOMERS = 20


def as_float_array(name: str, values: ArrayLike) -> FloatArray:
    """Convert to a 1-D float64 array; reject non-numeric or non-finite values with a clear message."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(
            _("{name} must be numeric; got values of type {dtype}.", name=name, dtype=np.asarray(values).dtype),
            hint=_("Pass numbers (counts or durations), not text."),
        ) from exc
    arr = np.atleast_1d(arr)
    if arr.ndim != 1:
        raise ModelError(
            _("{name} must be one-dimensional; got shape {shape}.", name=name, shape=arr.shape),
            hint=_("Pass one value per customer."),
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ModelError(
            _(
                ("{name} has {sum} non-finite value(s) (NaN or infinity), first at position {first}: {arr}."),
                name=name,
                sum=int(bad.sum()),
                first=first,
                arr=arr[first],
            ),
            hint=_("Drop or fill those customers before fitting."),
        )
    return arr


def _first(mask: NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0])


def check_same_length(**arrays: FloatArray) -> int:
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ModelError(
            _("inputs must have one value per customer; got lengths {lengths}.", lengths=lengths),
            hint=_("Pass arrays of equal length."),
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
                _(
                    "{name} must not be negative; {sum} value(s) are, first at position {i}: {arr}.",
                    name=name,
                    sum=int(neg.sum()),
                    i=i,
                    arr=arr[i],
                ),
                hint=_("Times are measured from each customer's first purchase; counts exclude the first purchase."),
            )
    frac = x != np.round(x)
    if frac.any():
        i = _first(frac)
        raise ModelError(
            _("x (repeat purchases) must be whole numbers; position {i} has {x}.", i=i, x=x[i]),
            hint=_("x counts repeat purchase occasions (same-day purchases merged)."),
        )
    late = t_x > T
    if late.any():
        i = _first(late)
        raise ModelError(
            _(
                (
                    "t_x (time of last purchase) exceeds T (time observed) for {sum} customer(s), "
                    "first at position {i}: t_x={t_x}, T={t}."
                ),
                sum=int(late.sum()),
                i=i,
                t_x=t_x[i],
                t=T[i],
            ),
            hint=_("Both are measured from the first purchase; T runs to the end of the calibration period."),
        )
    orphan = (x == 0) & (t_x != 0)
    if orphan.any():
        i = _first(orphan)
        raise ModelError(
            _(
                (
                    "customers without repeat purchases (x=0) must have t_x=0; {sum} do not, first "
                    "at position {i}: t_x={t_x}."
                ),
                sum=int(orphan.sum()),
                i=i,
                t_x=t_x[i],
            ),
            hint=_("t_x is the time of the last repeat purchase, which is 0 when there is none."),
        )


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray:
    """Weights default to 1; they must be finite, non-negative and one per row."""
    if weights is None:
        return np.ones(n, dtype=np.float64)
    w = as_float_array("weights", weights)
    if len(w) != n:
        raise ModelError(
            _("weights must have one value per row ({n}); got {n_w}.", n=n, n_w=len(w)),
            hint=_("Pass the counts from compress()."),
        )
    if (w < 0).any():
        i = _first(w < 0)
        raise ModelError(
            _("weights must not be negative; position {i} has {w}.", i=i, w=w[i]),
            hint=_("Weights are customer counts."),
        )
    return w


def check_enough(n_customers: float, what: str = N_("customers")) -> None:
    if n_customers < MIN_CUSTOMERS:
        raise ModelError(
            _(
                ("too little data to fit: {n_customers:g} {what}, at least {min_customers} are needed."),
                n_customers=n_customers,
                what=_(what),
                min_customers=MIN_CUSTOMERS,
            ),
            hint=_("Widen the calibration period or the member selection."),
        )
