"""The coupons' SQL: issuing at launch, and redeeming at the till (one code, or a batch) so a code is used once.

Two tills redeeming the same code at the same moment: both may pass the checks, but only one UPDATE … WHERE
redeemed_at IS NULL can change the row; the other sees zero rows (or DuckDB's write-write conflict, an EngineError
of kind "conflict") and is told the code was already redeemed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.campaigns.coupons import new_codes
from winback.campaigns.redeem import already_redeemed
from winback.campaigns.scenarios import Offer
from winback.campaigns.types import CouponRow, PaidOrder
from winback.errors import EngineError

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def issue_coupons(db: DuckDBEngine, rows: list[dict[str, Any]]) -> None:
    """Insert coupons, drawing new codes for any that collide with codes already issued (sets each row's code).
    Runs inside the launch's transaction."""
    pending = rows
    while pending:
        for r, code in zip(pending, new_codes(len(pending)), strict=True):
            r["code"] = code
        with db.registered("_new_coupons", pa.Table.from_pylist(pending)):
            clash = {c for (c,) in db.fetchall("SELECT n.code FROM _new_coupons n JOIN coupons c ON c.code = n.code")}
            db.execute(
                "INSERT INTO coupons (code, campaign_id, member_id, variant_key, offer_kind, offer_value, "
                " offer_threshold, issued_at, expires_at) "
                "SELECT code, campaign_id, member_id, variant_key, offer_kind, offer_value, offer_threshold, "
                " issued_at, expires_at FROM _new_coupons n WHERE n.code NOT IN (SELECT code FROM coupons)"
            )
        pending = [r for r in pending if r["code"] in clash]


def coupon(db: DuckDBEngine, code: str) -> CouponRow | None:
    row = db.fetchone(
        "SELECT member_id, campaign_id, variant_key, offer_kind, offer_value, offer_threshold, issued_at, expires_at, "
        " redeemed_at, redeemed_order_id, redeemed_store_id FROM coupons WHERE code = ?",
        [code],
    )
    if row is None:
        return None
    member_id, campaign_id, variant, kind, value, threshold, issued_at, expires_at, *redeemed = row
    return CouponRow(
        code, member_id, campaign_id, variant, Offer(kind, value, threshold), issued_at, expires_at, *redeemed
    )


def paid_order(db: DuckDBEngine, order_id: str) -> PaidOrder | None:
    """The paid order summed over its lines (None when there is no paid order of that number)."""
    rows = db.fetchall(
        "SELECT member_id, sum(amount)::DOUBLE, min(ordered_at), any_value(store_id) FROM orders "
        "WHERE order_id = ? AND status = 'paid' GROUP BY member_id",
        [order_id],
    )
    if not rows:
        return None
    member_id, amount, ordered_at, store_id = rows[0]
    return PaidOrder(order_id, member_id, amount, ordered_at, store_id)


def coupon_used_on(db: DuckDBEngine, order_id: str) -> str | None:
    """The code already redeemed on this order, if any."""
    return db.scalar("SELECT code FROM coupons WHERE redeemed_order_id = ? LIMIT 1", [order_id])  # type: ignore[no-any-return]


def mark_redeemed(
    db: DuckDBEngine, code: str, *, at: dt.datetime, order_id: str, store_id: str | None, discount: float
) -> None:
    """One conditional UPDATE in its own transaction; AlreadyRedeemedError when another till was first."""
    try:
        db.execute("BEGIN TRANSACTION")
        changed = db.fetchall(
            "UPDATE coupons SET redeemed_at = ?, redeemed_order_id = ?, redeemed_store_id = ?, discount = ? "
            "WHERE code = ? AND redeemed_at IS NULL RETURNING code",
            [at, order_id, store_id, discount, code],
        )
        if len(changed) != 1:
            db.execute("ROLLBACK")
            raise already_redeemed(
                code,
                db.fetchone(
                    "SELECT redeemed_at, redeemed_order_id, redeemed_store_id FROM coupons WHERE code = ?", [code]
                ),
            )
        db.execute("COMMIT")
    except EngineError as exc:
        with contextlib.suppress(EngineError):
            db.execute("ROLLBACK")
        if exc.conflict:  # another till changed the row first
            raise already_redeemed(code, None) from None
        raise


DISCOUNT_SQL = """
    CASE c.offer_kind WHEN 'discount' THEN round(v.amount * c.offer_value / 100.0, 2)
                      WHEN 'voucher' THEN least(c.offer_value, v.amount)
                      WHEN 'gift_pack' THEN least(c.offer_value, v.amount) ELSE 0 END
"""

_REDEEM_BATCH_SQL = f"""
    UPDATE coupons c SET redeemed_at = v.at, redeemed_order_id = v.order_id,
           redeemed_store_id = coalesce(v.store_id, v.order_store), discount = {DISCOUNT_SQL}
    FROM (
        SELECT b.code, b.order_id, b.store_id, b.at, o.member_id, o.amount, o.ordered_at, o.order_store
        FROM _redeem_batch b
        JOIN (SELECT order_id, member_id, sum(amount)::DOUBLE AS amount, min(ordered_at) AS ordered_at,
                     any_value(store_id) AS order_store
              FROM orders WHERE status = 'paid' AND order_id IN (SELECT order_id FROM _redeem_batch)
              GROUP BY order_id, member_id) o ON o.order_id = b.order_id
        WHERE b.order_id NOT IN (SELECT redeemed_order_id FROM coupons WHERE redeemed_order_id IS NOT NULL)
    ) v
    WHERE c.code = v.code AND c.redeemed_at IS NULL AND c.member_id = v.member_id
      AND v.amount >= c.offer_threshold AND v.ordered_at BETWEEN c.issued_at AND c.expires_at
      AND (v.store_id IS NULL OR v.order_store IS NULL OR v.store_id = v.order_store)
    RETURNING c.code
"""


def redeem_many(db: DuckDBEngine, codes: list[str], items: list[dict[str, Any]]) -> set[str]:
    """Redeem the (normalised) `codes` with their items' order_id, store_id and at, under the same rules as one
    redemption, in one set-based conditional UPDATE and one transaction; returns the codes redeemed."""
    batch = pa.table(
        {
            "code": codes,
            "order_id": [i["order_id"] for i in items],
            "store_id": [i.get("store_id") for i in items],
            "at": [i["at"] for i in items],
        }
    )
    with db.registered("_redeem_batch", batch):
        try:
            db.execute("BEGIN TRANSACTION")
            done = db.fetchall(_REDEEM_BATCH_SQL)
            db.execute("COMMIT")
        except Exception:
            with contextlib.suppress(EngineError):
                db.execute("ROLLBACK")
            raise
    return {r[0] for r in done}
