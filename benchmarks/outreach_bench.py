"""Dispatch speed: N SMS touches to a local Aliyun-shaped gateway (batches of 100), and M webhook touches to a local
webhook receiver (8 connections), through the app's service (wb.outreach.dispatch: pressure, claim, send,
record). The gateways run in a child process on 127.0.0.1 (tests/outreach/gateways.py), so they do not share the
dispatcher's interpreter.

Usage: .venv/bin/python benchmarks/outreach_bench.py [--sms 1000000] [--webhook 200000] [--chunk 50000]
Targets (issue 10): 1,000,000 SMS ≤ 60 s; 200,000 webhook touches ≤ 60 s with 8 connections. Prints figures;
asserts nothing.

With `--demo WAREHOUSE` (a demo brand, e.g. `winback demo --members 200000`), on copies of it, as whole processes
(wall and CPU seconds of the child): `winback run` for a day (then the same day again: must create nothing), and
task sheets for every store of a guide-task campaign (`campaign create --scenario new_store_opening`, launch,
`tasks export`). `--baseline-src DIR` runs the same commands with another checkout's src/ first (same session, same
machine load), e.g. a `git worktree` of the previous commit.
Targets: `winback run` for a day of the 200k demo ≤ 30 s (2M ≤ 3 min); task sheets of a 75k campaign ≤ 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.outreach.gateways

from winback.app import Winback
from winback.config import Settings

NOW = dt.datetime(2026, 11, 23, 10, 0)


def build(db_path: Path, n: int, channel: str) -> float:
    t = time.perf_counter()
    with Winback(Settings.load(environ={}, db_path=db_path)) as wb:
        db = wb.db()
        db.execute(
            "INSERT INTO members (member_id, phone, phone_status, email, source, consent_sms) "
            "SELECT printf('M%08d', i), printf('+86139%08d', i), 'mobile', printf('m%d@example.com', i), 'erp', TRUE "
            "FROM range(?) t(i)",
            [n],
        )
        db.execute(
            "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at, "
            " attempts) SELECT printf('C1:M%08d:%s:1', i, $2), 'C1', printf('M%08d', i), $2, 'queued', "
            " json_object('text', '亲爱的会员,好久不见,送您一张券', 'code', printf('X%08d', i)), $3, 0 "
            "FROM range($1) t(i)",
            [n, channel, NOW - dt.timedelta(hours=1)],
        )
    return time.perf_counter() - t


def _serve(kind: str, port_q: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    from tests.outreach.gateways import SmsGateway, WebhookGateway

    gw = (
        SmsGateway("AK1", "bench-secret", keep_details=False)
        if kind == "sms"
        else WebhookGateway("bench-secret", keep_bodies=False)
    )
    with gw:
        port_q.put(gw.port)
        gw.thread.join()


def gateway(kind: str) -> tuple[multiprocessing.Process, str]:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_serve, args=(kind, q), daemon=True)
    p.start()
    return p, f"http://127.0.0.1:{q.get(timeout=60)}/"


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(url + "_stats", timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


def run(kind: str, n: int, chunk: int, connections: int, tmp: Path) -> None:
    db_path = tmp / f"{kind}.duckdb"
    built = build(db_path, n, kind)
    proc, url = gateway(kind)
    channels = tmp / f"{kind}.toml"
    if kind == "sms":
        table = (f'[channels.sms]\nendpoint = "{url}"\naccess_key_id = "AK1"\naccess_key_secret = "bench-secret"\n'
                 f'sign_name = "品牌"\ntemplate_code = "SMS_1"\nreceipts = false\n')  # fmt: skip
    else:
        table = f'[channels.webhook]\nurl = "{url}"\nsecret = "bench-secret"\n'
    channels.write_text(
        f"[pressure]\ncaps = {{ day = 5 }}\n{table}connections = {connections}\nchunk = {chunk}\n", encoding="utf-8"
    )
    settings = Settings.load(environ={}, db_path=db_path, channels=channels, now=f"{NOW:%Y-%m-%d %H:%M}")
    with Winback(settings) as wb:
        t = time.perf_counter()
        r = wb.outreach.dispatch(channel=kind)
        took = time.perf_counter() - t
    s = stats(url)
    proc.terminate()
    c = r.channels[0]
    print(
        f"{kind:8s} touches {n:>9,}  built {built:5.1f} s  dispatch {took:6.1f} s  ({n / took:,.0f} touches/s)  "
        f"sent {c.sent:,}  failed {c.failed:,}  retry {c.retry:,}  gateway {s}  connections {connections}  "
        f"chunk {chunk:,}"
    )


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """(wall s, CPU s of the child, its --json) of one winback command run as a process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "winback", *args, "--json"], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"winback {' '.join(args)} failed: {out.stdout[-2000:]}{out.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.stdout)


def demo(source: Path, tmp: Path, label: str, src: str | None) -> None:
    env = {**os.environ, "WINBACK_NOW": "2026-11-21 10:00", "WINBACK_LANG": "en"}
    env.pop("WINBACK_CHANNELS", None)
    if src:
        env["PYTHONPATH"] = src
    db = tmp / f"{label}-run.duckdb"
    shutil.copy(source, db)
    env["WINBACK_DB"] = str(db)
    wall, cpu, r = timed(["run", "--date", "2026-11-21"], env)
    launched = {j["journey_id"]: j["members"] for j in r["journeys"] if j["status"] == "launched"}
    print(f"[{label}] winback run (a day): {wall:6.1f} s wall, {cpu:6.1f} s CPU; created {r['created_tasks']:,} "
          f"tasks, {r['created_touches']:,} touches; launched {launched}")  # fmt: skip
    wall, cpu, r = timed(["run", "--date", "2026-11-21"], env)
    print(f"[{label}] winback run (the same day again): {wall:6.1f} s wall, {cpu:6.1f} s CPU; created "
          f"{r['created_tasks']:,} tasks, {r['created_touches']:,} touches")  # fmt: skip
    db = tmp / f"{label}-sheets.duckdb"
    shutil.copy(source, db)
    env["WINBACK_DB"] = str(db)
    _, _, c = timed(["campaign", "create", "--scenario", "new_store_opening"], env)
    cid = c["campaign"]["campaign_id"]
    _, _, lr = timed(["campaign", "launch", cid], env)
    out = tmp / f"{label}-sheets"
    wall, cpu, r = timed(["tasks", "export", "--campaign", cid, "--out", str(out)], env)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) if out.is_dir() else out.stat().st_size
    print(f"[{label}] task sheets, campaign of {lr.get('members', '?'):,} members / {lr.get('tasks', '?'):,} tasks: "
          f"{wall:6.1f} s wall, {cpu:6.1f} s CPU, {size / 2**20:.1f} MiB")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sms", type=int, default=1_000_000)
    ap.add_argument("--webhook", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--demo", type=Path, help="a demo warehouse: time winback run and the task sheets on copies")
    ap.add_argument("--baseline-src", help="another checkout's src/ to time first (PYTHONPATH)")
    args = ap.parse_args()
    if args.demo:
        with tempfile.TemporaryDirectory() as d:
            if args.baseline_src:
                demo(args.demo, Path(d), "baseline", args.baseline_src)
            demo(args.demo, Path(d), "this tree", None)
        return
    with tempfile.TemporaryDirectory() as d:
        if args.sms:
            run("sms", args.sms, args.chunk, 4, Path(d))
        if args.webhook:
            run("webhook", args.webhook, args.chunk, 8, Path(d))


if __name__ == "__main__":
    main()
