"""Generate the whole demo brand into a folder: the export files and the planted truth, chunk by chunk.

Members are drawn in chunks of `CHUNK` (each from its own random stream) and every chunk's rows are appended
to the files before the next chunk is drawn, so memory stays bounded at any size. Same spec, same bytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.demo.brand import STREAM_WALKIN, DemoSpec, make_brand, staff_table, stores_table
from winback.demo.erp import members_table
from winback.demo.exports import MIXED, Exports
from winback.demo.orders import order_rows
from winback.demo.people import Behaviour, Members, make_members
from winback.demo.purchases import Calendar, Outcome, Purchases, simulate, walk_ins
from winback.demo.vocab import CATEGORIES, TIERS
from winback.demo.wechat import wechat_rows

CHUNK = 50_000
WALK_IN_RATIO = 0.65  # walk-in sales per member sale
STREAM_CHUNK_EXTRA = 10  # random streams for a chunk's purchases, orders and contacts

#: progress(stage, done, total)
Progress = Callable[[str, int, int | None], None]


@dataclass
class Generated:
    files: dict[str, Path]
    members: int = 0
    orders: int = 0  # distinct sales (member and walk-in)
    order_rows: int = 0  # export rows: sale lines and refunds
    refunds: int = 0
    revenue: float = 0.0  # net of refunds
    wechat_contacts: int = 0
    duplicates: int = 0
    stores: int = 0
    guides: int = 0
    seconds: float = 0.0
    truth: dict[str, float] = field(default_factory=dict)


def _concat(a: Purchases, b: Purchases) -> Purchases:
    return Purchases(*(np.r_[getattr(a, f), getattr(b, f)] for f in a.__dataclass_fields__))


def truth_table(
    spec: DemoSpec, m: Members, o: Outcome, spend: np.ndarray, tier: np.ndarray, in_wechat: np.ndarray
) -> pa.Table:
    """What was planted for each ERP member (docs/CONTRACTS.md, demo truth)."""
    start = np.datetime64(spec.start, "D")

    def day_or_null(d: np.ndarray) -> pa.Array:
        return pa.array(start + np.maximum(d, 0).astype("timedelta64[D]"), mask=d < 0)

    recency = np.where(o.last_day >= 0, spec.days - 1 - o.last_day, -1)
    return pa.table(
        {
            "member_id": m.member_id,
            "lam": pa.array(m.lam),
            "p": pa.array(m.p),
            "mean_amount": pa.array(np.round(m.nu, 2)),
            "buyer": pa.array(m.buyer),
            "alive_at_end": pa.array(o.alive_at_end),
            "orders": pa.array(o.orders),
            "first_purchase": day_or_null(o.first_day),
            "last_purchase": day_or_null(o.last_day),
            "recency_days": pa.array(recency, mask=recency < 0),
            "net_spend": pa.array(np.round(spend, 2)),
            "register_date": pa.array(start + m.register_day.astype("timedelta64[D]")),
            "register_channel": pa.array(np.where(m.online, "online", "offline")),
            "category": pa.array(np.array([c.name for c in CATEGORIES])[m.category]),
            "tier": pa.array(np.array(TIERS)[tier]),
            "phone_planted": pa.array(np.array(["valid", "invalid", "missing"])[m.phone_state]),
            "in_guide_wechat": pa.array(in_wechat),
        }
    )


def generate(
    spec: DemoSpec,
    out_dir: Path,
    *,
    layout: str = MIXED,
    behaviour: Behaviour | None = None,
    progress: Progress | None = None,
) -> Generated:
    started = time.perf_counter()
    say: Progress = progress or (lambda stage, done, total: None)
    beh = behaviour or Behaviour()
    out_dir.mkdir(parents=True, exist_ok=True)
    brand = make_brand(spec)
    cal = Calendar(spec)
    ex = Exports(out_dir, layout)
    ex.write_master(stores_table(spec, brand), staff_table(spec, brand))
    result = Generated(files={}, stores=len(brand.store_id), guides=len(brand.guide_id))
    n_asleep = 0
    n_never = 0
    try:
        for chunk, offset in enumerate(range(0, spec.members, CHUNK)):
            n = min(CHUNK, spec.members - offset)
            m = make_members(spec, brand, chunk, offset, n, beh)
            rng = spec.rng(STREAM_CHUNK_EXTRA, chunk)
            sales, outcome = simulate(spec, brand, m, cal, rng)
            walk_rng = spec.rng(STREAM_WALKIN, chunk)
            walk = walk_ins(spec, brand, cal, walk_rng, round(len(sales) * WALK_IN_RATIO))
            rows = order_rows(spec, brand, _concat(sales, walk), m.member_id, m.category, n, chunk, rng)
            table, tier = members_table(spec, brand, m, rows.net_by_member, rng)
            contacts = wechat_rows(spec, brand, m, rng)
            in_wechat = np.zeros(n, dtype=bool)
            in_wechat[contacts.duplicate_members] = True
            ex.append("members", table)
            ex.append("wechat", contacts.table)
            ex.append("orders", rows.table)
            ex.append("truth_members", truth_table(spec, m, outcome, rows.net_by_member, tier, in_wechat))
            ex.append("truth_duplicates", contacts.duplicate_of)
            result.members += n
            result.orders += rows.orders
            result.order_rows += rows.table.num_rows
            result.refunds += rows.refunds
            result.revenue += float(pc.sum(rows.table.column("实收金额")).as_py() or 0.0)
            result.wechat_contacts += contacts.table.num_rows
            result.duplicates += contacts.duplicate_of.num_rows
            recency = spec.days - 1 - outcome.last_day
            n_asleep += int(np.sum((outcome.last_day < 0) | (recency >= 90)))
            n_never += int(np.sum(outcome.last_day < 0))
            say("generate", result.members, spec.members)
    finally:
        result.files = ex.close()
    result.revenue = round(result.revenue, 2)
    result.truth = {
        "share_no_purchase_90d": n_asleep / max(result.members, 1),
        "share_never_purchased": n_never / max(result.members, 1),
    }
    result.seconds = time.perf_counter() - started
    return result
