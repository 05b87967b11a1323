"""Per-touch short links: every webhook / SMS touch carries its own link (the same code on a resend), a click log
imported once, the clicks joined into the campaign's funnel per arm (queued → sent → delivered → clicked)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from tests.outreach.conftest import HOOK_SECRET, SMS_SECRET
from tests.outreach.gateways import SmsGateway, WebhookGateway
from typer.testing import CliRunner

from winback.app import Winback
from winback.cli.main import app
from winback.config import Settings
from winback.errors import ConfigError, InputError
from winback.i18n import using
from winback.outreach.links import link_settings, read_click, with_link

runner = CliRunner()
BASE = "https://s.brand.example/s/"


def cli(env: dict[str, str], *args: str, now: str = "2026-11-21 10:00", ok: bool = True) -> Any:
    res = runner.invoke(app, [*args, "--json"], env={**env, "WINBACK_NOW": now})
    assert (res.exit_code == 0) == ok, res.output
    return json.loads(res.stdout)


def test_link_rules() -> None:
    assert with_link("您好 {link} 见", "U") == "您好 U 见" and with_link("您好", "U") == "您好 U"
    s = link_settings({"base": BASE, "target": "https://m.example/a/{campaign_id}?m={member_id}"})
    assert s is not None and s.url("abc12345") == BASE + "abc12345"
    assert s.target_of("C1", "M1", "x") == "https://m.example/a/C1?m=M1" and link_settings({}) is None
    with using("en"):
        with pytest.raises(ConfigError, match="base must be"):
            link_settings({"base": "ftp://x", "target": "https://x"})
        with pytest.raises(ConfigError, match="unknown placeholder"):
            link_settings({"base": BASE, "target": "https://x/{nope}"})
        with pytest.raises(InputError, match="not a short link"):
            read_click({"code": "!!", "clicked_at": "2026-11-21 10:00"}, "f row 1")
        with pytest.raises(InputError, match="not a date"):
            read_click({"code": "abc12345", "clicked_at": "yesterday"}, "f row 1")
    a = read_click({"url": BASE + "abc12345?x=1", "time": "2026-11-21T02:00:00Z", "user_agent": "UA"}, "f")
    b = read_click({"code": "abc12345", "clicked_at": "2026-11-21 10:00:00", "client": "UA"}, "f")
    assert a.code == "abc12345" and a.clicked_at == b.clicked_at and a.key == b.key  # UTC 02:00 = Beijing 10:00


def test_short_links_through_dispatch_clicks_and_the_funnel(demo_brand: Any, tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    with WebhookGateway(HOOK_SECRET) as hook, SmsGateway("AK1", SMS_SECRET) as sms:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            f'[links]\nbase = "{BASE}"\ntarget = "https://m.brand.example/a/{{campaign_id}}"\n'
            f'[channels.webhook]\nurl = "{hook.url}"\nsecret = "{HOOK_SECRET}"\n'
            f'[channels.sms]\nendpoint = "{sms.url}"\naccess_key_id = "AK1"\naccess_key_secret = "{SMS_SECRET}"\n'
            'sign_name = "示例品牌"\ntemplate_code = "SMS_0001"\nparams = ["code", "link"]\n',
            encoding="utf-8",
        )
        env = {"WINBACK_DB": str(db), "WINBACK_CHANNELS": str(channels)}
        cid = cli(env, "campaign", "create", "--scenario", "season_change", "--channel", "webhook")["campaign"][
            "campaign_id"
        ]
        cli(env, "campaign", "launch", cid)
        sms_c = cli(env, "campaign", "create", "--scenario", "big_sale")["campaign"]["campaign_id"]
        cli(env, "campaign", "launch", sms_c)
        cli(env, "dispatch", now="2026-11-21 10:30")
        with Winback(Settings.load(environ={}, db_path=db)) as wb:
            links = dict(wb.db().fetchall("SELECT idempotency_key, code FROM short_links WHERE campaign_id = ?", [cid]))
            sent = wb.db().fetchall("SELECT idempotency_key, member_id FROM touches WHERE campaign_id = ? "
                                    "AND status = 'sent'", [cid])  # fmt: skip
            assert sent and set(links) == {k for k, _ in sent} and len(set(links.values())) == len(links)
            key = sent[0][0]
            body = hook.bodies[key]
            assert body["text"].endswith(BASE + links[key]) and body["link"] == BASE + links[key]
            sms_links = dict(wb.db().fetchall("SELECT idempotency_key, code FROM short_links WHERE campaign_id = ?",
                                              [sms_c]))  # fmt: skip
            got = next(iter(sms.by_phone.values()))
            assert got[0]["Params"]["link"].removeprefix(BASE) in set(sms_links.values())
            # a crash left one touch in `sending`: the resend carries the same link
            wb.db().execute("UPDATE touches SET status = 'sending' WHERE idempotency_key = ?", [key])
        cli(env, "dispatch", now="2026-11-21 11:00")
        assert hook.bodies[key]["link"] == BASE + links[key] and hook.accepted[key] == 1
        log = tmp_path / "clicks.csv"
        codes = [links[k] for k, _ in sent[:5]]
        with log.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["url", "clicked_at", "user_agent"])
            w.writerows([[BASE + c, "2026-11-21 12:00:00", "Mozilla/5.0"] for c in codes])
            w.writerow([BASE + codes[0], "2026-11-21 12:05:00", "Mozilla/5.0"])  # a second click of the same member
            w.writerow(["zzzzzzzz", "2026-11-21 12:00:00", ""])  # no touch carried it
        first = cli(env, "tasks", "clicks", str(log), now="2026-11-21 13:00")
        assert (first["lines"], first["new"], first["already"], first["unknown"]) == (7, 6, 0, 1)
        again = cli(env, "tasks", "clicks", str(log), now="2026-11-21 13:00")
        assert (again["new"], again["already"], again["unknown"]) == (0, 6, 1)
        funnel = cli(env, "funnel", cid, now="2026-11-21 13:00")
        arms = {a["arm"]: a["stages"] for a in funnel["arms"]}
        treated = [s for a, s in arms.items() if a != "control"]
        assert sum(s["clicked"] for s in treated) == 5 and arms["control"]["clicked"] == 0
        assert all(s["queued"] >= s["sent"] >= s["clicked"] for s in treated)
