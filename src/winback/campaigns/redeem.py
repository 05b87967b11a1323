"""Redeeming a coupon at the till (核销): one rule function for one code and for a batch, each refusal saying why.
Pure.

`refusal(attempt, coupon, order, used_on_order, store_known)` is THE rule, and `decide` applies it to a batch in
order. Every redemption goes through coupon_service.redeem_attempts: the till's single redemption (redeem_code,
a batch of one) raises what it returns, a batch (redeem_batch: the demo's tills; the web's till rounds) keeps
it per item, typed. One set-based read gathers the facts, one conditional UPDATE in the same transaction writes
the winners, so a code is used at most once and an order carries at most one coupon (store_coupons).

The rules, in order (the first one broken is the answer):
1. the code is a known coupon; 2. not redeemed before; 3. not voided (a closed campaign voids its coupons);
4. a store is given and is a store of the brand; 5. the order is a paid order dated on or after the coupon's issue
day (the facts come from the tills' paid orders, warehouse/till_orders.py, which hold every paid order a live
coupon can be redeemed against: an older order is refused as older than the coupon (rule 9) when it is among them,
else here, which is then just as true); 6. it is the coupon's member's
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
from winback.campaigns.types import CouponRow, PaidOrder, RedeemFacts
from winback.errors import InputError, NotFoundError, WinbackError
from winback.i18n import N_, _, t


class AlreadyRedeemedError(InputError):
    """The coupon was used before (maybe a second ago, at another till)."""


class CouponVoidedError(InputError):
    """The coupon was voided (by hand, or because its campaign was closed)."""


@dataclass(frozen=True)
class Attempt:
    """One redemption asked for: this code, on this order, at this store, at this time; `now` = the brand's now;
    `lang` = the language of the refusal (zh by default, as at a Chinese till)."""

    code: str  # normalised
    order_id: str
    store_id: str | None
    at: dt.datetime
    now: dt.datetime
    lang: str = "zh"


def _at(t: dt.datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}"


_FUTURE_HINT = N_("Nothing is redeemed in the future: check the order's date and the clock (WINBACK_NOW, WINBACK_TZ).")


def already_redeemed(code: str, row: tuple[Any, ...] | None, lang: str = "zh") -> AlreadyRedeemedError:
    """The error for a used code; `row` = (redeemed_at, order id, store id) when known."""
    c = display(code)
    if row and row[0]:
        message = t(
            "coupon {c} was already redeemed at {at}, order {order_id}, store {store_id}",
            lang,
            c=c,
            at=_at(row[0]),
            order_id=row[1],
            store_id=row[2],
        )
    else:
        message = t("coupon {c} was already redeemed", lang, c=c)
    return AlreadyRedeemedError(
        message,
        hint=t(("A code can be used once. Ask the member for another coupon or proceed without it."), lang),
    )


def not_valid_for_order(code: str, order_id: str, lang: str = "zh") -> InputError:
    c = display(code)
    return InputError(
        t("coupon {c} is not valid for this order ({order_id})", lang, c=c, order_id=order_id),
        hint=t(
            (
                "A coupon is personal: it is redeemed only on its own member's order. Check the "
                "code and the order number; if both are right, proceed without the coupon."
            ),
            lang,
        ),
    )


def voided(coupon: CouponRow, lang: str = "zh") -> CouponVoidedError:
    c, when, why = display(coupon.code), _at(coupon.voided_at or coupon.issued_at), coupon.void_reason or "—"
    return CouponVoidedError(
        t("coupon {c} was voided at {when} ({why})", lang, c=c, when=when, why=why),
        hint=t("A voided coupon cannot be redeemed; proceed without it.", lang),
    )


def _store_refusal(a: Attempt, store_known: bool) -> WinbackError | None:
    lang = a.lang
    if not a.store_id or not a.store_id.strip():
        return InputError(
            t("a store is required to redeem a coupon (--store was empty)", lang),
            hint=t("Give the store id of the till (--store S001), as in the stores file.", lang),
        )
    if not store_known:
        return NotFoundError(
            t("unknown store {store_id!r}", lang, store_id=a.store_id),
            hint=t("Give a store id of the brand (winback import stores … loads them).", lang),
        )
    return None


def _order_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder | None) -> WinbackError | None:
    lang = a.lang
    if order is None:
        return NotFoundError(
            t(
                "no paid order {order_id!r} dated on or after {issued_on} (the coupon's issue day)",
                lang,
                order_id=a.order_id,
                issued_on=f"{coupon.issued_at:%Y-%m-%d}",
            ),
            hint=t(
                ("Import the till's order first (winback import orders …), then redeem against its order number."), lang
            ),
        )
    if order.member_id != coupon.member_id:
        return not_valid_for_order(coupon.code, a.order_id, lang)
    if order.store_id and str(order.store_id) != a.store_id:
        return InputError(
            t(
                "order {order_id} was placed at store {store_id}, not {store_id2}",
                lang,
                order_id=a.order_id,
                store_id=order.store_id,
                store_id2=a.store_id,
            ),
            hint=t("Give the store where the order was paid (--store).", lang),
        )
    return None


def _time_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder) -> WinbackError | None:
    lang, c, ordered_at = a.lang, display(coupon.code), order.ordered_at
    if ordered_at > a.now:
        return InputError(
            t(
                "order {order_id} is dated {ordered_at}, after the brand's now ({now})",
                lang,
                order_id=a.order_id,
                ordered_at=_at(ordered_at),
                now=_at(a.now),
            ),
            hint=t(_FUTURE_HINT, lang),
        )
    if a.at > a.now:
        return InputError(
            t("the redemption time {at} is after the brand's now ({now})", lang, at=_at(a.at), now=_at(a.now)),
            hint=t(_FUTURE_HINT, lang),
        )
    if ordered_at > a.at:
        return InputError(
            t(
                "order {order_id} ({ordered_at}) is later than its redemption ({at})",
                lang,
                order_id=a.order_id,
                ordered_at=_at(ordered_at),
                at=_at(a.at),
            ),
            hint=t("A coupon is redeemed when (or after) the order is paid.", lang),
        )
    if a.at > coupon.expires_at:
        return InputError(
            t(
                "coupon {c} expired on {expires_at}; it is {at}",
                lang,
                c=c,
                expires_at=_at(coupon.expires_at),
                at=_at(a.at),
            ),
            hint=t("An expired coupon cannot be redeemed.", lang),
        )
    if ordered_at.date() < coupon.issued_at.date():  # by day: exports often carry the date only (00:00)
        return InputError(
            t(
                "order {order_id} ({ordered_at}) is older than coupon {c} (issued {issued_at})",
                lang,
                order_id=a.order_id,
                ordered_at=_at(ordered_at),
                c=c,
                issued_at=_at(coupon.issued_at),
            ),
            hint=t("Redeem coupons on orders placed after issue.", lang),
        )
    return None


def refusal(
    a: Attempt, coupon: CouponRow | None, order: PaidOrder | None, used_on_order: str | None, store_known: bool
) -> WinbackError | None:
    """Why `a` must be refused (the first rule it breaks), or None when the coupon may be redeemed.

    `coupon`: the coupon of `a.code` (None: unknown); `order`: the paid order `a.order_id` summed over its lines
    (None: no such paid order); `used_on_order`: the code already redeemed on that order; `store_known`: whether
    `a.store_id` is a store of the brand."""
    lang = a.lang
    if coupon is None:
        return NotFoundError(
            t("unknown coupon {c}", lang, c=display(a.code)),
            hint=t("Check the code on the member's coupon or QR.", lang),
        )
    if coupon.redeemed_at is not None:
        row = (coupon.redeemed_at, coupon.redeemed_order_id, coupon.redeemed_store_id)
        return already_redeemed(a.code, row, lang)
    if coupon.voided_at is not None:
        return voided(coupon, lang)
    found = _store_refusal(a, store_known) or _order_refusal(a, coupon, order)
    if found is not None:
        return found
    assert order is not None
    found = _time_refusal(a, coupon, order)
    if found is not None:
        return found
    threshold = coupon.offer.threshold
    if order.amount < threshold:
        return InputError(
            t(
                "order {order_id} is ¥{amount:,.2f}, below the coupon's threshold of ¥{threshold:,.2f}",
                lang,
                order_id=a.order_id,
                amount=order.amount,
                threshold=threshold,
            ),
            hint=t("The coupon applies to orders at or above its threshold (满减门槛).", lang),
        )
    if used_on_order == a.code:  # redeemed on this very order a moment ago (another till)
        return already_redeemed(a.code, None, lang)
    if used_on_order:
        return InputError(
            t(
                "order {order_id} already used coupon {used_on_order}",
                lang,
                order_id=a.order_id,
                used_on_order=display(used_on_order),
            ),
            hint=t("One coupon per order.", lang),
        )
    return None


def batch_codes(items: list[dict[str, Any]]) -> list[str]:
    """The batch's codes, normalised and checked, each at most once."""
    codes = [validate(i["code"]) for i in items]
    if len(set(codes)) != len(codes):
        raise InputError(_("a code appears twice in the batch"), hint=_("Each coupon can be redeemed once."))
    return codes


def decide(attempts: list[Attempt], facts: list[RedeemFacts]) -> list[WinbackError | None]:
    """The attempts under `refusal`, in order (`facts[i]` is what is known about `attempts[i]`): per attempt its
    refusal, or None when it may be redeemed. An order taken by an earlier attempt counts as used for the later
    ones (one coupon per order), and a code taken by an earlier attempt is already redeemed for the later ones
    (two tills with one code in one batch: the first wins, the other is told where and when)."""
    taken: dict[str, str] = {}
    won: dict[str, Attempt] = {}
    out: list[WinbackError | None] = []
    for a, f in zip(attempts, facts, strict=True):
        first = won.get(a.code)
        if first is not None:
            why: WinbackError | None = already_redeemed(a.code, (first.at, first.order_id, first.store_id), a.lang)
        else:
            why = refusal(a, f.coupon, f.order, taken.get(a.order_id, f.used_on_order), f.store_known)
        if why is None:
            taken[a.order_id], won[a.code] = a.code, a
        out.append(why)
    return out
