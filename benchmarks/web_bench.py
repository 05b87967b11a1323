"""The console's read latency under 50 concurrent clients on loopback: the brand overview, the segments, a page of
members, a campaign report and a guide's task list (the JSON API the pages are built from).

Builds the demo brand (--members, seed 7), launches a campaign, adds an HQ admin and a guide with tasks, serves
the console in a thread, logs both in, then --clients threads of another process (one httpx client each, their
own connection per request, released together by a barrier) each ask --rounds times for each of the five (the
guide's task list with the guide's cookie, the rest with the admin's). Prints p50 / p95 / p99 / max per endpoint and
in all, and the throughput. Usage: .venv/bin/python benchmarks/web_bench.py [--members 8000] [--clients 50]
[--rounds 4]. Prints figures; asserts nothing. Run it with PYTHONPATH pointing at an older src/ to measure that one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings
from winback.web.server import bind, create_app, make_server
from winback.web.users_service import UsersService

PASSWORDS = {"boss": "bench-secret-1", "wang": "bench-secret-2"}


def prepare(wb: Winback) -> tuple[str, str]:
    """(the launched campaign, a guide with tasks in it)."""
    cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name="web bench")).campaign.campaign_id
    wb.campaigns.launch(cid)
    guide = next(t.guide_id for t in wb.tasks.list(limit=None).tasks if t.guide_id)
    users = UsersService(wb)
    users.add("boss", role="hq_admin", password=PASSWORDS["boss"])
    users.add("wang", role="guide", password=PASSWORDS["wang"], guide_id=guide)
    return cid, guide


def login(url: str, user: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as c:
        token = c.get("/api/csrf").json()["csrf_token"]
        r = c.post("/api/login", json={"username": user, "password": PASSWORDS[user]},
                   headers={"X-CSRF-Token": token})  # fmt: skip
        assert r.status_code == 200, r.text
        return dict(c.cookies.items())


def fire(spec: dict[str, Any]) -> dict[str, list[float]]:
    """The clients: seconds per answer by endpoint name (a non-200 answer is recorded under "error <status>")."""
    timings: dict[str, list[float]] = {}
    barrier = threading.Barrier(spec["clients"])
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(base_url=spec["url"], timeout=120, headers={"Connection": "close"}) as c:
            barrier.wait()
            for r in range(spec["rounds"]):
                for k in range(len(spec["asks"])):
                    name, path, who = spec["asks"][(i + r + k) % len(spec["asks"])]  # clients spread over the five
                    t = time.perf_counter()
                    resp = c.get(path, cookies=spec["cookies"][who])
                    took = time.perf_counter() - t
                    with lock:
                        timings.setdefault(name if resp.status_code == 200 else f"error {resp.status_code}", []).append(
                            took
                        )

    threads = [threading.Thread(target=client, args=(i,)) for i in range(spec["clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return timings


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000


def main() -> None:
    if sys.argv[1:2] == ["--clients-from"]:  # the clients' process
        import warnings

        warnings.filterwarnings("ignore", category=DeprecationWarning)  # per-request cookies: two users, one client
        print(json.dumps(fire(json.loads(Path(sys.argv[2]).read_text()))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=8000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="web-bench-"))
    t0 = time.perf_counter()
    wb = Winback(Settings.load(environ={}, db_path=out / "wb.duckdb"))
    wb.demo.run(out, members=args.members, seed=7)
    cid, _ = prepare(wb)
    print(f"built: {args.members:,} members, campaign {cid} in {time.perf_counter() - t0:.1f} s")
    app = create_app(wb, secret="bench")
    sock = bind("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    app.state.ready.wait(30)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    asks = [("overview", "/api/overview", "boss"), ("segments", "/api/segments?by=store", "boss"),
            ("members page", "/api/members?limit=50&offset=100", "boss"),
            ("campaign report", f"/api/campaigns/{cid}/report", "boss"),
            ("guide's tasks", "/api/tasks", "wang")]  # fmt: skip
    spec = {"url": url, "clients": args.clients, "rounds": args.rounds, "asks": asks,
            "cookies": {u: login(url, u) for u in PASSWORDS}}  # fmt: skip
    alone = {}
    for name, path, who in asks:  # warm, then each alone: the best of three
        took = []
        for _ in range(4):
            t = time.perf_counter()
            assert httpx.get(url + path, cookies=spec["cookies"][who], timeout=120).status_code == 200, path
            took.append(time.perf_counter() - t)
        alone[name] = min(took[1:]) * 1000
    print("alone (best of 3): " + ", ".join(f"{k} {v:.1f} ms" for k, v in alone.items()))
    (out / "clients.json").write_text(json.dumps(spec))
    t1 = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--clients-from", str(out / "clients.json")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    wall = time.perf_counter() - t1
    timings = json.loads(done.stdout)
    every = [x for xs in timings.values() for x in xs]
    print(f"{len(every)} requests by {args.clients} concurrent clients in {wall:.2f} s ({len(every) / wall:.0f}/s)")
    for name, xs in [*timings.items(), ("all", every)]:
        print(f"  {name:<16} n={len(xs):>4}  p50 {pct(xs, 0.5):7.1f} ms  p95 {pct(xs, 0.95):7.1f} ms  "
              f"p99 {pct(xs, 0.99):7.1f} ms  max {max(xs) * 1000:7.1f} ms")  # fmt: skip
    server.should_exit = True
    thread.join(30)
    wb.close()


if __name__ == "__main__":
    main()
