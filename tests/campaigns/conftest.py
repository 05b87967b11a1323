"""A small synthetic brand written straight into a warehouse: members, staff, stores, a lifecycle snapshot."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from winback.app import Winback
from winback.config import Settings
from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.rules import default_schemes
from winback.lifecycle.store import record_run
from winback.warehouse.registered import registered

AS_OF = dt.date(2026, 10, 31)
SEGMENTS = ["active", "silent", "near_dormant", "hibernating", "lost", "never_purchased"]
SEG_P = [0.2, 0.15, 0.2, 0.2, 0.2, 0.05]
RECENCY = {
    "active": (1, 89),
    "silent": (90, 179),
    "near_dormant": (180, 364),
    "hibernating": (365, 729),
    "lost": (731, 1500),
}


def build_brand(con: duckdb.DuckDBPyConnection, n: int = 4000, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    stores = [f"S{i:02d}" for i in range(1, 5)]
    guides = {s: [f"G{s[1:]}{j}" for j in range(1, 3)] for s in stores}
    con.execute(
        "INSERT INTO stores (store_id, name, city) SELECT * FROM (VALUES "
        + ", ".join(f"('{s}', '{s} 旗舰店', '上海')" for s in stores)
        + ")"
    )
    con.execute(
        "INSERT INTO staff (guide_id, name, store_id, role) SELECT * FROM (VALUES "
        + ", ".join(f"('{g}', '导购{g}', '{s}', 'guide')" for s in stores for g in guides[s])
        + ")"
    )
    members, snap = [], []
    for i in range(n):
        mid = f"M{i:05d}"
        store = stores[int(rng.integers(0, 4))]
        guide = None if rng.random() < 0.05 else guides[store][int(rng.integers(0, 2))]
        seg = str(rng.choice(SEGMENTS, p=SEG_P))
        orders = 0 if seg == "never_purchased" else int(1 + rng.poisson(2))
        aov = None if orders == 0 else float(rng.gamma(4, 80))
        rec = None if seg == "never_purchased" else int(rng.integers(*RECENCY[seg]))
        members.append(
            {
                "member_id": mid,
                "name": f"会员{i}",
                "phone_status": "mobile",
                "store_id": store,
                "guide_id": guide,
                "source": "erp",
                "consent_call": bool(rng.random() >= 0.05),
                "consent_sms": None if rng.random() < 0.3 else True,
                "opted_out_at": dt.datetime(2026, 1, 1) if rng.random() < 0.02 else None,
            }
        )
        snap.append(
            {
                "as_of": AS_OF,
                "member_id": mid,
                "store_id": store,
                "guide_id": guide,
                "orders": orders,
                "purchase_days": orders,
                "monetary": round((aov or 0) * orders, 2),  # aov and recency_days are derived by the table
                "last_purchase": None if rec is None else AS_OF - dt.timedelta(days=rec),
                "clv": (aov or 0) * 0.5,
            }
        )
    # member_snapshot is a view since migration 015 (issue 14); hand-built snapshot rows go where the view reads
    # the rows of snapshots it did not compute itself (member_snapshot_stored)
    for name, rows in (("members", members), ("member_snapshot_stored", snap)):
        with registered(con, "_rows", pa.Table.from_pylist(rows)):
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
    # the seed_cn segments follow from recency_days through the shipped rules (member_segments is a view)
    record_run(DuckDBEngine(con), AS_OF, [default_schemes()["seed_cn"]], engine="duckdb", members=n, settings={})


def brand_app(path: Path, n: int = 4000, **settings: Any) -> Winback:
    """A Winback over a new warehouse at `path` holding the synthetic brand."""
    wb = Winback(Settings(db_path=path, **settings))
    build_brand(wb.db().con, n=n)
    return wb


@pytest.fixture
def brand(tmp_path: Path) -> Iterator[Winback]:
    """The app over a warehouse with the synthetic brand (its services: brand.campaigns, brand.coupons)."""
    wb = brand_app(tmp_path / "brand.duckdb")
    yield wb
    wb.close()


def count(wb: Winback, sql: str, params: list[object] | None = None) -> int:
    """A count read from the app's warehouse."""
    value = wb.db().scalar(sql, params)
    assert value is not None
    return int(value)
