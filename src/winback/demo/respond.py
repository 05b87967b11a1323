"""`winback demo respond`: the demo brand's members answer a launched campaign, as real tills would record it.

Orders go into `orders`, coupons are redeemed through the same service a till uses, reached members' tasks are
marked done and touches sent, and the true expected effect is written to `campaign_truth` so tests (and
sceptical users) can check that the report's intervals cover it. The SQL is in demo/store_respond.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from winback.campaigns import store as campaign_store
from winback.campaigns.assign import CONTROL
from winback.campaigns.coupon_service import redeem_batch
from winback.campaigns.types import Campaign
from winback.common.results import Result
from winback.demo import store_respond as store
from winback.demo.simulate import Simulation, Uplift, simulate
from winback.errors import InputError

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def parse_uplift(text: str | None) -> Uplift:
    """'' → defaults; '0.05' → that uplift for every segment; 'silent=0.08,lost=0.01' → those, defaults elsewhere."""
    spec = Uplift()
    if not text:
        return spec
    ups = dict(spec.uplift)
    try:
        if "=" not in text:
            ups = {k: float(text) for k in ups}
        else:
            for part in text.split(","):
                k, v = part.split("=")
                ups[k.strip()] = float(v)
    except ValueError:
        raise InputError(f"cannot read --uplift {text!r}", hint="Give 0.05 or silent=0.08,lost=0.01.") from None
    if any(not 0 <= v < 1 for v in ups.values()):
        raise InputError(f"uplifts must be probabilities in [0, 1): {ups}")
    return Uplift(uplift=ups, baseline=spec.baseline, reach=spec.reach, default_aov=spec.default_aov)


@dataclass(frozen=True)
class RespondResult(Result):
    campaign_id: str
    orders: int
    reached: int
    redeemed: int
    seed: int
    truth: dict[str, dict[str, float]]  # arm -> expected incremental revenue, responders, discount cost
    uplift: dict[str, Any]  # the Uplift used (Uplift.to_dict)


def _respondable(db: DuckDBEngine, campaign_id: str) -> Campaign:
    c = campaign_store.get_campaign(db, campaign_id)
    if c.status != "running":
        raise InputError(
            f"campaign {campaign_id} is {c.status}; only a running campaign can be answered",
            hint=f"Launch it first: winback campaign launch {campaign_id}.",
        )
    if store.simulated_before(db, campaign_id):
        raise InputError(f"campaign {campaign_id} was already simulated", hint="Create and launch a new campaign.")
    return c


def simulated_orders(
    campaign_id: str, members: list[dict[str, Any]], sim: Simulation, launched: dt.datetime
) -> list[dict[str, Any]]:
    """One paid offline order per simulated buyer, at the simulated day of the window."""
    orders = []
    for i in np.flatnonzero(sim.purchased):
        m = members[i]
        at = launched + dt.timedelta(days=float(sim.day[i]))
        orders.append(
            {
                "order_id": f"SIM-{campaign_id}-{m['member_id']}",
                "member_id": m["member_id"],
                "source_member_id": m["member_id"],
                "store_id": m["store_id"],
                "guide_id": m["guide_id"],
                "channel": "offline",
                "ordered_at": at.replace(microsecond=0),
                "amount": round(float(sim.gross[i]), 2),
                "quantity": 1,
                "status": "paid",
            }
        )
    return orders


def till_redemptions(
    members: list[dict[str, Any]], sim: Simulation, orders: list[dict[str, Any]], codes: dict[str, str]
) -> list[dict[str, Any]]:
    """The coupons the simulated buyers use, as a till's batch (code, order, store, time)."""
    order_of = {o["member_id"]: o for o in orders}
    return [
        {
            "code": codes[m["member_id"]],
            "order_id": order_of[m["member_id"]]["order_id"],
            "store_id": m["store_id"],
            "at": order_of[m["member_id"]]["ordered_at"],
        }
        for m in (members[i] for i in np.flatnonzero(sim.discount > 0))
        if m["arm"] != CONTROL and m["member_id"] in codes
    ]


def respond(
    db: DuckDBEngine,
    campaign_id: str,
    *,
    uplift: Uplift | None = None,
    seed: int = 20261123,
    now: dt.datetime,
) -> RespondResult:
    """Simulate the members answering a running campaign and record it as the tills would."""
    c = _respondable(db, campaign_id)
    spec = uplift or Uplift()
    members = store.members_to_simulate(db, campaign_id, c.as_of)
    sim = simulate(members, c.offers(), spec, int(c.window_days), np.random.default_rng(seed))
    assert c.launched_at is not None
    orders = simulated_orders(campaign_id, members, sim, c.launched_at)
    reached = [members[i]["member_id"] for i in np.flatnonzero(sim.reached)]
    store.write_responses(
        db,
        campaign_id=campaign_id,
        orders=orders,
        reached=reached,
        launched=c.launched_at,
        now=now,
        seed=seed,
        uplift=spec.to_dict(),
        truth=sim.truth,
    )
    result = redeem_batch(db, till_redemptions(members, sim, orders, store.coupon_codes(db, campaign_id)))
    if result.refused:  # every simulated use meets the rules; a refusal is a bug worth seeing
        raise InputError(f"the till refused {len(result.refused)} simulated redemptions: {result.refused[:5]}")
    return RespondResult(campaign_id, len(orders), len(reached), result.redeemed, seed, sim.truth, spec.to_dict())
