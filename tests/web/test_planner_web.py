"""The planner in the console: GET /api/plans and /api/plans/{id} (typed schemas), the /plans pages in zh and en,
HQ roles only (a store manager and a guide get 403), on the real server of conftest.py."""

from __future__ import annotations

import pytest
from tests.web.conftest import Console
from tests.web.test_api import assert_error

from winback.i18n import t
from winback.web import schemas_planner as sp
from winback.web.labels import LABELS


def test_hq_and_analyst_read_the_plans_and_the_answers_match_the_schemas(console: Console, plan_id: str) -> None:
    for user in ("boss", "ana"):
        c = console.client(user)
        found = sp.PlansOut.model_validate(c.get("/api/plans").json())
        listed = next(p for p in found.plans if p.plan_id == plan_id)
        assert listed.period.start == "2026-11-21" and listed.period.end == "2027-02-20"
        assert listed.target_revenue == 3_000_000.0 and listed.solution_status is not None
        view = sp.PlanViewOut.model_validate(c.get(f"/api/plans/{plan_id}").json())
        sq = view.plan.status_quo
        assert sq.revenue.low is not None and sq.revenue.high is not None
        assert sq.revenue.low <= (sq.revenue.value or 0) <= sq.revenue.high
        assert view.plan.gap == pytest.approx(view.plan.existing_target - (sq.revenue.value or 0), abs=0.02)
        assert view.plan.cells and view.solution is not None and view.solution.phases
        assert "planner_toml" not in c.get(f"/api/plans/{plan_id}").json()["plan"]


def test_store_managers_and_guides_get_403(console: Console, plan_id: str) -> None:
    for user in ("zhao", "wang"):
        c = console.client(user)
        assert_error(c.get("/api/plans"), 403, "Forbidden")
        assert_error(c.get(f"/api/plans/{plan_id}"), 403, "Forbidden")
        assert c.get("/plans").status_code == 403
        assert c.get(f"/plans/{plan_id}").status_code == 403


def test_an_unknown_plan_is_404_with_a_hint(console: Console) -> None:
    err = assert_error(console.client("boss").get("/api/plans/P-NOPE"), 404)
    assert "P-NOPE" in err["message"] and err["hint"]


def test_openapi_lists_the_planner_routes(console: Console) -> None:
    spec = console.client().get("/openapi.json").json()
    assert "403" in spec["paths"]["/api/plans"]["get"]["responses"]
    assert "/api/plans/{plan_id}" in spec["paths"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_plan_page_shows_target_gap_cells_measures_and_phases(console: Console, plan_id: str, lang: str) -> None:
    c = console.client("boss")
    listing = c.get("/plans", params={"lang": lang})
    assert listing.status_code == 200 and f"/plans/{plan_id}" in listing.text
    page = c.get(f"/plans/{plan_id}", params={"lang": lang})
    assert page.status_code == 200
    for key in ("plan_target_gap", "plan_status_quo", "plan_gap", "plan_cells", "plan_measures", "plan_phases",
                "plan_interval", "plan_probability"):  # fmt: skip
        assert t(LABELS[key], lang) in page.text, key
    view = c.get(f"/api/plans/{plan_id}", params={"lang": lang}).json()
    shown = f"{view['plan']['status_quo']['revenue']['value']:,.0f}"
    assert shown in page.text


def test_the_phase_table_speaks_the_readers_language(console: Console, plan_id: str) -> None:
    """The plan was solved in zh (the console's default); an English reader gets the phase table in English."""
    c = console.client("boss")
    zh = c.get(f"/api/plans/{plan_id}", params={"lang": "zh"}).json()["solution"]["phases"]
    en = c.get(f"/api/plans/{plan_id}", params={"lang": "en"}).json()["solution"]["phases"]
    assert [r["target_incremental_revenue"] for r in zh] == [r["target_incremental_revenue"] for r in en]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh[0]["strategy"])
    assert all(not any("\u4e00" <= ch <= "\u9fff" for ch in r["strategy"] + r["phase_name"]) for r in en)
