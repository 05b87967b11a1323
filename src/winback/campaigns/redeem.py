"""Redeeming a coupon at the till (核销): checked, then one conditional UPDATE so a code is used at most once.

Two tills redeeming the same code at the same moment: both may pass the checks, but only one UPDATE … WHERE
redeemed_at IS NULL can change the row; the other sees zero rows (or DuckDB's write-write conflict) and is told
the code was already redeemed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa

from winback.campaigns.coupons import display, validate
from winback.campaigns.scenarios import Offer
from winback.clock import brand_now
from winback.errors import InputError, NotFoundError
from winback.warehouse.registered import registered


class AlreadyRedeemedError(InputError):
    """The coupon was used before (maybe a second ago, at another till)."""


def _already(code: str, row: tuple[Any, ...] | None) -> AlreadyRedeemedError:
    when = f" at {row[0]:%Y-%m-%d %H:%M}, order {row[1]}, store {row[2]}" if row and row[0] else ""
    return AlreadyRedeemedError(
        f"coupon {display(code)} was already redeemed{when}",
        hint="A code can be used once. Ask the member for another coupon or proceed without it.",
    )


def redeem(
    con: duckdb.DuckDBPyConnection, code: str, *, order_id: str, store_id: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Mark `code` redeemed against a paid order of its member at `store_id`."""
    c = validate(code)
    cp = con.execute(
        "SELECT member_id, campaign_id, variant_key, offer_kind, offer_value, offer_threshold, issued_at, expires_at, "
        " redeemed_at, redeemed_order_id, redeemed_store_id FROM coupons WHERE code = ?",
        [c],
    ).fetchone()
    if cp is None:
        raise NotFoundError(f"unknown coupon {display(c)}", hint="Check the code on the member's coupon or QR.")
    member_id, campaign_id, variant, kind, value, threshold, issued_at, expires_at, redeemed_at = cp[:9]
    if redeemed_at is not None:
        raise _already(c, cp[8:11])
    order = con.execute(
        "SELECT member_id, sum(amount)::DOUBLE, min(ordered_at), any_value(store_id) FROM orders "
        "WHERE order_id = ? AND status = 'paid' GROUP BY member_id",
        [order_id],
    ).fetchall()
    if not order:
        raise NotFoundError(
            f"no paid order {order_id!r}",
            hint="Import the till's order first (winback import orders …), then redeem against its order number.",
        )
    o_member, amount, ordered_at, o_store = order[0]
    if o_member != member_id:
        raise InputError(
            f"coupon {display(c)} belongs to member {member_id}, but order {order_id} is member {o_member}'s",
            hint="A coupon is personal: redeem it on its owner's order.",
        )
    if store_id and o_store and str(o_store) != store_id:
        raise InputError(
            f"order {order_id} was placed at store {o_store}, not {store_id}",
            hint="Give the store where the order was paid (--store).",
        )
    if ordered_at > expires_at:
        raise InputError(
            f"coupon {display(c)} expired on {expires_at:%Y-%m-%d}; order {order_id} is of {ordered_at:%Y-%m-%d}",
            hint="An expired coupon cannot be redeemed.",
        )
    if ordered_at.date() < issued_at.date():  # by day: exports often carry the date only (00:00)
        raise InputError(
            f"order {order_id} ({ordered_at:%Y-%m-%d %H:%M}) is older than coupon {display(c)} "
            f"(issued {issued_at:%Y-%m-%d %H:%M})",
            hint="Redeem coupons on orders placed after issue.",
        )
    if amount < threshold:
        raise InputError(
            f"order {order_id} is ¥{amount:,.2f}, below the coupon's threshold of ¥{threshold:,.2f}",
            hint="The coupon applies to orders at or above its threshold (满减门槛).",
        )
    used = con.execute("SELECT code FROM coupons WHERE redeemed_order_id = ? LIMIT 1", [order_id]).fetchone()
    if used and used[0] == c:  # redeemed on this very order a moment ago (another till)
        raise _already(c, None)
    if used:
        raise InputError(f"order {order_id} already used coupon {display(used[0])}", hint="One coupon per order.")
    discount = Offer(kind, value, threshold).discount_on(amount)
    at = now or brand_now()
    try:
        con.execute("BEGIN TRANSACTION")
        changed = con.execute(
            "UPDATE coupons SET redeemed_at = ?, redeemed_order_id = ?, redeemed_store_id = ?, discount = ? "
            "WHERE code = ? AND redeemed_at IS NULL RETURNING code",
            [at, order_id, store_id or o_store, discount, c],
        ).fetchall()
        if len(changed) != 1:
            con.execute("ROLLBACK")
            raise _already(
                c,
                con.execute(
                    "SELECT redeemed_at, redeemed_order_id, redeemed_store_id FROM coupons WHERE code = ?", [c]
                ).fetchone(),
            )
        con.execute("COMMIT")
    except duckdb.TransactionException:  # another till changed the row first
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise _already(c, None) from None
    return {
        "code": display(c),
        "member_id": member_id,
        "campaign_id": campaign_id,
        "variant": variant,
        "order_id": order_id,
        "store_id": store_id or o_store,
        "amount": amount,
        "discount": discount,
        "redeemed_at": at,
    }


DISCOUNT_SQL = """
    CASE c.offer_kind WHEN 'discount' THEN round(v.amount * c.offer_value / 100.0, 2)
                      WHEN 'voucher' THEN least(c.offer_value, v.amount)
                      WHEN 'gift_pack' THEN least(c.offer_value, v.amount) ELSE 0 END
"""


def redeem_batch(con: duckdb.DuckDBPyConnection, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Redeem many (code, order_id, store_id, at) at once, e.g. a till's offline batch or the demo simulator.

    The same rules as `redeem` (owner, paid order, threshold, issue/expiry window, once only) in one
    set-based conditional UPDATE; codes that break a rule are returned as refused, nothing else changes.
    """
    if not items:
        return {"redeemed": 0, "refused": []}
    codes = [validate(i["code"]) for i in items]
    if len(set(codes)) != len(codes):
        raise InputError("a code appears twice in the batch", hint="Each coupon can be redeemed once.")
    batch = pa.table(
        {
            "code": codes,
            "order_id": [i["order_id"] for i in items],
            "store_id": [i.get("store_id") for i in items],
            "at": [i["at"] for i in items],
        }
    )
    with registered(con, "_redeem_batch", batch):
        try:
            con.execute("BEGIN TRANSACTION")
            done = con.execute(
                f"""
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
            ).fetchall()
            con.execute("COMMIT")
        except Exception:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
    ok = {r[0] for r in done}
    return {"redeemed": len(ok), "refused": [display(c) for c in codes if c not in ok]}
