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
    """One redemption asked for: this code, on this order, at this store, at this time; `now` = the brand's now;
    `lang` = the language of the refusal (zh by default, as at a Chinese till)."""

    code: str  # normalised
    order_id: str
    store_id: str | None
    at: dt.datetime
    now: dt.datetime
    lang: str = "zh"


def _t(lang: str, zh: str, en: str) -> str:
    """A message in the till's language (the pairs below can move into the app's message catalogue)."""
    return zh if lang == "zh" else en


def _at(t: dt.datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M}"


_FUTURE_HINT = (
    "不接受未来时间的订单或核销：请检查订单日期和系统时间（WINBACK_NOW、WINBACK_TZ）。",
    "Nothing is redeemed in the future: check the order's date and the clock (WINBACK_NOW, WINBACK_TZ).",
)


def already_redeemed(code: str, row: tuple[Any, ...] | None, lang: str = "zh") -> AlreadyRedeemedError:
    """The error for a used code; `row` = (redeemed_at, order id, store id) when known."""
    c = display(code)
    if row and row[0]:
        zh = f"券 {c} 已于 {_at(row[0])} 核销（订单 {row[1]}，门店 {row[2]}）"
        en = f"coupon {c} was already redeemed at {_at(row[0])}, order {row[1]}, store {row[2]}"
    else:
        zh, en = f"券 {c} 已被核销", f"coupon {c} was already redeemed"
    return AlreadyRedeemedError(
        _t(lang, zh, en),
        hint=_t(
            lang,
            "每张券只能用一次。请会员出示其他券，或不用券结账。",
            "A code can be used once. Ask the member for another coupon or proceed without it.",
        ),
    )


def not_valid_for_order(code: str, order_id: str, lang: str = "zh") -> InputError:
    c = display(code)
    return InputError(
        _t(lang, f"券 {c} 不适用于此订单（{order_id}）", f"coupon {c} is not valid for this order ({order_id})"),
        hint=_t(
            lang,
            "券仅限本人订单使用。请核对券码和订单号；都无误时请不用券结账。",
            "A coupon is personal: it is redeemed only on its own member's order. Check the code and the order "
            "number; if both are right, proceed without the coupon.",
        ),
    )


def voided(coupon: CouponRow, lang: str = "zh") -> CouponVoidedError:
    c, when, why = display(coupon.code), _at(coupon.voided_at or coupon.issued_at), coupon.void_reason or "—"
    return CouponVoidedError(
        _t(lang, f"券 {c} 已于 {when} 作废（{why}）", f"coupon {c} was voided at {when} ({why})"),
        hint=_t(lang, "作废的券不能核销；请不用券结账。", "A voided coupon cannot be redeemed; proceed without it."),
    )


def _store_refusal(a: Attempt, store_known: bool) -> WinbackError | None:
    lang = a.lang
    if not a.store_id or not a.store_id.strip():
        return InputError(
            _t(lang, "核销必须填写门店（--store 为空）", "a store is required to redeem a coupon (--store was empty)"),
            hint=_t(
                lang,
                "请填写收银台所在门店的编号（--store S001），与门店文件一致。",
                "Give the store id of the till (--store S001), as in the stores file.",
            ),
        )
    if not store_known:
        return NotFoundError(
            _t(lang, f"没有门店 {a.store_id!r}", f"unknown store {a.store_id!r}"),
            hint=_t(
                lang,
                "请填写本品牌的门店编号（winback import stores … 导入门店）。",
                "Give a store id of the brand (winback import stores … loads them).",
            ),
        )
    return None


def _order_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder | None) -> WinbackError | None:
    lang = a.lang
    if order is None:
        return NotFoundError(
            _t(lang, f"没有已付款订单 {a.order_id!r}", f"no paid order {a.order_id!r}"),
            hint=_t(
                lang,
                "请先导入收银订单（winback import orders …），再按订单号核销。",
                "Import the till's order first (winback import orders …), then redeem against its order number.",
            ),
        )
    if order.member_id != coupon.member_id:
        return not_valid_for_order(coupon.code, a.order_id, lang)
    if order.store_id and str(order.store_id) != a.store_id:
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id} 在门店 {order.store_id} 付款，不是 {a.store_id}",
                f"order {a.order_id} was placed at store {order.store_id}, not {a.store_id}",
            ),
            hint=_t(lang, "请填写订单付款的门店（--store）。", "Give the store where the order was paid (--store)."),
        )
    return None


def _time_refusal(a: Attempt, coupon: CouponRow, order: PaidOrder) -> WinbackError | None:
    lang, c, ordered_at = a.lang, display(coupon.code), order.ordered_at
    if ordered_at > a.now:
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id} 的时间 {_at(ordered_at)} 晚于品牌当前时间（{_at(a.now)}）",
                f"order {a.order_id} is dated {_at(ordered_at)}, after the brand's now ({_at(a.now)})",
            ),
            hint=_t(lang, *_FUTURE_HINT),
        )
    if a.at > a.now:
        return InputError(
            _t(
                lang,
                f"核销时间 {_at(a.at)} 晚于品牌当前时间（{_at(a.now)}）",
                f"the redemption time {_at(a.at)} is after the brand's now ({_at(a.now)})",
            ),
            hint=_t(lang, *_FUTURE_HINT),
        )
    if ordered_at > a.at:
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id}（{_at(ordered_at)}）晚于核销时间（{_at(a.at)}）",
                f"order {a.order_id} ({_at(ordered_at)}) is later than its redemption ({_at(a.at)})",
            ),
            hint=_t(lang, "券在订单付款时或之后核销。", "A coupon is redeemed when (or after) the order is paid."),
        )
    if a.at > coupon.expires_at:
        return InputError(
            _t(
                lang,
                f"券 {c} 已于 {_at(coupon.expires_at)} 过期；现在是 {_at(a.at)}",
                f"coupon {c} expired on {_at(coupon.expires_at)}; it is {_at(a.at)}",
            ),
            hint=_t(lang, "过期的券不能核销。", "An expired coupon cannot be redeemed."),
        )
    if ordered_at.date() < coupon.issued_at.date():  # by day: exports often carry the date only (00:00)
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id}（{_at(ordered_at)}）早于券 {c} 的发放时间（{_at(coupon.issued_at)}）",
                f"order {a.order_id} ({_at(ordered_at)}) is older than coupon {c} (issued {_at(coupon.issued_at)})",
            ),
            hint=_t(lang, "券只能用于发放之后的订单。", "Redeem coupons on orders placed after issue."),
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
            _t(lang, f"没有券 {display(a.code)}", f"unknown coupon {display(a.code)}"),
            hint=_t(lang, "请核对会员券面或二维码上的券码。", "Check the code on the member's coupon or QR."),
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
    t = coupon.offer.threshold
    if order.amount < t:
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id} 金额 ¥{order.amount:,.2f}，低于券的使用门槛 ¥{t:,.2f}",
                f"order {a.order_id} is ¥{order.amount:,.2f}, below the coupon's threshold of ¥{t:,.2f}",
            ),
            hint=_t(
                lang,
                "满减券仅用于达到门槛的订单。",
                "The coupon applies to orders at or above its threshold (满减门槛).",
            ),
        )
    if used_on_order == a.code:  # redeemed on this very order a moment ago (another till)
        return already_redeemed(a.code, None, lang)
    if used_on_order:
        return InputError(
            _t(
                lang,
                f"订单 {a.order_id} 已使用券 {display(used_on_order)}",
                f"order {a.order_id} already used coupon {display(used_on_order)}",
            ),
            hint=_t(lang, "每笔订单限用一张券。", "One coupon per order."),
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
