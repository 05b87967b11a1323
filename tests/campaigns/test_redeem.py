"""Redeeming coupons: every refusal says why; a code is redeemed at most once, even by two tills at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from winback.app import Winback
from winback.campaigns.coupon_service import redeem_attempts, redeem_code
from winback.campaigns.coupons import display
from winback.campaigns.redeem import AlreadyRedeemedError, Attempt
from winback.campaigns.types import CampaignRequest
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import EngineError, InputError, NotFoundError
from winback.warehouse import connect, till_orders

from .conftest import brand_app

T0 = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture
def brand(tmp_path: Path) -> Iterator[Winback]:
    """The synthetic brand with English messages (the refusals below are matched in English; zh is the default
    and is tested in test_coupon_rules.py)."""
    wb = brand_app(tmp_path / "brand.duckdb", lang="en")
    yield wb
    wb.close()


def _launched(wb: Winback) -> list[tuple[str, str, str]]:
    wb.campaigns.create(CampaignRequest("new_store_opening", variants=["A:voucher:50:200"]), now=T0)
    wb.campaigns.launch("C0001", now=T0)
    return wb.db().fetchall(  # type: ignore[return-value]
        "SELECT c.code, c.member_id, m.store_id FROM coupons c JOIN members m USING (member_id) ORDER BY code LIMIT 5"
    )


def _order(wb: Winback, order_id: str, member: str, store: str, amount: float, at: dt.datetime) -> None:
    wb.db().execute(
        "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'paid')",
        [order_id, member, member, store, at, amount],
    )
    till_orders.sync(wb.db().con, "o.order_id = ?", [order_id])  # a writer of orders keeps the tills' orders


def test_redeem_checks_and_refusals(brand: Winback) -> None:
    redeem = brand.coupons.redeem
    (code, member, store), (code2, member2, store2), *_ = _launched(brand)
    _order(brand, "O1", member, store, 260.0, T0 + dt.timedelta(days=2))
    _order(brand, "O2", member2, store2, 120.0, T0 + dt.timedelta(days=2))
    _order(brand, "O3", member2, store2, 300.0, T0 + dt.timedelta(days=60))
    now = T0 + dt.timedelta(days=2, hours=1)
    with pytest.raises(NotFoundError, match="unknown coupon"):
        redeem(_valid_unknown(), order_id="O1", store_id=store, now=now)
    with pytest.raises(NotFoundError, match="no paid order 'NOPE'"):
        redeem(code, order_id="NOPE", store_id=store, now=now)
    with pytest.raises(InputError, match="not valid for this order") as info:  # never whose coupon or order it is
        redeem(code, order_id="O2", store_id=store2, now=now)
    assert member not in str(info.value) and member2 not in str(info.value)
    with pytest.raises(InputError, match=r"below the coupon's threshold of ¥200\.00"):
        redeem(code2, order_id="O2", store_id=store2, now=now)
    with pytest.raises(InputError, match="expired"):
        redeem(code2, order_id="O3", store_id=store2, now=T0 + dt.timedelta(days=60, hours=1))
    out = redeem(display(code).lower(), order_id="O1", store_id=store, now=now).to_dict()
    assert out["discount"] == 50.0 and out["member_id"] == member
    with pytest.raises(AlreadyRedeemedError, match=r"already redeemed .* order O1"):
        redeem(code, order_id="O1", store_id=store, now=now)


def _valid_unknown() -> str:
    from winback.campaigns.coupons import check_symbol

    payload = "23456789ABC"
    return payload + check_symbol(payload)


def test_two_tills_at_the_same_moment_exactly_one_succeeds(tmp_path: Path) -> None:
    wb = brand_app(tmp_path / "tills.duckdb", n=600)
    con = wb.db().con
    code, member, store = _launched(wb)[0]
    _order(wb, "O1", member, store, 500.0, T0 + dt.timedelta(days=1))
    for attempt in range(10):  # the race is repeated; each time exactly one till wins
        if attempt:
            con.execute("UPDATE coupons SET redeemed_at = NULL, redeemed_order_id = NULL WHERE code = ?", [code])
            con.execute("DELETE FROM coupon_orders WHERE code = ?", [code])
        barrier = threading.Barrier(2)
        results: list[str] = []

        def till(barrier: threading.Barrier = barrier, results: list[str] = results) -> None:
            cur = con.cursor()
            barrier.wait()
            try:
                redeem_code(DuckDBEngine(cur), code, order_id="O1", store_id=store, now=T0 + dt.timedelta(days=2))
                results.append("ok")
            except AlreadyRedeemedError:
                results.append("refused")
            finally:
                cur.close()

        threads = [threading.Thread(target=till) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == ["ok", "refused"], results
        row = con.execute("SELECT count(*) FROM coupons WHERE redeemed_at IS NOT NULL").fetchone()
        assert row == (1,)
    wb.close()


def test_batch_redemption_applies_the_same_rules(brand: Winback) -> None:
    redeem_batch = brand.coupons.redeem_batch
    (code, member, store), (code2, member2, store2), (code3, _member3, store3), *_ = _launched(brand)
    at = T0 + dt.timedelta(days=3)
    _order(brand, "B1", member, store, 400.0, at)
    _order(brand, "B2", member2, store2, 150.0, at)  # below the 200 threshold
    _order(brand, "B3", member2, store2, 900.0, at)  # member2's order, used with member3's code
    out = redeem_batch(
        [
            {"code": code, "order_id": "B1", "store_id": store, "at": at},
            {"code": code2, "order_id": "B2", "store_id": store2, "at": at},
            {"code": code3, "order_id": "B3", "store_id": store3, "at": at},
        ],
        now=at,
    ).to_dict()
    assert {k: out[k] for k in ("redeemed", "refused")} == {"redeemed": 1, "refused": [display(code2), display(code3)]}
    assert "threshold" in out["reasons"][display(code2)]
    assert "not valid for this order" in out["reasons"][display(code3)]
    assert brand.db().fetchall("SELECT discount FROM coupons WHERE code = ?", [code]) == [(50.0,)]
    again = redeem_batch([{"code": code, "order_id": "B1", "store_id": store, "at": at}], now=at).to_dict()
    assert {k: again[k] for k in ("redeemed", "refused")} == {"redeemed": 0, "refused": [display(code)]}


def test_two_till_processes_at_once_exactly_one_succeeds(tmp_path: Path) -> None:
    """Two `winback coupon redeem` processes on one code: one wins; the other is told the code was used or
    that the warehouse is busy (DuckDB allows one writing process) — never a second redemption."""
    db = tmp_path / "procs.duckdb"
    wb = brand_app(db, n=600)
    code, member, store = _launched(wb)[0]
    _order(wb, "P1", member, store, 500.0, T0 + dt.timedelta(days=1))
    wb.close()
    cmd = [
        sys.executable,
        "-m",
        "winback",
        "--db",
        str(db),
        "coupon",
        "redeem",
        code,
        "--order",
        "P1",
        "--store",
        store,
        "--json",
    ]
    env = {**os.environ, "WINBACK_NOW": (T0 + dt.timedelta(days=1, hours=2)).isoformat()}  # inside the validity
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)
    ]
    outs = [(p.returncode, out) for p in procs for out, _ in [p.communicate(timeout=120)]]
    assert sorted(rc for rc, _ in outs) in ([0, 2], [0, 3]), outs
    loser = json.loads(next(out for rc, out in outs if rc != 0))["error"]
    assert loser["type"] in ("AlreadyRedeemedError", "WarehouseLockedError")
    con = connect(db, read_only=True)
    assert con.execute("SELECT count(*) FROM coupons WHERE redeemed_at IS NOT NULL").fetchall() == [(1,)]
    con.close()


def test_date_only_order_on_the_issue_day_redeems_and_counts(brand: Winback) -> None:
    """Exports often carry the order date only (00:00): an order on the launch day is after the coupon was issued
    (09:00), and it falls inside the response window; the day before launch does not."""
    from winback.campaigns.store_report import member_outcomes

    (code, member, store), (_, other, other_store), *_ = _launched(brand)
    _order(brand, "SAMEDAY", member, store, 260.0, dt.datetime.combine(T0.date(), dt.time()))
    brand.coupons.redeem(code, order_id="SAMEDAY", store_id=store, now=T0 + dt.timedelta(hours=3))
    _order(
        brand, "EARLIER", other, other_store, 500.0, dt.datetime.combine(T0.date(), dt.time()) - dt.timedelta(hours=1)
    )
    rows = {r["member_id"]: r for r in member_outcomes(brand.db(), "C0001")}
    assert rows[member]["purchased"] == 1 and rows[member]["revenue"] == 260.0
    assert rows[other]["purchased"] == 0 and rows[other]["revenue"] == 0.0


def test_a_batch_answers_each_attempt_with_its_typed_refusal(brand: Winback) -> None:
    """One batch, one transaction: every attempt gets its own answer, in order and typed (what the tills' web
    rounds answer with: 409, 404, 400), and only the winners are written."""
    from winback.campaigns.redeem import CouponVoidedError
    from winback.campaigns.types import RedeemResult

    (c1, m1, s1), (c2, m2, s2), (c3, m3, s3), (c4, m4, s4), (c5, _m5, s5) = _launched(brand)
    at = T0 + dt.timedelta(days=3)
    for order, member, store, amount in [("T1", m1, s1, 400.0), ("T2", m2, s2, 150.0), ("T3", m3, s3, 500.0),
                                         ("T4", m4, s4, 600.0)]:  # fmt: skip
        _order(brand, order, member, store, amount, at)
    brand.coupons.redeem(c3, order_id="T3", store_id=s3, now=at)  # used before this batch
    brand.coupons.void(c4, by="test", reason="test", now=at)
    (spare,) = brand.db().fetchone("SELECT code FROM coupons WHERE code NOT IN (?, ?, ?, ?, ?) LIMIT 1",
                                   [c1, c2, c3, c4, c5])  # fmt: skip
    asks = [(c1, "T1", s1), (c2, "T2", s2), (c3, "T3", s3), (c4, "T4", s4), (c5, "NO-SUCH", s5),
            ("23456789ABCD", "T1", s1), (spare, "T1", s1)]  # fmt: skip
    attempts = [Attempt(code, order, store, at, at, "en") for code, order, store in asks]
    answers = brand.coupons.redeem_attempts(attempts)
    kinds = [type(a).__name__ for a in answers]
    assert kinds == ["RedeemResult", "InputError", "AlreadyRedeemedError", "CouponVoidedError", "NotFoundError",
                     "NotFoundError", "InputError"]  # fmt: skip
    won = answers[0]
    assert isinstance(won, RedeemResult) and won.code == display(c1) and won.order_id == "T1" and won.discount == 50
    assert isinstance(answers[3], CouponVoidedError)
    assert "threshold" in answers[1].message and "T3" in answers[2].message  # type: ignore[union-attr]
    assert "no paid order" in answers[4].message and "unknown coupon" in answers[5].message  # type: ignore[union-attr]
    assert "not valid for this order" in answers[6].message  # type: ignore[union-attr]  # T1 is m1's order
    redeemed = brand.db().fetchall("SELECT code, redeemed_order_id FROM coupons WHERE redeemed_at IS NOT NULL")
    assert sorted(redeemed) == sorted([(c1, "T1"), (c3, "T3")])
    # the CLI's batch says the same, typed in its JSON
    items = [
        {"code": c2, "order_id": "T2", "store_id": s2, "at": at},
        {"code": c1, "order_id": "T1", "store_id": s1, "at": at},
    ]
    out = brand.coupons.redeem_batch(items, now=at).to_dict()
    assert out["kinds"] == {display(c2): "InputError", display(c1): "AlreadyRedeemedError"}
    assert out["redeemed"] == 0 and set(out["reasons"]) == set(out["kinds"])


def test_one_coupon_per_order_holds_inside_a_batch(brand: Winback) -> None:
    (c1, m1, s1), *_ = _launched(brand)
    (other,) = brand.db().fetchone("SELECT code FROM coupons WHERE member_id = ? AND code <> ?", [m1, c1]) or (None,)
    if other is None:  # one coupon per member in this campaign: give the member a second one
        other = "23456789ABCE"
        brand.db().execute("INSERT INTO coupons SELECT * REPLACE (? AS code) FROM coupons WHERE code = ?", [other, c1])
    at = T0 + dt.timedelta(days=3)
    _order(brand, "ONE", m1, s1, 400.0, at)
    answers = brand.coupons.redeem_attempts(
        [Attempt(c1, "ONE", s1, at, at, "en"), Attempt(other, "ONE", s1, at, at, "en")]
    )
    assert type(answers[0]).__name__ == "RedeemResult" and type(answers[1]).__name__ == "InputError"
    assert "already used coupon" in answers[1].message  # type: ignore[union-attr]


def _second_coupon(wb: Winback, code: str, member: str) -> str:
    """Another coupon of the member of `code` (a copy under a new code when the campaign gave one each)."""
    (other,) = wb.db().fetchone("SELECT code FROM coupons WHERE member_id = ? AND code <> ?", [member, code]) or (None,)
    if other is None:
        other = "23456789ABCE"
        wb.db().execute("INSERT INTO coupons SELECT * REPLACE (? AS code) FROM coupons WHERE code = ?", [other, code])
    return str(other)


def test_the_warehouse_keeps_one_coupon_per_order(brand: Winback) -> None:
    """Migration 027's `coupon_orders`: a redemption writes its order there with its UPDATE; whoever writes a
    second coupon on that order is refused by the database (the primary key), and the table holds exactly the
    redeemed coupons' orders."""
    (c1, m1, s1), *_ = _launched(brand)
    other = _second_coupon(brand, c1, m1)
    at = T0 + dt.timedelta(days=3)
    _order(brand, "ONE", m1, s1, 400.0, at)
    (done,) = brand.coupons.redeem_attempts([Attempt(c1, "ONE", s1, at, at, "en")])
    assert type(done).__name__ == "RedeemResult"
    with pytest.raises(EngineError) as caught:
        brand.db().execute("INSERT INTO coupon_orders VALUES ('ONE', ?)", [other])
    assert caught.value.kind == "constraint"
    mirror = "SELECT redeemed_order_id, code FROM coupons WHERE redeemed_order_id IS NOT NULL ORDER BY 1"
    assert brand.db().fetchall("SELECT order_id, code FROM coupon_orders ORDER BY 1") == brand.db().fetchall(mirror)


