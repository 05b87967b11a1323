"""The SMS channel, shaped like Aliyun's SMS API (dysmsapi, RPC style, HMAC-SHA1 signed):

- `SendBatchSms`: ≤ 100 numbers per call (PhoneNumberJson), one signature name per number (SignNameJson), one
  template code, per-number template parameters (TemplateParamJson, from the touch's payload: `params` names
  which keys), and an `OutId` = the dispatch batch id for correlation. Answer: Code "OK" + BizId, or an error code
  (throttling and 5xx: retry later; others: the batch failed).
- `QuerySendDetails` (PhoneNumber, SendDate): the provider does **not** de-duplicate retries, so a touch a crash
  left in `sending` is looked up there first: a detail with our OutId means it was accepted (status 3 delivered,
  2 failed, 1 waiting → sent); none means it never arrived and may be sent again.
- Delivery receipts and uplink replies: Aliyun delivers `SmsReport` and `SmsUp` messages through a message queue
  (or an HTTP push). Here they are received the queue's way: batches of ≤ 16 messages, each a JSON body with a
  receipt handle, delivered at least once until deleted. A round receives until nothing is visible (a received
  message stays invisible for the queue's visibility timeout); the dispatcher records what it got, and only then
  are the messages deleted (`ack`), so after a crash in between they come again (recorded twice, nothing changes).
  The receive / delete calls are RPC actions of the same signed API (ReceiveSmsReport / DeleteSmsReport,
  ReceiveSmsUp / DeleteSmsUp) standing in for the MNS queue API — see tests/outreach/gateways.py for what is
  simulated. An uplink '退订' / 'TD' / 'R' opts the member out of SMS.

[channels.sms]: endpoint, access_key_id, access_key_secret, sign_name, template_code (required); params (["code"]),
connections (4), rate_per_second (none), timeout (10), receipts (true), max_attempts (6), backoff_base (60),
backoff_max (3600), region ("cn-hangzhou").
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winback.outreach.channels.contract import Inbound
from winback.outreach.channels.http import Http, Reply
from winback.outreach.ledger import LedgerRow, SendResult

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig

RETRY_CODES = frozenset({"isv.BUSINESS_LIMIT_CONTROL", "Throttling.User", "Throttling", "ServiceUnavailable"})
SEND_STATUS = {3: "delivered", 2: "failed", 1: "sent"}


_UNRESERVED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~"
#: byte (as a latin-1 character) -> itself or %XX: percent-encoding as one str.translate (urllib's quote looks up
#: every byte in Python; a 100-number batch's parameters are ~10 kB, encoded twice for the signature)
_PCT = {b: (chr(b) if b in _UNRESERVED else f"%{b:02X}") for b in range(256)}


def pct(s: str) -> str:
    """RFC 3986 percent-encoding of the UTF-8 bytes, only unreserved characters kept: urllib.parse.quote(s,
    safe="~"), the encoding Aliyun's signature is defined on."""
    return s.encode("utf-8").decode("latin-1").translate(_PCT)


def canonical(params: dict[str, str]) -> str:
    """The sorted, percent-encoded k=v pairs joined by '&' (what is signed, and a valid form body)."""
    return "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params.items()))


def signature(params: dict[str, str], secret: str, method: str = "POST", canon: str | None = None) -> str:
    """Aliyun RPC signature: HMAC-SHA1 over METHOD&%2F&pct(sorted k=v pairs), key = secret + '&'."""
    canon = canonical(params) if canon is None else canon
    to_sign = f"{method}&{pct('/')}&{pct(canon)}"
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def national(phone: str | None) -> str:
    """+8613912345678 -> 13912345678 (the provider's mainland format); other countries keep the + form."""
    p = phone or ""
    return p[3:] if p.startswith("+86") else p


