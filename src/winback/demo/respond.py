"""`winback demo respond`: the demo brand's members answer a launched campaign, as real tills would record it.

Orders go into `orders`, coupons are redeemed through the same service a till uses, reached members' tasks are
marked done and touches sent, and the true expected effect is written to `campaign_truth` so tests (and
sceptical users) can check that the report's intervals cover it. The SQL is in demo/store_respond.py.

Time runs forward only: the whole window is drawn once (seeded), but only the responses up to the brand's now
(or an earlier `until`) are written; a later call (a later `WINBACK_NOW`, or the real clock moving on) writes the
next part of the same draws, with the seed and uplift stored by the first call, until the window is complete.
Nothing is ever stamped after now.
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
from winback.demo.respond_truth import FeatureUplift, simulate_members
from winback.demo.simulate import Simulation, Uplift
from winback.errors import InputError
from winback.i18n import _, t

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def parse_uplift(text: str | None) -> Uplift:
    """'' or 'features' → the default truth (the effect varies with loyalty and order value, respond_truth.py);
    '0.05' → that uplift for every segment; 'silent=0.08,lost=0.01' → those, defaults elsewhere (the effect then
    varies by segment and offer only)."""
    if not text or text.strip() == "features":
        return FeatureUplift()
    spec = Uplift()
    ups = dict(spec.uplift)
    try:
        if "=" not in text:
            ups = {k: float(text) for k in ups}
        else:
            for part in text.split(","):
                k, v = part.split("=")
                ups[k.strip()] = float(v)
    except ValueError:
        raise InputError(
            _("cannot read --uplift {text!r}", text=text), hint=_("Give features, 0.05 or silent=0.08,lost=0.01.")
        ) from None
    if any(not 0 <= v < 1 for v in ups.values()):
        raise InputError(
            _("uplifts must be probabilities in [0, 1): {ups}", ups=ups), hint=_("Give e.g. 0.05 or silent=0.08.")
        )
    return Uplift(uplift=ups, baseline=spec.baseline, reach=spec.reach, default_aov=spec.default_aov)


DEFAULT_SEED = 20261123


@dataclass(frozen=True)
class RespondResult(Result):
    campaign_id: str
    orders: int
    reached: int
    redeemed: int
    seed: int
    truth: dict[str, dict[str, float]]  # arm -> expected incremental revenue, responders, discount cost
    uplift: dict[str, Any]  # the Uplift used (Uplift.to_dict)
    simulated_until: dt.datetime  # responses are written up to here (never after the brand's now)
    window_complete: bool  # the whole response window is written


def _respondable(db: DuckDBEngine, campaign_id: str) -> Campaign:
    c = campaign_store.get_campaign(db, campaign_id)
    if c.status != "running":
        raise InputError(
            _("campaign {campaign_id} is {status}; only a running campaign can be answered", campaign_id=campaign_id,
              status=c.status),
            hint=_("Launch it first: winback campaign launch {campaign_id}.", campaign_id=campaign_id),
        )  # fmt: skip
    return c


def check_until(until: dt.datetime | None, now: dt.datetime, launched: dt.datetime, lang: str = "zh") -> dt.datetime:
    """The moment up to which responses are written: `until` (default now), never after now nor before launch."""
    until = now if until is None else until
    u, n, ln = f"{until:%Y-%m-%d %H:%M}", f"{now:%Y-%m-%d %H:%M}", f"{launched:%Y-%m-%d %H:%M}"
    if until > now:
        raise InputError(
            t("--until {until} is after the brand's now ({now}): the demo writes nothing in the future", lang,
              until=u, now=n),
            hint=t("Give an earlier --until, or move the demo's clock on with WINBACK_NOW=YYYY-MM-DD.", lang),
        )  # fmt: skip
    if until < launched:
        raise InputError(
            t("--until {until} is before the launch ({launched}): nothing to simulate", lang, until=u, launched=ln),
            hint=t("Give a moment after the launch.", lang),
        )
    return until


def until_of_date(day: dt.date | None, now: dt.datetime) -> dt.datetime | None:
    """`--until DATE`: the end of that day, or now when the day is today (None stays None: now)."""
    if day is None:
        return None
    end = dt.datetime.combine(day, dt.time(23, 59, 59))
    return now if day == now.date() else end


def uplift_of(d: dict[str, Any]) -> Uplift:
    """The Uplift a first call stored (Uplift.to_dict) back as an Uplift (a FeatureUplift when it was one)."""
    cls = FeatureUplift if d.get("model") == "features" else Uplift
    return cls(uplift=dict(d["uplift"]), baseline=dict(d["baseline"]), reach=float(d["reach"]),
               default_aov=float(d["default_aov"]))  # fmt: skip


def _continued(
    prev: store.SimulationRun | None, seed: int | None, uplift: Uplift | None, campaign_id: str, lang: str = "zh"
) -> tuple[int, Uplift]:
    """The seed and uplift of this call: the first call's when the campaign was simulated before (a different
    explicit seed or uplift is refused: the draws must stay the same), else the given ones or the defaults."""
    if prev is None:
        return (DEFAULT_SEED if seed is None else seed), (uplift or FeatureUplift())
    stored = uplift_of(prev.uplift)
    if (seed is not None and seed != prev.seed) or (uplift is not None and uplift.to_dict() != stored.to_dict()):
        raise InputError(
            t("campaign {campaign_id} was first simulated with seed {seed} and its uplift; a later call continues "
              "those same draws", lang, campaign_id=campaign_id, seed=prev.seed),
            hint=t("Leave out --seed and --uplift (or give the first ones) to continue it.", lang),
        )  # fmt: skip
    return prev.seed, stored


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
    """The coupons the simulated buyers use, as a till's batch (code, order, store, time), for `orders` (the
    part of the window being written). A member without a store has no till to redeem at."""
    order_of = {o["member_id"]: o for o in orders}
    return [
        {
            "code": codes[m["member_id"]],
            "order_id": order_of[m["member_id"]]["order_id"],
            "store_id": m["store_id"],
            "at": order_of[m["member_id"]]["ordered_at"],
        }
        for m in (members[i] for i in np.flatnonzero(sim.discount > 0))
        if m["arm"] != CONTROL and m["member_id"] in codes and m["member_id"] in order_of and m["store_id"]
    ]


def member_truth_rows(
    campaign_id: str, members: list[dict[str, Any]], per_member: dict[str, np.ndarray]
) -> dict[str, list[Any]]:
    """The columns of demo_member_truth for the simulated members (respond_truth.simulate_members' truth)."""
    cols = ("p_untreated", "p_treated", "mean_amount", "incremental_revenue", "incremental_responders")
    return {
        "campaign_id": [campaign_id] * len(members),
        "member_id": [m["member_id"] for m in members],
        "arm": [m["arm"] for m in members],
        "offer_arm": [str(a) for a in per_member["offer_arm"]],
        **{c: [float(v) for v in per_member[c]] for c in cols},
    }


def respond(
    db: DuckDBEngine,
    campaign_id: str,
    *,
    uplift: Uplift | None = None,
    seed: int | None = None,
    now: dt.datetime,
    until: dt.datetime | None = None,
    lang: str = "zh",
) -> RespondResult:
    """Simulate the members answering a running campaign and record it as the tills would, up to `until`
    (default: now); a later call continues the same simulation from where the last one stopped."""
    c = _respondable(db, campaign_id)
    assert c.launched_at is not None
    until = check_until(until, now, c.launched_at, lang)
    prev = store.simulation_run(db, campaign_id)
    seed, spec = _continued(prev, seed, uplift, campaign_id, lang)
    window_end = c.launched_at + dt.timedelta(days=int(c.window_days))
    if prev is not None and prev.until is not None and prev.until >= min(until, window_end):
        whole = prev.until >= window_end
        done = (
            t("campaign {campaign_id} was already simulated (its whole window)", lang, campaign_id=campaign_id)
            if whole
            else t("campaign {campaign_id} was already simulated (up to {until})", lang, campaign_id=campaign_id,
                   until=f"{prev.until:%Y-%m-%d %H:%M}")
        )  # fmt: skip
        raise InputError(
            done, hint=t("Create and launch a new campaign, or continue later (a later WINBACK_NOW or --until).", lang)
        )
    members = store.members_to_simulate(db, campaign_id, c.as_of)
    sim, per_member = simulate_members(members, c.offers(), spec, int(c.window_days), np.random.default_rng(seed))
    since = prev.until if prev is not None else None
    orders = [
        o
        for o in simulated_orders(campaign_id, members, sim, c.launched_at)
        if o["ordered_at"] <= until and (since is None or o["ordered_at"] > since)
    ]
    reached = [members[i]["member_id"] for i in np.flatnonzero(sim.reached)] if prev is None else []
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
        until=until,
        first=prev is None,
        member_truth=member_truth_rows(campaign_id, members, per_member) if prev is None else None,
    )
    items = till_redemptions(members, sim, orders, store.coupon_codes(db, campaign_id))
    result = redeem_batch(db, items, now=now, lang=lang)
    if result.refused:  # every simulated use meets the rules; a refusal is a bug worth seeing
        raise InputError(
            t("the till refused {n} simulated redemptions: {reasons}", lang, n=len(result.refused),
              reasons=dict(list(result.reasons.items())[:5])),
            hint=t("Report this as a bug.", lang),
        )  # fmt: skip
    n_reached = len(reached) if prev is None else int(sim.reached.sum())
    return RespondResult(
        campaign_id, len(orders), n_reached, result.redeemed, seed, sim.truth, spec.to_dict(), until,
        until >= window_end,
    )  # fmt: skip
