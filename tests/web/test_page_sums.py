"""What the console's pages read is summed once per snapshot (LifecycleService.prepare) where the console is: the
demo, the server's refresh and run jobs (and a CLI command sent to a running server: tests/web/test_cli_remote.py),
the server itself when it starts on a snapshot without current sums, and the CLI's `refresh` / `run` only with
--pages (a plain CLI refresh does not spend on them). What the pages then read equals what is computed live (the
built rows are deleted and the same reads asked again), and a part goes back to live reads once what it summed has
changed."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import PASSWORDS
from typer.testing import CliRunner

from winback.app import Winback
from winback.campaigns.types import CampaignRequest
from winback.cli.main import app as cli_app
from winback.config import Settings

runner = CliRunner()
EARLIER, LATEST = dt.date(2026, 8, 21), dt.date(2026, 11, 21)
LAUNCH, NOW = "2026-11-21 10:00", "2026-12-05 10:00"
BUILT = ("page_built", "overview_built", "overview_quality", "report_order_sums")


def _cli(db: Path, now: str, *args: str) -> Any:
    res = runner.invoke(cli_app, ["--db", str(db), *args, "--json"], env={"WINBACK_NOW": now})
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _app(db: Path, now: str) -> Winback:
    return Winback(Settings.load(environ={"WINBACK_NOW": now}, db_path=db))


def _reads(wb: Winback, campaign_id: str) -> dict[str, Any]:
    """What the console's pages ask the services for (web/console.py)."""
    out: dict[str, Any] = {f"segments {by}": wb.lifecycle.segments(by=by).to_dict()
                           for by in (None, "store", "tier", "channel", "guide")}  # fmt: skip
    out["segments lifecycle"] = wb.lifecycle.segments(scheme="lifecycle", by="store").to_dict()
    out["members"] = wb.lifecycle.members(limit=1000).to_dict()
    out["transitions"] = wb.lifecycle.transitions(date_from=EARLIER, date_to=LATEST).to_dict()
    out["overview"] = wb.overview.overview().to_dict()
    out["report"] = wb.campaigns.report(campaign_id).to_dict()
    return out


