"""`TillFastPath`: the usual till's `POST /api/coupons/{code}/redeem` answered from raw ASGI, without FastAPI.

A till's redemption is the console's hottest write: 50 tills at once on two cores, each request's HTTP work
shares one GIL with the others and with the rounds' thread. FastAPI's per-request work (routing through every
route, the dependency and body machinery, pydantic validation, the exception middleware) cost about a millisecond
of CPU per till. So the usual till (a JSON object with a string `order_id` and `store_id` of 1–200 characters, a
well-formed code, a bearer token live in the token cache, its own store) is read here: the body parsed with
`json.loads`, its ask queued for the next round (web/till_batch.py), its answer written as the route would (the
redeemed coupon, or the refusal in the one error shape with the status the error handlers give it). Anything
else (no or unknown token, another store, a malformed code or body, ?lang= or a cookie) is handed to the FastAPI
route with its body, unchanged: the route says 401/403/404/422 itself and audits what it refuses. The OpenAPI
still describes the route.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from winback.campaigns.redeem import AlreadyRedeemedError
from winback.errors import WinbackError
from winback.web.auth import lang_of
from winback.web.render import error_doc, result_bytes
from winback.web.tokens_service import TokensService
from winback.web.users_service import Caller

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from winback.web.till_batch import Ask

log = logging.getLogger("winback.web.tills")
PATH = re.compile(r"^/api/coupons/([^/]+)/redeem$")
MAX_BODY = 4096  # a till's body is ~60 bytes; a larger one goes to the route (which validates it)


class TillFastPath:
    """ASGI middleware (see the module's docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = PATH.match(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        body, more = await _body(receive)
        ask = None if more else _ask(scope, found.group(1), body)
        if ask is None:  # not the usual till: the route answers, from the same body
            await self.app(scope, _replay(body, more, receive), send)
            return
        web = scope["app"].state.web
        status = 200
        try:
            answer = result_bytes(await web.redeemer.redeem_async(ask))
        except WinbackError as exc:  # the round's typed refusal: 409 already redeemed, 404, 400
            from winback.web.server import status_of

            status = 409 if isinstance(exc, AlreadyRedeemedError) else status_of(exc)
            answer = result_bytes(error_doc(type(exc).__name__, exc.message, exc.hint))
        except Exception as exc:  # what broke the round: the error handlers' 500
            log.exception("a till's redemption failed")
            status, answer = 500, result_bytes(error_doc("InternalError", f"{type(exc).__name__}: {exc}", None))
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


async def _body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The request's body, or (what was read, the messages read) when it is longer than MAX_BODY."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the till hung up: the route sees the same
            return b"".join(chunks), [message]
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            return b"".join(chunks), []
        if size > MAX_BODY:
            return b"".join(chunks), [{"type": "http.request", "body": b"", "more_body": True}]


def _replay(body: bytes, more: list[Message], receive: Receive) -> Receive:
    """A receive that gives the route the body read so far, then the rest of the request's messages."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": bool(more)}]
    if more and more[0]["type"] != "http.request":
        pending = [pending[0] | {"more_body": False}, *more]

    async def again() -> Message:
        return pending.pop(0) if pending else await receive()

    return again


def _field(doc: Any, name: str) -> str | None:
    value = doc.get(name)
    return value if isinstance(value, str) and 1 <= len(value) <= 200 else None


def _ask(scope: Scope, code: str, body: bytes) -> Ask | None:
    """The round's ask of the usual till's request, else None (the route answers it)."""
    headers = dict(scope["headers"])
    kind = headers.get(b"content-type", b"application/json")
    if not kind.startswith(b"application/json"):
        return None
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    order_id, store_id = _field(doc, "order_id"), _field(doc, "store_id")
    if order_id is None or store_id is None:
        return None
    web = scope["app"].state.web
    lang = web.settings.lang if not scope["query_string"] and b"cookie" not in headers else lang_of(Request(scope))
    client = scope.get("client")
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    return TokensService(web.wb).ready_ask(authorization, code, order_id=order_id, store_id=store_id, lang=lang,
                                           caller=Caller(client[0] if client else None))  # fmt: skip
