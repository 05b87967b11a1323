"""End to end on the demo brand, through the CLI: refresh → three campaigns launched (SMS; a WeCom scenario sent
through the webhook with `campaign create --channel webhook`; e-mail) → `dispatch` at 22:00 (inside quiet hours:
SMS held, webhook and e-mail go) → `dispatch` at 09:00 the next morning (SMS go) → every due touch reached its
server exactly once; opted-out members received nothing; the ledger agrees with the servers."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from tests.outreach.conftest import HOOK_SECRET, SMS_SECRET
from tests.outreach.gateways import SmsGateway, SmtpSink, WebhookGateway
from typer.testing import CliRunner

from winback.app import Winback
from winback.cli.main import app
from winback.config import Settings

runner = CliRunner()
LAUNCH = "2026-11-21 10:00"
NIGHT = "2026-11-21 22:00"
MORNING = "2026-11-22 09:00"
EMAIL_SCENARIO = """
[[scenario]]
id = "email_care"
name_zh = "邮件关怀"
name_en = "E-mail care"
target = { segments = ["hibernating", "near_dormant"] }
exclude_active = true
order_by = "monetary"
offer = { kind = "voucher", value = 30, threshold = 200 }
channel = "email"
script_zh = "{name}，好久不见，{store}送您{offer}，券码 {code}。"
script_en = "{name}, we miss you: {offer} at {store}, code {code}."
kpis = ["purchased"]
"""


def cli(env: dict[str, str], *args: str, now: str = LAUNCH) -> dict[str, Any]:
    res = runner.invoke(app, [*args, "--json"], env={**env, "WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def launch(env: dict[str, str], scenario: str, *channel: str) -> str:
    created = cli(env, "campaign", "create", "--scenario", scenario, "--holdout", "0.2", *channel)
    cid = created["campaign"]["campaign_id"]
    cli(env, "campaign", "launch", cid)
    return cid


def test_demo_campaigns_dispatch_to_local_servers(demo_brand: Any, tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    scenarios = tmp_path / "scenarios.toml"
    builtin = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    scenarios.write_text(builtin + EMAIL_SCENARIO, encoding="utf-8")
    with Winback(Settings.load(environ={}, db_path=db)) as wb:  # the demo has no e-mail addresses: give some
        wb.db().execute("UPDATE members SET email = lower(member_id) || '@example.com', consent_email = TRUE")
    with WebhookGateway(HOOK_SECRET) as hook, SmsGateway("AK1", SMS_SECRET) as sms, SmtpSink() as smtp:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            f'[channels.webhook]\nurl = "{hook.url}"\nsecret = "{HOOK_SECRET}"\n'
            f'[channels.sms]\nendpoint = "{sms.url}"\naccess_key_id = "AK1"\naccess_key_secret = "{SMS_SECRET}"\n'
            'sign_name = "示例品牌"\ntemplate_code = "SMS_0001"\n'
            f'[channels.email]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\nfrom = "crm@brand.example"\n',
            encoding="utf-8",
        )
        env = {"WINBACK_DB": str(db), "WINBACK_CHANNELS": str(channels), "WINBACK_SCENARIOS": str(scenarios)}
        cli(env, "refresh")
        c_sms, c_mail = launch(env, "big_sale"), launch(env, "email_care")
        c_hook = launch(env, "season_change", "--channel", "webhook")
        with Winback(Settings.load(environ={}, db_path=db)) as wb:
            due = dict(wb.db().fetchall("SELECT channel, count(*) FROM touches GROUP BY 1"))
            out = [r[0] for r in wb.db().fetchall(
                "SELECT min(member_id) FROM touches GROUP BY channel UNION ALL "
                "SELECT max(member_id) FROM touches WHERE channel = 'sms'")]  # fmt: skip
            for m in out:
                wb.outreach.opt_out(m, channel="*", reason="电话里要求不再联系")
            contact = dict(
                wb.db().fetchall("SELECT member_id, phone FROM members WHERE member_id IN (SELECT unnest(?))", [out])
            )
        assert min(due.values()) > 100, due

        night = {c["channel"]: c for c in cli(env, "dispatch", now=NIGHT)["channels"]}
        skipped = {ch: sum(c["skipped"].values()) for ch, c in night.items()}
        assert {ch: c["skipped"].get("opted_out") for ch, c in night.items()} == {"sms": 2, "webhook": 1, "email": 1}
        assert set(night["sms"]["skipped"]) <= {"opted_out", "no_address"}  # no mobile number / no WeCom id
        assert night["sms"]["claimed"] == 0 and night["sms"]["deferred"] == due["sms"] - skipped["sms"]
        assert sum(sms.received.values()) == 0  # quiet hours: nothing reached a phone
        sent = {ch: due[ch] - skipped[ch] for ch in due}
        assert night["webhook"]["sent"] == sent["webhook"] > 100 and night["email"]["sent"] == sent["email"] > 100
        morning = {c["channel"]: c for c in cli(env, "dispatch", now=MORNING)["channels"]}
        assert morning["sms"]["sent"] == sent["sms"] > 100 and morning["sms"]["skipped"] == {}

        # every due touch reached its server once; the opted-out members nothing
        assert len(hook.accepted) == sent["webhook"] and max(hook.accepted.values()) == 1
        assert len(sms.received) == sent["sms"] and max(sms.received.values()) == 1
        assert len(smtp.messages) == sent["email"] and max(smtp.ids.values()) == 1
        assert not {b["member_id"] for b in hook.bodies.values()} & set(out)
        assert not {str(p)[3:] for p in contact.values() if p} & set(sms.received)
        assert not {m["To"] for m in smtp.messages} & {f"{m.lower()}@example.com" for m in out}
        assert {b["campaign_id"] for b in hook.bodies.values()} == {c_hook}
        again = cli(env, "dispatch", now=MORNING)
        assert sum(c["claimed"] for c in again["channels"]) == 0
    with Winback(Settings.load(environ={}, db_path=db)) as wb:
        ledger = dict(
            wb.db().fetchall(
                "SELECT concat_ws(':', campaign_id, status, coalesce(reason, '')), count(*) FROM touches GROUP BY 1"
            )
        )
    assert {k: v for k, v in ledger.items() if "no_address" not in k} == {
        f"{c_sms}:delivered:": sent["sms"],
        f"{c_sms}:skipped:opted_out": 2,
        f"{c_hook}:sent:": sent["webhook"],
        f"{c_hook}:skipped:opted_out": 1,
        f"{c_mail}:sent:": sent["email"],
        f"{c_mail}:skipped:opted_out": 1,
    }
