"""Redeeming a coupon at the till (核销): one rule function for one code and for a batch, each refusal saying why.
Pure.

`refusal(attempt, coupon, order, used_on_order, store_known)` is THE rule: the till's single redemption
(coupon_service.redeem_code) raises what it returns, a batch (coupon_service.redeem_batch, the demo's tills)
collects what it returns per item. Both then make one conditional UPDATE so a code is used at most once, and an
order carries at most one coupon (store_coupons.mark_redeemed / mark_many).

The rules, in order (the first one broken is the answer):
1. the code is a known coupon; 2. not redeemed before; 3. not voided (a closed campaign voids its coupons);
4. a store is given and is a store of the brand; 5. the order is a paid order; 6. it is the coupon's member's
order ("not valid for this order": the till is never told whose coupon or order it is); 7. it was paid at that
store, when the order records a store; 8. neither the order nor the redemption is later than the brand's now;
the order is not later than the redemption; 9. the coupon is valid at the redemption time (issued by the day
of the order, not expired when redeemed); 10. the order meets the threshold; 11. the order carries no coupon yet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from winback.campaigns.coupons import display, validate
from winback.campaigns.types import CouponRow, PaidOrder
from winback.errors import InputError, NotFoundError, WinbackError


class AlreadyRedeemedError(InputError):
    """The coupon was used before (maybe a second ago, at another till)."""


class CouponVoidedError(InputError):
    """The coupon was voided (by hand, or because its campaign was closed)."""


@dataclass(frozen=True)
class Attempt:
    """One redemption asked for: this code, on this order, at this store, at this time; `now` = the brand's now."""

    code: str  # normalised
    order_id: str
    store_id: str | None
    at: dt.datetime
    now: dt.datetime


def already_redeemed(code: str, row: tuple[Any, ...] | None) -> AlreadyRedeemedError:
    """The error for a used code; `row` = (redeemed_at, order id, store id) when known."""
    when = f" at {row[0]:%Y-%m-%d %H:%M}, order {row[1]}, store {row[2]}" if row and row[0] else ""
    return AlreadyRedeemedError(
        f"coupon {display(code)} was already redeemed{when}",
        hint="A code can be used once. Ask the member for another coupon or proceed without it.",
    )


def not_valid_for_order(code: str, order_id: str) -> InputError:
    return InputError(
        f"coupon {display(code)} is not valid for this order ({order_id})",
        hint="A coupon is personal: it is redeemed only on its own member's order. Check the code and the order "
        "number; if both are right, proceed without the coupon.",
    )


def voided(coupon: CouponRow) -> CouponVoidedError:
    return CouponVoidedError(
        f"coupon {display(coupon.code)} was voided at {coupon.voided_at:%Y-%m-%d %H:%M} ({coupon.void_reason or '—'})",
        hint="A voided coupon cannot be redeemed; proceed without it.",
    )


def _store_refusal(a: Attempt, store_known: bool) -> WinbackError | None:
    if not a.store_id or not a.store_id.strip():
        return InputError(
            "a store is required to redeem a coupon (--store was empty)",
            hint="Give the store id of the till (--store S001), as in the stores file.",
        )
    if not store_known:
        return NotFoundError(
            f"unknown store {a.store_id!r}",
            hint="Give a store id of the brand (winback import stores … loads them).",
        )
    return None


def _order_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder | None) -> WinbackError | None:
    if order is None:
        return NotFoundError(
            f"no paid order {a.order_id!r}",
            hint="Import the till's order first (winback import orders …), then redeem against its order number.",
        )
    if order.member_id != coupon.member_id:
        return not_valid_for_order(coupon.code, a.order_id)
    if order.store_id and str(order.store_id) != a.store_id:
        return InputError(
            f"order {a.order_id} was placed at store {order.store_id}, not {a.store_id}",
            hint="Give the store where the order was paid (--store).",
        )
    return None


_FUTURE_HINT = "Nothing is redeemed in the future: check the order's date and the clock (WINBACK_NOW, WINBACK_TZ)."


