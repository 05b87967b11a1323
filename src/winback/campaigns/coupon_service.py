"""`CouponService(wb)`: redeem a coupon at the till (one, or a batch), void coupons, write a QR image.

`redeem_code` and `redeem_batch` take the warehouse explicitly, so a till process (or a test with two tills
racing) can run them on its own cursor; the service methods run them on the app's warehouse. Both are
`redeem_attempts` (one code is a batch of one): one set-based read of what the rule needs, the one rule
(redeem.refusal, via redeem.decide), one conditional UPDATE, one transaction, a typed answer per attempt.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.campaigns import store, store_coupons
from winback.campaigns.coupons import display, save_qr, validate
from winback.campaigns.redeem import Attempt, already_redeemed, batch_codes, decide, voided
from winback.campaigns.types import BatchRedeemResult, QrResult, RedeemResult, VoidResult
from winback.errors import EngineError, InputError, NotFoundError, WinbackError
from winback.i18n import _, t

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine


#: a batch decided again this many times at most when another writer changed the same coupons meanwhile
RETRIES = 3
#: what `redeem_attempts` answers per attempt: the redeemed coupon, or the rule's typed refusal
Settled = RedeemResult | WinbackError
#: `redeem_attempts(within=…)`: given the answers, a statement and its parameters written in the round's
#: transaction just before the UPDATE (the till's audit entries)
Within = Callable[[list[Settled]], store_coupons.Rider | None]


def redeem_attempts(db: DuckDBEngine, attempts: list[Attempt], *, within: Within | None = None) -> list[Settled]:
    """Settle `attempts` (codes normalised; a code given twice: the first attempt that may win it does) together:
    per attempt its RedeemResult or its typed refusal (AlreadyRedeemedError, CouponVoidedError, NotFoundError,
    InputError), in order.

    One transaction: one read of every attempt's facts (four lookups, list parameters, nothing registered), the rule
    (redeem.decide), then `within(answers)`'s statement (e.g. the audit entries), the conditional UPDATE of the
    winners, COMMIT. A write-write conflict with another writer (or an UPDATE that changed fewer rows than
    decided) rolls back and decides the whole batch again on a fresh snapshot, up to RETRIES times; so does a
    constraint violation (another writer redeemed a coupon on one of the batch's orders meanwhile: the primary
    key of `coupon_orders`, migration 027)."""
    if not attempts:
        return []
    for attempt in range(RETRIES + 1):
        try:
            return _settle_once(db, attempts, within)
        except EngineError as exc:
            if exc.kind not in ("conflict", "constraint") or attempt == RETRIES:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _settle_once(db: DuckDBEngine, attempts: list[Attempt], within: Within | None) -> list[Settled]:
    with store_coupons.redemption(db, begin=False):  # 6 calls: BEGIN + 2 reads, rider, INSERT, UPDATE, COMMIT
        facts = store_coupons.facts(db, attempts, begin=True)
        answers: list[Settled] = []
        winners: dict[int, float] = {}
        for i, (a, f, why) in enumerate(zip(attempts, facts, decide(attempts, facts), strict=True)):
            if why is not None:
                answers.append(why)
                continue
            assert f.coupon is not None and f.order is not None
            winners[i] = f.coupon.offer.discount_on(f.order.amount)
            answers.append(RedeemResult(code=display(a.code), member_id=f.coupon.member_id,
                                        campaign_id=f.coupon.campaign_id, variant=f.coupon.variant_key,
                                        order_id=a.order_id, store_id=a.store_id, amount=f.order.amount,
                                        discount=winners[i], redeemed_at=a.at))  # fmt: skip
        rider = within(answers) if within is not None else None
        if store_coupons.mark_winners(db, attempts, winners, rider) != len(
            winners
        ):  # cannot happen under snapshot isolation
            raise EngineError(_("the coupons changed while the batch was written"), kind="conflict")
    return answers


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
    """Mark `code` redeemed against a paid order of its member at `store_id`, at most once (a batch of one).
    `at` (default `now`) is the redemption time; `now` the brand's now; refusals in `lang`, raised."""
    (done,) = redeem_attempts(db, [Attempt(validate(code), order_id, store_id, at or now, now, lang)])
    if isinstance(done, WinbackError):
        raise done
    return done


def redeem_batch(
    db: DuckDBEngine, items: list[dict[str, Any]], *, now: dt.datetime, lang: str = "zh"
) -> BatchRedeemResult:
    """Redeem many (code, order_id, store_id, at) at once, e.g. a till's offline batch or the demo simulator.

    `redeem_attempts`: the same rule as `redeem_code`, one read and one conditional UPDATE in one transaction;
    codes that break a rule are returned as refused with the reason and its type, nothing else changes."""
    if not items:
        return BatchRedeemResult(0, [])
    codes = batch_codes(items)
    attempts = [
        Attempt(c, str(i["order_id"]), i.get("store_id"), i["at"], now, lang) for c, i in zip(codes, items, strict=True)
    ]
    answers = redeem_attempts(db, attempts)
    refused = {display(a.code): why for a, why in zip(attempts, answers, strict=True) if isinstance(why, WinbackError)}
    return BatchRedeemResult(
        len(attempts) - len(refused),
        list(refused),
        {c: why.message for c, why in refused.items()},
        {c: type(why).__name__ for c, why in refused.items()},
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

    def redeem_attempts(self, attempts: list[Attempt], *, within: Within | None = None) -> list[Settled]:
        """`redeem_attempts` on the app's warehouse (the web's till rounds): a typed answer per attempt."""
        return redeem_attempts(self.wb.db(), attempts, within=within)

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
