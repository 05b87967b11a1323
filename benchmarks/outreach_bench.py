"""Dispatch speed: N SMS touches to a local Aliyun-shaped gateway (batches of 100), and M webhook touches to a local
webhook receiver (8 connections), through the app's service (wb.outreach.dispatch: pressure, claim, send,
record). The gateways run in a child process on 127.0.0.1 (tests/outreach/gateways.py), so they do not share the
dispatcher's interpreter.

Usage: .venv/bin/python benchmarks/outreach_bench.py [--sms 1000000] [--webhook 200000] [--chunk 50000]
Targets (issue 10): 1,000,000 SMS ≤ 60 s; 200,000 webhook touches ≤ 60 s with 8 connections. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sms", type=int, default=1_000_000)
    ap.add_argument("--webhook", type=int, default=200_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        if args.sms:
            run("sms", args.sms, args.chunk, 4, Path(d))
        if args.webhook:
            run("webhook", args.webhook, args.chunk, 8, Path(d))


if __name__ == "__main__":
    main()
