"""The e-mail channel's STARTTLS against a real TLS server: aiosmtpd on loopback requiring STARTTLS (and TLS
before AUTH) with a self-signed certificate from tests/outreach/data, the channel trusting it through `cafile`.
A server that does not offer STARTTLS, or whose certificate the channel does not trust, gets nothing: the
touches wait (`retry`) with the reason, and no message arrives in clear."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path
from typing import Any

from tests.outreach.conftest import NOW, add_members, queue

from winback.app import Winback
from winback.config import Settings

DATA = Path(__file__).parent / "data"
CERT, KEY = DATA / "smtp-test-cert.pem", DATA / "smtp-test-key.pem"


@contextmanager
def smtp_server(*, tls: bool) -> Iterator[dict[str, Any]]:
    """aiosmtpd on 127.0.0.1; with `tls`, STARTTLS required before anything else. Yields what it saw."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    seen: dict[str, Any] = {"messages": [], "tls": [], "logins": []}

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            seen["messages"].append(message_from_bytes(envelope.content))
            seen["tls"].append(session.ssl is not None)
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        seen["logins"].append((auth_data.login.decode(), session.ssl is not None))
        return AuthResult(success=auth_data.login == b"crm" and auth_data.password == b"smtp-pass")

    kwargs: dict[str, Any] = {}
    if tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(CERT, KEY)
        kwargs = {"tls_context": ctx, "require_starttls": True, "authenticator": authenticator,
                  "auth_require_tls": True}  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    seen["port"] = port
    try:
        yield seen
    finally:
        controller.stop()


def mail_app(tmp_path: Path, port: int, extra: str) -> Winback:
    channels = tmp_path / "channels.toml"
    channels.write_text(
        f'[channels.email]\nhost = "127.0.0.1"\nport = {port}\nfrom = "crm@brand.example"\nbackoff_base = 1\n{extra}',
        encoding="utf-8",
    )
    return Winback(
        Settings.load(environ={}, db_path=tmp_path / "wb.duckdb", channels=channels, now=f"{NOW:%Y-%m-%d %H:%M:%S}")
    )


def outcome(wb: Winback) -> list[tuple[str, str | None]]:
    return [(str(s), r) for s, r in wb.db().fetchall("SELECT status, reason FROM touches ORDER BY member_id")]


def test_starttls_with_a_trusted_self_signed_certificate(tmp_path: Path) -> None:
    with smtp_server(tls=True) as seen:
        extra = f'starttls = true\ncafile = "{CERT}"\nusername = "crm"\npassword = "smtp-pass"\n'
        with mail_app(tmp_path, seen["port"], extra) as wb:
            keys = queue(wb, add_members(wb, 3), "email")
            r = wb.outreach.dispatch(channel="email").channels[0]
            assert r.sent == 3 and {s for s, _ in outcome(wb)} == {"sent"}
    assert seen["tls"] == [True, True, True] and seen["logins"] == [("crm", True)]
    assert sorted(m["X-Winback-Key"] for m in seen["messages"]) == sorted(keys)


def test_an_untrusted_certificate_gets_nothing(tmp_path: Path) -> None:
    with smtp_server(tls=True) as seen, mail_app(tmp_path, seen["port"], "starttls = true\n") as wb:
        queue(wb, add_members(wb, 2), "email")  # no cafile: the system's CAs do not know the test certificate
        r = wb.outreach.dispatch(channel="email").channels[0]
        assert r.sent == 0 and r.retry == 2 and outcome(wb) == [("queued", "tls_failed")] * 2
    assert seen["messages"] == [] and seen["logins"] == []


def test_a_server_without_starttls_gets_nothing_when_tls_is_required(tmp_path: Path) -> None:
    with smtp_server(tls=False) as seen:
        with mail_app(tmp_path, seen["port"], f'starttls = true\ncafile = "{CERT}"\n') as wb:
            queue(wb, add_members(wb, 2), "email")
            r = wb.outreach.dispatch(channel="email").channels[0]
            assert r.sent == 0 and r.retry == 2 and outcome(wb) == [("queued", "starttls_unavailable")] * 2
        assert seen["messages"] == []
        # "auto" sends in clear to such a server (the documented choice), true never does
        (tmp_path / "auto").mkdir()
        with mail_app(tmp_path / "auto", seen["port"], 'starttls = "auto"\n') as wb:
            queue(wb, add_members(wb, 1), "email")
            assert wb.outreach.dispatch(channel="email").channels[0].sent == 1
        assert seen["tls"] == [False]
