"""Campaign pipeline speed: create (preview), launch (assign, coupons, tasks, touches), respond, report.

Builds a synthetic warehouse with N members straight in SQL (no import/refresh), then times each step.
Usage: .venv/bin/python benchmarks/campaigns_bench.py [N]   (default 200000). Prints figures; asserts nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from winback.campaigns.launch import launch_campaign
from winback.campaigns.report import campaign_report
from winback.campaigns.scenarios import load_playbook
from winback.campaigns.service import create_campaign
from winback.demo.respond import respond
from winback.lifecycle.rules import default_schemes
from winback.lifecycle.segments_view import record_run
from winback.warehouse import connect

AS_OF = "2026-10-31"


def build(con: duckdb.DuckDBPyConnection, n: int) -> None:
    con.execute("SELECT setseed(0.42)")
    con.execute(f"""
        CREATE TEMP TABLE _m AS
        SELECT 'M' || lpad(i::VARCHAR, 8, '0') AS member_id, 'S' || lpad((i % 40)::VARCHAR, 2, '0') AS store_id,
               'G' || lpad((i % 400)::VARCHAR, 3, '0') AS guide_id,
               CASE WHEN r < 0.2 THEN 'active' WHEN r < 0.35 THEN 'silent' WHEN r < 0.55 THEN 'near_dormant'
                    WHEN r < 0.75 THEN 'hibernating' WHEN r < 0.95 THEN 'lost' ELSE 'never_purchased' END AS segment,
               100 + 400 * random() AS aov
        FROM (SELECT range AS i, random() AS r FROM range({n}))
    """)
    con.execute(
        "INSERT INTO members (member_id, name, phone_status, store_id, guide_id, source, consent_call) "
        "SELECT member_id, '会员' || member_id, 'mobile', store_id, guide_id, 'erp', random() > 0.05 FROM _m"
    )
    # the segment is planted through last_purchase (recency) and read back through the seed_cn rules
    recency = (
        "CASE segment WHEN 'active' THEN 30 WHEN 'silent' THEN 120 WHEN 'near_dormant' THEN 250 "
        "WHEN 'hibernating' THEN 500 WHEN 'lost' THEN 900 END"
    )
    con.execute(
        f"INSERT INTO member_snapshot (as_of, member_id, store_id, guide_id, orders, purchase_days, monetary, "
        f"last_purchase, clv) SELECT DATE '{AS_OF}', member_id, store_id, guide_id, "
        f"CASE WHEN segment = 'never_purchased' THEN 0 ELSE 3 END, CASE WHEN segment = 'never_purchased' THEN 0 "
        f"ELSE 3 END, aov * 3, DATE '{AS_OF}' - CAST({recency} AS INTEGER), aov FROM _m"
    )
    seed_cn = default_schemes()["seed_cn"]
    record_run(con, dt.date.fromisoformat(AS_OF), [seed_cn], engine="duckdb", members=n, settings={})


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    pb = load_playbook()
    t0 = dt.datetime(2026, 11, 2, 9)
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        s = time.perf_counter()
        build(con, n)
        print(f"members                {n:>10,}   build {time.perf_counter() - s:6.2f} s")
        steps = [
            (
                "create (preview)",
                lambda: create_campaign(
                    con, pb, "new_store_opening", holdout=0.1, variants=["A:voucher:50:200", "B:discount:15"], now=t0
                ),
            ),
            ("launch", lambda: launch_campaign(con, pb, "C0001", now=t0)),
            ("respond (simulate)", lambda: respond(con, "C0001")),
            ("report", lambda: campaign_report(con, "C0001", now=t0 + dt.timedelta(days=20))),
            ("report --by guide", lambda: campaign_report(con, "C0001", by="guide", now=t0 + dt.timedelta(days=20))),
        ]
        for name, fn in steps:
            s = time.perf_counter()
            out = fn()
            extra = ""
            if name == "launch":
                extra = f"audience {out['members']:,}, coupons {out['coupons']:,}"
            if name.startswith("respond"):
                extra = f"orders {out['orders']:,}, redeemed {out['redeemed']:,}"
            print(f"{name:<22} {time.perf_counter() - s:10.2f} s   {extra}")
        con.close()


if __name__ == "__main__":
    main()
