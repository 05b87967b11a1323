"""The tills' redemption latency: 50 concurrent tills against a real uvicorn on loopback.

Builds the demo brand (N members, seed 7), launches a campaign, gives K coupons of three stores a paid order each,
makes one bearer token per store (TokensService), serves the console in a thread, then 50 threads (--tills) (one
httpx client each, released together by a barrier) send every code twice, from two tills: K successes and K
"already redeemed" (409). Prints p50 / p95 / p99 / max latency per answer and in all, and the throughput.
Usage: .venv/bin/python benchmarks/till_bench.py [--members 8000] [--codes 500] [--tills 50].
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings
from winback.web.server import bind, create_app, make_server
from winback.web.tokens_service import TokensService


def prepare(wb: Winback, k: int) -> list[tuple[str, str, str]]:
    cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name="till bench")).campaign.campaign_id
    wb.campaigns.launch(cid)
    db = wb.db()
    rows = db.fetchall(
        """
        WITH top AS (SELECT m.store_id FROM coupons c JOIN members m USING (member_id) JOIN stores USING (store_id)
                     WHERE c.campaign_id = ? GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3)
        SELECT c.code, c.member_id, m.store_id, c.issued_at FROM coupons c JOIN members m USING (member_id)
        WHERE c.campaign_id = ? AND m.store_id IN (SELECT store_id FROM top) ORDER BY c.code LIMIT ?
        """,
        [cid, cid, k],
    )
    db.executemany(
        "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
        "VALUES (?, ?, ?, ?, ?, 99999, 'paid')",
        [[f"B{i:06d}", m, m, s, at] for i, (_, m, s, at) in enumerate(rows)],
    )
    return [(c, s, f"B{i:06d}") for i, (c, _, s, _) in enumerate(rows)]


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=8000)
    ap.add_argument("--codes", type=int, default=500)
    ap.add_argument("--tills", type=int, default=50)
    ap.add_argument("--keepalive", action="store_true", help="keep each till's connection open")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="till-bench-"))
    t0 = time.perf_counter()
    wb = Winback(Settings.load(environ={}, db_path=out / "wb.duckdb"))
    wb.demo.run(out, members=args.members, seed=7)
    coupons = prepare(wb, args.codes)
    tokens = {s: TokensService(wb).add(s).token for s in sorted({s for _, s, _ in coupons})}
    took = time.perf_counter() - t0
    print(f"built: {args.members:,} members, {len(coupons)} codes, {len(tokens)} stores in {took:.1f} s")
    app = create_app(wb, secret="bench")
    sock = bind("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    app.state.ready.wait(30)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    attempts = [*coupons, *reversed(coupons)]  # every code from two tills
    timings: dict[int, list[float]] = {}
    tills = args.tills
    barrier = threading.Barrier(tills)

    def till(i: int) -> None:
        # a connection per redemption by default: on this stack a kept-alive connection adds a flat ~44 ms
        # to every answer after the first (see docs/web.md); --keepalive measures that way too
        with httpx.Client(base_url=url, timeout=60, headers={} if args.keepalive else {"Connection": "close"}) as c:
            barrier.wait()
            for code, store, order in attempts[i::tills]:
                t = time.perf_counter()
                r = c.post(f"/api/coupons/{code}/redeem", json={"order_id": order, "store_id": store},
                           headers={"Authorization": f"Bearer {tokens[store]}"})  # fmt: skip
                timings.setdefault(r.status_code, []).append(time.perf_counter() - t)

    t1 = time.perf_counter()
    threads = [threading.Thread(target=till, args=(i,)) for i in range(tills)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t1
    every = [x for xs in timings.values() for x in xs]
    print(f"{len(every)} redemptions by {tills} concurrent tills in {wall:.2f} s ({len(every) / wall:.0f}/s)")
    for status, xs in [*sorted(timings.items()), (0, every)]:
        name = {0: "all", 200: "redeemed", 409: "already redeemed"}.get(status, str(status))
        print(f"  {name:<17} n={len(xs):>5}  p50 {pct(xs, 0.5):6.1f} ms  p95 {pct(xs, 0.95):6.1f} ms  "
              f"p99 {pct(xs, 0.99):6.1f} ms  max {max(xs) * 1000:6.1f} ms  "
              f"mean {statistics.mean(xs) * 1000:.1f} ms")  # fmt: skip
    server.should_exit = True
    thread.join(30)
    wb.close()


if __name__ == "__main__":
    main()