def _close(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative (a variance summed in another order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


def _forget(wb: Winback) -> None:
    """Delete every built row: the same reads are then computed live."""
    for table in BUILT:
        wb.db().execute(f"DELETE FROM {table}")


def _built(wb: Winback) -> dict[str, Any]:
    db = wb.db()
    return {
        "parts": sorted(db.fetchall("SELECT part, as_of FROM page_built")),
        "overview": sorted(r[0] for r in db.fetchall("SELECT as_of FROM overview_built")),
        "quality": db.fetchall("SELECT count(*) FROM overview_quality")[0][0],
        "reports": sorted({r[0] for r in db.fetchall("SELECT campaign_id FROM report_order_sums")}),
    }


@pytest.fixture
def brand(demo_brand: Any, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the demo brand with two snapshots, a campaign launched and answered (orders in its window)."""
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    with _app(db, LAUNCH) as wb:
        wb.lifecycle.refresh(EARLIER)
        cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name="page sums")).campaign.campaign_id
        wb.campaigns.launch(cid)
    with _app(db, NOW) as wb:
        wb.demo.respond(cid)
    return db, cid


def test_the_demo_sums_its_pages(demo_brand: Any) -> None:
    with Winback(Settings.load(environ={}, db_path=demo_brand.db_path)) as wb:
        db = wb.db(write=False)
        as_of = wb.overview.overview().as_of
        assert sorted(db.fetchall("SELECT part FROM page_built WHERE as_of = ?", [as_of])) == [
            ("members",), ("segments",)]  # fmt: skip
        assert db.fetchall("SELECT count(*) FROM overview_built WHERE as_of = ?", [as_of]) == [(1,)]
        assert db.fetchall("SELECT count(*) FROM overview_quality") == [(1,)]


def test_a_cli_refresh_leaves_the_sums_to_the_console(brand: tuple[Path, str]) -> None:
    from winback.lifecycle import store_pages
    from winback.overview import store as overview_store

    db, _ = brand
    with _app(db, NOW) as wb:
        before = _built(wb)
    done = _cli(db, NOW, "refresh", "--as-of", LATEST.isoformat())
    assert done["as_of"] == LATEST.isoformat() and done["pages"] is None
    with _app(db, NOW) as wb:
        w = wb.db()
        assert _built(wb) == before  # nothing summed: the demo's sums of LATEST stand, older than the snapshot now
        assert not store_pages.built(w, "segments", LATEST) and not store_pages.built(w, "members", LATEST)
        assert not store_pages.built(w, "transitions", EARLIER, LATEST) and not overview_store.built(w, LATEST)
        assert wb.lifecycle.pages_due() == LATEST


def test_the_server_started_after_a_cli_refresh_sums_the_pages_first(brand: tuple[Path, str]) -> None:
    from winback.lifecycle import store_pages
    from winback.overview import store as overview_store
    from winback.web.server import create_app, serving
    from winback.web.users_service import UsersService
    from winback.web.warm import SERVER

    db, cid = brand
    _cli(db, NOW, "refresh", "--as-of", LATEST.isoformat())
    wb = _app(db, NOW)
    try:
        UsersService(wb).add("boss", role="hq_admin", password=PASSWORDS["boss"])
        app = create_app(wb, secret="sums-secret", warm=True)
        with serving(app) as url:
            web = app.state.web
            assert web.warmed.wait(120), "the prepare job and the warm-up did not end"
            with httpx.Client(base_url=url, timeout=60) as c:
                c.headers["X-CSRF-Token"] = c.get("/api/csrf").json()["csrf_token"]
                r = c.post("/api/login", json={"username": "boss", "password": PASSWORDS["boss"]})
                c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
                jobs = c.get("/api/jobs").json()["jobs"]
                overview, segments = c.get("/api/overview").json(), c.get("/api/segments").json()
            assert [(j["kind"], j["username"], j["state"]) for j in jobs] == [("prepare", SERVER, "done")], jobs
            assert jobs[0]["result"]["as_of"] == LATEST.isoformat() and set(jobs[0]["result"]["seconds"]) == {
                "pages", "overview", "reports"}  # fmt: skip
            with wb.scoped() as here:
                w = here.db()
                assert all(store_pages.built(w, part, LATEST) for part in ("segments", "members"))
                assert store_pages.built(w, "transitions", EARLIER, LATEST) and overview_store.built(w, LATEST)
                assert here.lifecycle.pages_due() is None
                assert overview["as_of"] == segments["as_of"] == LATEST.isoformat()
                assert segments["members"] == here.lifecycle.segments().members
    finally:
        wb.close()
    with _app(db, NOW) as again:  # read as built, the same as live
        kept = _reads(again, cid)
        _forget(again)
        live = _reads(again, cid)
    for name in kept:
        assert _close(kept[name], live[name]), name


def test_a_cli_refresh_with_pages_sums_them_and_they_read_the_same(brand: tuple[Path, str]) -> None:
    db, cid = brand
    done = _cli(db, NOW, "refresh", "--as-of", LATEST.isoformat(), "--pages")
    assert done["as_of"] == LATEST.isoformat() and done["pages"]["as_of"] == LATEST.isoformat()
    with _app(db, NOW) as wb:
        built = _built(wb)
        assert [p for p in built["parts"] if p[1] == LATEST] == [
            ("members", LATEST), ("segments", LATEST), ("transitions", LATEST)]  # fmt: skip
        assert LATEST in built["overview"] and built["quality"] == 1 and built["reports"] == [cid]
        kept = _reads(wb, cid)
        assert any(a["responders"] and a["contacted"] and a["redeemed"] for a in kept["report"]["arms"].values())
        _forget(wb)
        live = _reads(wb, cid)
    for name in kept:
        assert _close(kept[name], live[name]), name


def test_what_changed_since_is_read_live(brand: tuple[Path, str], tmp_path: Path) -> None:
    from winback.campaigns import store_report
    from winback.lifecycle import store_pages
    from winback.overview import store as overview_store

    db, cid = brand
    _cli(db, NOW, "refresh", "--as-of", LATEST.isoformat(), "--pages")
    with _app(db, NOW) as wb:
        w = wb.db()
        assert overview_store.kept_quality(w) is not None and store_report.kept_order_sums(w, cid)
        kept = _reads(wb, cid)
    staff = tmp_path / "staff.csv"
    staff.write_text("guide_id,name,store_id,role\nG99999,新导购,S001,guide\n", encoding="utf-8")
    _cli(db, NOW, "import", "staff", str(staff))  # the data stamp moves: the quality and purchases go live
    with _app(db, NOW) as wb:
        w = wb.db()
        assert overview_store.kept_quality(w) is None and not store_report.kept_order_sums(w, cid)
        assert store_pages.built(w, "segments", LATEST)  # the snapshot's parts stand
        again = _reads(wb, cid)
        assert _close(again["report"], kept["report"]) and _close(again["overview"], kept["overview"])
        # the snapshot written again without its pages summed (a refresh cut short): its parts go live
        w.execute("UPDATE snapshot_runs SET refreshed_at = current_timestamp::TIMESTAMP WHERE as_of = ?", [LATEST])
        assert not store_pages.built(w, "segments", LATEST)
        assert not store_pages.built(w, "transitions", EARLIER, LATEST)
        assert _close(_reads(wb, cid), again)


def test_the_daily_run_with_pages_sums_the_pages_of_its_refresh(brand: tuple[Path, str], tmp_path: Path) -> None:
    db, cid = brand
    staff = tmp_path / "staff.csv"
    staff.write_text("guide_id,name,store_id,role\nG99998,新导购,S001,guide\n", encoding="utf-8")
    _cli(db, NOW, "import", "staff", str(staff))  # new data since the last refresh: the run refreshes
    with _app(db, NOW) as wb:
        _forget(wb)
    _cli(db, NOW, "run", "--pages")
    with _app(db, NOW) as wb:
        built = _built(wb)
        as_of = wb.overview.overview().as_of
    assert {p for p, d in built["parts"] if d == as_of} == {"members", "segments", "transitions"}
    assert as_of in built["overview"] and built["quality"] == 1 and cid in built["reports"]
