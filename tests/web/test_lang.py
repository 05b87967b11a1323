"""The request's language (the web room on the message catalogue): ?lang= or the lang cookie, else the lang
setting (zh); every error of the one JSON shape comes in it, from whatever layer raised it (the console, the
session check, a 404 of the router, a 422 of the validation, another room's refusal)."""

from __future__ import annotations

import httpx
from tests.web.conftest import Console

from winback.i18n import t


def error(r: httpx.Response, status: int) -> dict[str, str]:
    assert r.status_code == status, r.text
    return r.json()["error"]  # type: ignore[no-any-return]


def test_errors_speak_the_requests_language(console: Console) -> None:
    with httpx.Client(base_url=console.url, timeout=30) as c:
        assert error(c.get("/api/overview"), 401)["message"] == "请先登录"
        assert error(c.get("/api/overview", params={"lang": "en"}), 401)["message"] == "log in first"
    with httpx.Client(base_url=console.url, timeout=30, cookies={"lang": "en"}) as c:
        assert error(c.get("/api/overview"), 401)["hint"] == "POST /api/login, or open /login."
    with httpx.Client(base_url=console.url, timeout=30) as c:
        assert error(c.get("/api/nowhere"), 404)["message"] == "没有这个地址：/api/nowhere"
        assert error(c.get("/api/nowhere", params={"lang": "en"}), 404)["message"] == "no such address: /api/nowhere"
    guide = console.client("wang")
    zh = error(guide.get("/api/overview"), 403)
    en = error(guide.get("/api/overview", params={"lang": "en"}), 403)
    assert en["message"] == "your role (guide) may not see the brand overview"
    assert zh["message"] == t(
        "your role ({role}) may not {what}", "zh", role="guide", what=t("see the brand overview", "zh")
    )
    assert "查看品牌总览" in zh["message"] and zh["hint"] != en["hint"]
    bad = error(guide.get("/api/tasks", params={"limit": 0, "lang": "en"}), 422)
    assert bad["message"].startswith("bad request: ") and bad["type"] == "InputError"
    assert error(guide.get("/api/tasks", params={"limit": 0}), 422)["message"].startswith("请求参数有误")


def test_the_pages_switch_language(console: Console) -> None:
    boss = console.client("boss")
    zh, en = boss.get("/overview"), boss.get("/overview", params={"lang": "en"})
    assert zh.status_code == en.status_code == 200
    assert "总览" in zh.text and "Overview" in en.text and "总览" not in en.text
    assert en.cookies.get("lang") == "en" or boss.cookies.get("lang") == "en"
    assert "Overview" in boss.get("/overview").text  # the cookie keeps it
    boss.cookies.set("lang", "zh")