def _time_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder) -> WinbackError | None:
    c, ordered_at = coupon.code, order.ordered_at
    if ordered_at > a.now:
        return InputError(
            f"order {a.order_id} is dated {ordered_at:%Y-%m-%d %H:%M}, after the brand's now ({a.now:%Y-%m-%d %H:%M})",
            hint=_FUTURE_HINT,
        )
    if a.at > a.now:
        return InputError(
            f"the redemption time {a.at:%Y-%m-%d %H:%M} is after the brand's now ({a.now:%Y-%m-%d %H:%M})",
            hint=_FUTURE_HINT,
        )
    if ordered_at > a.at:
        return InputError(
            f"order {a.order_id} ({ordered_at:%Y-%m-%d %H:%M}) is later than its redemption ({a.at:%Y-%m-%d %H:%M})",
            hint="A coupon is redeemed when (or after) the order is paid.",
        )
    if a.at > coupon.expires_at:
        return InputError(
            f"coupon {display(c)} expired on {coupon.expires_at:%Y-%m-%d %H:%M}; it is {a.at:%Y-%m-%d %H:%M}",
            hint="An expired coupon cannot be redeemed.",
        )
    if ordered_at.date() < coupon.issued_at.date():  # by day: exports often carry the date only (00:00)
        return InputError(
            f"order {a.order_id} ({ordered_at:%Y-%m-%d %H:%M}) is older than coupon {display(c)} "
            f"(issued {coupon.issued_at:%Y-%m-%d %H:%M})",
            hint="Redeem coupons on orders placed after issue.",
        )
    return None


def refusal(
    a: Attempt, coupon: CouponRow | None, order: PaidOrder | None, used_on_order: str | None, store_known: bool
) -> WinbackError | None:
    """Why `a` must be refused (the first rule it breaks), or None when the coupon may be redeemed.

    `coupon`: the coupon of `a.code` (None: unknown); `order`: the paid order `a.order_id` summed over its lines
    (None: no such paid order); `used_on_order`: the code already redeemed on that order; `store_known`: whether
    `a.store_id` is a store of the brand."""
    if coupon is None:
        return NotFoundError(f"unknown coupon {display(a.code)}", hint="Check the code on the member's coupon or QR.")
    if coupon.redeemed_at is not None:
        return already_redeemed(a.code, (coupon.redeemed_at, coupon.redeemed_order_id, coupon.redeemed_store_id))
    if coupon.voided_at is not None:
        return voided(coupon)
    found = _store_refusal(a, store_known) or _order_refusal(a, coupon, order)
    if found is not None:
        return found
    assert order is not None
    found = _time_refusal(a, coupon, order)
    if found is not None:
        return found
    if order.amount < coupon.offer.threshold:
        return InputError(
            f"order {a.order_id} is ¥{order.amount:,.2f}, below the coupon's threshold of "
            f"¥{coupon.offer.threshold:,.2f}",
            hint="The coupon applies to orders at or above its threshold (满减门槛).",
        )
    if used_on_order == a.code:  # redeemed on this very order a moment ago (another till)
        return already_redeemed(a.code, None)
    if used_on_order:
        return InputError(
            f"order {a.order_id} already used coupon {display(used_on_order)}", hint="One coupon per order."
        )
    return None


def batch_codes(items: list[dict[str, Any]]) -> list[str]:
    """The batch's codes, normalised and checked, each at most once."""
    codes = [validate(i["code"]) for i in items]
    if len(set(codes)) != len(codes):
        raise InputError("a code appears twice in the batch", hint="Each coupon can be redeemed once.")
    return codes


def decide_batch(
    attempts: list[Attempt],
    coupons: dict[str, CouponRow],
    orders: dict[str, PaidOrder],
    used: dict[str, str],
    stores: set[str],
) -> tuple[list[Attempt], dict[str, WinbackError]]:
    """The batch under `refusal`, item by item in order: (accepted attempts, code → refusal). An order taken by an
    earlier item of the batch counts as used for the later ones (one coupon per order)."""
    taken = dict(used)
    ok: list[Attempt] = []
    refused: dict[str, WinbackError] = {}
    for a in attempts:
        why = refusal(
            a, coupons.get(a.code), orders.get(a.order_id), taken.get(a.order_id), (a.store_id or "") in stores
        )
        if why is None:
            ok.append(a)
            taken[a.order_id] = a.code
        else:
            refused[a.code] = why
    return ok, refused
