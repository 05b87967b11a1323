"""The tills' redemption latency: 50 concurrent tills against a real uvicorn on loopback.

Builds the demo brand (N members, seed 7), launches a campaign, gives K coupons of three stores a paid order each,
makes one bearer token per store (TokensService), serves the console in a thread, then 50 threads (--tills) of another
process (one
httpx client each, released together by a barrier) send every code twice, from two tills: K successes and K
"already redeemed" (409). Prints p50 / p95 / p99 / max latency per answer and in all, and the throughput.
--refresh keeps lifecycle refreshes running in the server's background the whole time (one after the other, as
the server's writer jobs; on a server without jobs, under its one lock, as it would have run there), and says how
many ran. --client stdlib sends the same requests with http.client instead of httpx (the tills' CPU, on the
server's cores and under the tills' one GIL, drops several-fold); the wall and throughput are from the barrier
to the last answer, with the CPU seconds of the tills and of the server's process over that time.
Usage: .venv/bin/python benchmarks/till_bench.py [--members 8000] [--codes 500] [--tills 50] [--refresh]
[--client httpx|stdlib] [--keepalive]. Prints figures; asserts nothing. Run it with PYTHONPATH pointing at an
older src/ to measure that one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def refresh_loop(app: object, wb: Winback, stop: threading.Event, begun: threading.Event, done: list[int]) -> None:
    """Refresh after refresh until `stop`: as the server's background jobs, or (an older server without them)
    under the server's one lock, as a refresh there would run. `begun` is set once the first is under way."""
    web = app.state.web  # type: ignore[attr-defined]
    jobs = getattr(web, "jobs", None)
    while not stop.is_set():
        if jobs is not None:
            job = jobs.submit("refresh", "bench", lambda w, _: w.lifecycle.refresh(), username="bench", lang="en")
            begun.set()
            job.finished.wait()
            assert job.state == "done", job.error
        else:
            with web.lock:
                begun.set()
                wb.lifecycle.refresh()
        done[0] += 1


def round_stats(app: object) -> tuple[float, float, float, float]:
    """The tills' rounds so far (count, asks, wall, CPU seconds), or zeros from a server that does not count."""
    r = app.state.web.redeemer  # type: ignore[attr-defined]
    return tuple(float(getattr(r, k, 0)) for k in ("rounds", "settled", "busy", "cpu"))  # type: ignore[return-value]


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000


def sender(url: str, client: str, keepalive: bool) -> Callable[[str, bytes, dict[str, str]], int]:
    """One till's HTTP client: POST (path, JSON body, headers) -> status. A connection per redemption by default
    (a till that wakes, redeems, sleeps); `keepalive` keeps it open. `httpx` (what the issue first measured) or
    `stdlib` (http.client: the same requests on the wire for a fraction of the client's CPU, which on this machine
    is taken from the server's two cores and, in one process, serialised by one GIL)."""
    if client == "httpx":
        c = httpx.Client(base_url=url, timeout=60, headers={} if keepalive else {"Connection": "close"})
        return lambda path, body, headers: c.post(path, content=body, headers=headers).status_code
    host, port = url.removeprefix("http://").split(":")
    conn: list[http.client.HTTPConnection] = []

    def send(path: str, body: bytes, headers: dict[str, str]) -> int:
        if not conn:
            conn.append(http.client.HTTPConnection(host, int(port), timeout=60))
        conn[0].request("POST", path, body=body, headers=headers if keepalive else {**headers, "Connection": "close"})
        r = conn[0].getresponse()
        r.read()
        if not keepalive:
            conn.pop().close()
        return r.status

    return send


