"""The HTML forms' CSRF and login errors over the real server, and the cookie signature as a property."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st
from tests.web.conftest import PASSWORDS, Console

from winback.web.passwords import new_token, sign, unsign


def test_the_login_form_needs_its_token_and_says_what_went_wrong(console: Console) -> None:
    c = httpx.Client(base_url=console.url)
    page = c.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.text
    token = c.cookies["csrf_token"]
    assert f'value="{token}"' in page.text  # the form's field and the cookie carry the same token
    refused = c.post("/login", data={"username": "boss", "password": PASSWORDS["boss"], "csrf_token": "forged"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    wrong = c.post("/login", data={"username": "boss", "password": "nope", "csrf_token": token}, params={"lang": "en"})
    assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
    ok = c.post("/login", data={"username": "boss", "password": PASSWORDS["boss"], "csrf_token": token,
                                "next": "//evil.example/x"})  # fmt: skip
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # no open redirect
    assert c.get("/overview").status_code == 200
    assert c.post("/logout", data={"csrf_token": "forged"}).status_code == 403  # logging out needs it too
    assert c.post("/logout", data={"csrf_token": c.cookies["csrf_token"]}).status_code == 303
    assert c.get("/overview").status_code == 303  # back to the login page


def test_pages_without_a_session_go_to_the_login_page(console: Console) -> None:
    r = httpx.get(console.url + "/members/123")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/members/123")


@given(token=st.text(min_size=1, max_size=60), secret=st.text(min_size=1, max_size=30), at=st.integers(0, 200))
def test_a_changed_cookie_never_verifies(token: str, secret: str, at: int) -> None:
    value = sign(token, secret)
    assert unsign(value, secret) == token
    assert unsign(value, secret + "x") is None
    i = at % len(value)
    flipped = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]
    assert unsign(flipped, secret) is None  # any one changed character: no token at all


def test_tokens_are_unguessable() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and min(len(t) for t in tokens) >= 43
