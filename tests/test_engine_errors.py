"""A statement that fails in the database, under real commands: one error shape, exit 2 or 3, no traceback, and
nothing half-applied.

The failure is real: the engine's hook runs the matching statement with a syntax error appended, so DuckDB
itself raises (a ParserException), and the test checks it comes out of the one database seam as an EngineError
that the CLI prints like every other user error.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from winback.cli.main import app
from winback.engine.duckdb_engine import DuckDBEngine
from winback.warehouse import till_orders

runner = CliRunner()
BROKEN = " )) this is not SQL (("


def _break(monkeypatch: pytest.MonkeyPatch, needle: str) -> list[str]:
    """Make every statement containing `needle` (case-insensitive) fail in DuckDB; returns the statements hit."""
    hit: list[str] = []

    def spoil(sql: str) -> str:
        if needle.lower() in " ".join(sql.split()).lower():
            hit.append(sql)
            return sql + BROKEN
        return sql

    def wrap(name: str) -> None:
        original: Callable[..., Any] = getattr(DuckDBEngine, name)

        def hooked(self: DuckDBEngine, sql: str, *args: Any) -> Any:
            return original(self, spoil(sql), *args)

        monkeypatch.setattr(DuckDBEngine, name, hooked)

    for name in ("_execute", "_query", "_fetchall", "_fetchone", "_dicts", "_executemany"):
        wrap(name)
    insert_into = DuckDBEngine._insert_into

    def hooked_insert(self: DuckDBEngine, warehouse: Any, table: str, columns: Any, sql: str) -> int:
        broken = spoil(f"INSERT INTO {table} {sql}") != f"INSERT INTO {table} {sql}"
        return insert_into(self, warehouse, table, columns, sql + BROKEN if broken else sql)

    monkeypatch.setattr(DuckDBEngine, "_insert_into", hooked_insert)
    return hit


def _fails_cleanly(db: str, args: list[str], hit: list[str]) -> dict[str, Any]:
    res = runner.invoke(app, ["--db", db, "--lang", "en", *args, "--json"])  # the English wording is asserted
    assert hit, f"no statement matched under {args}: the command did not go through the engine seam"
    assert res.exit_code in (2, 3), (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output
    body = json.loads(res.stdout)
    assert list(body) == ["error"] and sorted(body["error"]) == ["hint", "message", "type"], body
    assert body["error"]["type"] == "EngineError"
    assert "DuckDB failed" in body["error"]["message"]
    assert "SQL:" in body["error"]["hint"]  # the failing statement is quoted (truncated) for whoever debugs it
    human = runner.invoke(app, ["--db", db, *args])
    assert human.exit_code in (2, 3) and "Traceback" not in human.output
    return body


def _ok(db: str, *args: str) -> dict[str, Any]:
    res = runner.invoke(app, ["--db", db, *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def _count(db: str, sql: str) -> Any:
    con = duckdb.connect(db, read_only=True)
    try:
        row = con.execute(sql).fetchone()
        return row[0] if row else None
    finally:
        con.close()


@pytest.fixture
def brand_db(demo_brand: Any, tmp_path: Path) -> Iterator[str]:
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    yield str(db)


def test_import_refresh_campaign_and_coupon_fail_cleanly(
    brand_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = tmp_path / "stores.csv"
    stores.write_text("门店编号,门店名称,城市\nZZ001,测试店,上海\n", encoding="utf-8")
    imports_before = _count(brand_db, "SELECT count(*) FROM imports")
    with monkeypatch.context() as m:
        hit = _break(m, "INSERT INTO stores")
        _fails_cleanly(brand_db, ["import", "stores", str(stores)], hit)
    assert _count(brand_db, "SELECT count(*) FROM imports") == imports_before
    assert _count(brand_db, "SELECT count(*) FROM stores WHERE store_id = 'ZZ001'") == 0

    runs_before = _count(brand_db, "SELECT count(*) FROM snapshot_runs")
    with monkeypatch.context() as m:
        hit = _break(m, "INSERT INTO member_facts")
        _fails_cleanly(brand_db, ["refresh", "--as-of", "2026-10-01"], hit)
    assert _count(brand_db, "SELECT count(*) FROM snapshot_runs") == runs_before
    assert _count(brand_db, "SELECT count(*) FROM member_snapshot WHERE as_of = DATE '2026-10-01'") == 0

    _ok(brand_db, "refresh")
    create = ["campaign", "create", "--scenario", "new_store_opening", "--holdout", "0.2"]
    with monkeypatch.context() as m:
        hit = _break(m, "INSERT INTO campaigns")
        _fails_cleanly(brand_db, create, hit)
    assert _count(brand_db, "SELECT count(*) FROM campaigns") == 0

    cid = _ok(brand_db, *create)["campaign"]["campaign_id"]
    with monkeypatch.context() as m:
        hit = _break(m, "INSERT INTO campaign_members")
        _fails_cleanly(brand_db, ["campaign", "launch", cid], hit)
    assert _count(brand_db, "SELECT count(*) FROM campaign_members") == 0
    assert _count(brand_db, "SELECT count(*) FROM coupons") == 0
    assert _count(brand_db, f"SELECT status FROM campaigns WHERE campaign_id = '{cid}'") == "draft"

    _ok(brand_db, "campaign", "launch", cid)
    con = duckdb.connect(brand_db)
    code, member, store, issued = con.execute(
        "SELECT c.code, c.member_id, m.store_id, c.issued_at FROM coupons c JOIN members m USING (member_id) "
        "WHERE m.store_id IS NOT NULL ORDER BY c.code LIMIT 1"
    ).fetchone()  # type: ignore[misc]
    order = "ZZ-ORDER-1"  # the member's purchase on the day the coupon was issued, big enough for any threshold
    con.execute(
        "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
        "VALUES (?, ?, ?, ?, ?, 5000, 'paid')",
        [order, member, member, store, issued],
    )
    till_orders.sync(con, "o.order_id = ?", [order])  # a writer of orders keeps the tills' paid orders
    con.close()
    with monkeypatch.context() as m:
        hit = _break(m, "UPDATE coupons")
        _fails_cleanly(brand_db, ["coupon", "redeem", code, "--order", order, "--store", store], hit)
    assert _count(brand_db, "SELECT count(*) FROM coupons WHERE redeemed_at IS NOT NULL") == 0
