"""Local servers speaking the providers' contracts, started by the tests (and the benchmark) on 127.0.0.1.

- WebhookGateway: checks the HMAC signature, de-duplicates by Idempotency-Key (a key's first 2xx is its one
  acceptance; a repeat gets 200 {"duplicate": true}), logs every POST with its attempt number; can be told to
  answer 503 / 429 / 400 for chosen keys.
- SmsGateway: Aliyun-shaped RPC (SendBatchSms, QuerySendDetails), verifies the HMAC-SHA1 signature, does NOT
  de-duplicate (like the provider): it counts what each number got. Delivery receipts (SmsReport) and uplink
  replies (SmsUp) come the way Aliyun's message-queue subscription delivers them: each a message whose body is
  the JSON of the report (phone_number, send_time, report_time, success, err_code, err_msg, sms_size, biz_id,
  out_id) or of the reply (phone_number, send_time, content, sign_name, dest_code, sequence_id), received in
  batches of at most 16 with a receipt handle, delivered at least once: a message not deleted is delivered
  again once its visibility timeout (30 s) has passed (with a new handle; the old one is then invalid; a test
  calls `expire_visibility()` instead of waiting). SIMULATED: the actions are RPC calls on this gateway
  (ReceiveSmsReport / DeleteSmsReport, ReceiveSmsUp / DeleteSmsUp) standing in for the MNS queue API
  (ReceiveMessage / BatchDeleteMessage on Alicom-Queue-*-SmsReport / -SmsUp, with its own endpoint and
  signature scheme); the HTTP push variant (the provider POSTs a JSON array of reports and expects
  {"code": 0}) is not simulated.
- SmtpSink: aiosmtpd on loopback; messages by Message-ID.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from typing import Any

from winback.outreach.channels.sms import signature


class _Base:
    """A minimal HTTP/1.1 keep-alive server on asyncio (one thread, its own loop): fast enough that the gateway,
    not the dispatcher, is never the bottleneck of a test or the benchmark. Subclasses answer `handle`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0, backlog=512))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip()] = v.strip()
                n = int(headers.get("Content-Length") or headers.get("content-length") or 0)
                body = await reader.readexactly(n) if n else b""
                status, doc = (200, self.stats()) if path == "/_stats" else self.handle(path, headers, body)
                out = json.dumps(doc, ensure_ascii=False).encode()
                head_out = (
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(out)}\r\n\r\n"
                )
                writer.write(head_out.encode() + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> _Base:
        self.thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        raise NotImplementedError

    def stats(self) -> dict[str, Any]:
        """GET /_stats: counters, for a benchmark running the gateway in another process."""
        return {}


class WebhookGateway(_Base):
    def __init__(self, secret: str, *, keep_bodies: bool = True) -> None:
        super().__init__()
        self.keep_bodies = keep_bodies
        self.secret = secret.encode()
        self.posts: list[tuple[str, int]] = []  # (key, attempt) in arrival order
        self.accepted: Counter[str] = Counter()  # key -> acceptances (must never exceed 1)
        self.bodies: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.fail: dict[str, list[int]] = {}  # key -> statuses to answer first (e.g. [503, 429])
        self.on_post: Any = None  # called with the number of POSTs so far (crash injection)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        h = {k.lower(): v for k, v in headers.items()}
        key, attempt = h.get("idempotency-key", ""), int(h.get("x-winback-attempt", "0"))
        want = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        with self.lock:
            self.posts.append((key, attempt))
            if self.on_post is not None:
                self.on_post(len(self.posts))
            if not hmac.compare_digest(want, h.get("x-winback-signature", "")):
                self.bad_signatures += 1
                return 401, {"error": "bad signature"}
            doc = json.loads(body)
            if doc.get("idempotency_key") != key:
                return 400, {"error": "key mismatch"}
            queue = self.fail.get(key)
            if queue:
                return queue.pop(0), {"error": "try later"}
            if key in self.accepted:
                return 200, {"duplicate": True}
            self.accepted[key] += 1
            if self.keep_bodies:
                self.bodies[key] = doc
        return 200, {"accepted": True}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "posts": len(self.posts),
                "accepted": len(self.accepted),
                "max_per_key": max(self.accepted.values(), default=0),
                "bad_signatures": self.bad_signatures,
            }


