"""The tills' paid orders: the order rows a coupon can still be redeemed against, indexed by order id, so a
redemption round finds its orders by index lookups (milliseconds) instead of scanning `orders` (0.6 s a round at
21M orders, more under load; an index on `orders` itself would cost ~4 GB and 20 s to build at 21M).

The invariant (migration 023 builds it): `till_orders` holds, row for row, every `orders` row with status 'paid'
dated on or after `till_horizon.since` (its order id, member, amount, time, store, as they are now), and `since`
is never later than the issue day of a live coupon (unredeemed, unvoided). Since redeem.py's rule 9 refuses an
order dated before its coupon's issue day, every order that can win a redemption is found here; an order not found
is answered "no paid order … dated on or after the coupon's issue day", which is then exactly true (nothing falls
back to a scan of `orders`: a mistyped order id costs the round nothing, where a scan would cost every till of
the round 0.6 s or more at 21M orders).

Kept by every writer of orders, in the writer's own transaction (tests/campaigns/test_till_orders.py: equal to
the definition after random sequences of imports, status changes, refunds, merges, undos, coupons issued and used):
- `sync(con, where)`: after writing the orders `where` (a predicate over `orders o`) selects, their entries are
  re-derived (deleted by order id, inserted again if paid and within the horizon). An import passes
  `o.import_id = N` (its new rows and the rows whose status it changed carry N), an identity merge or undo the
  orders it moved, the demo's responder the orders it inserted. Keyed by order id, not rowid: a row inserted in
  the open transaction has a provisional rowid until COMMIT.
- `cover(con)`: after issuing coupons: `since` moves to the earliest live issue day; moving back copies the older
  paid orders in (a scan of `orders`, at launch time), moving on drops the older entries.
Orders rows are never deleted; a writer that starts deleting them must delete their entries too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

TABLE = "till_orders"
_COLUMNS = "o.order_id, o.member_id, o.amount, o.ordered_at, o.store_id"
#: the rows of `orders` the table mirrors
PAID_SINCE = "o.status = 'paid' AND o.ordered_at >= (SELECT since FROM till_horizon)"
#: the earliest issue day of a coupon that can still be redeemed (NULL: none)
_LIVE_SINCE = "SELECT date_trunc('day', min(issued_at)) FROM coupons WHERE redeemed_at IS NULL AND voided_at IS NULL"


#: an order's sale row (a refund is its own row, never paid): at most one per order id
_SALE = "o.status <> 'refunded'"


def sync(con: duckdb.DuckDBPyConnection, where: str, params: Sequence[Any] = ()) -> None:
    """Re-derive the entries of the orders `where` selects (a predicate over `orders o`, with `params`), inside
    the caller's transaction, after the caller wrote them: `where` must select each of their orders' sale row
    (the row that can be paid; an import writes at most one per order id, a refund is its own row)."""
    params = list(params)
    if con.execute("SELECT since = 'infinity'::TIMESTAMP FROM till_horizon").fetchall() == [(True,)]:
        return  # no live coupon: the table is empty and stays so (a brand's first import pays nothing here)
    con.execute(
        f"DELETE FROM {TABLE} WHERE order_id IN (SELECT o.order_id FROM orders o WHERE ({where}) AND {_SALE})", params
    )
    con.execute(f"INSERT INTO {TABLE} SELECT {_COLUMNS} FROM orders o WHERE ({where}) AND {PAID_SINCE}", params)


def cover(con: duckdb.DuckDBPyConnection) -> None:
    """Move the horizon to the earliest issue day of a live coupon, inside the caller's transaction (a launch, after
    issuing its coupons): back, copying the older paid orders in; on, dropping the older entries.
    Without live coupons the horizon moves to +infinity and the table empties: no order can win a redemption, and
    the next launch copies in the orders from its issue day on (a brand's first import of 100M orders must not
    fill an indexed mirror of them)."""
    rows = con.execute(f"SELECT live, live < since, live > since FROM ({_LIVE_SINCE}) l(live), till_horizon").fetchall()
    if not rows:
        return
    row = rows[0]
    if row[0] is None:
        con.execute(f"DELETE FROM {TABLE}")
        con.execute("UPDATE till_horizon SET since = 'infinity'::TIMESTAMP")
        return
    if not (row[1] or row[2]):
        return
    live, back = row[0], row[1]
    if back:  # a coupon dated before the horizon: its older orders come in
        con.execute(
            f"INSERT INTO {TABLE} SELECT {_COLUMNS} FROM orders o WHERE o.status = 'paid' AND o.ordered_at >= ? "
            "AND o.ordered_at < (SELECT since FROM till_horizon)",
            [live],
        )
    else:
        con.execute(f"DELETE FROM {TABLE} WHERE ordered_at < ?", [live])
    con.execute("UPDATE till_horizon SET since = ?", [live])