class SmsChannel:
    batch_size = 100
    resolve_sends = False

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self._key_id = str(config.require("access_key_id"))
        self._secret = str(config.require("access_key_secret"))
        self.sign_name = str(config.require("sign_name"))
        self.template_code = str(config.require("template_code"))
        self.params = list(config.get("params", ["code"]))
        self._fast = set(self.params) <= {"code", "text"}
        self.region = str(config.get("region", "cn-hangzhou"))
        self._http = Http(str(config.require("endpoint")), timeout=float(config.get("timeout", 10)))
        self.connections = int(config.get("connections", 4))
        rate = config.get("rate_per_second")
        self.rate_per_second = None if rate is None else float(rate)
        self.batch_size = min(100, int(config.get("batch_size", 100)))
        self.has_receipts = bool(config.get("receipts", True))
        self.has_inbound = bool(config.get("uplink", True))
        self.max_attempts = int(config.get("max_attempts", 6))
        self.backoff_base = float(config.get("backoff_base", 60))
        self.backoff_max = float(config.get("backoff_max", 3600))
        self._unacked: dict[str, dict[str, str]] = {"SmsReport": {}, "SmsUp": {}}  # message id -> latest handle

    # -- the RPC call ------------------------------------------------------------------------------------------------
    def call(self, action: str, **fields: str) -> Reply:
        params = {
            "AccessKeyId": self._key_id,
            "Action": action,
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            **fields,
        }
        canon = canonical(params)  # encoded once: signed, and sent as the form body with the signature
        body = f"{canon}&Signature={pct(signature(params, self._secret, canon=canon))}".encode()
        return self._http.request("POST", None, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        """One SendBatchSms for the rows (one batch: the same batch id, the OutId)."""
        out_id = rows[0].batch_id or uuid.uuid4().hex[:16]
        reply = self.call(
            "SendBatchSms",
            PhoneNumberJson=json.dumps([national(r.to) for r in rows]),
            SignNameJson=json.dumps([self.sign_name] * len(rows), ensure_ascii=False),
            TemplateCode=self.template_code,
            TemplateParamJson=json.dumps([self._params(r) for r in rows], ensure_ascii=False),
            OutId=out_id,
        )
        doc = reply.json() if reply.status else None
        code = doc.get("Code") if isinstance(doc, dict) else None
        if reply.status == 200 and code == "OK":
            return [SendResult(r.key, "sent", provider_id=str(doc.get("BizId")), response="OK") for r in rows]
        if reply.status == 0:
            # no answer: the batch may or may not have been accepted; resolved from the send details
            return [SendResult(r.key, "unknown", response=reply.short()) for r in rows]
        if reply.status >= 500 or code in RETRY_CODES:
            return [SendResult(r.key, "retry", response=reply.short(), reason=str(code or reply.status)) for r in rows]
        return [SendResult(r.key, "failed", response=reply.short(), reason="rejected") for r in rows]

    def _params(self, row: LedgerRow) -> dict[str, str]:
        if self._fast:  # code and text only: no need to parse the payload
            return {p: (row.code or "") if p == "code" else row.text for p in self.params}
        values: dict[str, Any] = {**row.payload, "text": row.text}
        return {p: "" if values.get(p) is None else str(values[p]) for p in self.params}

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        """Each unknown touch looked up by number (today, then yesterday: a batch sent just before midnight): a
        detail carrying its batch's OutId means accepted."""
        out = []
        today = dt.date.today()
        for r in rows:
            found: list[dict[str, Any]] | None = []
            for day in (today, today - dt.timedelta(days=1)):
                found = self._details(r, day)
                if found is None or found:  # no answer (stay unknown) or found
                    break
            if found is None:
                out.append(SendResult(r.key, "unknown", response="send details unavailable"))
            elif not found:
                out.append(SendResult(r.key, "not_sent", response="no send detail for the batch"))
            else:
                status = SEND_STATUS.get(int(found[0].get("SendStatus", 1)), "sent")
                reason = "undelivered" if status == "failed" else None
                out.append(SendResult(r.key, status, response=str(found[0].get("ErrCode") or "OK"), reason=reason))
        return out

    def _details(self, r: LedgerRow, day: dt.date) -> list[dict[str, Any]] | None:
        """The send details of the number on the day that carry the row's batch OutId (None: no answer)."""
        reply = self.call(
            "QuerySendDetails", PhoneNumber=national(r.to), SendDate=day.strftime("%Y%m%d"), PageSize="50",
            CurrentPage="1",
        )  # fmt: skip
        doc = reply.json() if reply.status == 200 else None
        if not isinstance(doc, dict) or doc.get("Code") != "OK":
            return None
        details = (doc.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
        return [d for d in details if d.get("OutId") == r.batch_id]

    def _receive_all(self, kind: str) -> list[dict[str, Any]]:
        """Every message of the queue (`SmsReport` or `SmsUp`) receivable now, bodies parsed; their latest receipt
        handles (a message received again gets a new one) wait in `_unacked` for `ack`."""
        handles = self._unacked[kind]
        out: list[dict[str, Any]] = []
        for _round in range(10_000):
            reply = self.call(f"Receive{kind}", NumOfMessages="16")
            doc = reply.json() if reply.status == 200 else None
            msgs = (doc or {}).get("Messages") or [] if isinstance(doc, dict) else []
            fresh = [m for m in msgs if str(m.get("MessageId")) not in handles]
            for m in msgs:  # a message received again (its visibility ran out): only its newest handle deletes it
                handles[str(m.get("MessageId"))] = str(m.get("ReceiptHandle"))
            for m in fresh:
                try:
                    body = json.loads(m.get("MessageBody") or "{}")
                except ValueError:
                    continue  # not ours to read: deleted with the rest
                if isinstance(body, dict):
                    out.append(body)
            if not fresh:  # nothing visible left (received messages stay invisible until deleted or timed out)
                break
        return out

    def ack(self) -> None:
        """Delete the messages received since the last ack (the dispatcher has recorded them)."""
        for kind, by_id in self._unacked.items():
            handles = list(by_id.values())
            for i in range(0, len(handles), 16):
                self.call(f"Delete{kind}", ReceiptHandles=json.dumps(handles[i : i + 16]))
            by_id.clear()

    def receipts(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        by = {(r.batch_id, national(r.to)): r.key for r in rows}
        out = []
        for rep in self._receive_all("SmsReport"):
            key = by.get((rep.get("out_id"), rep.get("phone_number")))
            if key is None:
                continue
            ok = bool(rep.get("success"))
            out.append(
                SendResult(
                    key,
                    "delivered" if ok else "failed",
                    response=str(rep.get("err_code") or "DELIVERED"),
                    reason=None if ok else "undelivered",
                )
            )
        return out

    def inbound(self) -> list[Inbound]:
        ups = self._receive_all("SmsUp")
        return [
            Inbound(
                str(m.get("sequence_id")),
                "sms",
                "uplink",
                _e164(str(m.get("phone_number", ""))),
                str(m.get("content", "")),
            )
            for m in ups
        ]

    def close(self) -> None:
        self._http.close()


def _e164(phone: str) -> str:
    return phone if phone.startswith("+") else "+86" + phone
