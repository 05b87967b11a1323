"""The tills' redemption latency, as a till sees it: a real uvicorn on loopback, the tills in another process.

What is measured (each scenario on the same server, the bench's coupons un-redeemed again before each one):
- waves: 50 tills (--tills) press "redeem" at the same instant, all 50 requests sent in one event-loop tick; the
  wave ends when every till has its answer, the tills pause --gap seconds, the next wave fires. In each wave every
  code is sent by two tills at once (a race: exactly one 200 and one 409 per code). This is "50 concurrent
  tills" as the issue states it: the worst a checkout rush can do, a burst of 50 at once.
- open: redemptions arrive one by one at random (a Poisson process) at --rate per second from the tills, each on
  its own connection, whatever the server's answers; latency counts from the arrival, so a slow server is not
  hidden by late sends. Every code arrives twice, the second right after the first. At 200/s this is each of 50
  tills redeeming every 0.25 s: a real till redeems one coupon per checkout, minutes apart.
- closed: each of the 50 tills redeems again the instant it has its answer (no think time): the saturation
  throughput. Its latencies are queueing at saturation (by Little's law mean latency = tills / throughput), not
  a till's experience, and are printed apart from the target.

A till opens a connection per redemption (a till that wakes, redeems, sleeps) and speaks raw HTTP/1.1 from one
event loop, uvloop's where it is installed (the cheapest client: on this machine the tills' CPU is taken from the
server's two cores, and 50 real tills would not queue behind each other in one process; against asyncio's own loop
the tills' process spent 0.12 instead of 0.22 CPU s per 1,000 redemptions, and the last request of a wave of 50 left
it 10 ms after the press instead of 20, 2026-12-02).
--refresh keeps lifecycle refreshes running in the server, one after the other, as its writer jobs (on a server
without jobs, under its one lock) for every scenario; each answer is counted "during a refresh" when its request
overlaps a refresh's run, and the figures are given over those answers too. Per scenario: p50/p95/p99/max by
answer, the wall, the throughput, CPU seconds of the tills' process and of the server's process (its refreshes
included) and CPU per request, the rounds, and the load average.
At a real brand's scale: --warehouse copies a brand's warehouse (e.g. the 2M demo, 21M orders) to --scratch and
runs against the copy; the bench's coupons are made as a user makes them (a campaign launched, the tills' paid
orders imported as a POS export). --save keeps the prepared copy for the next runs (preparing a 2M brand takes
minutes): `--warehouse /work/bench-data/d2m/winback.duckdb --save /work/scratch/till/d2m-till.duckdb` once, then
`--warehouse /work/scratch/till/d2m-till.duckdb --scratch /work/scratch/till --refresh`.
Usage: PYTHONPATH=src .venv/bin/python benchmarks/till_bench.py [--members 8000] [--tills 50] [--waves 20]
[--gap 0.2] [--rate 200] [--seconds 5] [--scenario waves open closed] [--refresh] [--warehouse W [--save S]]
[--scratch D] [--codes 4000]. Prints figures; asserts
nothing but the exactly-once outcome (one 200 per code). Run it with PYTHONPATH pointing at an older src/ to
measure that one.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.config import Settings
from winback.web.server import bind, create_app, make_server
from winback.web.tokens_service import TokensService

Attempt = tuple[str, str, str]  # code, store, order id


NAME = "till bench"
#: the bench's coupons and their orders (TB-…), once prepared
_BENCH_ROWS = (
    "SELECT c.code, o.store_id, o.order_id FROM coupons c JOIN campaigns k USING (campaign_id) "
    "JOIN orders o ON o.member_id = c.member_id AND o.order_id LIKE 'TB-%' WHERE k.name = ? ORDER BY o.order_id"
)


def prepare(wb: Winback, out: Path, codes: int) -> list[Attempt]:
    """As a user would: launch a campaign, then import the tills' paid orders of (up to `codes` of) its coupons'
    members at their stores (a POS export, `winback import orders`), dated at the issue; or, on a warehouse the
    bench prepared before (--save), find them."""
    db = wb.db()
    found = db.fetchall(_BENCH_ROWS, [NAME])
    if found:
        return [(str(c), str(s), str(o)) for c, s, o in found][:codes]
    cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name=NAME)).campaign.campaign_id
    wb.campaigns.launch(cid)
    rows = db.fetchall(
        "SELECT c.member_id, m.store_id, c.issued_at FROM coupons c JOIN members m USING (member_id) "
        "JOIN stores USING (store_id) WHERE c.campaign_id = ? ORDER BY c.code LIMIT ?",
        [cid, codes],
    )
    export = out / "till_orders.csv"
    with export.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["小票号", "会员卡号", "门店", "销售时间", "实收金额", "状态"])
        w.writerows(
            [f"TB-{i:06d}", m, s, f"{at:%Y-%m-%d %H:%M:%S}", "99999", "已付款"] for i, (m, s, at) in enumerate(rows)
        )
    wb.ingest.import_file("orders", export)
    return [(str(c), str(s), str(o)) for c, s, o in db.fetchall(_BENCH_ROWS, [NAME])]


def unredeem(wb: Winback) -> None:
    """The bench's coupons free again (its orders TB-…), so that each scenario redeems fresh codes."""
    with wb.scoped() as w:
        w.db().execute("UPDATE coupons SET redeemed_at = NULL, redeemed_order_id = NULL, redeemed_store_id = NULL, "
                       "discount = NULL WHERE redeemed_order_id LIKE 'TB-%'")  # fmt: skip
        if w.db().fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'coupon_orders'")[0][0]:
            w.db().execute("DELETE FROM coupon_orders WHERE order_id LIKE 'TB-%'")  # migration 027 on


