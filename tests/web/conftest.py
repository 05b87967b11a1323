"""A real console on loopback for the web tests: a copy of the demo brand with a launched campaign and one user
per role, served by uvicorn in a thread on a socket that listens before the thread starts (so no request can
race the start-up); the tests wait on the app's readiness event, never on a sleep."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

PASSWORDS = {"boss": "hq-secret-1", "ana": "analyst-secret-1", "zhao": "manager-secret-1",
             "wang": "guide-secret-1", "li": "guide-secret-2", "sun": "locked-out-1"}  # fmt: skip


@dataclass(frozen=True)
class Console:
    url: str
    db_path: Path
    campaign_id: str
    guides: dict[str, str]  # user -> guide_id
    manager_store: str
    app: Any

    def client(self, user: str | None = None) -> httpx.Client:
        """A client with a CSRF cookie (and logged in as `user`), sending the token header on every request."""
        c = httpx.Client(base_url=self.url, timeout=30)
        token = c.get("/api/csrf").json()["csrf_token"]
        c.headers["X-CSRF-Token"] = token
        if user is not None:
            r = c.post("/api/login", json={"username": user, "password": PASSWORDS[user]})
            assert r.status_code == 200, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c


def _pick_people(wb: Any) -> tuple[dict[str, str], str]:
    """Two guides with tasks of the launched campaign, and the store with the most members."""
    tasks = wb.tasks.list(limit=None).tasks
    guides: list[str] = []
    for t in tasks:
        if t.guide_id and t.guide_id not in guides:
            guides.append(t.guide_id)
    stores = [r["store_id"] for r in wb.lifecycle.members(limit=2000).rows if r["store_id"]]
    return {"wang": guides[0], "li": guides[1]}, max(set(stores), key=stores.count)


def _build(db_path: Path) -> tuple[Any, str, dict[str, str], str]:
    from winback.app import Winback
    from winback.campaigns.types import CampaignRequest
    from winback.config import Settings
    from winback.web.users_service import UsersService

    wb = Winback(Settings.load(environ={}, db_path=db_path))
    # a second, earlier snapshot (the overview draws the transitions), then the latest again: the default as-of
    # of every read is the last refresh run
    latest = wb.overview.overview().as_of
    wb.lifecycle.refresh(dt.date(2026, 8, 21))
    wb.lifecycle.refresh(latest, prepare=True)  # as the server's refresh job does
    created = wb.campaigns.create(CampaignRequest(scenario="big_sale", name="双12回流 web"))
    cid = created.campaign.campaign_id
    wb.campaigns.launch(cid)
    guides, store = _pick_people(wb)
    users = UsersService(wb)
    users.add("boss", role="hq_admin", password=PASSWORDS["boss"])
    users.add("ana", role="analyst", password=PASSWORDS["ana"])
    users.add("zhao", role="store_manager", password=PASSWORDS["zhao"], stores=[store])
    users.add("sun", role="store_manager", password=PASSWORDS["sun"], stores=[store])  # the brute-force target
    for name, gid in guides.items():
        users.add(name, role="guide", password=PASSWORDS[name], guide_id=gid)
    return wb, cid, guides, store


@pytest.fixture(scope="session")
def console(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    from winback.web.server import create_app, serving

    db_path = tmp_path_factory.mktemp("web") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db_path)
    wb, cid, guides, store = _build(db_path)
    app = create_app(wb, secret="test-secret")
    try:
        with serving(app) as url:
            yield Console(url, db_path, cid, guides, store, app)
    finally:
        wb.close()


@pytest.fixture(scope="session")
def plan_id(console: Console) -> str:
    """A repurchase plan for the quarter after the demo brand's last order (2026-11-21 … 2027-02-20: its status quo
    needs only the two snapshots the console already has), solved once: the planner pages show it."""
    from winback.planner.types import Period

    with console.app.state.web.wb.scoped() as wb:
        made = wb.planner.create(Period(dt.date(2026, 11, 21), dt.date(2027, 2, 21)), target_revenue=3_000_000.0)
        wb.planner.solve(made.plan_id)
    return str(made.plan_id)
