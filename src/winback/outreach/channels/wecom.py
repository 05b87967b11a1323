"""The WeCom (企业微信) channel: the enterprise mass message to customers, sent by their guide.

- `cgi-bin/gettoken` (corpid + the customer-contact secret) → access_token, cached until it expires.
- `cgi-bin/externalcontact/add_msg_template` (`chat_type = single`, `sender` = the guide's userid,
  `external_userid` = the customers, `text.content`): creates a task the guide must **confirm** in WeCom; the touch
  stays `sending` (pending) with the `msgid`. Customers in `fail_list` are failed (`wecom_not_friend`).
- `cgi-bin/externalcontact/get_groupmsg_send_result` (msgid, userid): per customer status 0 not yet sent (the
  guide has not confirmed: still pending), 1 sent → delivered, 2 not the guide's contact → failed
  `wecom_not_friend`, 3 already received another mass message → failed `wecom_quota`.
- A touch a crash left in `sending` without a msgid: `get_groupmsg_list_v2` (creator = the guide, the last days)
  is searched for a task with the same text; found → its msgid is adopted; none → never created, sent again.

Rows with the same guide and the same text go in one call (a personalised script makes one call per customer).
[channels.wecom]: base_url ("https://qyapi.weixin.qq.com/"), corpid, secret (required); connections (2),
rate_per_second, timeout (10), lookback_days (3), max_attempts (5), backoff_base (60), backoff_max (3600).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from winback.outreach.channels.contract import NoFeedback
from winback.outreach.channels.http import Http
from winback.outreach.ledger import LedgerRow, SendResult

if TYPE_CHECKING:
    from winback.outreach.config import ChannelConfig

TOKEN_ERRORS = frozenset({40014, 42001, 40001})
RETRY_ERRORS = frozenset({-1, 45009, 45033})  # system busy, frequency limits
STATUS = {1: ("delivered", None), 2: ("failed", "wecom_not_friend"), 3: ("failed", "wecom_quota")}


class WecomChannel(NoFeedback):
    batch_size = 100
    resolve_sends = False
    has_receipts = False
    has_inbound = False

    def __init__(self, config: ChannelConfig) -> None:
        self.name = config.name
        self._corpid = str(config.require("corpid"))
        self._secret = str(config.require("secret"))
        self._http = Http(
            str(config.get("base_url", "https://qyapi.weixin.qq.com/")), timeout=float(config.get("timeout", 10))
        )
        self.connections = int(config.get("connections", 2))
        rate = config.get("rate_per_second")
        self.rate_per_second = None if rate is None else float(rate)
        self.lookback = float(config.get("lookback_days", 3)) * 86400
        self.max_attempts = int(config.get("max_attempts", 5))
        self.backoff_base = float(config.get("backoff_base", 60))
        self.backoff_max = float(config.get("backoff_max", 3600))
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    # -- calls -------------------------------------------------------------------------------------------------------
    def _access_token(self, fresh: bool = False) -> str | None:
        with self._lock:
            if not fresh and self._token and self._token[1] > time.monotonic():
                return self._token[0]
            q = urllib.parse.urlencode({"corpid": self._corpid, "corpsecret": self._secret})
            doc = self._http.request("GET", f"/cgi-bin/gettoken?{q}", None, {}).json()
            if not isinstance(doc, dict) or doc.get("errcode", 0) != 0 or not doc.get("access_token"):
                return None
            self._token = (str(doc["access_token"]), time.monotonic() + int(doc.get("expires_in", 7200)) - 300)
            return self._token[0]

    def call(self, api: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST an externalcontact API; the token is renewed once when WeCom says it expired. None: no answer."""
        for fresh in (False, True):
            token = self._access_token(fresh)
            if token is None:
                return None
            data = json.dumps(body, ensure_ascii=False).encode()
            reply = self._http.request(
                "POST",
                f"/cgi-bin/externalcontact/{api}?access_token={token}",
                data,
                {"Content-Type": "application/json"},
            )
            doc = reply.json()
            if not isinstance(doc, dict):
                return None
            if doc.get("errcode") in TOKEN_ERRORS and not fresh:
                continue
            return doc
        return None

    # -- the channel -------------------------------------------------------------------------------------------------
    def send(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        groups: dict[tuple[str | None, str], list[LedgerRow]] = defaultdict(list)
        for r in rows:
            groups[(r.sender, r.text)].append(r)
        out = []
        for (sender, text), group in groups.items():
            if not sender:
                out += [SendResult(r.key, "failed", reason="no_sender", response="no guide userid") for r in group]
                continue
            body = {"chat_type": "single", "external_userid": [r.to for r in group], "sender": sender,
                    "text": {"content": text}}  # fmt: skip
            doc = self.call("add_msg_template", body)
            out += self._created(group, doc)
        return out

    def _created(self, group: list[LedgerRow], doc: dict[str, Any] | None) -> list[SendResult]:
        if doc is None:
            return [SendResult(r.key, "unknown", response="no answer") for r in group]
        code = doc.get("errcode", 0)
        if code != 0:
            kind = "retry" if code in RETRY_ERRORS else "failed"
            msg = f"{code} {doc.get('errmsg', '')}"[:300]
            return [
                SendResult(r.key, kind, response=msg, reason=f"wecom_{code}" if kind == "retry" else "rejected")
                for r in group
            ]
        failed = set(doc.get("fail_list") or [])
        msgid = str(doc.get("msgid"))
        return [
            SendResult(r.key, "failed", provider_id=msgid, reason="wecom_not_friend", response="fail_list")
            if r.to in failed
            else SendResult(r.key, "pending", provider_id=msgid, response="waiting for the guide to confirm")
            for r in group
        ]

    def resolve(self, rows: Sequence[LedgerRow]) -> list[SendResult]:
        out = []
        for r in rows:
            msgid = r.provider_id or self._find(r)
            if msgid is None:
                out.append(SendResult(r.key, "not_sent", response="no mass-message task for this text"))
                continue
            doc = self.call("get_groupmsg_send_result", {"msgid": msgid, "userid": r.sender, "limit": 1000})
            if doc is None or doc.get("errcode", 0) != 0:
                out.append(SendResult(r.key, "unknown", provider_id=msgid, response=str(doc)[:300]))
                continue
            mine = [s for s in doc.get("send_list") or [] if s.get("external_userid") == r.to]
            status = int(mine[0].get("status", 0)) if mine else 0
            if status in STATUS:
                outcome, reason = STATUS[status]
                out.append(SendResult(r.key, outcome, provider_id=msgid, reason=reason, response=f"status {status}"))
            else:
                out.append(SendResult(r.key, "pending", provider_id=msgid, response="waiting for the guide to confirm"))
        return out

    def _find(self, r: LedgerRow) -> str | None:
        now = int(time.time())
        doc = self.call(
            "get_groupmsg_list_v2",
            {"chat_type": "single", "start_time": now - int(self.lookback), "end_time": now, "creator": r.sender,
             "filter_type": 2, "limit": 100},
        )  # fmt: skip
        for m in (doc or {}).get("group_msg_list") or []:
            if (m.get("text") or {}).get("content") == r.text:
                return str(m.get("msgid"))
        return None

    def close(self) -> None:
        self._http.close()
