"""The answer cache's rules (web/cache.py): answers per scope and version, sessions kept until they end."""

from __future__ import annotations

import datetime as dt

from winback.web.cache import OUTREACH, SNAPSHOT, AnswerCache
from winback.web.types import Session, User


def test_an_answer_is_computed_once_per_version_of_its_scope() -> None:
    cache, calls = AnswerCache(), []

    def compute(name: str) -> str:
        calls.append(name)
        return f"{name}@{len(calls)}"

    first = cache.get("overview", lambda: compute("overview"), SNAPSHOT)
    report = cache.get("report", lambda: compute("report"), OUTREACH)
    assert cache.get("overview", lambda: compute("overview"), SNAPSHOT) == first
    cache.changed(OUTREACH)  # an outcome: reports and tasks go, the snapshot's answers stand
    assert cache.get("overview", lambda: compute("overview"), SNAPSHOT) == first
    assert cache.get("report", lambda: compute("report"), OUTREACH) != report
    cache.changed()  # a writer job: everything goes
    assert cache.get("overview", lambda: compute("overview"), SNAPSHOT) != first
    assert calls == ["overview", "report", "report", "overview"]


def test_rendered_bytes_belong_to_the_kept_object() -> None:
    cache = AnswerCache()
    a, b = {"n": 1}, {"n": 1}
    assert cache.rendered(a, lambda x: b"a") == b"a"
    assert cache.rendered(a, lambda x: b"again") == b"a"
    assert cache.rendered(b, lambda x: b"b") == b"b"  # an equal but other object is rendered itself


def test_sessions_are_kept_until_they_expire_log_out_or_the_users_change() -> None:
    cache, looked = AnswerCache(), []
    now = dt.datetime(2026, 12, 1, 10)
    s = Session(User("boss", "hq_admin"), "csrf", now + dt.timedelta(hours=1))

    def lookup() -> Session | None:
        looked.append(1)
        return s

    assert cache.sessions.get("t", now, lookup) is s and cache.sessions.peek("t", now) is s
    assert cache.sessions.get("t", now, lookup) is s and len(looked) == 1
    assert cache.sessions.peek("t", now + dt.timedelta(hours=2)) is None  # expired
    cache.sessions.drop("t")  # logged out
    assert cache.sessions.peek("t", now) is None
    assert cache.sessions.get("t", now, lambda: None) is None and cache.sessions.peek("t", now) is None
    cache.sessions.get("t", now, lookup)
    cache.changed()  # a writer job (a user disabled or reset through the server)
    assert cache.sessions.peek("t", now) is None
