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
        self._all: list[http.client.HTTPConnection | _Plain] = []
        self._lock = threading.Lock()

    def _conn(self) -> http.client.HTTPConnection | _Plain:
        c = getattr(self._local, "conn", None)
        if c is None:
            if self.scheme == "https":
                c = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout)
                c.connect()
                if c.sock is not None:  # small requests go out at once (no Nagle delay waiting for an ACK)
                    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            else:
                c = _Plain(self.host, self.port or 80, self.timeout)
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
                if isinstance(conn, _Plain):
                    status, head, data = conn.exchange(method, target, body, headers)
                else:
                    conn.request(method, target, body=body, headers=headers)
                    r = conn.getresponse()
                    status, data = r.status, r.read()
                    head = {k.lower(): v for k, v in r.getheaders()}
                if head.get("connection", "").lower() == "close":
                    self._drop()
                return Reply(status, data, head)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError, _Closed) as exc:
                self._drop()
                if attempt == 2:
                    return Reply(0, b"", {}, type(exc).__name__)
                # an idle keep-alive connection the server closed: try once more on a new one (safe: every
                # request carries an idempotency key or is a query)
            except (TimeoutError, OSError, ValueError, http.client.HTTPException) as exc:
                self._drop()
                return Reply(0, b"", {}, type(exc).__name__)
        return Reply(0, b"", {}, "unreachable")

    def close(self) -> None:
        with self._lock:
            for c in self._all:
                c.close()
            self._all.clear()


class _Closed(Exception):
    """The server closed the connection before answering."""


class _Plain:
    """A minimal HTTP/1.1 keep-alive exchange over a plain socket (requests with a body or none; answers with
    Content-Length, chunked, or up to the close). http.client parses every answer's headers with the e-mail
    parser, which costs more than the whole exchange on loopback; this does not."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host_header = f"{host}:{port}"
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def exchange(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}", f"Content-Length: {len(body or b'')}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + (body or b""))
        status_line = self.rfile.readline(65537)
        if not status_line:
            raise _Closed("no answer")
        status = int(status_line.split(None, 2)[1])
        head: dict[str, str] = {}
        while True:
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            head[k.strip().lower()] = v.strip()
        if "content-length" in head:
            data = self.rfile.read(int(head["content-length"]))
        elif head.get("transfer-encoding", "").lower() == "chunked":
            data = self._chunks()
        else:
            data, head["connection"] = self.rfile.read(), "close"
        return status, head, data

    def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(65537)

    def close(self) -> None:
        try:
            self.rfile.close()
        finally:
            self.sock.close()
