"""The e-mail channel: SMTP (STARTTLS when the server offers it, or required by `starttls = true`), one
connection per batch, a Message-ID derived from the idempotency key (so a message resent after a crash carries
the same id, and a receiver that de-duplicates by Message-ID keeps one).

SMTP 4xx (and no answer) = retry later; 5xx = failed with the server's answer in the ledger. SMTP cannot be asked
what it received: a touch a crash left in `sending` is sent again with the same Message-ID.

[channels.email]: host, from (required); port (587), starttls (true: required — a server that does not offer it
gets nothing, the touches wait as `retry: starttls_unavailable`; false: never; "auto": if offered), cafile (a PEM
file of the CAs to trust for the server's certificate; default: the system's; an untrusted one: `retry:
tls_failed`, nothing sent), username, password (sent only after STARTTLS when TLS is on), domain (for
Message-IDs; default: the from address's domain), subject ("{campaign}"), timeout (30), connections (2),
rate_per_second, max_attempts (5), backoff_base (120), backoff_max (7200).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING

from winback.outreach.channels.contract import NoFeedback, message_id
from winback.outreach.ledger import LedgerRow, SendResult

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig


class EmailChannel(NoFeedback):
    batch_size = 50
    resolve_sends = True
    has_receipts = False
    has_inbound = False

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self.host = str(config.require("host"))
        self.sender = str(config.require("from"))
        self.port = int(config.get("port", 587))
        self.starttls = config.get("starttls", True)
        self._user = config.get("username")
        self._password = config.get("password")
        self.domain = str(config.get("domain") or self.sender.rpartition("@")[2] or "winback.local")
        self.subject = str(config.get("subject", "{campaign}"))
        self.timeout = float(config.get("timeout", 30))
        self.connections = int(config.get("connections", 2))
        rate = config.get("rate_per_second")
        self.rate_per_second = None if rate is None else float(rate)
        self.cafile = config.get("cafile")
        self.max_attempts = int(config.get("max_attempts", 5))
        self.backoff_base = float(config.get("backoff_base", 120))
        self.backoff_max = float(config.get("backoff_max", 7200))

    def message(self, row: LedgerRow) -> EmailMessage:
        m = EmailMessage()
        m["From"] = self.sender
        m["To"] = row.to or ""
        m["Subject"] = self.subject.format_map({"campaign": row.campaign_id or "", **row.payload})
        m["Message-ID"] = message_id(row.key, self.domain)
        m["Date"] = formatdate(localtime=True)
        m["X-Winback-Key"] = row.key
        m.set_content(row.text)
        return m

    def _connect(self) -> smtplib.SMTP:
        s = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        s.ehlo()
        if self.starttls is True or (self.starttls == "auto" and s.has_extn("starttls")):
            ctx = ssl.create_default_context(cafile=self.cafile)
            s.starttls(context=ctx)
            s.ehlo()
        if self._user:
            s.login(str(self._user), str(self._password or ""))
        return s

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        try:
            smtp = self._connect()
        except smtplib.SMTPNotSupportedError as exc:  # STARTTLS required, not offered: never in clear
            return [SendResult(r.key, "retry", response=_short(exc), reason="starttls_unavailable") for r in rows]
        except ssl.SSLError as exc:  # an untrusted or wrong certificate: nothing sent
            return [SendResult(r.key, "retry", response=_short(exc), reason="tls_failed") for r in rows]
        except (OSError, smtplib.SMTPException) as exc:
            return [SendResult(r.key, "retry", response=_short(exc), reason="smtp_connect") for r in rows]
        out = []
        try:
            for r in rows:
                out.append(self._one(smtp, r))
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        return out

    def _one(self, smtp: smtplib.SMTP, row: LedgerRow) -> SendResult:
        msg = self.message(row)
        try:
            refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0] if exc.recipients else 550
            kind = "retry" if 400 <= code < 500 else "failed"
            return SendResult(
                row.key, kind, response=_short(exc), reason="rejected" if kind == "failed" else "smtp_4xx"
            )
        except smtplib.SMTPResponseException as exc:
            kind = "retry" if 400 <= exc.smtp_code < 500 else "failed"
            return SendResult(
                row.key, kind, response=_short(exc), reason="rejected" if kind == "failed" else "smtp_4xx"
            )
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(row.key, "retry", response=_short(exc), reason="smtp_error")
        if refused:
            return SendResult(row.key, "failed", response=str(refused)[:300], reason="rejected")
        return SendResult(row.key, "sent", provider_id=str(msg["Message-ID"]), response="250")

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        return self.send(rows)


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
