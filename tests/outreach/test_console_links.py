"""The console serves the per-touch short links: a real uvicorn on loopback, a webhook dispatch whose messages
carry links to it, httpx following a link to a local landing page. Every click is kept (link_clicks, source web),
the funnel counts the clicker once, a click makes the kept reports stale, an unknown code is a 404 page in zh or en,
and the target is only ever the one stored with the code."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from tests.outreach.conftest import HOOK_SECRET
from tests.outreach.gateways import WebhookGateway, _Base
from typer.testing import CliRunner

from winback.app import Winback
from winback.cli.main import app as cli_app
from winback.config import Settings
from winback.web.cache import OUTREACH, SNAPSHOT

runner = CliRunner()


class Landing(_Base):
    """The brand's landing page: answers every GET with the path it was asked for."""

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        return 200, {"landed": path}


def cli(env: dict[str, str], *args: str, now: str) -> Any:
    res = runner.invoke(cli_app, [*args, "--json"], env={**env, "WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


@contextmanager
def served(wb: Winback, sock: Any) -> Iterator[Any]:
    from winback.web.server import create_app, make_server

    web = create_app(wb, secret="links-test")
    server = make_server(web)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert web.state.ready.wait(30), "the console did not start"
    try:
        yield web
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_console_redirects_records_clicks_and_feeds_the_funnel(demo_brand: Any, tmp_path: Path) -> None:
    from winback.web.server import bind

    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    sock = bind("127.0.0.1", 0)
    console = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with WebhookGateway(HOOK_SECRET) as hook, Landing() as landing:
        channels = tmp_path / "channels.toml"
        channels.write_text(
            f'[links]\nbase = "{console}/s/"\ntarget = "{landing.url}a/{{campaign_id}}?c={{code}}"\n'
            f'[channels.webhook]\nurl = "{hook.url}"\nsecret = "{HOOK_SECRET}"\n',
            encoding="utf-8",
        )
        env = {"WINBACK_DB": str(db), "WINBACK_CHANNELS": str(channels)}
        at = "2026-11-21 10:00"
        made = cli(env, "campaign", "create", "--scenario", "season_change", "--channel", "webhook", now=at)
        cid = made["campaign"]["campaign_id"]
        cli(env, "campaign", "launch", cid, now=at)
        cli(env, "dispatch", now="2026-11-21 10:30")
        bodies = list(hook.bodies.values())
        assert len(bodies) > 2 and all(b["link"].startswith(f"{console}/s/") for b in bodies)
        link, other = bodies[0]["link"], bodies[1]["link"]
        code = link.rsplit("/", 1)[1]
        wb = Winback(Settings.load(environ={}, db_path=db, channels=channels, now="2026-11-21 12:00:00"))
        with served(wb, sock) as web, httpx.Client(timeout=30) as c:
            cache = web.state.web.cache
            kept = cache.get(("report", cid), lambda: wb.campaigns.report(cid), OUTREACH)  # as the console keeps it
            snapshot = cache.get(("overview",), lambda: "the overview", SNAPSHOT)
            r = c.get(link, follow_redirects=True)
            assert r.status_code == 200 and r.json() == {"landed": f"/a/{cid}?c={code}"}
            # the click made the kept report stale (the funnel counts clicks); the snapshot's answers stand
            assert cache.get(("report", cid), lambda: "computed again", OUTREACH) == "computed again" != kept
            assert cache.get(("overview",), lambda: "computed again", SNAPSHOT) == snapshot
            hop = r.history[0]
            assert hop.status_code == 302 and hop.headers["location"] == f"{landing.url}a/{cid}?c={code}"
            assert hop.headers["cache-control"] == "no-store" and "set-cookie" not in hop.headers
            assert hop.content == b""  # nothing of the member in the answer
            # a refresh, and an attempt to steer the redirect elsewhere: the stored target, and a second click
            again = c.get(f"{link}?next=https://evil.example/&url=https://evil.example/")
            assert again.status_code == 302 and again.headers["location"] == hop.headers["location"]
            assert c.get(other).status_code == 302
            unknown = c.get(f"{console}/s/ZZZZZZZZ")
            assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
            assert "短链接" in unknown.text and bodies[0]["member_id"] not in unknown.text
            en = c.get(f"{console}/s/ZZZZZZZZ?lang=en")
            assert en.status_code == 404 and "no such short link" in en.text
            assert c.get(f"{console}/s/..%2F..%2Fapi").status_code == 404
        rows = wb.db().fetchall("SELECT code, source, client FROM link_clicks ORDER BY clicked_at, code")
        wb.close()
    assert sorted(r[0] for r in rows).count(code) == 2 and len(rows) == 3
    assert {r[1] for r in rows} == {"web"} and all(r[2] and r[2].startswith("python-httpx") for r in rows)
    funnel = cli(env, "funnel", cid, now="2026-11-21 13:00")
    clicked = {a["arm"]: a["stages"]["clicked"] for a in funnel["arms"]}
    assert sum(clicked.values()) == 2 and clicked.get("control", 0) == 0  # two clickers ...
    assert sum(a["link_clicks"] for a in funnel["arms"]) == 3  # ... three clicks