def refresh_loop(app: Any, wb: Winback, stop: threading.Event, spans: list[list[float]]) -> None:
    """Refresh after refresh until `stop`: as the server's background jobs, or (an older server without them)
    under the server's one lock. `spans`: each refresh's [start, end] (time.monotonic, shared across processes)."""
    web = app.state.web
    jobs = getattr(web, "jobs", None)
    while not stop.is_set():
        if jobs is not None:
            began: list[float] = []

            def work(w: Winback, _: Any, began: list[float] = began) -> Any:
                began.append(time.monotonic())
                return w.lifecycle.refresh()

            job = jobs.submit("refresh", "bench", work, username="bench", lang="en")
            job.finished.wait()
            assert job.state == "done", job.error
            spans.append([began[0], time.monotonic()])
        else:
            with web.lock:
                t = time.monotonic()
                wb.lifecycle.refresh()
                spans.append([t, time.monotonic()])


def round_stats(app: Any) -> list[float]:
    """The tills' rounds so far (count, asks, wall, CPU seconds), or zeros from a server that does not count."""
    r = app.state.web.redeemer
    return [float(getattr(r, k, 0)) for k in ("rounds", "settled", "busy", "cpu")]


# -- the tills' process --------------------------------------------------------------------------------------------


async def redeem(port: int, request: bytes) -> int:
    """One redemption on a fresh connection: the answer's status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await reader.read()  # Connection: close: the server closes after its answer
    writer.close()
    return int(answer.split(b" ", 2)[1])


def request_of(attempt: Attempt, tokens: dict[str, str]) -> bytes:
    code, store, order = attempt
    body = json.dumps({"order_id": order, "store_id": store}).encode()
    head = (f"POST /api/coupons/{code}/redeem HTTP/1.1\r\nHost: till\r\nAuthorization: Bearer {tokens[store]}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")  # fmt: skip
    return head.encode() + body


async def timed(port: int, request: bytes, start: float, out: list[list[float]]) -> None:
    status = await redeem(port, request)
    out.append([start, time.monotonic() - start, status])


async def waves(port: int, requests: list[bytes], tills: int, gap: float, out: list[list[float]]) -> None:
    for w in range(0, len(requests), tills):
        if w:
            await asyncio.sleep(gap)
        now = time.monotonic()  # every till of the wave presses at this instant
        await asyncio.gather(*(timed(port, r, now, out) for r in requests[w : w + tills]))


async def open_loop(port: int, requests: list[bytes], rate: float, out: list[list[float]]) -> None:
    rng, t, tasks = random.Random(7), time.monotonic(), []
    for r in requests:
        t += rng.expovariate(rate)
        await asyncio.sleep(max(0.0, t - time.monotonic()))
        tasks.append(asyncio.create_task(timed(port, r, t, out)))  # latency from the arrival, not the send
    await asyncio.gather(*tasks)


async def closed_loop(port: int, requests: list[bytes], tills: int, out: list[list[float]]) -> None:
    async def till(mine: list[bytes]) -> None:
        for r in mine:
            await timed(port, r, time.monotonic(), out)

    await asyncio.gather(*(till(requests[i::tills]) for i in range(tills)))


def _run(coro: Any) -> Any:
    """`coro` run on uvloop's event loop where it is installed (the server's dependency), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


