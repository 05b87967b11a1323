"""The tills over a real uvicorn on loopback: `winback tokens add|list|revoke` (a token printed once, only its
SHA-256 stored), `POST /api/coupons/{code}/redeem` with a store's bearer token (no cookie, no CSRF; 401 / 403 /
404 / 409 / 422 in the one error shape), and 50 tills at once: exactly one success per code, every other answer a
clean refusal, no 5xx, every attempt audited. Latency figures: benchmarks/till_bench.py (not timed here)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from winback.campaigns.coupons import display
from winback.cli.main import app as cli
from winback.config import CATALOGUE
from winback.warehouse import till_orders
from winback.web.tokens_service import TokensService


@dataclass(frozen=True)
class Tills:
    url: str
    db_path: Path
    tokens: dict[str, str]  # store -> bearer token
    coupons: list[tuple[str, str, str]]  # (code, store, order id): a paid order of the coupon's member at its store
    revoked: str  # a revoked token (of the first store)
    wb: Any  # the server's app: read it through wb.scoped() (a cursor of its own), as a request does
    app: Any


def tokens_cli(db: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {**{s.env: None for s in CATALOGUE}}
    res = CliRunner().invoke(cli, ["--db", str(db), "tokens", *args, "--json"], env=env)
    return res.exit_code, json.loads(res.stdout)


def prepare(db_path: Path, n_coupons: int = 60) -> list[tuple[str, str, str]]:
    """Launch a campaign on the copy and give `n_coupons` coupons (of three stores) a paid order each."""
    from winback.app import Winback
    from winback.campaigns.types import CampaignRequest
    from winback.config import Settings

    with Winback(Settings.load(environ={}, db_path=db_path)) as wb:
        cid = wb.campaigns.create(CampaignRequest(scenario="big_sale", name="收银台核销")).campaign.campaign_id
        wb.campaigns.launch(cid)
        db = wb.db()
        rows = db.fetchall(
            """
            WITH top AS (SELECT m.store_id FROM coupons c JOIN members m USING (member_id)
                         JOIN stores s USING (store_id) WHERE c.campaign_id = ?
                         GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3)
            SELECT c.code, c.member_id, m.store_id, c.issued_at FROM coupons c JOIN members m USING (member_id)
            WHERE c.campaign_id = ? AND m.store_id IN (SELECT store_id FROM top) ORDER BY c.code LIMIT ?
            """,
            [cid, cid, n_coupons],
        )
        out = []
        for i, (code, member, store, issued) in enumerate(rows):
            db.execute(
                "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
                "VALUES (?, ?, ?, ?, ?, 99999, 'paid')",
                [f"TILL{i:04d}", member, member, store, issued],
            )
            till_orders.sync(db.con, "o.order_id = ?", [f"TILL{i:04d}"])
            out.append((code, store, f"TILL{i:04d}"))
    assert len(out) == n_coupons
    return out


@pytest.fixture(scope="module")
def tills(demo_brand: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tills]:
    from winback.app import Winback
    from winback.config import Settings
    from winback.web.server import create_app, serving

    db_path = tmp_path_factory.mktemp("till") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db_path)
    coupons = prepare(db_path, 90)
    tokens = {}
    for store in sorted({s for _, s, _ in coupons}):
        code, out = tokens_cli(db_path, "add", "--store", store, "--label", "前台 1")
        assert code == 0, out
        tokens[store] = out["token"]
    first = sorted(tokens)[0]
    code, out = tokens_cli(db_path, "add", "--store", first)
    revoked = out["token"]
    assert tokens_cli(db_path, "revoke", out["till"]["token_id"])[1]["already"] is False
    wb = Winback(Settings.load(environ={}, db_path=db_path))
    web = create_app(wb, secret="till-secret")
    try:
        with serving(web) as url:
            yield Tills(url, db_path, tokens, coupons, revoked, wb, web)
    finally:
        wb.close()


def fire(url: str, attempts: list[tuple[str, str, str]], tokens: dict[str, str]) -> list[tuple[str, int, Any]]:
    """Every attempt from its own till (a thread with its own client), all released together by a barrier."""
    answers: list[tuple[str, int, Any]] = []
    barrier = threading.Barrier(len(attempts))

    def till(code: str, store: str, order: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as c:
            barrier.wait()
            r = redeem(c, code, order, store, tokens[store])
            answers.append((code, r.status_code, r.json()))

    threads = [threading.Thread(target=till, args=a) for a in attempts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def redeem(c: httpx.Client, code: str, order: str, store: str, token: str | None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return c.post(f"/api/coupons/{code}/redeem", json={"order_id": order, "store_id": store}, headers=headers, **kw)


def assert_error(r: httpx.Response, status: int, kind: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"type", "message", "hint"} and err["message"]
    if kind:
        assert err["type"] == kind
    return err  # type: ignore[no-any-return]


def test_the_cli_prints_a_token_once_and_stores_only_its_hash(tills: Tills) -> None:
    with tills.wb.scoped() as wb:
        stored = wb.db().fetchall("SELECT token_hash, store_id, label FROM api_tokens ORDER BY created_at")
    hashes = {h for h, _, _ in stored}
    for token in [*tills.tokens.values(), tills.revoked]:
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        assert all(token not in str(row) for row in stored)
    assert {s for _, s, lbl in stored if lbl == "前台 1"} == set(tills.tokens)


def test_tokens_cli_refusals(tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    assert CliRunner().invoke(cli, ["--db", str(db), "init", "--json"]).exit_code == 0
    code, out = tokens_cli(db, "add", "--store", "NOPE")
    assert code == 2 and out["error"]["type"] == "TillNotFound" and "NOPE" in out["error"]["message"]
    code, out = tokens_cli(db, "revoke", "abc123")
    assert code == 2 and out["error"]["hint"]
    assert tokens_cli(db, "list") == (0, {"tokens": []})


def test_refusals_come_in_the_one_error_shape(tills: Tills) -> None:
    code, store, order = tills.coupons[-1]
    other = next(s for s in tills.tokens if s != store)
    with httpx.Client(base_url=tills.url, timeout=30) as c:  # no cookie, no CSRF token: a till
        assert "请求头需带 Authorization" in assert_error(redeem(c, code, order, store, None), 401)["hint"]
        assert_error(redeem(c, code, order, store, "forged"), 401)
        assert_error(redeem(c, code, order, store, tills.revoked), 401)
        err = assert_error(redeem(c, code, order, store, tills.tokens[other], params={"lang": "en"}), 403)
        assert other in err["message"] and store in err["message"]
        assert_error(c.post(f"/api/coupons/{code}/redeem", json={"order_id": order},
                            headers={"Authorization": f"Bearer {tills.tokens[store]}"}), 422)  # fmt: skip
        assert_error(redeem(c, "23456789ABCD", order, store, tills.tokens[store]), 404)
        assert_error(redeem(c, code, "NO-SUCH-ORDER", store, tills.tokens[store]), 404, "NotFoundError")
        ok = redeem(c, code, order, store, tills.tokens[store])
        assert ok.status_code == 200 and ok.json()["order_id"] == order and ok.json()["discount"] > 0
        err = assert_error(redeem(c, code, order, store, tills.tokens[store]), 409, "AlreadyRedeemedError")
        assert "已" in err["message"] and order in err["message"]
    with tills.wb.scoped() as wb:
        refused = wb.db().fetchall(
            "SELECT detail->>'refused' FROM audit_log WHERE action = 'coupon_redeem' AND target = ? ORDER BY audit_id",
            [display(code)],
        )
    assert [r[0] for r in refused][-3:] == ["NotFoundError", None, "AlreadyRedeemedError"]


def test_fifty_tills_at_once_redeem_each_code_exactly_once(tills: Tills) -> None:
    coupons = tills.coupons[:40]
    # 100 attempts on 40 codes: every code by two tills, twenty by a third; a till takes every 50th attempt
    attempts = [*coupons, *coupons, *coupons[:20]]
    answers: list[tuple[str, int, dict[str, Any]]] = []
    barrier = threading.Barrier(50)

    def till(i: int) -> None:
        with httpx.Client(base_url=tills.url, timeout=60) as c:
            mine = attempts[i::50]
            barrier.wait()
            for code, store, order in mine:
                r = redeem(c, code, order, store, tills.tokens[store])
                answers.append((code, r.status_code, r.json()))

    threads = [threading.Thread(target=till, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == len(attempts)
    assert all(status < 500 for _, status, _ in answers)
    wins = Counter(code for code, status, _ in answers if status == 200)
    assert wins == Counter({code: 1 for code, _, _ in coupons})
    for _, status, body in answers:
        if status != 200:
            assert status == 409 and body["error"]["type"] == "AlreadyRedeemedError" and body["error"]["hint"]
    with tills.wb.scoped() as wb:
        db = wb.db()
        redeemed = db.scalar(
            "SELECT count(*) FROM coupons WHERE redeemed_order_id LIKE 'TILL%' AND redeemed_order_id < 'TILL0040'"
        )
        audited = db.scalar("SELECT count(*) FROM audit_log WHERE action = 'coupon_redeem' AND target IN "
                            f"({', '.join('?' * len(coupons))})", [display(c) for c, _, _ in coupons])  # fmt: skip
    assert redeemed == 40 and audited == len(attempts)


def test_forty_tills_while_a_refresh_writes_get_clean_answers_exactly_once(tills: Tills) -> None:
    """Issue 15's acceptance: 40 concurrent redemptions (20 codes, each from two tills) while a refresh runs as the
    server's background job, held in the middle of its write transaction until every till has its answer: 40
    clean answers (200 or 409, never a lock error or a 5xx), exactly one success per code, and the refresh then
    commits (the tills' writes and its own do not conflict)."""
    jobs = tills.app.state.web.jobs
    inside, answered = threading.Event(), threading.Event()

    def refresh(wb: Any, progress: Any) -> Any:
        def hold(stage: str, *_: Any) -> None:
            progress(stage)
            if not inside.is_set():  # the first step, inside the refresh's transaction: wait for the tills
                inside.set()
                assert answered.wait(120), "the tills did not finish"

        return wb.lifecycle.refresh(progress=hold)

    job = jobs.submit("refresh", "during the tills", refresh, username="test", lang="zh")
    assert inside.wait(120), "the refresh did not start"
    coupons = tills.coupons[40:60]
    answers = fire(tills.url, [*coupons, *reversed(coupons)], tills.tokens)
    assert job.state == "running"  # still in the middle of its transaction while every till got its answer
    answered.set()
    assert job.finished.wait(300) and job.state == "done", job.error
    assert len(answers) == 40 and all(status in (200, 409) for _, status, _ in answers), answers
    assert Counter(code for code, status, _ in answers if status == 200) == Counter({c: 1 for c, _, _ in coupons})
    for _, status, body in answers:
        if status == 409:
            assert body["error"]["type"] == "AlreadyRedeemedError" and body["error"]["hint"]
    with tills.wb.scoped() as wb:
        redeemed = wb.db().scalar("SELECT count(*) FROM coupons WHERE redeemed_order_id IN "
                                  f"({', '.join('?' * len(coupons))})", [o for _, _, o in coupons])  # fmt: skip
    assert redeemed == 20


def test_a_round_answers_each_till_with_its_own_typed_refusal(tills: Tills) -> None:
    """Tills released together share rounds; each is answered from its round with its own answer, typed: 200,
    409 already redeemed, 404 no such paid order, 400 not this member's order; each audited with that type."""
    fresh = tills.coupons[60:80]
    good, missing, rest = fresh[:8], fresh[8:14], fresh[14:]
    swapped = []  # a coupon with another member's order of the same store: "not valid for this order"
    for (code, store, _), (_, store2, order2) in zip(rest, [*rest[1:], rest[0]], strict=True):
        if store == store2:
            swapped.append((code, store, order2))
    assert swapped, "no two neighbouring coupons of one store"
    expected = {**{(c, s, o): 200 for c, s, o in good}, **{(c, s, f"NO-SUCH-{c}"): 404 for c, s, _ in missing},
                **{a: 400 for a in swapped}}  # fmt: skip
    attempts = [*expected, *good]  # every good code twice: one 200, one 409
    answers = fire(tills.url, attempts, tills.tokens)
    got = Counter((code, status, body.get("error", {}).get("type")) for code, status, body in answers)
    want = Counter(
        [(c, 200, None) for c, _, _ in good]
        + [(c, 409, "AlreadyRedeemedError") for c, _, _ in good]
        + [(c, 404, "NotFoundError") for c, _, _ in missing]
        + [(c, 400, "InputError") for c, _, _ in swapped]
    )
    assert got == want
    for _, status, body in answers:
        if status != 200:
            assert body["error"]["message"] and body["error"]["hint"]
    with tills.wb.scoped() as wb:
        rows = wb.db().fetchall(
            "SELECT target, detail->>'refused' FROM audit_log WHERE action = 'coupon_redeem' AND target IN "
            f"({', '.join('?' * len(fresh))})",
            [display(c) for c, _, _ in fresh],
        )
    assert Counter((t, r) for t, r in rows) == Counter((display(c), k) for c, _, k in want.elements())


def test_a_token_revoked_while_cached_is_refused_at_once(tills: Tills) -> None:
    """The usual till awaits its round with the token from the cache (the async route); a revocation in the
    server empties the cache, so the very next request with that token is a 401, not a redemption."""
    code, store, order = tills.coupons[-2]
    with tills.wb.scoped() as wb:
        added = TokensService(wb).add(store, label="short-lived")
    with httpx.Client(base_url=tills.url, timeout=30) as c:
        assert_error(redeem(c, "23456789ABCD", order, store, added.token), 404)  # the token is now cached
        assert_error(redeem(c, "23456789ABCD", order, store, added.token), 404)  # answered from the cache
        with tills.wb.scoped() as wb:
            assert TokensService(wb).revoke(added.till.token_id).already is False
        assert_error(redeem(c, code, order, store, added.token), 401)
        assert redeem(c, code, order, store, tills.tokens[store]).status_code == 200  # the code was not used


def _serve(db: Path) -> tuple[subprocess.Popen[str], str]:
    """`winback serve` on `db` in its own process: (the process, its url once it listens)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WINBACK_")}
    proc = subprocess.Popen([sys.executable, "-m", "winback", "--db", str(db), "serve", "--port", "0", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()  # printed once the socket listens
    assert line, proc.stderr.read() if proc.stderr else ""
    return proc, json.loads(line)["url"]


def test_a_redemption_answered_survives_the_server_being_killed(demo_brand: Any, tmp_path: Path) -> None:
    """Exactly once across a restart: a till's 200 is answered after its round committed, so a server killed
    right after it (SIGKILL: no shutdown at all) comes back knowing the code is used: the next till's attempt
    is a 409 naming the first order, and the warehouse holds that one redemption."""
    from winback.app import Winback
    from winback.config import Settings

    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    (code, store, order), (_, _, order2), *_ = prepare(db, 3)
    with Winback(Settings.load(environ={}, db_path=db)) as wb:
        token = TokensService(wb).add(store).token
    proc, url = _serve(db)
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            assert redeem(c, code, order, store, token).status_code == 200
    finally:
        proc.kill()
        proc.wait(60)
    proc, url = _serve(db)
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            err = assert_error(redeem(c, code, order2, store, token), 409, "AlreadyRedeemedError")
            assert order in err["message"]
    finally:
        proc.terminate()
        proc.wait(60)
    with Winback(Settings.load(environ={}, db_path=db)) as wb:
        rows = wb.db().fetchall("SELECT code, redeemed_order_id FROM coupons WHERE redeemed_order_id IS NOT NULL "
                                "AND redeemed_order_id LIKE 'TILL%'")  # fmt: skip
    assert rows == [(code, order)]