class SmsGateway(_Base):
    def __init__(self, key_id: str, secret: str, *, throttle_batches: int = 0, keep_details: bool = True) -> None:
        super().__init__()
        self.keep_details = keep_details
        self.key_id, self.secret = key_id, secret
        self.received: Counter[str] = Counter()  # national number -> messages accepted (no de-duplication)
        self.by_phone: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.calls = 0
        self.batch_sizes: list[int] = []
        self.reports: dict[str, Any] = {"queue": [], "handles": {}, "n": 0}  # SmsReport messages
        self.uplinks: dict[str, Any] = {"queue": [], "handles": {}, "n": 0}  # SmsUp messages
        self.redeliveries = 0  # messages delivered again because nobody deleted them
        self.visibility = 30.0  # seconds a received message stays invisible (MNS's visibility timeout)
        self.throttle_batches = throttle_batches
        self.undeliverable: set[str] = set()
        self.on_batch: Any = None  # called with the numbers accepted so far (crash injection)
        self.seq = 0

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        params = dict(urllib.parse.parse_qsl(body.decode()))
        sig = params.pop("Signature", "")
        if params.get("AccessKeyId") != self.key_id or sig != signature(params, self.secret):
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "bad signature"}
        action = params.get("Action")
        with self.lock:
            self.calls += 1
            if action == "SendBatchSms":
                return self._send(params)
            if action == "QuerySendDetails":
                rows = self.by_phone.get(params["PhoneNumber"], [])
                return 200, {"Code": "OK", "TotalCount": len(rows), "SmsSendDetailDTOs": {"SmsSendDetailDTO": rows}}
            if action in ("ReceiveSmsReport", "ReceiveSmsUp"):
                return self._receive(self.reports if action == "ReceiveSmsReport" else self.uplinks, params)
            if action in ("DeleteSmsReport", "DeleteSmsUp"):
                return self._delete(self.reports if action == "DeleteSmsReport" else self.uplinks, params)
        return 400, {"Code": "InvalidAction", "Message": str(action)}

    def _send(self, p: dict[str, str]) -> tuple[int, object]:
        phones, signs = json.loads(p["PhoneNumberJson"]), json.loads(p["SignNameJson"])
        tparams = json.loads(p["TemplateParamJson"])
        if not (len(phones) == len(signs) == len(tparams)) or len(phones) > 100:
            return 400, {"Code": "isv.INVALID_JSON_PARAM", "Message": "lists differ or > 100 numbers"}
        if self.throttle_batches > 0:
            self.throttle_batches -= 1
            return 200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "throttled"}
        self.batch_sizes.append(len(phones))
        biz = f"BIZ{self.calls:08d}"
        if not self.keep_details:  # the benchmark: count only
            self.received.update(phones)
            return 200, {"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": biz}
        for phone, tp in zip(phones, tparams, strict=True):
            self.received[phone] += 1
            ok = phone not in self.undeliverable
            self.by_phone[phone].append(
                {
                    "PhoneNum": phone,
                    "SendStatus": 3 if ok else 2,
                    "ErrCode": "DELIVERED" if ok else "MOBILE_NOT_ON",
                    "OutId": p.get("OutId"),
                    "TemplateCode": p["TemplateCode"],
                    "Params": tp,
                }
            )
            self._enqueue(
                self.reports,
                {
                    "phone_number": phone,
                    "send_time": "2026-11-23 10:00:00",
                    "report_time": "2026-11-23 10:00:05",
                    "success": ok,
                    "err_code": "DELIVERED" if ok else "MOBILE_NOT_ON",
                    "err_msg": "用户接收成功" if ok else "用户关机",
                    "sms_size": "1",
                    "biz_id": biz,
                    "out_id": p.get("OutId"),
                },
            )
        if self.on_batch is not None:
            self.on_batch(sum(self.batch_sizes))
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz, "RequestId": biz}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "numbers": len(self.received),
                "messages": sum(self.received.values()),
                "calls": self.calls,
                "max_per_number": max(self.received.values(), default=0),
            }

    def reply(self, phone: str, text: str) -> None:
        with self.lock:
            self.seq += 1
            self._enqueue(
                self.uplinks,
                {
                    "phone_number": phone,
                    "send_time": "2026-11-23 10:30:00",
                    "content": text,
                    "sign_name": "示例品牌",
                    "dest_code": "1234",
                    "sequence_id": self.seq,
                },
            )

    @staticmethod
    def _enqueue(q: dict[str, Any], body: dict[str, Any]) -> None:
        q["n"] += 1
        q["queue"].append(
            {"MessageId": f"MSG{q['n']:010d}", "Body": json.dumps(body, ensure_ascii=False), "k": 0, "hidden": 0.0}
        )

    def _receive(self, q: dict[str, Any], params: dict[str, str]) -> tuple[int, object]:
        """Up to 16 visible messages (NumOfMessages), each with a fresh receipt handle; they stay in the queue,
        invisible for `visibility` seconds, until deleted with that handle."""
        n = min(16, int(params.get("NumOfMessages", "16")))
        now = time.monotonic()
        out = []
        for m in [m for m in q["queue"] if m["hidden"] <= now][:n]:
            m["k"] += 1
            m["hidden"] = now + self.visibility
            self.redeliveries += m["k"] > 1
            handle = f"{m['MessageId']}-{m['k']}"
            q["handles"][handle] = m["MessageId"]
            out.append({"MessageId": m["MessageId"], "ReceiptHandle": handle, "DequeueCount": m["k"],
                        "MessageBody": m["Body"]})  # fmt: skip
        return 200, {"Code": "OK", "Messages": out}

    def expire_visibility(self) -> None:
        """As if the visibility timeout passed: received, undeleted messages can be received again."""
        with self.lock:
            for q in (self.reports, self.uplinks):
                for m in q["queue"]:
                    m["hidden"] = 0.0

    @staticmethod
    def _delete(q: dict[str, Any], params: dict[str, str]) -> tuple[int, object]:
        """Delete received messages by their latest receipt handles; a stale handle is an error for that one."""
        errors, gone = [], set()
        for h in json.loads(params.get("ReceiptHandles", "[]")):
            mid = q["handles"].pop(h, None)
            live = next((m for m in q["queue"] if m["MessageId"] == mid), None)
            if live is None or f"{mid}-{live['k']}" != h:
                errors.append({"ReceiptHandle": h, "ErrorCode": "ReceiptHandleError"})
                continue
            gone.add(mid)
        q["queue"] = [m for m in q["queue"] if m["MessageId"] not in gone]
        return 200, {"Code": "OK" if not errors else "PartialDelete", "Errors": errors}

    def pending(self, kind: str = "report") -> int:
        """Messages still in the queue (received but not deleted count)."""
        with self.lock:
            return len((self.reports if kind == "report" else self.uplinks)["queue"])


