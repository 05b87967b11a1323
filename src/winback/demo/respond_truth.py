"""The demo's default response truth: the effect of a touch varies with the member, not only with the segment.
Pure (numpy).

`FeatureUplift` keeps the segment's baseline and uplift (demo/simulate.py) as the scale, and bends them by two
things the warehouse knows about every member at the snapshot:

- **loyalty** L = P(alive) (0.2 when unknown): a loyal member buys anyway — the baseline grows with L
  (x (0.3 + 1.7 L)) and the touch adds almost nothing (the uplift shrinks with (1 - L)^2): "sure things";
- **value** v = AOV / default AOV, within [0.2, 3]: a lapsed member with a high order value is moved a lot by a
  touch and rarely buys without one ("persuadables"); a lapsed low-value member is hardly moved ("lost causes").

    p_untreated = min(baseline(segment) x (0.3 + 1.7 L), 0.9)
    p_treated   = min(p_untreated + uplift(segment) x 2.5 x (1 - L)^2 x v x strength(offer), 0.95)

Everything else is `simulate.simulate`'s: reach, Gamma order amounts with the member's AOV as mean, coupon use,
the per-arm expected truth. Each member's own expected effect (if treated with the campaign's offer: a control
member with the first variant's) is returned too, so tests can rank by the oracle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from winback.campaigns.assign import CONTROL
from winback.campaigns.scenarios import Offer
from winback.demo.simulate import SHAPE, Simulation, Uplift, discounts, expected_discount, offer_strength

UNKNOWN_LOYALTY = 0.2
UPLIFT_SCALE = 2.5


@dataclass(frozen=True)
class FeatureUplift(Uplift):
    """Segment scale bent by loyalty (P(alive)) and value (AOV): the default truth of `winback demo respond`."""

    model: str = "features"

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "model": self.model,
            "effect": "p0 = baseline(segment) x (0.3 + 1.7 p_alive); "
            "p1 = p0 + uplift(segment) x 2.5 x (1 - p_alive)^2 x clip(aov / default_aov, 0.2, 3) x strength",
        }


def member_probabilities(
    members: Sequence[dict[str, Any]], offers: dict[str, Offer], spec: Uplift
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per member: P(buy | untouched), P(buy | reached by the offer), mean order amount, the offer arm used (a
    control member's is the first variant's)."""
    first = next(iter(offers))
    seg = [m.get("segment") or "unknown" for m in members]
    mean_amt = np.array([float(m["aov"]) if m.get("aov") and m["aov"] > 0 else spec.default_aov for m in members])
    offer_arm = np.array([m["arm"] if m["arm"] != CONTROL else first for m in members], dtype=object)
    strength = np.array([offer_strength(offers[a]) for a in offer_arm])
    base = np.array([spec.baseline.get(s, 0.02) for s in seg])
    up = np.array([spec.uplift.get(s, 0.0) for s in seg])
    if isinstance(spec, FeatureUplift):
        loyal = np.array([UNKNOWN_LOYALTY if m.get("p_alive") is None else float(m["p_alive"]) for m in members])
        loyal = np.clip(loyal, 0.0, 1.0)
        value = np.clip(mean_amt / spec.default_aov, 0.2, 3.0)
        base = np.minimum(base * (0.3 + 1.7 * loyal), 0.9)
        up = up * UPLIFT_SCALE * (1.0 - loyal) ** 2 * value
    p_treated = np.minimum(base + up * strength, 0.95)
    return base, p_treated, mean_amt, offer_arm


def simulate_members(
    members: Sequence[dict[str, Any]],
    offers: dict[str, Offer],
    spec: Uplift,
    window_days: int,
    rng: np.random.Generator,
) -> tuple[Simulation, dict[str, np.ndarray]]:
    """The draws (as simulate.simulate makes them, in the same order of random numbers) and each member's truth:
    p_untreated, p_treated, mean_amount, offer_arm, incremental_revenue and incremental_responders (expected, over
    reach and purchase, if the member is treated with `offer_arm`)."""
    n = len(members)
    arm = np.array([m["arm"] for m in members], dtype=object)
    base, p_treated, mean_amt, offer_arm = member_probabilities(members, offers, spec)
    treated = arm != CONTROL
    reached = treated & (rng.random(n) < spec.reach)
    purchased = rng.random(n) < np.where(reached, p_treated, base)
    gross = np.where(purchased, rng.gamma(SHAPE, mean_amt / SHAPE), 0.0)
    discount, exp_disc = np.zeros(n), np.zeros(n)
    for a in {str(x) for x in offer_arm}:
        mask = offer_arm == a
        exp_disc[mask] = expected_discount(offers[a], mean_amt[mask])
        used = mask & treated & purchased & reached
        discount[used] = discounts(offers[a], gross[used])
    day = rng.random(n) * window_days
    eff_resp = spec.reach * (p_treated - base)
    eff_rev = eff_resp * mean_amt
    exp_cost = spec.reach * p_treated * exp_disc
    truth: dict[str, dict[str, float]] = {}
    for a in sorted({str(x) for x in arm[treated]}):
        mask = arm == a
        truth[a] = {
            "members": int(mask.sum()),
            "incremental_revenue": float(eff_rev[mask].sum()),
            "incremental_responders": float(eff_resp[mask].sum()),
            "expected_discount_cost": float(exp_cost[mask].sum()),
        }
    per_member = {"p_untreated": base, "p_treated": p_treated, "mean_amount": mean_amt, "offer_arm": offer_arm,
                  "incremental_revenue": eff_rev, "incremental_responders": eff_resp}  # fmt: skip
    return Simulation(purchased, gross, discount, day, reached, truth), per_member
