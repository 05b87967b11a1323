"""The tills' API: `POST /api/coupons/{code}/redeem`, authenticated by the store's bearer token (no cookie, no
CSRF), answering the redeemed coupon or the one error shape (409 when the code was already redeemed). The usual
till (cached token, its own store, a well-formed body) is answered before FastAPI by web/till_fast.py with the
same answers; this route answers everything else and describes the call in the OpenAPI."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from winback.campaigns.redeem import AlreadyRedeemedError
from winback.campaigns.types import RedeemResult
from winback.web import schemas as s
from winback.web.auth import caller_of, context, lang_of, state_of, till_of
from winback.web.render import ResultJSON
from winback.web.tokens_service import TokensService

router = APIRouter(prefix="/api", tags=["till"])


class RedeemIn(BaseModel):
    order_id: str = Field(min_length=1, max_length=200, description="the till's paid order / 收银订单号")
    store_id: str = Field(min_length=1, max_length=200, description="the till's store (the token's) / 门店")


RedeemOut = s.model_of(RedeemResult, "RedeemOut", "The redeemed coupon: `wb.coupons.redeem`'s RedeemResult.")

_ANSWERS = {
    **s.ERRORS,
    400: {"model": s.ErrorOut, "description": "a rule refused it (expired, threshold, other order…) / 不符合核销规则"},
    409: {"model": s.ErrorOut, "description": "already redeemed (maybe at another till) / 已核销"},
}


@router.post("/coupons/{code}/redeem", response_model=RedeemOut, responses=_ANSWERS)
async def redeem(code: str, body: RedeemIn, request: Request) -> Response:
    """Redeem a coupon at a till (核销): `Authorization: Bearer <the store's token>`; the store must be the
    token's (403). Exactly once per code, even when two tills race: the loser gets a 409."""
    from winback.web.server import error_response

    root = state_of(request)
    try:
        ask = TokensService(root.wb).ready_ask(request.headers.get("authorization"), code, order_id=body.order_id,
                                               store_id=body.store_id, lang=lang_of(request),
                                               caller=caller_of(request))  # fmt: skip
        if ask is not None:  # the usual till: awaits its round on the event loop, no worker thread held
            done = await root.redeemer.redeem_async(ask)
        else:  # a token to read, a refusal to audit: the warehouse is used, in a worker thread
            done = await run_in_threadpool(_redeem_in_thread, code, body, request)
    except AlreadyRedeemedError as exc:  # said in the request's language by the campaigns room
        return error_response(request, 409, type(exc).__name__, exc.message, exc.hint)
    return ResultJSON(done)


def _redeem_in_thread(code: str, body: RedeemIn, request: Request) -> RedeemResult:
    with context(request) as st:
        till = till_of(st, request)
        return TokensService(st.wb).redeem_with(st.root.redeemer, till, code, order_id=body.order_id,
                                                store_id=body.store_id, caller=caller_of(request))  # fmt: skip
