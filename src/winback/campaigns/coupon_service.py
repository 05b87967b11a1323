"""`CouponService(wb)`: redeem a coupon at the till (one, or a batch), write its QR image.

`redeem_code` and `redeem_batch` take the warehouse explicitly, so a till process (or a test with two tills
racing) can run them on its own cursor; the service methods run them on the app's warehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.campaigns import store_coupons
from winback.campaigns.coupons import display, save_qr, validate
from winback.campaigns.redeem import batch_codes, check_coupon, check_order, check_order_free
from winback.campaigns.types import BatchRedeemResult, QrResult, RedeemResult

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine


def redeem_code(db: DuckDBEngine, code: str, *, order_id: str, store_id: str, now: dt.datetime) -> RedeemResult:
    """Mark `code` redeemed against a paid order of its member at `store_id`, at most once."""
    c = validate(code)
    coupon = check_coupon(c, store_coupons.coupon(db, c))
    order = check_order(coupon, store_coupons.paid_order(db, order_id), order_id, store_id)
    check_order_free(c, store_coupons.coupon_used_on(db, order_id), order_id)
    discount = coupon.offer.discount_on(order.amount)
    at_store = store_id or order.store_id
    store_coupons.mark_redeemed(db, c, at=now, order_id=order_id, store_id=at_store, discount=discount)
    return RedeemResult(
        code=display(c),
        member_id=coupon.member_id,
        campaign_id=coupon.campaign_id,
        variant=coupon.variant_key,
        order_id=order_id,
        store_id=at_store,
        amount=order.amount,
        discount=discount,
        redeemed_at=now,
    )


def redeem_batch(db: DuckDBEngine, items: list[dict[str, Any]]) -> BatchRedeemResult:
    """Redeem many (code, order_id, store_id, at) at once, e.g. a till's offline batch or the demo simulator.

    The same rules as `redeem_code` (owner, paid order, threshold, issue/expiry window, once only) in one
    set-based conditional UPDATE; codes that break a rule are returned as refused, nothing else changes.
    """
    if not items:
        return BatchRedeemResult(0, [])
    codes = batch_codes(items)
    ok = store_coupons.redeem_many(db, codes, items)
    return BatchRedeemResult(len(ok), [display(c) for c in codes if c not in ok])


class CouponService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def redeem(self, code: str, *, order_id: str, store_id: str, now: dt.datetime | None = None) -> RedeemResult:
        return redeem_code(self.wb.db(), code, order_id=order_id, store_id=store_id, now=now or self.wb.now())

    def redeem_batch(self, items: list[dict[str, Any]]) -> BatchRedeemResult:
        return redeem_batch(self.wb.db(), items)

    def qr(self, code: str, out: Path | str) -> QrResult:
        """Write a scannable QR image (.png or .svg) of a coupon code."""
        c = validate(code)
        return QrResult(display(c), str(save_qr(c, out)))
