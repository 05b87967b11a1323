"""The JSON API against a real uvicorn on loopback: logins, the one error shape, role isolation, CSRF, throttling,
the audit log, and every answer validated against the schema the OpenAPI document publishes."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest
from tests.web.conftest import PASSWORDS, Console

from winback.web import schemas


def assert_error(r: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "hint"}, body
    assert body["error"]["message"]
    if kind:
        assert body["error"]["type"] == kind
    return body["error"]


def test_unauthenticated_is_401_in_one_shape(console: Console) -> None:
    c = httpx.Client(base_url=console.url)
    for path in ("/api/overview", "/api/segments", "/api/members", "/api/members/x", "/api/campaigns", "/api/me",
                 f"/api/campaigns/{console.campaign_id}/report"):  # fmt: skip
        assert_error(c.get(path), 401, "Unauthenticated")
    assert_error(c.get("/api/no-such-thing"), 404, "NotFoundError")


def test_hq_reads_everything_and_answers_match_the_schemas(console: Console) -> None:
    c = console.client("boss")
    schemas.UserOut.model_validate(c.get("/api/me").json())
    ov = schemas.OverviewOut.model_validate(c.get("/api/overview").json())
    assert ov.quality["members"] > 7000 and {"seed_cn", "lifecycle"} <= set(ov.segments)
    seg = schemas.SegmentsOut.model_validate(c.get("/api/segments", params={"by": "store"}).json())
    assert seg.by == "store" and seg.members == sum(r.members for r in seg.segments)
    page = schemas.MembersOut.model_validate(c.get("/api/members", params={"limit": 5}).json())
    assert len(page.members) == 5 and page.has_more
    nxt = schemas.MembersOut.model_validate(c.get("/api/members", params={"limit": 5, "offset": 5}).json())
    assert {m.member_id for m in page.members}.isdisjoint(m.member_id for m in nxt.members)
    one = schemas.MemberOut.model_validate(c.get(f"/api/members/{page.members[0].member_id}").json())
    assert one.explain["member_id"] == one.member_id and "schemes" in one.explain
    found = schemas.CampaignsOut.model_validate(c.get("/api/campaigns").json())
    assert console.campaign_id in [x.campaign_id for x in found.campaigns]
    rep = schemas.ReportOut.model_validate(c.get(f"/api/campaigns/{console.campaign_id}/report").json())
    assert "control" in rep.arms and rep.winner["rule"]
    assert_error(c.get("/api/campaigns/C9999/report"), 404, "NotFoundError")
    assert_error(c.get("/api/members/no-such-member"), 404, "NotFoundError")


def test_openapi_lists_the_api(console: Console) -> None:
    spec = httpx.get(console.url + "/openapi.json").json()
    for path in ("/api/login", "/api/logout", "/api/overview", "/api/segments", "/api/members",
                 "/api/members/{member_id}", "/api/campaigns", "/api/campaigns/{campaign_id}/report"):  # fmt: skip
        assert path in spec["paths"], path
    assert "ErrorOut" in spec["components"]["schemas"]
    assert "403" in spec["paths"]["/api/members/{member_id}"]["get"]["responses"]


def _guide_member(console: Console, user: str) -> str:
    page = console.client(user).get("/api/members", params={"limit": 500}).json()
    assert page["members"], f"{user} has no members"
    assert {m["guide_id"] for m in page["members"]} == {console.guides[user]}
    return str(page["members"][0]["member_id"])


def test_a_guide_sees_only_her_own_members(console: Console) -> None:
    wang, li = console.client("wang"), console.client("li")
    theirs = _guide_member(console, "li")
    assert wang.get(f"/api/members/{_guide_member(console, 'wang')}").status_code == 200
    err = assert_error(wang.get(f"/api/members/{theirs}"), 403, "Forbidden")
    assert theirs in err["message"]
    assert_error(wang.post(f"/api/members/{theirs}/phone"), 403, "Forbidden")
    assert li.get(f"/api/members/{theirs}").status_code == 200
    assert_error(wang.get("/api/overview"), 403, "Forbidden")
    assert_error(wang.get("/api/campaigns"), 403, "Forbidden")
    seg = wang.get("/api/segments").json()
    assert {r["guide"] for r in seg["segments"]} == {console.guides["wang"]}


def test_a_store_manager_sees_only_his_store(console: Console) -> None:
    c = console.client("zhao")
    page = c.get("/api/members", params={"limit": 500}).json()
    assert page["members"] and {m["store_id"] for m in page["members"]} == {console.manager_store}
    other = console.client("boss").get("/api/members", params={"limit": 500}).json()["members"]
    elsewhere = next(m["member_id"] for m in other if m["store_id"] not in (console.manager_store, None))
    assert_error(c.get(f"/api/members/{elsewhere}"), 403, "Forbidden")
    assert_error(c.get("/api/members", params={"store": "NOT-HIS"}), 403, "Forbidden")
    seg = c.get("/api/segments").json()
    assert {r["store"] for r in seg["segments"]} == {console.manager_store}


def test_an_analyst_reads_but_never_reveals_a_phone(console: Console) -> None:
    ana, boss = console.client("ana"), console.client("boss")
    assert ana.get("/api/overview").status_code == 200
    member = ana.get("/api/members", params={"limit": 50}).json()["members"]
    with_phone = next(m["member_id"] for m in member if m["phone"])
    assert_error(ana.post(f"/api/members/{with_phone}/phone"), 403, "Forbidden")
    assert "*" in ana.get(f"/api/members/{with_phone}").json()["phone_masked"]
    shown = boss.post(f"/api/members/{with_phone}/phone").json()
    assert shown["phone"] and "*" not in shown["phone"]
    log = _audit(console, "phone_reveal")
    assert log and log[0]["username"] == "boss" and log[0]["target"] == with_phone and log[0]["ip"] == "127.0.0.1"


def _audit(console: Console, action: str) -> list[dict[str, Any]]:
    from winback.web.users_service import UsersService

    with console.app.state.web.wb.scoped() as wb:
        return UsersService(wb).audit(action=action).to_dict()["entries"]  # type: ignore[no-any-return]


def test_unsafe_requests_need_the_csrf_token(console: Console) -> None:
    c = console.client("boss")
    member = c.get("/api/members", params={"limit": 1}).json()["members"][0]["member_id"]
    token = c.headers.pop("X-CSRF-Token")
    assert_error(c.post(f"/api/members/{member}/phone"), 403, "Forbidden")  # no header
    assert_error(c.post(f"/api/members/{member}/phone", headers={"X-CSRF-Token": "forged"}), 403)  # differs
    assert c.post(f"/api/members/{member}/phone", headers={"X-CSRF-Token": token}).status_code == 200
    fresh = httpx.Client(base_url=console.url)  # a login without the double-submit token is refused too
    r = fresh.post("/api/login", json={"username": "boss", "password": PASSWORDS["boss"]})
    assert_error(r, 403, "Forbidden")
    assert "winback_session" not in r.cookies


def test_session_cookie_flags_and_logout(console: Console) -> None:
    c = httpx.Client(base_url=console.url, timeout=60)  # the overview may be computed here first
    token = c.get("/api/csrf").json()["csrf_token"]
    r = c.post("/api/login", json={"username": "ana", "password": PASSWORDS["ana"]},
               headers={"X-CSRF-Token": token})  # fmt: skip
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("winback_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    assert "token" not in r.json()  # the session token is only in the cookie
    assert c.get("/api/me").status_code == 200
    assert c.get("/api/overview").status_code == 200 == c.get("/api/overview").status_code  # kept (web/fast.py)
    stolen = dict(c.cookies)
    assert c.post("/api/logout").status_code == 200
    replay = httpx.Client(base_url=console.url, cookies=stolen)
    assert_error(replay.get("/api/me"), 401)  # the server forgot the session, not only the browser
    assert_error(replay.get("/api/overview"), 401)  # and its kept answers
    tampered = httpx.Client(base_url=console.url, cookies={"winback_session": stolen["winback_session"][:-2] + "xx"})
    assert_error(tampered.get("/api/me"), 401)


def test_brute_force_login_is_throttled(console: Console) -> None:
    from winback.web.users_service import MAX_USER_FAILURES

    c = console.client()
    for _ in range(MAX_USER_FAILURES):
        assert_error(c.post("/api/login", json={"username": "sun", "password": "guess"}), 401, "Unauthenticated")
    r = c.post("/api/login", json={"username": "sun", "password": PASSWORDS["sun"]})
    assert_error(r, 429, "Throttled")  # even the right password waits out the window
    assert int(r.headers["retry-after"]) > 0
    assert console.client("wang").get("/api/me").status_code == 200  # other users are not locked out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_errors_speak_the_callers_language(console: Console, lang: str) -> None:
    err = assert_error(httpx.get(console.url + "/api/overview", params={"lang": lang}), 401)
    assert (err["message"] == "请先登录") == (lang == "zh")


def test_a_guide_records_outcomes_of_her_own_tasks_only(console: Console) -> None:
    wang, li, ana = console.client("wang"), console.client("li"), console.client("ana")
    mine = schemas.TasksOut.model_validate(wang.get("/api/tasks").json())
    assert mine.tasks and {t.guide_id for t in mine.tasks} == {console.guides["wang"]}
    task = mine.tasks[0].task_id
    first = schemas.OutcomeOut.model_validate(wang.post(f"/api/tasks/{task}/outcome", json={"outcome": "invited",
                                                        "note": "周六来店"}).json())  # fmt: skip
    assert first.recorded and first.task_outcome == "invited"
    again = wang.post(f"/api/tasks/{task}/outcome", json={"outcome": "invited", "note": "周六来店"}).json()
    assert again["recorded"] is False  # a retry after a dropped answer changes nothing
    assert_error(li.post(f"/api/tasks/{task}/outcome", json={"outcome": "declined"}), 403, "Forbidden")
    assert_error(ana.post(f"/api/tasks/{task}/outcome", json={"outcome": "declined"}), 403, "Forbidden")
    assert_error(wang.post("/api/tasks/C0001:nobody/outcome", json={"outcome": "invited"}), 404, "NotFoundError")
    assert_error(wang.post(f"/api/tasks/{task}/outcome", json={"outcome": "teleported"}), 400, "InputError")
    wang.headers.pop("X-CSRF-Token")
    assert_error(wang.post(f"/api/tasks/{task}/outcome", json={"outcome": "visited"}), 403, "Forbidden")
    log = [e for e in _audit(console, "task_outcome") if e["target"] == task]
    assert len(log) == 1 and log[0]["username"] == "wang" and log[0]["detail"]["outcome"] == "invited"
    li_tasks = li.get("/api/tasks").json()["tasks"]
    assert li_tasks and {t["guide_id"] for t in li_tasks} == {console.guides["li"]}


def test_exports_are_masked_scoped_and_audited(console: Console) -> None:
    boss, zhao, wang = console.client("boss"), console.client("zhao"), console.client("wang")
    r = boss.get("/api/members/export", params={"segment": "lost", "format": "csv"})
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    header, *rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    col = header.index("手机")  # the export speaks the console's language (zh by default): 手机 = phone
    phones = [row[col] for row in rows if row[col]]
    assert rows and phones and all("*" in p for p in phones)  # never a full number in an export
    xlsx = zhao.get("/api/members/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert_error(zhao.get("/api/members/export", params={"store": "NOT-HIS"}), 403, "Forbidden")
    assert_error(wang.get("/api/members/export"), 403, "Forbidden")
    log = _audit(console, "export")
    assert [e["username"] for e in log[:2]] == ["zhao", "boss"]
    assert log[1]["detail"]["rows"] == len(rows) and log[0]["detail"]["stores"] == [console.manager_store]


def test_asking_for_a_csrf_token_again_keeps_the_session_working(console: Console) -> None:
    c = console.client("boss")
    token = c.headers["X-CSRF-Token"]
    assert c.get("/api/csrf").json()["csrf_token"] == token and c.cookies["csrf_token"] == token
    assert c.get("/login").status_code == 200 and c.cookies["csrf_token"] == token
    member = c.get("/api/members", params={"limit": 1}).json()["members"][0]["member_id"]
    assert c.post(f"/api/members/{member}/phone").status_code == 200
