"""The per-touch short links (outreach/links.py): `GET /s/{code}` records the click and redirects (302) to the
target stored with the code when the touch was sent. No login: whoever holds the link may follow it; the answer
carries nothing of the member (no page, only the stored target), and an unknown code is a 404 page in the
request's language. The target is never taken from the request (no open redirect). A recorded click makes the
kept reports and task lists stale (web/cache.py: OUTREACH), as an outcome does."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from winback.web.auth import context
from winback.web.cache import OUTREACH

router = APIRouter(tags=["links"])

_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


@router.get("/s/{code}", include_in_schema=False)
def follow(code: str, request: Request) -> Response:
    """Record a click on a short link, then send the browser on to its target (a refresh is another click of
    the same clicker: the funnel counts members, link_clicks keeps every click)."""
    with context(request) as st:
        hit = st.wb.outreach.follow_link(code, client=request.headers.get("user-agent"))
        st.root.cache.changed(OUTREACH)  # a report's funnel counts clicks: its kept answer is stale
    return RedirectResponse(hit.target_url, status_code=302, headers=_HEADERS)
