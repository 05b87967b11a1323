"""Crash injection: `dispatch` SIGKILLed 20 times while it sends 50,000 webhook touches (each kill when the gateway
has seen a random number of further POSTs; the dispatchers run in forked children, so no interpreter start-up per
kill), then run to the end by the real `winback dispatch` command. Afterwards every touch was accepted by the
gateway exactly once, no key was POSTed after its success was recorded (every POST carries the attempt the ledger
wrote before it left: per key the attempts are distinct and the last one is the one recorded), and the ledger
agrees with the gateway."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path

import pytest
from tests.outreach.conftest import HOOK_SECRET, NOW
from tests.outreach.gateways import SmsGateway, WebhookGateway

from winback.app import Winback
from winback.config import Settings

N = 50_000
KILLS = 20


def build(db_path: Path, n: int, channel: str) -> None:
    with Winback(Settings.load(environ={}, db_path=db_path)) as wb:
        db = wb.db()
        db.execute(
            "INSERT INTO members (member_id, phone, phone_status, source, consent_sms) "
            "SELECT printf('M%07d', i), printf('+86139%08d', i), 'mobile', 'erp', TRUE FROM range(?) t(i)",
            [n],
        )
        db.execute(
            "INSERT INTO touches (idempotency_key, campaign_id, member_id, channel, status, payload, queued_at, "
            " attempts) SELECT printf('C1:M%07d:%s:1', i, $2), 'C1', printf('M%07d', i), $2, 'queued', "
            " json_object('text', 'hello', 'code', printf('X%07d', i)), $3, 0 FROM range($1) t(i)",
            [n, channel, NOW - dt.timedelta(hours=1)],
        )


def run_dispatch(tmp: Path, channels: Path, channel: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WINBACK_DB": str(tmp / "wb.duckdb"),
        "WINBACK_CHANNELS": str(channels),
        "WINBACK_NOW": f"{NOW:%Y-%m-%d %H:%M}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "winback", "dispatch", "--channel", channel, "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _dispatch_here(db_path: Path, channels: Path, channel: str) -> None:
    with Winback(Settings.load(environ={}, db_path=db_path, channels=channels, now=f"{NOW:%Y-%m-%d %H:%M}")) as wb:
        wb.outreach.dispatch(channel=channel)
    os._exit(0)


def forked_dispatch(tmp: Path, channels: Path, channel: str) -> multiprocessing.process.BaseProcess:
    """The dispatcher in a forked child (the code is already imported: no interpreter start-up per kill)."""
    p = multiprocessing.get_context("fork").Process(
        target=_dispatch_here, args=(tmp / "wb.duckdb", channels, channel), daemon=True
    )
    p.start()
    return p


def kill_when(proc: multiprocessing.process.BaseProcess, reached: threading.Event) -> bool:
    """SIGKILL the dispatcher once `reached` is set (the gateway saw enough requests); False if it ended first."""
    while proc.is_alive():
        if reached.wait(0.02):
            os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
            proc.join()
            return True
    proc.join()
    return False


@pytest.mark.slow
def test_twenty_sigkills_during_a_50k_webhook_dispatch(tmp_path: Path) -> None:
    build(tmp_path / "wb.duckdb", N, "webhook")
    rng = random.Random(20261201)
    with WebhookGateway(HOOK_SECRET) as hook:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            f'[pressure]\ncaps = {{ day = 5 }}\n[channels.webhook]\nurl = "{hook.url}"\nsecret = "{HOOK_SECRET}"\n'
            "connections = 8\nchunk = 1000\n",
            encoding="utf-8",
        )
        kills = 0
        while kills < KILLS:
            target = len(hook.posts) + rng.randint(200, 1800)
            reached = threading.Event()
            hook.on_post = lambda n, t=target, e=reached: e.set() if n >= t else None
            if not kill_when(forked_dispatch(tmp_path, channels, "webhook"), reached):
                break  # finished before the kill point (only near the end)
            kills += 1
        hook.on_post = None
        proc = run_dispatch(tmp_path, channels, "webhook")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert kills >= KILLS - 2, kills  # the kills happened while there was work left

        # the gateway: every touch accepted exactly once, no bad signature
        assert len(hook.accepted) == N and max(hook.accepted.values()) == 1 and hook.bad_signatures == 0
        attempts: dict[str, list[int]] = defaultdict(list)
        for key, attempt in hook.posts:
            attempts[key].append(attempt)
    with Winback(Settings.load(environ={}, db_path=tmp_path / "wb.duckdb")) as wb:
        ledger = dict(wb.db().fetchall("SELECT idempotency_key, attempts FROM touches WHERE status = 'sent'"))
        assert wb.db().fetchall("SELECT status, count(*) FROM touches GROUP BY 1") == [("sent", N)]
    # the ledger agrees: every key it calls sent was accepted; per key the attempts POSTed are distinct and the
    # last is the one the ledger recorded (a POST after the recorded success would repeat or exceed it)
    assert set(ledger) == set(hook.accepted)
    for key, recorded in ledger.items():
        posted = attempts[key]
        assert len(posted) == len(set(posted)) and max(posted) == recorded, (key, posted, recorded)
    resent = sum(len(v) > 1 for v in attempts.values())
    print(f"kills {kills}, keys POSTed more than once (unknown after a kill, resent with the key): {resent}")


@pytest.mark.slow
def test_sigkills_during_an_sms_dispatch_send_no_number_twice(tmp_path: Path) -> None:
    """The SMS provider does not de-duplicate: unknown batches are resolved from the send details first."""
    n = 6000
    build(tmp_path / "wb.duckdb", n, "sms")
    rng = random.Random(7)
    with SmsGateway("AK1", "sms-secret") as sms:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            f'[pressure]\ncaps = {{ day = 5 }}\n[channels.sms]\nendpoint = "{sms.url}"\naccess_key_id = "AK1"\n'
            'access_key_secret = "sms-secret"\nsign_name = "品牌"\ntemplate_code = "SMS_1"\nchunk = 1000\n'
            "connections = 2\nreceipts = false\n",
            encoding="utf-8",
        )
        for _ in range(4):
            target = sum(sms.batch_sizes) + rng.randint(100, 1200)
            reached = threading.Event()
            sms.on_batch = lambda n, t=target, e=reached: e.set() if n >= t else None
            if not kill_when(forked_dispatch(tmp_path, channels, "sms"), reached):
                break
        sms.on_batch = None
        proc = run_dispatch(tmp_path, channels, "sms")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert len(sms.received) == n and max(sms.received.values()) == 1
    with Winback(Settings.load(environ={}, db_path=tmp_path / "wb.duckdb")) as wb:
        got = dict(wb.db().fetchall("SELECT status, count(*) FROM touches GROUP BY 1"))
        assert set(got) <= {"sent", "delivered"} and sum(got.values()) == n, got  # resolved ones: delivered
