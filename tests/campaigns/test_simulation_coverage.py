"""The report's 95 % interval for incremental revenue covers the simulated truth about 95 % of the time.

Runs on the pure layer (assignment + simulation + the same statistics the report uses): 200 replications of a
launch with a fresh campaign id (fresh random assignment) and fresh responses each time.
"""

from __future__ import annotations

import numpy as np
import pytest

from winback.campaigns.assign import CONTROL, arm_specs, assign
from winback.campaigns.scenarios import Offer
from winback.campaigns.stats import Summary, incremental_revenue, two_proportions
from winback.demo.simulate import Uplift, discounts, expected_discount, simulate

SEGMENTS = ["silent", "near_dormant", "hibernating", "lost"]


def _audience(n: int, rng: np.random.Generator) -> list[dict[str, object]]:
    return [
        {
            "member_id": f"M{i}",
            "segment": SEGMENTS[int(rng.integers(0, 4))],
            "store": f"S{int(rng.integers(0, 3))}",
            "aov": float(rng.gamma(3, 100)),
        }
        for i in range(n)
    ]


def test_coverage_of_incremental_revenue_is_close_to_95_percent() -> None:
    rng = np.random.default_rng(2026)
    members = _audience(2000, rng)
    offers = {"A": Offer("voucher", 50, 200), "B": Offer("discount", 20, 0)}
    spec = Uplift(uplift={"silent": 0.10, "near_dormant": 0.08, "hibernating": 0.05, "lost": 0.03})
    hits = {"A": 0, "B": 0}
    resp_hits = {"A": 0, "B": 0}
    reps = 200
    for r in range(reps):
        arms = assign(
            f"SIM{r}", [(m["member_id"], f"{m['store']}|{m['segment']}") for m in members], arm_specs(0.2, ["A", "B"])
        )
        ms = [{**m, "arm": arms[m["member_id"]]} for m in members]  # type: ignore[index]
        sim = simulate(ms, offers, spec, 14, rng)
        revenue = sim.gross
        arm = np.array([m["arm"] for m in ms])
        control = Summary.of(revenue[arm == CONTROL])
        for a in ("A", "B"):
            inc = incremental_revenue(Summary.of(revenue[arm == a]), control)
            assert inc.ci_low is not None and inc.ci_high is not None
            hits[a] += inc.ci_low <= sim.truth[a]["incremental_revenue"] <= inc.ci_high
            bought = sim.purchased
            n_a = int((arm == a).sum())
            z = two_proportions(
                int(bought[arm == a].sum()), n_a, int(bought[arm == CONTROL].sum()), int((arm == CONTROL).sum())
            ).scaled(float(n_a))
            resp_hits[a] += z.ci_low <= sim.truth[a]["incremental_responders"] <= z.ci_high  # type: ignore[operator]
    coverage = {a: h / reps for a, h in hits.items()}
    resp_coverage = {a: h / reps for a, h in resp_hits.items()}
    print(f"coverage over {reps} replications: revenue {coverage}, responders {resp_coverage}")
    for a in hits:
        assert 0.91 <= coverage[a] <= 0.99, coverage
        assert 0.91 <= resp_coverage[a] <= 0.99, resp_coverage


def test_expected_discount_matches_monte_carlo() -> None:
    rng = np.random.default_rng(5)
    mean = 250.0
    amounts = rng.gamma(2.0, mean / 2.0, size=400_000)
    for offer in (
        Offer("voucher", 50, 200),
        Offer("voucher", 300, 100),
        Offer("discount", 15, 100),
        Offer("gift_pack", 60, 0),
    ):
        mc = discounts(offer, amounts).mean()
        assert float(expected_discount(offer, mean)) == pytest.approx(mc, rel=0.02), offer
        few = amounts[:2000]
        assert discounts(offer, few).tolist() == [offer.discount_on(float(x)) for x in few]
