"""`winback dispatch` as a command: --dry-run writes nothing, --json is one object, an unconfigured channel is a
clear error in the one error shape, secrets never printed."""

from __future__ import annotations

import json

from tests.outreach.conftest import HOOK_SECRET, NOW, add_members, queue
from typer.testing import CliRunner

from winback.cli.main import app


def test_dispatch_command(app_at, servers, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hook, _, _ = servers
    wb = app_at()
    queue(wb, add_members(wb, 12), "webhook")
    queue(wb, ["M00000"], "wecom")
    wb.close()
    env = {
        "WINBACK_DB": str(tmp_path / "wb.duckdb"),
        "WINBACK_CHANNELS": str(tmp_path / "channels.toml"),
        "WINBACK_NOW": f"{NOW:%Y-%m-%d %H:%M}",
    }
    runner = CliRunner()
    dry = runner.invoke(app, ["dispatch", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    doc = json.loads(dry.stdout)
    assert doc["dry_run"] is True and doc["unconfigured"] == ["wecom"]
    assert {c["channel"]: c["claimed"] for c in doc["channels"]}["webhook"] == 12 and hook.posts == []
    one = runner.invoke(app, ["dispatch", "--channel", "webhook", "--limit", "5", "--json"], env=env)
    assert json.loads(one.stdout)["channels"][0]["sent"] == 5 and len(hook.accepted) == 5
    rest = runner.invoke(app, ["dispatch"], env=env)
    assert rest.exit_code == 0 and len(hook.accepted) == 12 and HOOK_SECRET not in rest.output
    bad = runner.invoke(app, ["dispatch", "--channel", "wecom", "--json"], env=env)
    assert bad.exit_code == 2
    err = json.loads(bad.stdout)["error"]
    assert err["type"] == "ConfigError" and "wecom" in err["message"] and "[channels.wecom]" in err["hint"]
    missing = runner.invoke(app, ["dispatch", "--channels", str(tmp_path / "nope.toml"), "--json"], env=env)
    assert missing.exit_code == 2 and "找不到渠道配置文件" in json.loads(missing.stdout)["error"]["message"]