def test_two_writers_redeeming_two_codes_on_one_order_at_once_one_wins(tmp_path: Path) -> None:
    """Two writers (two cursors: the server's till round and a job, say) redeem two codes of one member on one
    order, each having read its facts (the order free) before either writes: the database keeps one, the other
    is decided again on a fresh snapshot and refused ("already used coupon"), ten times over."""
    wb = brand_app(tmp_path / "one-order.duckdb", n=600, lang="en")
    con = wb.db().con
    (c1, m1, s1), *_ = _launched(wb)
    codes, at = [c1, _second_coupon(wb, c1, m1)], T0 + dt.timedelta(days=3)
    _order(wb, "ONE", m1, s1, 400.0, at)
    for attempt in range(10):
        if attempt:
            con.execute("UPDATE coupons SET redeemed_at = NULL, redeemed_order_id = NULL WHERE code IN (?, ?)", codes)
            con.execute("DELETE FROM coupon_orders WHERE order_id = 'ONE'")
        read, answers = threading.Barrier(2), []

        def till(code: str, read: threading.Barrier = read, answers: list[object] = answers) -> None:
            cur, first = con.cursor(), [True]

            def within(_: object) -> None:  # in the transaction, after its read, before its UPDATE
                if first.pop() if first else False:
                    read.wait(60)

            try:
                (done,) = redeem_attempts(DuckDBEngine(cur), [Attempt(code, "ONE", s1, at, at, "en")], within=within)
                answers.append(done)
            finally:
                cur.close()

        threads = [threading.Thread(target=till, args=(c,)) for c in codes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kinds = sorted(type(a).__name__ for a in answers)
        assert kinds == ["InputError", "RedeemResult"], answers
        assert "already used coupon" in next(a.message for a in answers if isinstance(a, InputError))
        assert con.execute("SELECT count(*) FROM coupons WHERE redeemed_order_id = 'ONE'").fetchone() == (1,)
    wb.close()
