"""A small ledger to dispatch: members with phones and e-mails, touches queued for webhook, SMS and e-mail, and
the local gateways (webhook, Aliyun-shaped SMS, SMTP) on loopback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.outreach.gateways import SmsGateway, SmtpSink, WebhookGateway

from winback.app import Winback
from winback.config import Settings
from winback.i18n import using
from winback.outreach.ledger import touch_key
from winback.outreach.store import queue_touches

NOW = dt.datetime(2026, 11, 23, 10, 0)  # a Monday, 10:00 brand time: outside the default quiet hours
HOOK_SECRET = "hook-secret-不外传"
SMS_SECRET = "sms-secret-不外传"


def write_channels(path: Path, hook: WebhookGateway, sms: SmsGateway, smtp: SmtpSink, extra: str = "") -> Path:
    path.write_text(
        f"""
[pressure]
caps = {{ day = 2, week = 5, month = 10 }}

[channels.webhook]
url = "{hook.url}hook"
secret = "{HOOK_SECRET}"
connections = 4
backoff_base = 1
backoff_max = 10

[channels.sms]
endpoint = "{sms.url}"
access_key_id = "AK1"
access_key_secret = "{SMS_SECRET}"
sign_name = "示例品牌"
template_code = "SMS_0001"
params = ["code", "name"]

[channels.email]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
from = "crm@brand.example"
{extra}
""",
        encoding="utf-8",
    )
    return path


def add_members(wb: Winback, n: int) -> list[str]:
    ids = [f"M{i:05d}" for i in range(n)]
    wb.db().executemany(
        "INSERT INTO members (member_id, name, phone, phone_status, email, source, consent_sms, consent_email) "
        "VALUES (?, ?, ?, 'mobile', ?, 'erp', TRUE, TRUE)",
        [(m, f"会员{m}", f"+86139{i:08d}", f"{m.lower()}@example.com") for i, m in enumerate(ids)],
    )
    return ids


def queue(wb: Winback, members: list[str], channel: str, campaign: str = "C0001", step: int = 1) -> list[str]:
    rows = [
        {
            "idempotency_key": touch_key(campaign, m, channel, step),
            "campaign_id": campaign,
            "member_id": m,
            "channel": channel,
            "payload": json.dumps({"text": f"{m} 您好,好久不见", "code": f"CODE{m}", "name": m}, ensure_ascii=False),
        }
        for m in members
    ]
    queue_touches(wb.db(), rows, NOW - dt.timedelta(hours=1))
    return [r["idempotency_key"] for r in rows]


@pytest.fixture
def servers() -> Iterator[tuple[WebhookGateway, SmsGateway, SmtpSink]]:
    with WebhookGateway(HOOK_SECRET) as hook, SmsGateway("AK1", SMS_SECRET) as sms, SmtpSink() as smtp:
        yield hook, sms, smtp  # type: ignore[misc]


@pytest.fixture
def app_at(tmp_path: Path, servers: tuple[WebhookGateway, SmsGateway, SmtpSink]):  # type: ignore[no-untyped-def]
    """app_at(now, extra_toml="") -> a Winback on tmp_path/wb.duckdb with the channels file for the servers."""
    channels = write_channels(tmp_path / "channels.toml", *servers)
    made: list[Winback] = []

    def make(now: dt.datetime = NOW, extra: str = "") -> Winback:
        if extra:
            write_channels(channels, *servers, extra=extra)
        for w in made:
            w.close()
        wb = Winback(
            Settings.load(environ={}, db_path=tmp_path / "wb.duckdb", channels=channels, now=f"{now:%Y-%m-%d %H:%M:%S}")
        )
        made.append(wb)
        return wb

    yield make
    for w in made:
        w.close()


@pytest.fixture(autouse=True)
def _english_messages() -> Iterator[None]:
    """Errors raised directly (not through the CLI, which sets the language itself) read in English here; the
    Chinese catalogue is tested in tests/test_i18n.py and by the CLI tests (zh by default)."""
    with using("en"):
        yield
