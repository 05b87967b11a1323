"""The coupons' SQL: redeeming at the till (one code, or a batch) so a code is used once, reading and voiding
coupons (the launch issues them: store_launch.py).

A redemption, one or many, is one read (`facts`: every attempt's coupon, paid order, the code already on that
order, its store, in one statement) and one conditional UPDATE (`mark_winners`), in one transaction: the read and
the write see the same snapshot, and two tills redeeming the same code at the same moment cannot both change
the row (only one UPDATE … WHERE redeemed_at IS NULL does; the other meets DuckDB's write-write conflict, an
EngineError of kind "conflict", and is decided again on a fresh snapshot: already redeemed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.campaigns.scenarios import Offer
from winback.campaigns.types import CouponRow, PaidOrder, RedeemFacts
from winback.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from winback.campaigns.redeem import Attempt
    from winback.engine.duckdb_engine import DuckDBEngine


_COUPON_COLUMNS = (
    "code, member_id, campaign_id, variant_key, offer_kind, offer_value, offer_threshold, issued_at, expires_at, "
    "redeemed_at, redeemed_order_id, redeemed_store_id, voided_at, voided_by, void_reason"
)


def _coupon_row(row: tuple[Any, ...]) -> CouponRow:
    code, member_id, campaign_id, variant, kind, value, threshold, issued_at, expires_at, *rest = row
    return CouponRow(code, member_id, campaign_id, variant, Offer(kind, value, threshold), issued_at, expires_at, *rest)


def coupon(db: DuckDBEngine, code: str) -> CouponRow | None:
    row = db.fetchone(f"SELECT {_COUPON_COLUMNS} FROM coupons WHERE code = ?", [code])
    return None if row is None else _coupon_row(row)


_FACTS_SQL = f"""
    WITH o AS (
        SELECT order_id, member_id, sum(amount)::DOUBLE AS amount, min(ordered_at) AS ordered_at,
               any_value(store_id) AS store_id
        FROM orders WHERE status = 'paid' AND order_id IN (SELECT order_id FROM _attempts)
        GROUP BY order_id, member_id
    ), u AS (
        SELECT redeemed_order_id AS order_id, min(code) AS code FROM coupons
        WHERE redeemed_order_id IN (SELECT order_id FROM _attempts) GROUP BY 1
    )
    SELECT b.i, {", ".join("c." + c.strip() for c in _COUPON_COLUMNS.split(","))},
           o.order_id, o.member_id, o.amount, o.ordered_at, o.store_id, u.code, s.store_id IS NOT NULL
    FROM _attempts b LEFT JOIN coupons c ON c.code = b.code LEFT JOIN o ON o.order_id = b.order_id
    LEFT JOIN u ON u.order_id = b.order_id LEFT JOIN stores s ON s.store_id = b.store_id
"""
_ATTEMPTS = pa.schema([("i", pa.int64()), ("code", pa.string()), ("order_id", pa.string()), ("store_id", pa.string()),
                       ("at", pa.timestamp("us"))])  # fmt: skip


@contextlib.contextmanager
def attempts_table(db: DuckDBEngine, attempts: list[Attempt]) -> Iterator[None]:
    """The attempts visible as `_attempts` (i, code, order_id, store_id, at) for `facts` and `mark_winners`."""
    table = pa.Table.from_pydict(
        {"i": list(range(len(attempts))), "code": [a.code for a in attempts],
         "order_id": [a.order_id for a in attempts], "store_id": [a.store_id for a in attempts],
         "at": [a.at for a in attempts]},
        schema=_ATTEMPTS,
    )  # fmt: skip
    with db.registered("_attempts", table):
        yield


@contextlib.contextmanager
def redemption(db: DuckDBEngine, *, begin: bool = True) -> Iterator[None]:
    """One redemption's transaction (its read and its write on one snapshot): COMMIT at the end, ROLLBACK on
    any error (a write-write conflict aborts the transaction: its ROLLBACK cannot fail the caller). `begin=False`:
    the block's first statement opens it (`facts(..., begin=True)`), one call fewer."""
    if begin:
        db.execute("BEGIN TRANSACTION")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(EngineError):
            db.execute("ROLLBACK")
        raise


