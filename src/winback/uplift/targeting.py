"""Whom a targeted campaign keeps: the members whose expected incremental margin pays for the touch. Pure (numpy).

For each audience member the uplift model gives the expected incremental revenue of a touch and the expected
revenue without one. The touch costs the contact plus the coupon's discount on the member's order value, paid
whenever the member buys (treated buyers redeem, whether the touch moved them or not):

    net = incremental revenue x margin - cost per contact - discount(AOV) x P(buy | touched)

Members are ranked by `net`. The capacity is `--top K` members, or `--budget`: a share of the audience ("30%")
or money ("5000": the expected cost of the kept members' touches). A random exploration slice of the capacity
(default 10 %) is drawn from the members not chosen, so the next model still sees every kind of member; the
campaign's own holdout is drawn at launch from everyone kept. Dropped members are "would buy anyway" (net <= 0
and an expected revenue without a touch at or above the audience's median), "will not respond" (net <= 0, below
that median) or "over budget" (net > 0, outside the capacity).

Without a model (no finished campaign to learn from) the members are ranked by value at stake
(lifecycle/waking.py) and nobody is dropped for the model's reasons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from winback.errors import InputError
from winback.i18n import _

DEFAULT_EXPLORE = 0.1


@dataclass(frozen=True)
class Capacity:
    share: float | None = None  # of the audience
    money: float | None = None  # expected cost of the kept members' touches
    top: int | None = None


def parse_target(text: str) -> str | None:
    """'uplift' → None (the latest model); 'uplift:U0003' → 'U0003'."""
    method, _sep, model = text.strip().partition(":")
    if method != "uplift":
        raise InputError(
            _("unknown targeting {text!r}", text=text),
            hint=_("Use --target uplift (the latest model) or --target uplift:MODEL (e.g. uplift:U0001)."),
        )
    return model.strip() or None


def parse_capacity(budget: str | None, top: int | None) -> Capacity:
    """--budget 30% | 0.3 (share of the audience) | 5000 (money), or --top K; not both."""
    if budget is not None and top is not None:
        raise InputError(_("give --budget or --top, not both"), hint=_("--budget 30% keeps 30 % of the audience."))
    if top is not None:
        if top < 1:
            raise InputError(_("--top must be at least 1, got {top}", top=top), hint=_("Give a number of members."))
        return Capacity(top=top)
    if budget is None:
        return Capacity()
    text = budget.strip()
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise InputError(
            _("cannot read --budget {text!r}", text=budget),
            hint=_("Give a share of the audience (30% or 0.3) or an amount of money (5000)."),
        ) from None
    if text.endswith("%"):
        value /= 100.0
    if value <= 0:
        raise InputError(_("--budget must be positive, got {text!r}", text=budget), hint=_("Give e.g. 30%."))
    return Capacity(share=value) if value <= 1.0 else Capacity(money=value)


def _capacity_count(cap: Capacity, order: np.ndarray, cost: np.ndarray, n: int) -> int | None:
    if cap.top is not None:
        return min(cap.top, n)
    if cap.share is not None:
        return round(cap.share * n)
    if cap.money is not None:
        return int(np.searchsorted(np.cumsum(cost[order]), cap.money, side="right"))
    return None


def decide(
    net: np.ndarray,
    baseline: np.ndarray,
    cost: np.ndarray,
    cap: Capacity,
    *,
    explore: float = DEFAULT_EXPLORE,
    seed: int = 0,
    fallback: bool = False,
) -> np.ndarray:
    """The decision of every member (uplift/types.DECISIONS), in input order."""
    n = len(net)
    order = np.argsort(-np.nan_to_num(net, nan=-np.inf), kind="stable")
    eligible = np.ones(n, dtype=bool) if fallback else np.asarray(net > 0)
    slots = _capacity_count(cap, order, cost, n)
    ranked_ok = order[eligible[order]]
    if slots is None:
        n_target, n_explore = len(ranked_ok), round(explore * len(ranked_ok))
    else:
        n_explore = round(explore * slots)
        n_target = min(len(ranked_ok), slots - n_explore)
    out = np.empty(n, dtype=object)
    median = float(np.nanmedian(baseline)) if n else 0.0
    out[:] = np.where(baseline >= median, "sure_thing", "no_response")
    out[eligible] = "over_budget"
    out[ranked_ok[:n_target]] = "target"
    rest = np.flatnonzero(out != "target")
    if n_explore and len(rest):
        pick = np.random.default_rng(seed).choice(rest, size=min(n_explore, len(rest)), replace=False)
        out[pick] = "explore"
    return out
