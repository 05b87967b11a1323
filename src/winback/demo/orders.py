"""Sales → the rows of a POS order export: line-level rows sharing an order id, refunds as 退货 rows.

A third of the orders have two or three lines (SKU, category, quantity, the line's share of the amount); about
4 % of orders get a refund of their first line 1-14 days later, as its own document (单号 TH…, 原单号 = the sale)
with negative amount and quantity. Walk-in sales have no 会员卡号.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo.brand import Brand, DemoSpec
from winback.demo.purchases import Purchases
from winback.demo.vocab import CATEGORIES, SKUS_PER_CATEGORY

REFUND_SHARE = 0.04
ORDER_COLUMNS = (
    "单号",
    "会员卡号",
    "门店",
    "导购",
    "渠道",
    "销售时间",
    "商品编码",
    "品类",
    "件数",
    "实收金额",
    "状态",
    "原单号",
)
_CAT_NAME = pa.array([c.name for c in CATEGORIES])
_CAT_SHARE = np.array([c.share for c in CATEGORIES]) / sum(c.share for c in CATEGORIES)
_SKU_P = 1.0 / np.arange(1, SKUS_PER_CATEGORY + 1)  # a few best sellers, a long tail
_SKU_P /= _SKU_P.sum()
_SKU = pa.array([f"{c.code}{1001 + k}" for c in CATEGORIES for k in range(SKUS_PER_CATEGORY)])


@dataclass
class OrderRows:
    table: pa.Table  # the export rows (sales lines and refund rows)
    net_by_member: np.ndarray  # per member of the chunk: sales minus refunds (RMB)
    orders: int  # distinct sale orders
    refunds: int


def _order_ids(prefix: str, day_dates: np.ndarray, chunk: int, seq: np.ndarray) -> pa.Array:
    """'XS' + yymmdd + chunk (3 digits) + sequence (7 digits): unique across chunks, readable by a person."""
    d = day_dates.astype("datetime64[D]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    number = ((year % 100) * 10_000 + month * 100 + day) * 10**10 + chunk * 10**7 + seq
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(pa.array(number).cast(pa.string()), 16, "0"), "")


def _split(rng: np.random.Generator, amount: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Each order's amount split over its lines (shares ~ Dirichlet(2)); line amounts add up to the cent."""
    owner = np.repeat(np.arange(len(amount)), lines)
    w = rng.gamma(2.0, 1.0, len(owner))
    total = np.bincount(owner, weights=w, minlength=len(amount))
    part = np.round(amount[owner] * w / total[owner], 2)
    first = np.cumsum(lines) - lines
    diff = amount - np.bincount(owner, weights=part, minlength=len(amount))
    part[first] += np.round(diff, 2)
    return np.round(part, 2)


@dataclass
class _Lines:
    """Each sale's lines: which order a line is in, the order's first line, category, SKU, quantity, amount."""

    owner: np.ndarray
    first: np.ndarray
    cat: np.ndarray
    sku: pa.Array
    qty: np.ndarray
    amount: np.ndarray


@dataclass
class _Parties:
    """Per sale: the member card (None for walk-ins), store, guide (None when none) and channel."""

    card: pa.Array
    store_id: pa.Array
    guide_id: pa.Array
    channel: pa.Array


def _draw_lines(rng: np.random.Generator, sales: Purchases, member_category: np.ndarray) -> _Lines:
    """One to three lines per sale; a member's lines lean to their main category."""
    n = len(sales)
    lines = 1 + (rng.random(n) < 0.3).astype(np.int64) + (rng.random(n) < 0.1).astype(np.int64)
    owner = np.repeat(np.arange(n), lines)
    main = np.where(sales.member >= 0, member_category[np.maximum(sales.member, 0)], -1)
    cat = rng.choice(len(CATEGORIES), size=len(owner), p=_CAT_SHARE)
    use_main = (main[owner] >= 0) & (rng.random(len(owner)) < 0.6)
    cat = np.where(use_main, main[owner], cat)
    sku_no = rng.choice(SKUS_PER_CATEGORY, size=len(owner), p=_SKU_P)
    sku = _SKU.take(pa.array(cat * SKUS_PER_CATEGORY + sku_no))
    qty = 1 + (rng.random(len(owner)) < 0.15).astype(np.int64) + (rng.random(len(owner)) < 0.05).astype(np.int64)
    amount = _split(rng, sales.amount, lines)
    return _Lines(owner=owner, first=np.cumsum(lines) - lines, cat=cat, sku=sku, qty=qty, amount=amount)


