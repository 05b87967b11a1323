"""Customer lifetime value over a finite horizon from a purchase model and a spend model.

    CLV = margin · E[value per purchase] · Σ_{i=1..k} (E[Y(τ_i) | history] − E[Y(τ_{i−1}) | history]) / (1 + d)^i

with τ_i = min(i · step, horizon), k = ceil(horizon / step), τ_0 = 0, E[Y(τ) | history] the expected number of
purchases in the next τ (BG/NBD or MBG/NBD `conditional_expected_purchases`), E[value per purchase] typically
`GammaGammaFitter.conditional_expected_value` (or any per-customer spend estimate), `margin` the share of revenue
that is profit, and d the discount rate per step (purchases in step i are discounted as if paid at its end).
With d = 0 the sum telescopes to E[Y(horizon)], i.e. CLV = margin · value · expected purchases.
Times are in the purchase model's `time_unit`.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from winback.errors import ModelError
from winback.i18n import _
from winback.models.inputs import FloatArray


class PurchaseModel(Protocol):
    def conditional_expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> FloatArray: ...


def customer_lifetime_value(
    purchases: PurchaseModel,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    expected_value: ArrayLike,
    *,
    horizon: float,
    step: float,
    discount_rate: float = 0.0,
    margin: float = 1.0,
) -> FloatArray:
    """Discounted expected profit per customer over the next `horizon` (see the module docstring for the formula).

    Example: weeks as time unit, one year in monthly steps at 1 % a month and a 30 % margin:
    ``customer_lifetime_value(bg, x, t_x, T, gg.conditional_expected_value(x, m), horizon=52, step=52/12,
    discount_rate=0.01, margin=0.3)``.
    """
    for name, value in (("horizon", horizon), ("step", step)):
        if not (math.isfinite(value) and value > 0):
            raise ModelError(_("{name} must be a positive number of time units; got {value}.", name=name, value=value))
    if not (math.isfinite(discount_rate) and discount_rate > -1):
        raise ModelError(
            _(
                ("discount_rate must be greater than -1 (a rate per step, e.g. 0.01 for 1 %); got {discount_rate}."),
                discount_rate=discount_rate,
            )
        )
    if not math.isfinite(margin):
        raise ModelError(_("margin must be a finite share of revenue (e.g. 0.3); got {margin}.", margin=margin))
    value = np.asarray(expected_value, dtype=np.float64)
    if not np.all(np.isfinite(value)):
        raise ModelError(
            _("expected_value has non-finite entries."), hint=_("Fill missing spend with the population mean.")
        )
    k = math.ceil(horizon / step - 1e-12)
    total: FloatArray | None = None
    previous: FloatArray = np.zeros(1)
    for i in range(1, k + 1):
        tau = min(i * step, horizon)
        current = purchases.conditional_expected_purchases(tau, x, t_x, T)
        term = (current - previous) / (1.0 + discount_rate) ** i
        total = term if total is None else total + term
        previous = current
    assert total is not None
    return np.asarray(margin * value * total, dtype=np.float64)
