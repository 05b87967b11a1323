"""The console's read latency under 50 concurrent clients on loopback: the brand overview, the segments, a page of
members, a campaign report and a guide's task list (the JSON API the pages are built from).

Two brands:
- `--members N` (default 8,000): the demo brand (`winback demo`, seed 7) built in a temporary folder, a
  campaign (big_sale) launched.
- `--warehouse FILE`: a big warehouse, completed IN PLACE on first use (pass a copy): the refresh benchmark's
  10M-member warehouse (/work/bench-data/m10000000_o100000000_s7/warehouse.duckdb: members, ~99M orders, one
  snapshot, made by the refresh benchmark's generator) lacks what the console shows. The builder (`complete`)
  adds, and these parts are SYNTHETIC: one stores row per store id the members name (names
  "Store S0001", no city) and one staff row per guide id (role guide, store = the store most of the guide's members
  belong to); the members have no phones (phone_status missing: contactable counts are 0). Then, through the real
  services: migrations, a big_sale campaign sent as guide tasks (`--channel guide_task`, the members have no
  phones for SMS) launched the day after a refresh by this code (the day after the stored snapshot, so the
  overview has two snapshots and the newest is built from member facts, as any brand's), simulated answers up
  to 15 days later (`winback demo respond --force`: orders and task outcomes written by the demo's responder), an
  HQ admin and a guide (the one with the most tasks). The brand's clock (`now`) is then fixed 15 days after the
  launch. The ids are kept in FILE.web-bench.json, so the second run starts at once.

The console is served in a thread (`serving`, warm-up on as `winback serve` has it), both users log in, then
--clients clients in another process (asyncio tasks of one event loop: threads would wait on each other's GIL;
their own connection per request, released together) each ask --rounds times for each of the five (the guide's
task list with the guide's cookie, the rest with the admin's). Prints the warm-up's seconds, each endpoint alone
(first: cold unless the warm-up computed it; then the best of three), with --pages the HTML pages alone, then
p50 / p95 / p99 / max per endpoint and in all, the throughput, the server's and the clients' CPU seconds during
the load and the load average.

    .venv/bin/python benchmarks/web_bench.py [--members 8000 | --warehouse FILE] [--clients 50] [--rounds 4] [--html]

`--cold`: no warm-up, so each endpoint's first answer alone is what the first user after a refresh (or a server
start) waits for: what the refresh summed (LifecycleService.prepare) read back, the rest computed then.
`--html`: the load asks for the five HTML pages (what a browser gets: /overview, /segments?by=store,
/members?offset=100, /campaigns/ID, /tasks) instead of the JSON API they are built from.

Prints figures; asserts nothing. Run it with PYTHONPATH pointing at an older src/ to measure that one (on its own
copy of the warehouse).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings
from winback.web.server import create_app
from winback.web.users_service import UsersService

try:
    from winback.web.server import serving
except ImportError:  # an older src/ (the baseline): the same, written out
    from collections.abc import Iterator
    from contextlib import contextmanager

    from winback.web.server import bind, make_server

    @contextmanager
    def serving(app: Any) -> Iterator[str]:
        sock, server = bind("127.0.0.1", 0), make_server(app)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        app.state.ready.wait(30)
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            server.should_exit = True
            thread.join(30)


PASSWORDS = {"boss": "bench-secret-1", "wang": "bench-secret-2"}
NAME = "web bench"


def prepare(wb: Winback, channel: str | None = None) -> tuple[str, str]:
    """(the launched campaign, the guide with the most tasks in it), and the two users."""
    cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name=NAME, channel=channel)).campaign.campaign_id
    wb.campaigns.launch(cid)
    row = (
        wb.db()
        .con.execute(
            "SELECT guide_id FROM tasks WHERE campaign_id = ? AND guide_id IS NOT NULL"
            " GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1",
            [cid],
        )
        .fetchone()
    )
    guide = row[0]
    users = UsersService(wb)
    users.add("boss", role="hq_admin", password=PASSWORDS["boss"])
    users.add("wang", role="guide", password=PASSWORDS["wang"], guide_id=guide)
    return cid, guide


def clock(path: Path, now: str | None) -> Winback:
    return Winback(Settings.load(environ={"WINBACK_NOW": now} if now else {}, db_path=path))


def complete(path: Path) -> dict[str, Any]:
    """A big warehouse made ready for the console (see the module's docstring: what is synthetic), once."""
    kept = path.with_name(path.name + ".web-bench.json")
    if kept.exists():
        return json.loads(kept.read_text())  # type: ignore[no-any-return]
    t0 = time.perf_counter()
    wb = clock(path, None)
    con = wb.db().con  # migrations applied here
    print(f"  migrations: {time.perf_counter() - t0:.0f} s", flush=True)
    stored = con.execute("SELECT max(as_of) FROM snapshot_runs").fetchone()[0]
    as_of = stored + dt.timedelta(days=1)  # a refresh by this code (member facts), the stored one before it
    launch_at = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(10))
    now = launch_at + dt.timedelta(days=15)
    if not con.execute("SELECT count(*) FROM stores").fetchone()[0]:
        con.execute(
            "INSERT INTO stores (store_id, name, opened_at) SELECT store_id, 'Store ' || store_id, "
            "DATE '2015-01-01' FROM (SELECT DISTINCT store_id FROM members WHERE store_id IS NOT NULL)"
        )
        con.execute("INSERT INTO staff (guide_id, name, store_id, role, hired_at) SELECT guide_id, "
                    "'Guide ' || guide_id, mode(store_id), 'guide', DATE '2015-01-01' FROM members "
                    "WHERE guide_id IS NOT NULL GROUP BY guide_id")  # fmt: skip
    wb.close()
    t1 = time.perf_counter()
    wb = clock(path, as_of.isoformat())
    wb.lifecycle.refresh(as_of)
    wb.close()
    print(f"  refresh at {as_of}: {time.perf_counter() - t1:.0f} s", flush=True)
    t1 = time.perf_counter()
    wb = clock(path, launch_at.isoformat(sep=" ", timespec="minutes"))
    cid, guide = prepare(wb, channel="guide_task")
    wb.close()
    print(f"  campaign {cid} launched: {time.perf_counter() - t1:.0f} s", flush=True)
    t2 = time.perf_counter()
    wb = clock(path, now.isoformat(sep=" ", timespec="minutes"))
    wb.demo.respond(cid, force=True)
    wb.close()
    print(f"  simulated answers: {time.perf_counter() - t2:.0f} s", flush=True)
    info = {"campaign": cid, "guide": guide, "now": now.isoformat(sep=" ", timespec="minutes")}
    kept.write_text(json.dumps(info))
    return info


