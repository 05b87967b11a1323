"""Callbacks of the outreach providers. `GET|POST /wecom/callback` is WeCom's (企业微信) callback URL: the URL
check when it is saved in the WeCom admin console, then the customer-contact events; a contact deletion opts the
member out of WeCom (outreach/channels/wecom_callback.py). No login: the message's signature (the callback token)
and its AES envelope (the EncodingAESKey) are the authentication; a bad one is a 400 and changes nothing."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from winback.web.auth import context

router = APIRouter(tags=["providers"])
MAX_BODY = 64 * 1024


@router.get("/wecom/callback", include_in_schema=False)
def wecom_check(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "",
                channel: str | None = None) -> Response:  # fmt: skip
    """WeCom checks the URL: answer the decrypted echostr."""
    with context(request) as st:
        done = st.wb.outreach.wecom_callback(signature=msg_signature, timestamp=timestamp, nonce=nonce,
                                             echostr=echostr, channel=channel)  # fmt: skip
    return PlainTextResponse(done.echo or "")


@router.post("/wecom/callback", include_in_schema=False)
async def wecom_event(request: Request, msg_signature: str = "", timestamp: str = "", nonce: str = "",
                      channel: str | None = None) -> Response:  # fmt: skip
    """One event (XML, at most 64 KiB): recorded, answered `success` (WeCom retries an event it got no answer for;
    a retry records nothing new)."""
    declared = request.headers.get("content-length", "0")
    body = await request.body() if declared.isdigit() and int(declared) <= MAX_BODY else b""
    if len(body) > MAX_BODY:
        body = b""  # refused by the parser like any body that is not a WeCom message

    def handle() -> None:
        with context(request) as st:
            st.wb.outreach.wecom_callback(signature=msg_signature, timestamp=timestamp, nonce=nonce, body=body,
                                          channel=channel)  # fmt: skip

    await run_in_threadpool(handle)
    return PlainTextResponse("success")