def facts(db: DuckDBEngine, n: int, *, begin: bool = False) -> list[RedeemFacts]:
    """What the rule needs about each of the `n` attempts of `_attempts`, in their order, in one statement: the
    coupon, the paid order summed over its lines, the code already redeemed on that order, the store known.
    `begin`: the same call opens the transaction first (BEGIN TRANSACTION; the read)."""
    found: dict[int, RedeemFacts] = {}
    for row in db.fetchall(("BEGIN TRANSACTION; " if begin else "") + _FACTS_SQL):
        i, coupon_row, order_row, used, known = row[0], row[1:16], row[16:21], row[21], row[22]
        coupon = _coupon_row(coupon_row) if coupon_row[0] is not None else None
        order = PaidOrder(*order_row) if order_row[0] is not None else None
        found[i] = RedeemFacts(coupon, order, used, bool(known))
    return [found[i] for i in range(n)]


_MARK_SQL = """
    UPDATE coupons c SET redeemed_at = b.at, redeemed_order_id = b.order_id, redeemed_store_id = b.store_id,
           discount = w.discount
    FROM _attempts b JOIN _winners w ON w.i = b.i
    WHERE c.code = b.code AND c.redeemed_at IS NULL AND c.voided_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM coupons u WHERE u.redeemed_order_id = b.order_id)
"""
_WINNERS = pa.schema([("i", pa.int64()), ("discount", pa.float64())])
#: a statement written in the same call as the UPDATE, before it (e.g. the round's audit insert), and the Arrow
#: tables it reads, by name
Rider = tuple[str, dict[str, pa.Table]]


def mark_winners(db: DuckDBEngine, winners: dict[int, float], rider: Rider | None = None) -> int:
    """The conditional UPDATE of the attempts `winners` (index in `_attempts` -> discount), inside the caller's
    transaction, in one call with `rider`'s statement: a coupon changes only while it is unredeemed and unvoided
    and its order carries no coupon yet (exactly once, kept by the database: a concurrent writer of the same rows
    is a write-write conflict, an EngineError of kind "conflict"). Returns how many rows changed. No RETURNING:
    DuckDB takes 22 s to return 68k updated rows, against 0.03 s for the UPDATE alone."""
    sql, tables = rider or ("", {})
    statements = [x for x in (sql, _MARK_SQL if winners else "") if x]
    if not statements:
        return 0
    tables = {**tables, "_winners": pa.Table.from_pydict({"i": list(winners), "discount": list(winners.values())},
                                                         schema=_WINNERS)}  # fmt: skip
    for name, table in tables.items():
        db.register(name, table)
    # a failed call aborts the transaction, where nothing can be unregistered: the views then stay until a later
    # register of the same name replaces them, and the statement's error (a conflict: decided again) is raised
    changed = db.fetchall("; ".join(statements))  # DuckDB answers with the last statement's row count
    for name in tables:
        db.unregister(name)
    return int(changed[0][0]) if winners and changed else 0


# -- voiding ------------------------------------------------------------------------------------------------

_VOID_SET = "SET voided_at = ?, voided_by = ?, void_reason = ? "
_UNUSED = "redeemed_at IS NULL AND voided_at IS NULL"


def void_code(db: DuckDBEngine, code: str, *, at: dt.datetime, by: str, reason: str) -> bool:
    """Void one unredeemed, unvoided coupon; False when it was not (any longer) voidable."""
    with db.transaction():
        changed = db.fetchall(f"UPDATE coupons {_VOID_SET}WHERE code = ? AND {_UNUSED}", [at, by, reason, code])
    return bool(changed and changed[0][0])  # DuckDB answers an UPDATE with its row count


def void_campaign(db: DuckDBEngine, campaign_id: str, *, at: dt.datetime, by: str, reason: str) -> int:
    """Void every unredeemed coupon of the campaign, in one transaction; returns how many."""
    with db.transaction():
        return void_campaign_coupons(db, campaign_id, at=at, by=by, reason=reason)


def void_campaign_coupons(db: DuckDBEngine, campaign_id: str, *, at: dt.datetime, by: str, reason: str) -> int:
    """The UPDATE of `void_campaign`, inside the caller's transaction (closing a campaign)."""
    sql = f"UPDATE coupons {_VOID_SET}WHERE campaign_id = ? AND {_UNUSED}"  # no RETURNING: slow for many rows
    changed = db.fetchall(sql, [at, by, reason, campaign_id])
    return int(changed[0][0]) if changed else 0
