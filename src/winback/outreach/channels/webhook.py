"""The webhook channel: one signed JSON POST per touch.

Body (UTF-8 JSON, the same bytes for every attempt of a key): idempotency_key, channel, campaign_id, member_id, to,
text, code, payload (and link, the touch's short link, with [links]). Headers: `Idempotency-Key`,
`X-Winback-Signature: sha256=<hex HMAC-SHA256 of the body with the shared secret>`, `X-Winback-Attempt` (1, 2, …).
2xx = accepted (sent); 429 / 5xx / timeout / no answer = retry later with exponential back-off and jitter, up to
`max_attempts`; any other 4xx = failed, with the answer in the ledger. A key whose result a crash made unknown is
sent again with the same key: the receiver de-duplicates.

[channels.webhook]: url (required), secret (required), timeout (s, 10), connections (8), max_attempts (6),
backoff_base (s, 30), backoff_max (s, 3600), rate_per_second (none).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.outreach.channels.contract import NoFeedback, sign
from winback.outreach.channels.http import Http, Reply
from winback.outreach.ledger import LedgerRow, SendResult

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig


class WebhookChannel(NoFeedback):
    batch_size = 50
    resolve_sends = True  # an unknown result is resolved by sending again with the same key
    has_receipts = False
    has_inbound = False

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self._secret = str(config.require("secret"))
        self._http = Http(str(config.require("url")), timeout=float(config.get("timeout", 10)))
        self.connections = int(config.get("connections", 8))
        rate = config.get("rate_per_second")
        self.rate_per_second = None if rate is None else float(rate)
        self.max_attempts = int(config.get("max_attempts", 6))
        self.backoff_base = float(config.get("backoff_base", 30))
        self.backoff_max = float(config.get("backoff_max", 3600))

    def body(self, row: LedgerRow) -> bytes:
        doc = {
            "idempotency_key": row.key,
            "channel": row.channel,
            "campaign_id": row.campaign_id,
            "member_id": row.member_id,
            "to": row.to,
            "text": row.text,
            "code": row.code,
            "payload": row.payload,
        }
        if row.payload.get("link"):  # the touch's short link (outreach.links), when [links] is configured
            doc["link"] = row.payload["link"]
        return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")

    def _one(self, row: LedgerRow) -> SendResult:
        body = self.body(row)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": row.key,
            "X-Winback-Signature": sign(self._secret, body),
            "X-Winback-Attempt": str(row.attempt),
        }
        return classify(row.key, self._http.request("POST", None, body, headers))

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        return [self._one(r) for r in rows]

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        """A webhook cannot be asked what it received: the unknown touch is POSTed again with the same key."""
        return self.send(rows)

    def close(self) -> None:
        self._http.close()


def classify(key: str, reply: Reply) -> SendResult:
    if 200 <= reply.status < 300:
        return SendResult(key, "sent", response=reply.short(120))
    if reply.status == 0 or reply.status == 429 or reply.status >= 500:
        return SendResult(key, "retry", response=reply.short(), reason=f"http_{reply.status or 'none'}")
    return SendResult(key, "failed", response=reply.short(), reason="rejected")
