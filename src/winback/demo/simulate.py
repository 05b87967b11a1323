"""Simulated responses to a launched campaign with a known true effect. Pure (numpy).

Each member buys at most once in the window. Without the campaign they buy with the segment's baseline
probability; a treated member who is reached buys with baseline + uplift(segment) × strength(offer) (capped
below 1). Order amounts are Gamma(shape 2) with the member's own average order value as mean. A treated buyer
who was reached and whose order meets the threshold uses the coupon; the order amount is the order's value and
the discount is the coupon's cost (counted as cost in reports, not taken off revenue).

The truth is exact in expectation: for each treated member the expected revenue if treated minus if not,
summed over the arm; likewise responders. The expected discount (closed form under the Gamma amount) is
reported too, as the expected coupon cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from winback.campaigns.assign import CONTROL
from winback.campaigns.scenarios import Offer

SHAPE = 2.0
DEFAULT_UPLIFT = {
    "active": 0.04,
    "silent": 0.06,
    "near_dormant": 0.05,
    "hibernating": 0.035,
    "lost": 0.02,
    "never_purchased": 0.02,
}
DEFAULT_BASELINE = {
    "active": 0.22,
    "silent": 0.09,
    "near_dormant": 0.05,
    "hibernating": 0.025,
    "lost": 0.01,
    "never_purchased": 0.015,
}


def offer_strength(offer: Offer) -> float:
    """How strongly an offer moves a member relative to the segment uplift (a care call = 0.5)."""
    if offer.kind in ("voucher", "gift_pack", "points"):
        return 0.5 + min(offer.value, 100.0) / 100.0
    if offer.kind == "discount":
        return 0.5 + min(offer.value, 50.0) / 50.0
    return 0.5


def expected_discount(offer: Offer, mean_amount: float | np.ndarray) -> np.ndarray:
    """E[discount] for a Gamma(SHAPE, mean) amount: applied only when amount >= threshold (vectorised)."""
    mean = np.asarray(mean_amount, dtype=float)
    if offer.kind not in ("discount", "voucher", "gift_pack"):
        return np.zeros_like(mean)
    scale = np.where(mean > 0, mean, 1.0) / SHAPE
    t = max(offer.threshold, 0.0)
    if offer.kind == "discount":  # value % of the amount, on amounts >= t
        out = offer.value / 100.0 * mean * sps.gamma.sf(t, SHAPE + 1, scale=scale)
    elif offer.value <= t:  # voucher/gift pack: min(value, amount) on amounts >= t; here amount >= t >= value
        out = offer.value * sps.gamma.sf(t, SHAPE, scale=scale)
    else:  # amounts in [t, value) give their whole amount, amounts >= value give value
        part = mean * (sps.gamma.cdf(offer.value, SHAPE + 1, scale=scale) - sps.gamma.cdf(t, SHAPE + 1, scale=scale))
        out = part + offer.value * sps.gamma.sf(offer.value, SHAPE, scale=scale)
    return np.where(mean > 0, out, 0.0)


def discounts(offer: Offer, amounts: np.ndarray) -> np.ndarray:
    """Offer.discount_on for many amounts at once."""
    ok = amounts >= offer.threshold
    if offer.kind == "discount":
        return np.where(ok, np.round(amounts * offer.value / 100.0, 2), 0.0)
    if offer.kind in ("voucher", "gift_pack"):
        return np.where(ok, np.minimum(offer.value, amounts), 0.0)
    return np.zeros_like(amounts)


@dataclass(frozen=True)
class Uplift:
    """Baseline purchase probability and absolute uplift per segment; reach = share of treated actually reached."""

    uplift: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_UPLIFT))
    baseline: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_BASELINE))
    reach: float = 0.85
    default_aov: float = 300.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "uplift": self.uplift,
            "baseline": self.baseline,
            "reach": self.reach,
            "default_aov": self.default_aov,
            "amount": f"Gamma(shape {SHAPE}) with the member's AOV as mean",
            "strength": "offer_strength()",
        }


@dataclass(frozen=True)
class Simulation:
    purchased: np.ndarray  # bool per member
    gross: np.ndarray  # order amount before discount (0 when no purchase)
    discount: np.ndarray  # coupon discount applied (0 when none)
    day: np.ndarray  # day offset in the window (float)
    reached: np.ndarray  # bool: treated and reached by the guide/message
    truth: dict[str, dict[str, float]]  # arm -> expected incremental revenue and responders (totals)


def simulate(
    members: Sequence[dict[str, Any]],
    offers: dict[str, Offer],
    spec: Uplift,
    window_days: int,
    rng: np.random.Generator,
) -> Simulation:
    """members: dicts with arm, segment, aov. Returns draws and the exact expected truth per arm."""
    n = len(members)
    arm = np.array([m["arm"] for m in members], dtype=object)
    seg = [m.get("segment") or "unknown" for m in members]
    base = np.array([spec.baseline.get(s, 0.02) for s in seg])
    up = np.array([spec.uplift.get(s, 0.0) for s in seg])
    mean_amt = np.array([float(m["aov"]) if m.get("aov") and m["aov"] > 0 else spec.default_aov for m in members])
    treated = arm != CONTROL
    strength = np.array([offer_strength(offers[a]) if a != CONTROL else 0.0 for a in arm])
    p_treated = np.minimum(base + up * strength, 0.95)
    reached = treated & (rng.random(n) < spec.reach)
    p = np.where(reached, p_treated, base)
    purchased = rng.random(n) < p
    gross = np.where(purchased, rng.gamma(SHAPE, mean_amt / SHAPE), 0.0)
    discount = np.zeros(n)
    exp_disc = np.zeros(n)
    for a in {str(x) for x in arm[treated]}:
        mask = arm == a
        exp_disc[mask] = expected_discount(offers[a], mean_amt[mask])
        used = mask & purchased & reached
        discount[used] = discounts(offers[a], gross[used])
    day = rng.random(n) * window_days
    truth: dict[str, dict[str, float]] = {}
    # expectation over reach and purchase: E[rev | treated] − E[rev | not]
    eff_rev = spec.reach * (p_treated - base) * mean_amt
    exp_cost = spec.reach * p_treated * exp_disc
    eff_resp = spec.reach * (p_treated - base)
    for a in sorted({str(x) for x in arm[treated]}):
        mask = arm == a
        truth[a] = {
            "members": int(mask.sum()),
            "incremental_revenue": float(eff_rev[mask].sum()),
            "incremental_responders": float(eff_resp[mask].sum()),
            "expected_discount_cost": float(exp_cost[mask].sum()),
        }
    return Simulation(purchased, gross, discount, day, reached, truth)
