"""The planner in the console (seed 004, docs/planner.md): the list of plans and one plan (period, target, status
quo with its interval, gap, cells, the chosen measures, the phase table), as pages and as JSON. HQ roles only
(HQ admin, analyst): a store manager or a guide gets 403. Plans are made with `winback plan create/solve`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from winback.i18n import _
from winback.web import schemas
from winback.web import schemas_planner as sp
from winback.web.auth import RequestState, console_for, context
from winback.web.errors import Forbidden
from winback.web.render import ResultJSON, plain_json

api = APIRouter(prefix="/api", tags=["api"])
pages = APIRouter(include_in_schema=False)


def _planner(st: RequestState, request: Request) -> Any:
    """The brand's planner, for a caller who sees the whole brand (401 without a session, else 403)."""
    user = console_for(st, request).user
    if not user.sees_brand:
        raise Forbidden(
            _("your role ({role}) may not {what}", role=user.role, what=_("see the repurchase plans")),
            hint=_("Ask an HQ admin to change your role."),
        )
    return st.wb.planner, user


@api.get("/plans", response_model=sp.PlansOut, responses=schemas.ERRORS)
def plans(request: Request, limit: int = Query(200, ge=1, le=1000)) -> Response:
    """The kept plans, newest first: period, target, status quo, gap, the latest solution's status (HQ roles)."""
    with context(request) as st:
        planner, _user = _planner(st, request)
        return ResultJSON(planner.plans(limit=limit))


@api.get("/plans/{plan_id}", response_model=sp.PlanViewOut, responses=schemas.ERRORS)
def plan(plan_id: str, request: Request) -> Response:
    """One plan as `plan create --json` gave it and its latest solution (`plan solve --json`), or null."""
    with context(request) as st:
        planner, _user = _planner(st, request)
        return ResultJSON(planner.show(plan_id))


@pages.get("/plans")
def plans_page(request: Request) -> Response:
    from winback.web.routes.pages import render

    with context(request) as st:
        planner, user = _planner(st, request)
        found = plain_json(planner.plans())
    return render(request, "plans.html", user, plans=found["plans"])


@pages.get("/plans/{plan_id}")
def plan_page(plan_id: str, request: Request) -> Response:
    from winback.web.routes.pages import render

    with context(request) as st:
        planner, user = _planner(st, request)
        view = plain_json(planner.show(plan_id))
    return render(request, "plan.html", user, p=view["plan"], sol=view["solution"], names=view["names"])