def _draw_refunds(rng: np.random.Generator, spec: DemoSpec, sales: Purchases) -> tuple[np.ndarray, np.ndarray]:
    """The sales whose first line is refunded, and each sale's refund delay (1-14 days; inside the history)."""
    n = len(sales)
    refund_after = rng.integers(1, 15, n)
    refunded = (rng.random(n) < REFUND_SHARE) & (sales.day + refund_after < spec.days)
    return np.flatnonzero(refunded), refund_after


def _parties(brand: Brand, sales: Purchases, member_ids: pa.Array) -> _Parties:
    none = pa.scalar(None, pa.string())
    return _Parties(
        card=pc.if_else(pa.array(sales.member >= 0), member_ids.take(pa.array(np.maximum(sales.member, 0))), none),
        store_id=pa.array(brand.store_id).take(pa.array(sales.store)),
        guide_id=pc.if_else(
            pa.array(sales.guide >= 0), pa.array(brand.guide_id).take(pa.array(np.maximum(sales.guide, 0))), none
        ),
        channel=pc.if_else(pa.array(sales.online), pa.scalar("线上"), pa.scalar("线下")),
    )


def _export_rows(
    ids: pa.Array,
    parties: _Parties,
    sale: pa.Array,
    at: np.ndarray,
    lines: _Lines,
    line: np.ndarray | None,
    status: str,
    original: pa.Array,
) -> pa.Table:
    """Export rows for the sales `sale` (one row each), of the lines `line` (None: every line, in order);
    refund rows negate quantity and amount."""
    refund = status == "退货"
    sku = lines.sku if line is None else lines.sku.take(pa.array(line))
    cat = lines.cat if line is None else lines.cat[line]
    qty = (lines.qty if line is None else lines.qty[line]).astype(np.int32)
    amount = lines.amount if line is None else lines.amount[line]
    return pa.table(
        {
            "单号": ids,
            "会员卡号": parties.card.take(sale),
            "门店": parties.store_id.take(sale),
            "导购": parties.guide_id.take(sale),
            "渠道": parties.channel.take(sale),
            "销售时间": pa.array(at),
            "商品编码": sku,
            "品类": _CAT_NAME.take(pa.array(cat)),
            "件数": pa.array(-qty if refund else qty),
            "实收金额": pa.array(-amount if refund else amount),
            "状态": pa.repeat(pa.scalar(status), len(sale)),
            "原单号": original,
        }
    )


def order_rows(
    spec: DemoSpec,
    brand: Brand,
    sales: Purchases,
    member_ids: pa.Array,
    member_category: np.ndarray,
    n_members: int,
    chunk: int,
    rng: np.random.Generator,
) -> OrderRows:
    n = len(sales)
    sale_date = np.datetime64(spec.start, "D") + sales.day.astype("timedelta64[D]")
    order_id = _order_ids("XS", sale_date, chunk, np.arange(n))
    ts = sale_date.astype("datetime64[s]") + sales.second.astype("timedelta64[s]")
    lines = _draw_lines(rng, sales, member_category)
    # refunds of the first line of some orders, 1-14 days later, when that is still inside the history
    r_idx, refund_after = _draw_refunds(rng, spec, sales)
    r_line = lines.first[r_idx]
    r_date = sale_date[r_idx] + refund_after[r_idx].astype("timedelta64[D]")
    r_ts = (
        r_date.astype("datetime64[s]")
        + sales.second[r_idx].astype("timedelta64[s]") // 2
        + np.timedelta64(10 * 3600, "s")
    )
    parties = _parties(brand, sales, member_ids)
    owner = pa.array(lines.owner)
    sale_rows = _export_rows(
        order_id.take(owner), parties, owner, ts[lines.owner], lines, None, "销售", pa.nulls(len(owner), pa.string())
    )
    r_pa = pa.array(r_idx)
    refund_rows = _export_rows(
        _order_ids("TH", r_date, chunk, r_idx), parties, r_pa, r_ts, lines, r_line, "退货", order_id.take(r_pa)
    )
    member_of_row = np.r_[sales.member[lines.owner], sales.member[r_idx]]
    amount_of_row = np.r_[lines.amount, -lines.amount[r_line]]
    mine = member_of_row >= 0
    net = np.bincount(member_of_row[mine], weights=amount_of_row[mine], minlength=n_members)
    return OrderRows(pa.concat_tables([sale_rows, refund_rows]), net, n, len(r_idx))
