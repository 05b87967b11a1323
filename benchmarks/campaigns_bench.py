"""Campaign pipeline speed: create (preview), launch (assign, coupons, tasks, touches), respond, report, close.

Builds a synthetic warehouse with N members straight in SQL (no import/refresh), then times each step through
the app's services (wb.campaigns) and the demo's response simulator.
Usage: .venv/bin/python benchmarks/campaigns_bench.py [N]   (default 200000). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings
from winback.demo.respond import respond
from winback.engine.duckdb_engine import DuckDBEngine
from winback.lifecycle.rules import default_schemes
from winback.lifecycle.store import record_run

AS_OF = "2026-10-31"


def build(db: DuckDBEngine, n: int) -> None:
    db.execute("SELECT setseed(0.42)")
    db.execute(f"""
        CREATE TEMP TABLE _m AS
        SELECT 'M' || lpad(i::VARCHAR, 8, '0') AS member_id, 'S' || lpad((i % 40)::VARCHAR, 2, '0') AS store_id,
               'G' || lpad((i % 400)::VARCHAR, 3, '0') AS guide_id,
               CASE WHEN r < 0.2 THEN 'active' WHEN r < 0.35 THEN 'silent' WHEN r < 0.55 THEN 'near_dormant'
                    WHEN r < 0.75 THEN 'hibernating' WHEN r < 0.95 THEN 'lost' ELSE 'never_purchased' END AS segment,
               100 + 400 * random() AS aov
        FROM (SELECT range AS i, random() AS r FROM range({n}))
    """)
    db.execute(  # the tills' stores (a redemption must name a store of the brand)
        "INSERT INTO stores (store_id, name, city) SELECT DISTINCT store_id, store_id || ' 店', '上海' FROM _m"
    )
    db.execute(
        "INSERT INTO members (member_id, name, phone_status, store_id, guide_id, source, consent_call) "
        "SELECT member_id, '会员' || member_id, 'mobile', store_id, guide_id, 'erp', random() > 0.05 FROM _m"
    )
    # the segment is planted through last_purchase (recency) and read back through the seed_cn rules
    recency = (
        "CASE segment WHEN 'active' THEN 30 WHEN 'silent' THEN 120 WHEN 'near_dormant' THEN 250 "
        "WHEN 'hibernating' THEN 500 WHEN 'lost' THEN 900 END"
    )
    db.execute(
        f"INSERT INTO member_snapshot_stored (as_of, member_id, store_id, guide_id, orders, purchase_days, monetary, "
        f"last_purchase, clv) SELECT DATE '{AS_OF}', member_id, store_id, guide_id, "
        f"CASE WHEN segment = 'never_purchased' THEN 0 ELSE 3 END, CASE WHEN segment = 'never_purchased' THEN 0 "
        f"ELSE 3 END, aov * 3, DATE '{AS_OF}' - CAST({recency} AS INTEGER), aov FROM _m"
    )
    seed_cn = default_schemes()["seed_cn"]
    record_run(db, dt.date.fromisoformat(AS_OF), [seed_cn], engine="duckdb", members=n, settings={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="?", type=int, default=200_000, help="members to build (default 200000)")
    n = parser.parse_args().members
    t0 = dt.datetime(2026, 11, 2, 9)
    later = t0 + dt.timedelta(days=20)
    with tempfile.TemporaryDirectory() as tmp, Winback(Settings(db_path=Path(tmp) / "bench.duckdb")) as wb:
        s = time.perf_counter()
        build(wb.db(), n)
        print(f"members                {n:>10,}   build {time.perf_counter() - s:6.2f} s")
        request = CampaignRequest("new_store_opening", holdout=0.1, variants=["A:voucher:50:200", "B:discount:15"])
        steps = [
            ("create (preview)", lambda: wb.campaigns.create(request, now=t0)),
            ("launch", lambda: wb.campaigns.launch("C0001", now=t0)),
            ("respond (simulate)", lambda: respond(wb.db(), "C0001", now=later)),
            ("report", lambda: wb.campaigns.report("C0001", now=later)),
            ("report --by guide", lambda: wb.campaigns.report("C0001", by="guide", now=later)),
            ("close (void coupons)", lambda: wb.campaigns.close("C0001", now=later)),
        ]
        for name, fn in steps:
            s = time.perf_counter()
            out = fn().to_dict()
            extra = ""
            if name == "launch":
                extra = f"audience {out['members']:,}, coupons {out['coupons']:,}"
            if name.startswith("respond"):
                extra = f"orders {out['orders']:,}, redeemed {out['redeemed']:,} (one batch, one rule per code)"
            if name.startswith("close"):
                extra = f"coupons voided {out['coupons_voided']:,}"
            print(f"{name:<22} {time.perf_counter() - s:10.2f} s   {extra}")


if __name__ == "__main__":
    main()
