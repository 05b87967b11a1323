"""The console in a real browser: Playwright driving Debian's chromium (never a downloaded browser) against the
real uvicorn of conftest.py. Logs in as HQ in zh and en (desktop and a 390×844 phone), visits every page, saves a
screenshot of each under build/test-artifacts/web/ (or $TEST_ARTIFACTS/web), and fails on any console error, any
failed request, and any label left in the other language."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import PASSWORDS, Console

from winback.i18n import t
from winback.web.labels import LABELS, label

pytest.importorskip("playwright.sync_api", reason="the test extra (playwright) is not installed")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt)")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or ROOT / "build" / "test-artifacts") / "web"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


class Visit:
    """One browser context (a person on a device) that records console errors and failed requests."""

    def __init__(self, browser: Any, console: Console, viewport: dict[str, int], tag: str) -> None:
        self.ctx = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.ctx.new_page()
        self.console, self.tag, self.problems = console, tag, []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        self.page.on("response", lambda r: r.status >= 400 and self.expected != r.status and
                     self.problems.append(f"{r.status}: {r.url}"))  # fmt: skip
        self.expected: int | None = None

    def _console(self, msg: Any) -> None:
        """A console error is a problem, except the browser's own note of the status a visit expects (a 403)."""
        if msg.type == "error" and not (self.expected and f"status of {self.expected}" in msg.text):
            self.problems.append(f"console: {msg.text}")

    def go(self, path: str, name: str, expect: int = 200) -> str:
        self.expected = None if expect == 200 else expect
        resp = self.page.goto(self.console.url + path)
        assert resp is not None and resp.status == expect, f"{path}: {resp.status if resp else None}"
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(ARTIFACTS / f"{self.tag}-{name}.png"), full_page=True)
        return str(self.page.inner_text("body"))

    def chrome(self) -> str:
        """The page's own labels (header, section headings, table heads, form labels, buttons), not the data."""
        parts = self.page.locator("header, h2, thead, label, button").all_inner_texts()
        return "\n".join(parts)

    def login(self, user: str, lang: str) -> None:
        self.go(f"/login?lang={lang}", "login")
        self.page.fill("input[name=username]", user)
        self.page.fill("input[name=password]", PASSWORDS[user])
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def close(self) -> None:
        self.ctx.close()


def untranslated(text: str, lang: str) -> list[str]:
    """Labels of the other language found in a page's labels (the language switch excepted)."""
    other = "zh" if lang == "en" else "en"
    pairs = {key: (t(msgid, other), t(msgid, lang)) for key, msgid in LABELS.items() if key != "switch_lang"}
    return [theirs for theirs, ours in pairs.values() if len(theirs) >= 4 and theirs != ours and theirs in text]


@pytest.mark.parametrize(("lang", "viewport", "device"), [("zh", PHONE, "phone"), ("en", DESK, "desk")])
def test_hq_pages_render_without_console_errors(
    browser: Any, console: Console, plan_id: str, lang: str, viewport: dict[str, int], device: str
) -> None:
    v = Visit(browser, console, viewport, f"hq-{lang}-{device}")
    try:
        v.login("boss", lang)
        assert v.page.url.endswith("/overview"), v.page.url
        v.go("/overview", "overview")
        texts = {"overview": v.chrome()}
        assert label("overview", lang) in v.page.inner_text("h1")
        assert "2026-11-21" in v.page.inner_text("h1")  # the latest refresh, the one the campaign was made from
        assert v.page.locator("#chart-segments .main-svg").count() > 0, "the segments chart did not draw"
        assert v.page.locator("#chart-transitions .main-svg").count() > 0, "the transitions Sankey did not draw"
        v.go("/segments?by=store", "segments")
        texts["segments"] = v.chrome()
        v.go("/members", "members")
        texts["members"] = v.chrome()
        first = v.page.locator("table a[href^='/members/']").first
        member_path = first.get_attribute("href")
        v.go(str(member_path), "member")
        texts["member"] = v.chrome()
        v.go("/campaigns", "campaigns")
        texts["campaigns"] = v.chrome()
        v.go(f"/campaigns/{console.campaign_id}", "report")
        texts["report"] = v.chrome()
        assert v.page.locator("#chart-report .main-svg").count() > 0, "the report chart did not draw"
        v.go("/plans", "plans")
        texts["plans"] = v.chrome()
        v.go(f"/plans/{plan_id}", "plan")
        texts["plan"] = v.chrome()
        for page, text in texts.items():
            assert not untranslated(text, lang), f"{page} ({lang}) shows {untranslated(text, lang)}"
        if lang == "en":
            for page, text in texts.items():
                assert not CJK.search(text.replace("中文", "")), f"Chinese in the English labels of {page}: {text}"
        assert not v.problems, v.problems
    finally:
        v.close()


def test_hq_reveals_a_phone_and_it_is_logged(browser: Any, console: Console) -> None:
    v = Visit(browser, console, DESK, "hq-zh-reveal")
    try:
        v.login("boss", "zh")
        v.go("/members", "members")
        rows = v.page.locator("table tbody tr")
        target = next(
            rows.nth(i).locator("a").first.inner_text() for i in range(rows.count()) if "*" in rows.nth(i).inner_text()
        )
        v.go(f"/members/{target}", "member")
        before = v.page.inner_text("#phone")
        v.page.click("#reveal")
        v.page.wait_for_function("document.getElementById('phone').textContent.indexOf('*') < 0")
        assert v.page.inner_text("#phone") != before
        v.page.screenshot(path=str(ARTIFACTS / "hq-zh-reveal-shown.png"))
        assert not v.problems, v.problems
    finally:
        v.close()


def test_a_guide_on_her_phone_cannot_open_another_guides_member(browser: Any, console: Console) -> None:
    import httpx

    others = console.client("li").get("/api/members", params={"limit": 1}).json()["members"][0]["member_id"]
    mine = console.client("wang").get("/api/members", params={"limit": 1}).json()["members"][0]["member_id"]
    v = Visit(browser, console, PHONE, "guide-zh-phone")
    try:
        v.login("wang", "zh")
        assert v.page.url.endswith("/tasks")  # a guide starts on her tasks
        text = v.go("/members", "members")
        assert mine in text and others not in text
        v.go(f"/members/{mine}", "member")
        denied = v.go(f"/members/{others}", "forbidden", expect=403)
        assert "不在你的范围内" in denied
        v.go("/overview", "overview-forbidden", expect=403)
        assert not v.problems, v.problems
    finally:
        v.close()
    assert httpx.get(console.url + "/overview", follow_redirects=False).status_code == 303  # logged out: to /login


def test_a_guide_marks_an_outcome_with_one_tap_on_her_phone(browser: Any, console: Console) -> None:
    v = Visit(browser, console, PHONE, "guide-zh-tasks")
    try:
        v.login("li", "zh")
        assert v.page.url.endswith("/tasks"), v.page.url
        v.go("/tasks", "tasks")
        card = v.page.locator("[data-task]").first
        task = card.get_attribute("data-task")
        card.locator("button[value=visited]").click()
        card.locator(".task-msg", has_text="已保存").wait_for()
        v.page.screenshot(path=str(ARTIFACTS / "guide-zh-tasks-marked.png"), full_page=True)
        text = v.go("/tasks", "tasks-after")  # a reload shows what the server kept
        assert "已到店" in text
        done = console.client("li").get("/api/tasks").json()["tasks"]
        assert next(t for t in done if t["task_id"] == task)["outcome"] == "visited"
        assert not untranslated(v.chrome(), "zh")
        assert not v.problems, v.problems
    finally:
        v.close()
