"""`CouponService(wb)`: redeem a coupon at the till (one, or a batch), void coupons, write a QR image.

`redeem_code` and `redeem_batch` take the warehouse explicitly, so a till process (or a test with two tills
racing) can run them on its own cursor; the service methods run them on the app's warehouse. Both read what the
rule needs, decide with the one rule function (redeem.refusal) and write with one conditional UPDATE.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.campaigns import store, store_coupons
from winback.campaigns.coupons import display, save_qr, validate
from winback.campaigns.redeem import Attempt, already_redeemed, batch_codes, decide_batch, refusal, voided
from winback.campaigns.types import BatchRedeemResult, QrResult, RedeemResult, VoidResult
from winback.errors import InputError, NotFoundError
from winback.i18n import _, t

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine


def redeem_code(
    db: DuckDBEngine,
    code: str,
    *,
    order_id: str,
    store_id: str,
    now: dt.datetime,
    at: dt.datetime | None = None,
    lang: str = "zh",
) -> RedeemResult:
    """Mark `code` redeemed against a paid order of its member at `store_id`, at most once. `at` (default `now`)
    is the redemption time; `now` the brand's now; refusals in `lang`."""
    a = Attempt(validate(code), order_id, store_id, at or now, now, lang)
    coupon = store_coupons.coupon(db, a.code)
    order = store_coupons.paid_order(db, order_id) if coupon is not None else None
    used = store_coupons.used_on(db, [order_id]).get(order_id) if order is not None else None
    known = bool(store_id) and bool(store_coupons.known_stores(db, [store_id]))
    why = refusal(a, coupon, order, used, known)
    if why is not None:
        raise why
    assert coupon is not None and order is not None
    discount = coupon.offer.discount_on(order.amount)
    store_coupons.mark_redeemed(db, a.code, at=a.at, order_id=order_id, store_id=store_id, discount=discount, lang=lang)
    return RedeemResult(
        code=display(a.code),
        member_id=coupon.member_id,
        campaign_id=coupon.campaign_id,
        variant=coupon.variant_key,
        order_id=order_id,
        store_id=store_id,
        amount=order.amount,
        discount=discount,
        redeemed_at=a.at,
    )


def redeem_batch(
    db: DuckDBEngine, items: list[dict[str, Any]], *, now: dt.datetime, lang: str = "zh"
) -> BatchRedeemResult:
    """Redeem many (code, order_id, store_id, at) at once, e.g. a till's offline batch or the demo simulator.

    The same rule as `redeem_code` (redeem.refusal, item by item), then one set-based conditional UPDATE in one
    transaction; codes that break a rule are returned as refused with the reason, nothing else changes."""
    if not items:
        return BatchRedeemResult(0, [])
    codes = batch_codes(items)
    attempts = [
        Attempt(c, str(i["order_id"]), i.get("store_id"), i["at"], now, lang) for c, i in zip(codes, items, strict=True)
    ]
    order_ids = sorted({a.order_id for a in attempts})
    ok, refused = decide_batch(
        attempts,
        store_coupons.coupons(db, codes),
        store_coupons.paid_orders(db, order_ids),
        store_coupons.used_on(db, order_ids),
        store_coupons.known_stores(db, sorted({a.store_id for a in attempts if a.store_id})),
    )
    coupons = store_coupons.coupons(db, [a.code for a in ok]) if ok else {}
    orders = store_coupons.paid_orders(db, [a.order_id for a in ok]) if ok else {}
    rows = [
        {
            "code": a.code,
            "order_id": a.order_id,
            "store_id": a.store_id,
            "at": a.at,
            "discount": coupons[a.code].offer.discount_on(orders[a.order_id].amount),
        }
        for a in ok
    ]
    done = store_coupons.mark_many(db, rows)
    for a in ok:
        if a.code not in done:  # another till was first, between the read and the write
            refused[a.code] = already_redeemed(a.code, None, lang)
    return BatchRedeemResult(
        len(done),
        [display(c) for c in codes if c in refused],
        {display(c): refused[c].message for c in codes if c in refused},
    )


def void_coupons(
    db: DuckDBEngine,
    *,
    code: str | None,
    campaign_id: str | None,
    by: str,
    reason: str,
    now: dt.datetime,
    lang: str = "zh",
) -> VoidResult:
    """Void one coupon (`code`) or every unredeemed coupon of a campaign; who, when and why are kept on each."""
    if (code is None) == (campaign_id is None):
        raise InputError(
            t("give a coupon code or --campaign ID (one of them)", lang),
            hint=_("winback coupon void CODE | winback coupon void --campaign C0001"),
        )
    if code is not None:
        c = validate(code)
        coupon = store_coupons.coupon(db, c)
        if coupon is None:
            raise NotFoundError(
                t("unknown coupon {c}", lang, c=display(c)),
                hint=t("Check the code on the member's coupon or QR.", lang),
            )
        if coupon.redeemed_at is not None:
            raise already_redeemed(c, (coupon.redeemed_at, coupon.redeemed_order_id, coupon.redeemed_store_id), lang)
        if coupon.voided_at is not None or not store_coupons.void_code(db, c, at=now, by=by, reason=reason):
            raise voided(store_coupons.coupon(db, c) or coupon, lang)
        return VoidResult(1, display(c), coupon.campaign_id, by, now, reason)
    assert campaign_id is not None
    store.get_campaign(db, campaign_id)  # NotFoundError naming the recent campaigns
    n = store_coupons.void_campaign(db, campaign_id, at=now, by=by, reason=reason)
    return VoidResult(n, None, campaign_id, by, now, reason)


def operator() -> str:
    """Who is at the keyboard (the login name), for the audit columns when no --by is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class CouponService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def redeem(self, code: str, *, order_id: str, store_id: str, now: dt.datetime | None = None) -> RedeemResult:
        return redeem_code(
            self.wb.db(),
            code,
            order_id=order_id,
            store_id=store_id,
            now=now or self.wb.now(),
            lang=self.wb.settings.lang,
        )

    def redeem_batch(self, items: list[dict[str, Any]], *, now: dt.datetime | None = None) -> BatchRedeemResult:
        return redeem_batch(self.wb.db(), items, now=now or self.wb.now(), lang=self.wb.settings.lang)

    def void(
        self,
        code: str | None = None,
        *,
        campaign_id: str | None = None,
        by: str | None = None,
        reason: str | None = None,
        now: dt.datetime | None = None,
    ) -> VoidResult:
        """Void a coupon, or all unredeemed coupons of a campaign (audited: who, when, why)."""
        return void_coupons(
            self.wb.db(),
            code=code,
            campaign_id=campaign_id,
            by=by or operator(),
            reason=reason or t("voided by hand", self.wb.settings.lang),
            now=now or self.wb.now(),
            lang=self.wb.settings.lang,
        )

    def qr(self, code: str, out: Path | str) -> QrResult:
        """Write a scannable QR image (.png or .svg) of a coupon code."""
        c = validate(code)
        return QrResult(display(c), str(save_qr(c, out)))
