"""Background jobs over a real uvicorn on loopback (web/jobs.py, /api/jobs): an HQ admin uploads an orders export
and the import runs as the server's writer job with progress while pages and API reads keep being answered (each
answered while the job was seen running before and after it); a refresh job; one writer at a time (jobs queue);
only an HQ admin starts one (403), an unknown job is a 404, a failed import says why in the one error shape."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import PASSWORDS, Console

ROWS = 300_000  # enough rows for the import to take a while on any machine


@pytest.fixture(scope="module")
def server(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    from winback.app import Winback
    from winback.config import Settings
    from winback.web.server import create_app, serving
    from winback.web.users_service import UsersService

    db_path = tmp_path_factory.mktemp("jobs") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db_path)
    wb = Winback(Settings.load(environ={}, db_path=db_path))
    UsersService(wb).add("boss", role="hq_admin", password=PASSWORDS["boss"])
    UsersService(wb).add("ana", role="analyst", password=PASSWORDS["ana"])
    app = create_app(wb, secret="jobs-secret")
    try:
        with serving(app) as url:
            yield Console(url, db_path, "", {}, "", app)
    finally:
        wb.close()


def orders_csv(path: Path, members: list[str], rows: int) -> Path:
    with path.open("w", encoding="utf-8") as f:
        f.write("order_id,member_id,ordered_at,amount,status\n")
        for i in range(rows):
            f.write(f"WEB{i:07d},{members[i % len(members)]},2026-11-{1 + i % 19:02d} 12:00:00,{50 + i % 400},paid\n")
    return path


def test_an_uploaded_import_runs_in_the_background_while_pages_answer(server: Console, tmp_path: Path) -> None:
    boss = server.client("boss")
    members = [m["member_id"] for m in boss.get("/api/members", params={"limit": 500}).json()["members"]]
    path = orders_csv(tmp_path / "orders.csv", members, ROWS)
    with path.open("rb") as f:
        r = boss.post("/api/jobs/import", data={"kind": "orders"}, files={"file": ("订单.csv", f, "text/csv")})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["kind"] == "import" and job["state"] in ("queued", "running") and r.headers["location"]
    during: list[float] = []
    seen: set[str] = set()
    while True:  # read pages while the import runs: each answered between two "running" looks at the job
        before = boss.get(f"/api/jobs/{job['job_id']}").json()
        seen.add(before["progress"]["stage"])
        if before["state"] in ("done", "failed"):
            break
        for page in ("/api/overview", "/overview", "/api/segments", "/members"):
            t = time.perf_counter()
            assert boss.get(page).status_code == 200, page
            took = time.perf_counter() - t
            # answered between two looks that both saw the import running: answered while it ran
            if before["state"] == "running" and boss.get(f"/api/jobs/{job['job_id']}").json()["state"] == "running":
                during.append(took)
            before = boss.get(f"/api/jobs/{job['job_id']}").json()
    final = boss.get(f"/api/jobs/{job['job_id']}").json()
    assert final["state"] == "done", final["error"]
    assert final["result"]["kind"] == "orders" and final["result"]["rows_loaded"] + final["result"]["rows_rejected"]
    assert during, "no page was read while the import was running"
    assert max(during) < 10.0  # each page, on a shared machine: answered, not queued behind the import
    assert seen - {"", None}, "the job showed no progress"


def test_a_refresh_job_and_who_may_start_jobs(server: Console) -> None:
    boss, ana = server.client("boss"), server.client("ana")
    latest = boss.get("/api/overview").json()["as_of"]  # computed once, then kept until the data changes
    assert boss.get("/api/overview").json()["as_of"] == latest != "2026-11-01"
    r = ana.post("/api/jobs/refresh", json={})
    assert r.status_code == 403 and r.json()["error"]["type"] == "Forbidden"
    assert boss.post("/api/jobs/refresh", json={}, headers={"X-CSRF-Token": "forged"}).status_code == 403
    first = boss.post("/api/jobs/refresh", json={}).json()
    second = boss.post("/api/jobs/refresh", json={"as_of": "2026-11-01"}).json()
    done = boss.get(f"/api/jobs/{second['job_id']}", params={"wait": 30}).json()
    while done["state"] not in ("done", "failed"):
        done = boss.get(f"/api/jobs/{second['job_id']}", params={"wait": 30}).json()
    assert done["state"] == "done" and done["result"]["as_of"] == "2026-11-01", done["error"]
    assert done["result"]["pages"]["as_of"] == "2026-11-01"  # the console is here: the job summed its pages
    assert boss.get("/api/overview").json()["as_of"] == "2026-11-01"  # the kept answer went with the refresh
    with server.app.state.web.wb.scoped() as wb:  # the job summed what the pages read (LifecycleService.prepare)
        parts = wb.db().fetchall("SELECT part FROM page_built WHERE as_of = DATE '2026-11-01' ORDER BY part")
        assert parts == [("members",), ("segments",)] or parts == [("members",), ("segments",), ("transitions",)]
        assert wb.db().fetchall("SELECT count(*) FROM overview_built WHERE as_of = DATE '2026-11-01'") == [(1,)]
    earlier = boss.get(f"/api/jobs/{first['job_id']}").json()
    assert earlier["state"] == "done" and earlier["finished_at"] <= done["started_at"]  # one writer at a time
    listed = [j["job_id"] for j in boss.get("/api/jobs").json()["jobs"]]
    assert listed.index(second["job_id"]) < listed.index(first["job_id"])  # newest first
    assert ana.get("/api/jobs").json()["jobs"] == []  # her own only
    assert ana.get(f"/api/jobs/{first['job_id']}").status_code == 404
    r = boss.get("/api/jobs/J99999")
    assert r.status_code == 404 and set(r.json()["error"]) == {"type", "message", "hint"}


def test_a_failed_import_says_why(server: Console, tmp_path: Path) -> None:
    boss = server.client("boss")
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,useful\n1,2\n", encoding="utf-8")
    with bad.open("rb") as f:
        job = boss.post("/api/jobs/import", data={"kind": "orders"}, files={"file": ("bad.csv", f)}).json()
    done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30, "lang": "en"}).json()
    while done["state"] not in ("done", "failed"):
        done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30}).json()
    assert done["state"] == "failed" and done["error"]["type"] and done["error"]["message"] and done["error"]["hint"]
    r = httpx.post(f"{server.url}/api/jobs/refresh", json={}, timeout=30)
    assert r.status_code in (401, 403)


def _wait(boss: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30}).json()
    while done["state"] not in ("done", "failed"):
        done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30}).json()
    assert done["state"] == "done", done["error"]
    return done


def test_kept_answers_equal_fresh_ones_after_an_import_and_a_refresh(server: Console, tmp_path: Path) -> None:
    """The answers kept for everyone (cache.py, fast.py) are the ones the services compute afresh, before and after
    an import and a refresh (each a writer job: the kept answers go)."""
    from winback.i18n import using
    from winback.web.console import Console as WebConsole
    from winback.web.render import result_bytes
    from winback.web.types import User
    from winback.web.users_service import Caller, UsersService

    web = server.app.state.web
    asks = {"/api/overview": lambda c: c.overview(), "/api/segments?by=store": lambda c: c.segments(by="store"),
            "/api/members?limit=50&offset=100": lambda c: c.members(limit=50, offset=100),
            "/api/segments": lambda c: c.segments()}  # fmt: skip

    def fresh(path: str) -> Any:
        wb = web.wb.scoped(web.settings)
        try:
            with using(web.settings.lang):
                con = WebConsole(wb, UsersService(wb), User("boss", "hq_admin"), Caller(None, None), None)
                return json.loads(result_bytes(asks[path](con)))
        finally:
            wb.close()

    boss = server.client("boss")

    def same() -> None:
        for path in asks:
            assert boss.get(path).json() == fresh(path), path
            assert boss.get(path).json() == fresh(path), path  # the second: the kept answer

    same()
    members = [m["member_id"] for m in boss.get("/api/members", params={"limit": 500}).json()["members"]]
    with orders_csv(tmp_path / "more.csv", members, 300).open("rb") as f:
        job = boss.post("/api/jobs/import", data={"kind": "orders"}, files={"file": ("more.csv", f, "text/csv")})
    _wait(boss, job.json())
    same()
    _wait(boss, boss.post("/api/jobs/refresh", json={}).json())  # an incremental refresh: the imported orders count
    same()


def test_the_writer_checkpoints_after_its_jobs_and_yields_the_cpu(
    server: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A till's commit never folds the log in (the server's threshold is raised); the writer does, after a job that
    left the log past CHECKPOINT_AFTER; and the writer thread runs at a lower priority than the server's others."""
    import os
    import sys

    from winback.web import store_jobs

    web = server.app.state.web
    with web.wb.scoped() as wb:
        assert wb.db().fetchall("SELECT current_setting('checkpoint_threshold')") == [("1.0 GiB",)]
    wal = Path(f"{server.db_path}.wal")
    boss = server.client("boss")

    def refreshed() -> None:
        r = boss.post("/api/jobs/refresh", json={})
        assert r.status_code == 202, r.text
        job = r.json()
        done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30}).json()
        while done["state"] not in ("done", "failed"):
            done = boss.get(f"/api/jobs/{job['job_id']}", params={"wait": 30}).json()
        assert done["state"] == "done", done["error"]

    refreshed()  # the default threshold (64 MiB): a refresh of the demo brand logs far less, no checkpoint
    assert wal.exists() and wal.stat().st_size > 0
    monkeypatch.setattr(store_jobs, "CHECKPOINT_AFTER", 1)
    refreshed()  # past the (lowered) mark: the writer folds the log in after the job
    assert not wal.exists() or wal.stat().st_size == 0
    if sys.platform.startswith("linux"):
        writer = web.jobs._thread.native_id
        assert os.getpriority(os.PRIO_PROCESS, writer) > os.getpriority(os.PRIO_PROCESS, 0)