def build(args: argparse.Namespace) -> tuple[Winback, str]:
    """The app over the brand (clock set) and the campaign id."""
    t0 = time.perf_counter()
    if args.warehouse:
        info = complete(args.warehouse)
        wb = clock(args.warehouse, info["now"])
        print(f"warehouse {args.warehouse}: campaign {info['campaign']}, guide {info['guide']}, now {info['now']} "
              f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
        return wb, info["campaign"]
    out = Path(tempfile.mkdtemp(prefix="web-bench-"))
    wb = Winback(Settings.load(environ={}, db_path=out / "wb.duckdb"))
    wb.demo.run(out, members=args.members, seed=7)
    cid, _ = prepare(wb)
    print(f"built: {args.members:,} members, campaign {cid} in {time.perf_counter() - t0:.1f} s")
    return wb, cid


def login(url: str, user: str) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as c:
        token = c.get("/api/csrf").json()["csrf_token"]
        r = c.post("/api/login", json={"username": user, "password": PASSWORDS[user]},
                   headers={"X-CSRF-Token": token})  # fmt: skip
        assert r.status_code == 200, r.text
        return dict(c.cookies.items())


def ask(url: str, path: str, cookies: dict[str, str]) -> tuple[int, bytes]:
    """One GET on its own connection (http.client), the answer read to its end."""
    host, port = urllib.parse.urlsplit(url).netloc.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=600)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        conn.request("GET", path, headers={"Cookie": cookie, "Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def fire(spec: dict[str, Any]) -> dict[str, list[float]]:
    """The clients, as asyncio tasks of one event loop (50 threads would wait on each other's GIL and measure that):
    seconds per answer by endpoint name (a non-200 answer is recorded under "error <status>")."""
    host, port = urllib.parse.urlsplit(spec["url"]).netloc.rsplit(":", 1)
    timings: dict[str, list[float]] = {}

    async def get(path: str, cookies: dict[str, str]) -> int:
        reader, writer = await asyncio.open_connection(host, int(port))
        cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
        answer = await reader.read()  # to the end: the server closes the connection
        writer.close()
        return int(answer.split(b" ", 2)[1])

    async def client(i: int, start: asyncio.Event) -> None:
        await start.wait()
        for r in range(spec["rounds"]):
            for k in range(len(spec["asks"])):
                name, path, who = spec["asks"][(i + r + k) % len(spec["asks"])]  # clients spread over the five
                t = time.perf_counter()
                status = await get(path, spec["cookies"][who])
                took = time.perf_counter() - t
                timings.setdefault(name if status == 200 else f"error {status}", []).append(took)

    async def everyone() -> None:
        start = asyncio.Event()
        tasks = [asyncio.create_task(client(i, start)) for i in range(spec["clients"])]
        await asyncio.sleep(0)
        start.set()  # released together
        await asyncio.gather(*tasks)

    asyncio.run(everyone())
    return timings


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000


def alone(url: str, asks: list[tuple[str, str, str]], cookies: dict[str, Any], label: str) -> None:
    """Each endpoint alone, one client: the first answer (cold) and the best of three after it."""
    shown = []
    for name, path, who in asks:
        took = []
        for _ in range(4):
            t = time.perf_counter()
            status, body = ask(url, path, cookies[who])
            assert status == 200, (path, status, body[:300])
            took.append(time.perf_counter() - t)
        shown.append(f"{name} {took[0] * 1000:.0f} / {min(took[1:]) * 1000:.1f} ms")
    print(f"{label} (first / best of 3 after): " + ", ".join(shown), flush=True)


def load(url: str, spec: dict[str, Any], folder: Path) -> None:
    """The 50 clients in another process; the figures and this (the server's) process's CPU during them."""
    (folder / "clients.json").write_text(json.dumps(spec))
    cpu0, load0 = time.process_time(), os.getloadavg()[0]
    done = subprocess.run([sys.executable, __file__, "--clients-from", str(folder / "clients.json")],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    cpu = time.process_time() - cpu0  # the server's, during the clients' process (its start-up included: idle)
    own = json.loads((folder / "clients.json.own.json").read_text())
    wall, clients_cpu = own["wall"], own["cpu"]  # from the clients' release to their last answer
    timings = json.loads(done.stdout)
    every = [x for xs in timings.values() for x in xs]
    print(f"{len(every)} requests by {spec['clients']} concurrent clients in {wall:.2f} s ({len(every) / wall:.0f}/s);"
          f" server CPU {cpu:.2f} s ({cpu / len(every) * 1000:.1f} ms a request), clients' CPU {clients_cpu:.2f} s;"
          f" load {load0:.2f} before, {os.getloadavg()[0]:.2f} after")  # fmt: skip
    for name, xs in [*timings.items(), ("all", every)]:
        print(f"  {name:<16} n={len(xs):>4}  p50 {pct(xs, 0.5):7.1f} ms  p95 {pct(xs, 0.95):7.1f} ms  "
              f"p99 {pct(xs, 0.99):7.1f} ms  max {max(xs) * 1000:7.1f} ms")  # fmt: skip


PAGES = ["/overview", "/segments?by=store", "/members?offset=100", "/campaigns/{cid}", "/tasks"]


def main() -> None:
    if sys.argv[1:2] == ["--clients-from"]:  # the clients' process
        t, cpu = time.perf_counter(), time.process_time()
        timings = fire(json.loads(Path(sys.argv[2]).read_text()))
        own = {"wall": time.perf_counter() - t, "cpu": time.process_time() - cpu}  # the load alone, no start-up
        Path(sys.argv[2] + ".own.json").write_text(json.dumps(own))
        print(json.dumps(timings))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=8000)
    ap.add_argument("--warehouse", type=Path, default=None, help="a big warehouse (a copy: completed in place)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--pages", action="store_true", help="also time the HTML pages once each (one client)")
    ap.add_argument("--cold", action="store_true", help="no warm-up: the first answer alone is the first read")
    ap.add_argument("--html", action="store_true", help="the load on the HTML pages instead of the JSON API")
    ap.add_argument("--only", default=None, help="comma-separated: overview,segments,members,report,tasks")
    args = ap.parse_args()
    wb, cid = build(args)
    try:
        app = create_app(wb, secret="bench", warm=not args.cold)  # as `winback serve` does
    except TypeError:  # an older src/: no warm-up
        app = create_app(wb, secret="bench")
    with serving(app) as url:
        web = app.state.web
        if getattr(web, "warm", False):
            web.warmed.wait()
            print(
                f"warm-up (overview, transitions, segments, by store, members' head, running campaigns' reports): "
                f"{web.warm_seconds:.1f} s"
            )
        asks = [("overview", "/api/overview", "boss"), ("segments", "/api/segments?by=store", "boss"),
                ("members page", "/api/members?limit=50&offset=100", "boss"),
                ("campaign report", f"/api/campaigns/{cid}/report", "boss"),
                ("guide's tasks", "/api/tasks", "wang")]  # fmt: skip
        if args.html:  # the pages as a browser asks for them (the same five, rendered by Jinja)
            asks = [(f"{n} (html)", p.format(cid=cid), w) for (n, _, w), p in zip(asks, PAGES, strict=True)]
        if args.only:  # e.g. the code before the members page was kept: one page took ~40 s at 10M members
            keys = ("overview", "segments", "members", "report", "tasks")
            asks = [a for k, a in zip(keys, asks, strict=True) if k in args.only.split(",")]
        spec = {"url": url, "clients": args.clients, "rounds": args.rounds, "asks": asks,
                "cookies": {u: login(url, u) for u in PASSWORDS}}  # fmt: skip
        alone(url, asks, spec["cookies"], "alone")
        if args.pages:
            pages = [(p.split("?")[0], p.format(cid=cid), "wang" if p == "/tasks" else "boss") for p in PAGES]
            alone(url, pages, spec["cookies"], "HTML pages alone")
        load(url, spec, Path(tempfile.mkdtemp(prefix="web-bench-")))
    wb.close()


if __name__ == "__main__":
    main()