def tills_main(spec: dict[str, Any]) -> dict[str, Any]:
    port, tokens = spec["port"], spec["tokens"]
    requests = [request_of(a, tokens) for a in spec["attempts"]]
    if spec.get("warm_only"):  # a server that has served each store's till lately (its token read, kept)
        for store in sorted(tokens):
            _run(redeem(port, request_of(("23456789ABCD", store, "WARM-UP"), tokens)))
        return {}
    out: list[list[float]] = []
    t, cpu = time.monotonic(), time.process_time()
    kind = spec["scenario"]
    if kind == "waves":
        _run(waves(port, requests, spec["tills"], spec["gap"], out))
    elif kind == "open":
        _run(open_loop(port, requests, spec["rate"], out))
    else:
        _run(closed_loop(port, requests, spec["tills"], out))
    return {"answers": out, "wall": time.monotonic() - t, "cpu": time.process_time() - cpu}


# -- the bench's process -------------------------------------------------------------------------------------------


def attempts_for(kind: str, coupons: list[Attempt], args: argparse.Namespace) -> list[Attempt]:
    """Each code twice, the two sends side by side: in one wave, one after the other in the open loop."""
    if kind == "waves":
        half = args.tills // 2
        n = min(len(coupons) // half, args.waves)
        return [a for w in range(n) for a in [*coupons[w * half : (w + 1) * half]] * 2]
    n = min(len(coupons), int(args.rate * args.seconds / 2)) if kind == "open" else len(coupons)
    return [a for c in coupons[:n] for a in (c, c)]


def pct(xs: list[float], p: float) -> float:
    return sorted(xs)[min(len(xs) - 1, int(p * len(xs)))] * 1000


def line(name: str, xs: list[float]) -> str:
    if not xs:
        return f"    {name:<24} n=    0"
    return (f"    {name:<24} n={len(xs):>5}  p50 {pct(xs, 0.5):6.1f} ms  p95 {pct(xs, 0.95):6.1f} ms  "
            f"p99 {pct(xs, 0.99):6.1f} ms  max {max(xs) * 1000:6.1f} ms")  # fmt: skip


def report(kind: str, args: argparse.Namespace, burst: dict[str, Any], server_cpu: float, rounds: list[float],
           spans: list[list[float]]) -> None:  # fmt: skip
    answers, wall = burst["answers"], burst["wall"]
    n = len(answers)
    what = {"waves": f"{args.tills} tills at the same instant, {n // args.tills} waves, {args.gap:.2f} s apart",
            "open": f"open loop, Poisson arrivals at {args.rate:.0f}/s",
            "closed": f"closed loop, {args.tills} tills back to back (saturation)"}[kind]  # fmt: skip
    print(f"  {kind}: {what}: {n} redemptions in {wall:.2f} s ({n / wall:.0f}/s); CPU: tills {burst['cpu']:.2f} s, "
          f"server process {server_cpu:.2f} s ({server_cpu / n * 1000:.2f} ms per request"
          f"{', its refreshes included' if args.refresh else ''}); load {os.getloadavg()[0]:.2f}")  # fmt: skip
    by: dict[int, list[float]] = {}
    for _, took, status in answers:
        by.setdefault(int(status), []).append(took)
    for status, xs in sorted(by.items()):
        print(line({200: "redeemed (200)", 409: "already redeemed (409)"}.get(status, str(status)), xs))
    print(line("all answers", [took for _, took, _ in answers]))
    if args.refresh:
        during = [took for t, took, _ in answers if any(a < t + took and t < b for a, b in spans)]
        print(line("all, during a refresh", during) + f"  ({len(spans)} refreshes ran, one after the other)")
    if rounds[0]:
        k, asks, busy, cpu = rounds
        print(f"    rounds: {k:.0f}, {asks / k:.1f} tills each, {busy / k * 1000:.1f} ms wall and "
              f"{cpu / k * 1000:.1f} ms CPU (the rounds thread's) per round")  # fmt: skip
    if kind == "closed":
        print("    (closed loop: latency here is queueing at saturation, tills / throughput; the target is waves/open)")


def scenario(kind: str, args: argparse.Namespace, app: Any, wb: Winback, port: int, coupons: list[Attempt],
             tokens: dict[str, str], out: Path) -> None:  # fmt: skip
    unredeem(wb)
    attempts = attempts_for(kind, coupons, args)
    spec = out / f"{kind}.json"
    spec.write_text(json.dumps({"port": port, "attempts": attempts, "tokens": tokens, "tills": args.tills,
                                "gap": args.gap, "rate": args.rate, "scenario": kind}))  # fmt: skip
    stop, spans = threading.Event(), []
    background = threading.Thread(target=refresh_loop, args=(app, wb, stop, spans), daemon=True)
    if args.refresh:
        background.start()
        while not spans and not app.state.web.jobs.busy():
            time.sleep(0.01)
        time.sleep(0.2)  # the first refresh under way before the tills start
    tills = [sys.executable, __file__, "--tills-from", str(spec)]
    warm = out / "warm.json"  # the warm-up apart: its one till per store is in neither the CPU nor the rounds
    warm.write_text(json.dumps({"port": port, "attempts": [], "tokens": tokens, "warm_only": True}))
    subprocess.run([*tills[:3], str(warm)], capture_output=True, text=True, check=True)
    cpu0, rounds0 = time.process_time(), round_stats(app)
    done = subprocess.run(tills, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    server_cpu = time.process_time() - cpu0
    rounds = [b - a for a, b in zip(rounds0, round_stats(app), strict=True)]
    stop.set()
    background.join() if args.refresh else None
    burst = json.loads(done.stdout)
    wins = sum(1 for *_, s in burst["answers"] if s == 200)
    assert wins == len({a[0] for a in attempts}), f"{wins} successes for {len(set(attempts))} codes"
    report(kind, args, burst, server_cpu, rounds, spans)


def main() -> None:
    if sys.argv[1:2] == ["--tills-from"]:  # the tills' process
        print(json.dumps(tills_main(json.loads(Path(sys.argv[2]).read_text()))))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=8000)
    ap.add_argument("--tills", type=int, default=50)
    ap.add_argument("--waves", type=int, default=20, help="waves of --tills redemptions at the same instant")
    ap.add_argument("--gap", type=float, default=0.2, help="seconds between waves")
    ap.add_argument("--rate", type=float, default=200.0, help="open loop: redemptions per second")
    ap.add_argument("--seconds", type=float, default=5.0, help="open loop: how long (at most the codes there are)")
    ap.add_argument("--scenario", nargs="+", choices=["waves", "open", "closed"], default=["waves", "open", "closed"])
    ap.add_argument("--refresh", action="store_true", help="refreshes running in the server meanwhile")
    ap.add_argument(
        "--warehouse",
        type=Path,
        help="a brand's warehouse (e.g. the 2M demo), copied, instead of "
        "a demo of --members; the bench's coupons and orders are made on the copy once (see --save)",
    )
    ap.add_argument("--scratch", type=Path, help="where the copy goes (default: a temporary directory)")
    ap.add_argument("--save", type=Path, help="keep the prepared copy there and stop (--warehouse it next time)")
    ap.add_argument("--codes", type=int, default=4000, help="at most this many coupons get a till order")
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="till-bench-", dir=args.scratch))
    try:
        t0 = time.perf_counter()
        db_path = out / "wb.duckdb"
        if args.warehouse:
            shutil.copyfile(args.warehouse, db_path)
            os.sync()  # the copy's dirty pages written now, not under the tills' commits (their fsyncs waited on it)
        wb = Winback(Settings.load(environ={}, db_path=db_path))
        if not args.warehouse:
            wb.demo.run(out, members=args.members, seed=7)
        coupons = prepare(wb, out, args.codes)
        tokens = {s: TokensService(wb).add(s).token for s in sorted({s for _, s, _ in coupons})}
        if args.save:
            wb.close()
            shutil.move(db_path, args.save)
            print(f"prepared {args.save}: {len(coupons)} codes in {time.perf_counter() - t0:.1f} s")
            return
        brand = db_path if args.warehouse is None else args.warehouse
        orders = wb.db().scalar("SELECT count(*) FROM orders")
        print(f"built: {brand}: {orders:,} orders, {len(coupons)} codes, {len(tokens)} stores in "
              f"{time.perf_counter() - t0:.1f} s; refreshes meanwhile: {'yes' if args.refresh else 'no'}")  # fmt: skip
        app = create_app(wb, secret="bench")
        sock = bind("127.0.0.1", 0)
        server = make_server(app)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        app.state.ready.wait(30)
        for kind in args.scenario:
            scenario(kind, args, app, wb, sock.getsockname()[1], coupons, tokens, out)
        server.should_exit = True
        thread.join(30)
        wb.close()
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
