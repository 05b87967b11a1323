"""`winback demo respond`: the demo brand's members answer a launched campaign, as real tills would record it.

Orders go into `orders`, coupons are redeemed through the same service a till uses, reached members' tasks are
marked done and touches sent, and the true expected effect is written to `campaign_truth` so tests (and
sceptical users) can check that the report's intervals cover it.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from winback.campaigns.assign import CONTROL
from winback.campaigns.redeem import redeem_batch
from winback.campaigns.rows import dict_rows
from winback.campaigns.service import get_campaign, variant_offers
from winback.campaigns.simulate import Uplift, simulate
from winback.clock import brand_now
from winback.errors import InputError
from winback.warehouse.registered import registered
from winback.warehouse.transaction import transaction


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


def respond(
    con: duckdb.DuckDBPyConnection, campaign_id: str, *, uplift: Uplift | None = None, seed: int = 20261123
) -> dict[str, Any]:
    c = get_campaign(con, campaign_id)
    if c["status"] != "running":
        raise InputError(
            f"campaign {campaign_id} is {c['status']}; only a running campaign can be answered",
            hint=f"Launch it first: winback campaign launch {campaign_id}.",
        )
    if con.execute("SELECT count(*) FROM campaign_truth WHERE campaign_id = ?", [campaign_id]).fetchone()[0]:  # type: ignore[index]
        raise InputError(f"campaign {campaign_id} was already simulated", hint="Create and launch a new campaign.")
    spec = uplift or Uplift()
    members = dict_rows(
        con,
        "SELECT cm.member_id, cm.arm, cm.segment, cm.store_id, cm.guide_id, s.aov FROM campaign_members cm "
        "LEFT JOIN member_snapshot s ON s.member_id = cm.member_id AND s.as_of = ? "
        "WHERE cm.campaign_id = ? ORDER BY cm.member_id",
        [c["as_of"], campaign_id],
    )
    offers = variant_offers(c)
    sim = simulate(members, offers, spec, int(c["window_days"]), np.random.default_rng(seed))
    launched: dt.datetime = c["launched_at"]
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
    reached = [members[i]["member_id"] for i in np.flatnonzero(sim.reached)]
    with transaction(con):
        if orders:
            with registered(con, "_sim_orders", pa.Table.from_pylist(orders)):
                con.execute(
                    "INSERT INTO orders (order_id, member_id, source_member_id, store_id, guide_id, channel, "
                    " ordered_at, amount, quantity, status) SELECT order_id, member_id, source_member_id, "
                    " store_id, guide_id, channel, ordered_at, amount, quantity, status FROM _sim_orders"
                )
        if reached:
            with registered(con, "_reached", pa.table({"member_id": reached})):
                con.execute(
                    "UPDATE tasks SET status = 'done', outcome = 'invited', completed_at = ? "
                    "WHERE campaign_id = ? AND member_id IN (SELECT member_id FROM _reached)",
                    [launched, campaign_id],
                )
                con.execute(
                    "UPDATE touches SET status = 'sent', sent_at = ? "
                    "WHERE campaign_id = ? AND member_id IN (SELECT member_id FROM _reached)",
                    [launched, campaign_id],
                )
        con.execute(
            "INSERT INTO campaign_truth VALUES (?, ?, ?, ?, ?)",
            [
                campaign_id,
                brand_now(),
                seed,
                json.dumps(spec.to_dict()),
                json.dumps(sim.truth),
            ],
        )
    codes = dict(con.execute("SELECT member_id, code FROM coupons WHERE campaign_id = ?", [campaign_id]).fetchall())
    order_of = {o["member_id"]: o for o in orders}
    tills = [
        {
            "code": codes[m["member_id"]],
            "order_id": order_of[m["member_id"]]["order_id"],
            "store_id": m["store_id"],
            "at": order_of[m["member_id"]]["ordered_at"],
        }
        for m in (members[i] for i in np.flatnonzero(sim.discount > 0))
        if m["arm"] != CONTROL and m["member_id"] in codes
    ]
    result = redeem_batch(con, tills)
    redeemed = result["redeemed"]
    if result["refused"]:  # every simulated use meets the rules; a refusal is a bug worth seeing
        raise InputError(f"the till refused {len(result['refused'])} simulated redemptions: {result['refused'][:5]}")
    return {
        "campaign_id": campaign_id,
        "orders": len(orders),
        "reached": len(reached),
        "redeemed": redeemed,
        "seed": seed,
        "truth": sim.truth,
        "uplift": spec.to_dict(),
    }
