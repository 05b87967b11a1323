"""The API fuzzed from its own OpenAPI with schemathesis, over the real uvicorn on loopback, logged in as an HQ
admin (session cookie and CSRF header): for every operation, generated valid and invalid requests never get a
5xx, and every answer is of its declared content type and matches its declared schema (the one error shape
included). Left out: the login (random failures would throttle the test session's address), the logout (it
would end the session) and the background jobs (they would queue refreshes and dispatches; tests/web/test_jobs.py)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from tests.web.conftest import Console


@pytest.fixture(scope="module")
def boss_session(console: Console) -> requests.Session:
    c = console.client("boss")
    s = requests.Session()
    for name, value in c.cookies.items():
        s.cookies.set(name, value)
    s.headers["X-CSRF-Token"] = c.headers["X-CSRF-Token"]
    return s


def operations(console: Console) -> list[Any]:
    schema = schemathesis.openapi.from_url(f"{console.url}/openapi.json")
    found = [r.ok() for r in schema.exclude(path_regex=r"^/api/(login|logout|jobs)").get_all_operations()]
    assert len(found) >= 12, found
    return found


def test_no_5xx_and_answers_match_their_schemas(console: Console, boss_session: requests.Session) -> None:
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    for op in operations(console):

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            case.call_and_validate(session=boss_session, checks=checks)

        fuzz()