class SmtpSink:
    """aiosmtpd on loopback: every message kept; `ids` counts Message-IDs (a duplicate shows as 2)."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self
        self.messages: list[Any] = []
        self.ids: Counter[str] = Counter()

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                msg = message_from_bytes(envelope.content)
                sink.messages.append(msg)
                sink.ids[str(msg["Message-ID"])] += 1
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@contextmanager
def gateways(secret: str = "s3cret-hook") -> Iterator[tuple[WebhookGateway, SmsGateway, SmtpSink]]:
    with WebhookGateway(secret) as hook, SmsGateway("AK1", "sms-secret") as sms, SmtpSink() as smtp:
        yield hook, sms, smtp  # type: ignore[misc]


class WecomServer(_Base):
    """WeCom's customer-contact APIs on loopback: gettoken, add_msg_template (a task the guide must confirm),
    get_groupmsg_send_result, get_groupmsg_list_v2. `confirm(msgid)` is the guide tapping "send"; `friends` says
    which customers are whose contacts (others land in fail_list)."""

    def __init__(self, corpid: str, secret: str) -> None:
        super().__init__()
        self.corpid, self.secret = corpid, secret
        self.tokens: set[str] = set()
        self.tasks: dict[str, dict[str, Any]] = {}
        self.friends: dict[str, set[str]] = defaultdict(set)  # guide userid -> external userids
        self.delivered: Counter[str] = Counter()  # external userid -> messages that reached them

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        u = urllib.parse.urlsplit(path)
        q = dict(urllib.parse.parse_qsl(u.query))
        with self.lock:
            if u.path == "/cgi-bin/gettoken":
                if (q.get("corpid"), q.get("corpsecret")) != (self.corpid, self.secret):
                    return 200, {"errcode": 40001, "errmsg": "invalid credential"}
                token = f"T{len(self.tokens) + 1}"
                self.tokens.add(token)
                return 200, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            if q.get("access_token") not in self.tokens:
                return 200, {"errcode": 42001, "errmsg": "access_token expired"}
            doc = json.loads(body or b"{}")
            api = u.path.rsplit("/", 1)[-1]
            if api == "add_msg_template":
                return 200, self._add(doc)
            if api == "get_groupmsg_send_result":
                t = self.tasks.get(doc.get("msgid"))
                if t is None:
                    return 200, {"errcode": 41063, "errmsg": "msgid not found"}
                return 200, {
                    "errcode": 0,
                    "errmsg": "ok",
                    "next_cursor": "",
                    "send_list": [
                        {"external_userid": e, "userid": t["sender"], "status": s} for e, s in t["status"].items()
                    ],
                }
            if api == "get_groupmsg_list_v2":
                return 200, {
                    "errcode": 0,
                    "errmsg": "ok",
                    "group_msg_list": [
                        {"msgid": m, "creator": t["sender"], "create_type": 0, "text": t["text"]}
                        for m, t in self.tasks.items()
                        if t["sender"] == doc.get("creator")
                    ],
                }
        return 404, {"errcode": 404, "errmsg": "unknown api"}  # fmt: skip

    def _add(self, doc: dict[str, Any]) -> dict[str, Any]:
        sender, users = doc.get("sender"), list(doc.get("external_userid") or [])
        if doc.get("chat_type") != "single" or not sender or not users:
            return {"errcode": 40058, "errmsg": "invalid parameter"}
        fail = [e for e in users if e not in self.friends[sender]]
        msgid = f"msg{len(self.tasks) + 1:06d}"
        self.tasks[msgid] = {
            "sender": sender,
            "text": doc.get("text"),
            "status": {e: 0 for e in users if e not in fail},
        }
        return {"errcode": 0, "errmsg": "ok", "fail_list": fail, "msgid": msgid}

    def confirm(self, msgid: str) -> None:
        """The guide confirms the mass message in WeCom: every customer of the task receives it."""
        with self.lock:
            for e in self.tasks[msgid]["status"]:
                self.tasks[msgid]["status"][e] = 1
                self.delivered[e] += 1
