"""A small keep-alive HTTP client over the standard library (http.client), one connection per worker thread."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int  # 0 = no answer (connection refused / reset / timeout)
    body: bytes
    headers: dict[str, str]
    error: str | None = None

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def short(self, limit: int = 300) -> str:
        if self.status == 0:
            return f"no answer: {self.error}"
        return f"{self.status} {self.body[:limit].decode('utf-8', 'replace')}"


class Http:
    """POST/GET to one base URL; each thread keeps its own connection and reconnects once when the server closed
    an idle one. Never raises for network trouble: a Reply with status 0 says what happened."""

    def __init__(self, base_url: str, *, timeout: float = 10.0) -> None:
        u = urllib.parse.urlsplit(base_url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.scheme, self.host, self.port = u.scheme, u.hostname, u.port
        self.base_path = u.path or "/"
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection:
        c = getattr(self._local, "conn", None)
        if c is None:
            cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
            c = cls(self.host, self.port, timeout=self.timeout)
            c.connect()
            if c.sock is not None:  # small requests go out at once (no Nagle delay waiting for an ACK)
                c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._local.conn = c
            with self._lock:
                self._all.append(c)
        return c

    def _drop(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None

    def request(self, method: str, path: str | None, body: bytes | None, headers: dict[str, str]) -> Reply:
        target = path if path is not None else self.base_path
        for attempt in (1, 2):
            try:
                conn = self._conn()
                conn.request(method, target, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
                if r.getheader("connection", "").lower() == "close":
                    self._drop()
                return Reply(r.status, data, {k.lower(): v for k, v in r.getheaders()})
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self._drop()
                if attempt == 2:
                    return Reply(0, b"", {}, type(exc).__name__)
                # an idle keep-alive connection the server closed: try once more on a new one (safe: every
                # request carries an idempotency key or is a query)
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                self._drop()
                return Reply(0, b"", {}, type(exc).__name__)
        return Reply(0, b"", {}, "unreachable")

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()