def fire(
    url: str, attempts: list[list[str]], tokens: dict[str, str], tills: int, keepalive: bool, client: str = "httpx"
) -> dict[str, Any]:
    """`tills` threads, one client each, released together: every attempt once. Seconds per answer by status,
    and the burst's wall and this process's CPU seconds from the release to the last answer. Before the barrier
    the first tills each send one redemption of an unknown code (404, not counted): the server is measured warm,
    as a till server that has been up a while is, not on its first request's imports and query plans."""
    timings: dict[int, list[float]] = {}
    released: list[float] = []
    barrier = threading.Barrier(tills, action=lambda: released.extend([time.perf_counter(), time.process_time()]))

    def till(i: int) -> None:
        send = sender(url, client, keepalive)
        if i < len(tokens):  # a server that has served a till before (lazy imports, first plans): one 404 per store
            store, token = sorted(tokens.items())[i]
            body = json.dumps({"order_id": "WARM-UP", "store_id": store}).encode()
            send("/api/coupons/23456789ABCD/redeem", body, {"Authorization": f"Bearer {token}",
                                                            "Content-Type": "application/json"})  # fmt: skip
        barrier.wait()
        for code, store, order in attempts[i::tills]:
            body = json.dumps({"order_id": order, "store_id": store}).encode()
            t = time.perf_counter()
            headers = {"Authorization": f"Bearer {tokens[store]}", "Content-Type": "application/json"}
            status = send(f"/api/coupons/{code}/redeem", body, headers)
            timings.setdefault(status, []).append(time.perf_counter() - t)

    threads = [threading.Thread(target=till, args=(i,)) for i in range(tills)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"timings": timings, "wall": time.perf_counter() - released[0], "cpu": time.process_time() - released[1]}


def main() -> None:
    if sys.argv[1:2] == ["--tills-from"]:  # the tills' process
        spec = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(fire(spec["url"], spec["attempts"], spec["tokens"], spec["tills"], spec["keepalive"],
                              spec.get("client", "httpx"))))  # fmt: skip
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=8000)
    ap.add_argument("--codes", type=int, default=500)
    ap.add_argument("--tills", type=int, default=50)
    ap.add_argument("--keepalive", action="store_true", help="keep each till's connection open")
    ap.add_argument("--client", choices=["httpx", "stdlib"], default="httpx", help="the tills' HTTP client")
    ap.add_argument("--refresh", action="store_true", help="refreshes running in the background meanwhile")
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
    tills = args.tills
    spec = out / "tills.json"
    spec.write_text(json.dumps({"url": url, "attempts": attempts, "tokens": tokens, "tills": tills,
                                "keepalive": args.keepalive, "client": args.client}))  # fmt: skip
    stop, begun, refreshes = threading.Event(), threading.Event(), [0]
    background = threading.Thread(target=refresh_loop, args=(app, wb, stop, begun, refreshes), daemon=True)
    if args.refresh:
        background.start()
        begun.wait()
    cpu0, rounds0 = time.process_time(), round_stats(app)
    # the tills are another process: their HTTP clients do not share the server's interpreter (its GIL)
    done = subprocess.run([sys.executable, __file__, "--tills-from", str(spec)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    server_cpu = time.process_time() - cpu0  # the server's process meanwhile (its refreshes included)
    burst = json.loads(done.stdout)
    timings, wall = {int(k): v for k, v in burst["timings"].items()}, burst["wall"]
    stop.set()
    if args.refresh:
        background.join()
        print(f"refreshes running meanwhile: {refreshes[0]} finished in the {wall:.2f} s (one after the other)")
    every = [x for xs in timings.values() for x in xs]
    print(f"{len(every)} redemptions by {tills} concurrent tills ({args.client}, "
          f"{'keep-alive' if args.keepalive else 'a connection each'}) in {wall:.2f} s ({len(every) / wall:.0f}/s), "
          f"from the barrier to the last answer; CPU: tills {burst['cpu']:.2f} s, server process {server_cpu:.2f} s "
          f"(load {os.getloadavg()[0]:.2f})")  # fmt: skip
    for status, xs in [*sorted(timings.items()), (0, every)]:
        name = {0: "all", 200: "redeemed", 409: "already redeemed"}.get(status, str(status))
        print(f"  {name:<17} n={len(xs):>5}  p50 {pct(xs, 0.5):6.1f} ms  p95 {pct(xs, 0.95):6.1f} ms  "
              f"p99 {pct(xs, 0.99):6.1f} ms  max {max(xs) * 1000:6.1f} ms  "
              f"mean {statistics.mean(xs) * 1000:.1f} ms")  # fmt: skip
    rounds = [b - a for a, b in zip(rounds0, round_stats(app), strict=True)]
    if rounds[0]:
        n, asks, busy, cpu = rounds
        print(f"  rounds: {n:.0f}, {asks / n:.1f} tills each, {busy / n * 1000:.1f} ms wall and "
              f"{cpu / n * 1000:.1f} ms CPU (the rounds thread's) per round")  # fmt: skip
    server.should_exit = True
    thread.join(30)
    wb.close()


if __name__ == "__main__":
    main()
