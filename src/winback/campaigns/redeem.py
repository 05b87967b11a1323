"""Redeeming a coupon at the till (核销): the checks, each refusal saying why. Pure.

The coupon service reads the coupon and the order (store_coupons), runs these checks in this order, then makes
one conditional UPDATE so a code is used at most once (store_coupons.mark_redeemed).
"""

from __future__ import annotations

from typing import Any

from winback.campaigns.coupons import display, validate
from winback.campaigns.types import CouponRow, PaidOrder
from winback.errors import InputError, NotFoundError


class AlreadyRedeemedError(InputError):
    """The coupon was used before (maybe a second ago, at another till)."""


def already_redeemed(code: str, row: tuple[Any, ...] | None) -> AlreadyRedeemedError:
    """The error for a used code; `row` = (redeemed_at, order id, store id) when known."""
    when = f" at {row[0]:%Y-%m-%d %H:%M}, order {row[1]}, store {row[2]}" if row and row[0] else ""
    return AlreadyRedeemedError(
        f"coupon {display(code)} was already redeemed{when}",
        hint="A code can be used once. Ask the member for another coupon or proceed without it.",
    )


def check_coupon(code: str, coupon: CouponRow | None) -> CouponRow:
    """The coupon exists and is unused."""
    if coupon is None:
        raise NotFoundError(f"unknown coupon {display(code)}", hint="Check the code on the member's coupon or QR.")
    if coupon.redeemed_at is not None:
        raise already_redeemed(code, (coupon.redeemed_at, coupon.redeemed_order_id, coupon.redeemed_store_id))
    return coupon


def check_order(coupon: CouponRow, order: PaidOrder | None, order_id: str, store_id: str) -> PaidOrder:
    """The order is paid, the coupon's member's, at the given store, inside the coupon's validity and threshold."""
    c = coupon.code
    if order is None:
        raise NotFoundError(
            f"no paid order {order_id!r}",
            hint="Import the till's order first (winback import orders …), then redeem against its order number.",
        )
    if order.member_id != coupon.member_id:
        raise InputError(
            f"coupon {display(c)} belongs to member {coupon.member_id}, but order {order_id} is member "
            f"{order.member_id}'s",
            hint="A coupon is personal: redeem it on its owner's order.",
        )
    if store_id and order.store_id and str(order.store_id) != store_id:
        raise InputError(
            f"order {order_id} was placed at store {order.store_id}, not {store_id}",
            hint="Give the store where the order was paid (--store).",
        )
    _check_dates(coupon, order)
    if order.amount < coupon.offer.threshold:
        raise InputError(
            f"order {order_id} is ¥{order.amount:,.2f}, below the coupon's threshold of ¥{coupon.offer.threshold:,.2f}",
            hint="The coupon applies to orders at or above its threshold (满减门槛).",
        )
    return order


def _check_dates(coupon: CouponRow, order: PaidOrder) -> None:
    c, ordered_at, order_id = coupon.code, order.ordered_at, order.order_id
    if ordered_at > coupon.expires_at:
        raise InputError(
            f"coupon {display(c)} expired on {coupon.expires_at:%Y-%m-%d}; "
            f"order {order_id} is of {ordered_at:%Y-%m-%d}",
            hint="An expired coupon cannot be redeemed.",
        )
    if ordered_at.date() < coupon.issued_at.date():  # by day: exports often carry the date only (00:00)
        raise InputError(
            f"order {order_id} ({ordered_at:%Y-%m-%d %H:%M}) is older than coupon {display(c)} "
            f"(issued {coupon.issued_at:%Y-%m-%d %H:%M})",
            hint="Redeem coupons on orders placed after issue.",
        )


def check_order_free(code: str, used: str | None, order_id: str) -> None:
    """One coupon per order (`used`: the code already redeemed on it)."""
    if used and used == code:  # redeemed on this very order a moment ago (another till)
        raise already_redeemed(code, None)
    if used:
        raise InputError(f"order {order_id} already used coupon {display(used)}", hint="One coupon per order.")


def batch_codes(items: list[dict[str, Any]]) -> list[str]:
    """The batch's codes, normalised and checked, each at most once."""
    codes = [validate(i["code"]) for i in items]
    if len(set(codes)) != len(codes):
        raise InputError("a code appears twice in the batch", hint="Each coupon can be redeemed once.")
    return codes
