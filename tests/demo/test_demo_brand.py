"""The demo brand after the real import path: what the warehouse holds agrees with the truth that was planted."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

from winback.cli.main import app
from winback.warehouse import connect


@pytest.fixture(scope="module")
def wh(demo_brand: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    con = connect(demo_brand.db_path, read_only=True)
    con.execute(f"CREATE TEMP VIEW truth AS SELECT * FROM read_parquet('{demo_brand.truth_dir / 'members.parquet'}')")
    con.execute(f"CREATE TEMP VIEW dups AS SELECT * FROM read_parquet('{demo_brand.truth_dir / 'duplicates.parquet'}')")
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_every_file_imports_without_rejects(demo_brand: Any) -> None:
    imports = demo_brand.summary["imports"]
    assert [r["file"] for r in imports] == [
        "stores.csv",
        "staff.csv",
        "members_erp.csv",
        "guide_wechat_contacts.xlsx",
        "orders.parquet",
    ]
    for r in imports:
        assert r["rows_rejected"] == 0 and r["rows_duplicate"] == 0 and r["rows_loaded"] == r["rows_in"], r
    members = next(r for r in imports if r["file"] == "members_erp.csv")
    assert members["encoding"] in ("gbk", "gb18030") and members["date_format"] == "ymd"


def test_headers_all_mapped_except_the_ones_kept_on_purpose(wh: duckdb.DuckDBPyConnection) -> None:
    rows = wh.execute("SELECT file, mapping FROM imports").fetchall()
    mapped = {Path(f).name: json.loads(m) for f, m in rows}
    assert set(mapped["members_erp.csv"]) == {
        "会员卡号", "姓名", "性别", "手机号码", "微信号", "生日", "开卡日期", "开卡门店", "专属导购", "会员等级",
        "积分", "注册渠道", "是否接收短信", "微信推送",
    }  # fmt: skip
    assert mapped["guide_wechat_contacts.xlsx"]["备注名"] == "name"
    assert len(mapped["orders.parquet"]) == 12


def test_planted_duplicates_point_at_erp_members_and_carry_evidence(wh: duckdb.DuckDBPyConnection) -> None:
    n = one(wh, "SELECT count(*) FROM dups")
    assert isinstance(n, int) and n > 0.03 * 8000
    assert one(wh, "SELECT count(*) FROM dups d ANTI JOIN members m ON m.member_id = d.same_person_as") == 0
    assert one(wh, "SELECT count(*) FROM dups d JOIN members m ON m.member_id = d.same_person_as "
                   "WHERE m.source <> 'erp'") == 0  # fmt: skip
    assert one(wh, "SELECT count(*) FROM dups d JOIN members m ON m.member_id = d.member_id "
                   "WHERE m.source = 'guide_wechat'") == n  # fmt: skip
    weak = one(
        wh,
        "SELECT count(*) FROM dups d JOIN members w ON w.member_id = d.member_id "
        "JOIN members e ON e.member_id = d.same_person_as "
        "WHERE w.phone IS DISTINCT FROM e.phone AND w.wechat_id IS DISTINCT FROM e.wechat_id",
    )
    assert weak == 0  # every duplicate shares a valid phone or a WeChat id with its ERP record
    assert one(wh, "SELECT count(*) FROM dups d JOIN truth t ON t.member_id = d.same_person_as "
                   "WHERE NOT t.in_guide_wechat") == 0  # fmt: skip


def test_no_accidental_duplicates(wh: duckdb.DuckDBPyConnection) -> None:
    shared_phone = one(wh, "SELECT count(*) FROM (SELECT phone FROM members WHERE source = 'erp' AND phone IS NOT NULL "
                           "GROUP BY phone HAVING count(*) > 1)")  # fmt: skip
    assert shared_phone == 0
    cross = one(
        wh,
        "SELECT count(*) FROM members w JOIN members e ON w.source = 'guide_wechat' AND e.source = 'erp' "
        "AND (w.phone = e.phone OR w.wechat_id = e.wechat_id) ANTI JOIN dups d "
        "ON d.member_id = w.member_id AND d.same_person_as = e.member_id",
    )
    assert cross == 0


def test_phone_dirt_is_planted_and_found(wh: duckdb.DuckDBPyConnection) -> None:
    pairs = dict(
        wh.execute(
            "SELECT t.phone_planted || '>' || m.phone_status, count(*) FROM members m JOIN truth t USING (member_id) "
            "GROUP BY ALL"
        ).fetchall()
    )
    assert set(pairs) == {"valid>mobile", "invalid>invalid", "missing>missing"}
    bad = (pairs["invalid>invalid"] + pairs["missing>missing"]) / 8000
    assert 0.08 <= bad <= 0.15


def test_tiers_rise_with_spend_and_names_look_chinese(wh: duckdb.DuckDBPyConnection) -> None:
    spend = wh.execute(
        "SELECT m.tier, min(t.net_spend), max(t.net_spend) FROM members m JOIN truth t USING (member_id) "
        "GROUP BY m.tier"
    ).fetchall()
    by_tier = {t: (lo, hi) for t, lo, hi in spend}
    order = ["普通", "高级", "贵宾", "至尊贵宾"]
    assert list(by_tier) and set(by_tier) == set(order)
    for lower, upper in itertools.pairwise(order):
        assert by_tier[lower][1] < by_tier[upper][0]
    assert one(wh, "SELECT count(*) FROM members WHERE NOT regexp_full_match(name, '[\\x{4e00}-\\x{9fff}]{2,4}') "
                   "AND source = 'erp'") == 0  # fmt: skip
    assert one(wh, "SELECT count(*) FROM stores WHERE name LIKE '上海%店'") >= 1


def test_orders_match_the_truth_and_hold_real_world_shapes(demo_brand: Any, wh: duckdb.DuckDBPyConnection) -> None:
    paid = wh.execute(
        "SELECT count(*) FROM truth t LEFT JOIN (SELECT member_id, count(*) AS n, max(ordered_at)::DATE AS last "
        "FROM orders WHERE status = 'paid' GROUP BY member_id) o USING (member_id) "
        "WHERE coalesce(o.n, 0) <> t.orders OR o.last IS DISTINCT FROM t.last_purchase"
    ).fetchone()
    assert paid == (0,)
    revenue = one(wh, "SELECT sum(amount)::DOUBLE FROM orders WHERE status IN ('paid', 'refunded')")
    assert revenue == pytest.approx(demo_brand.summary["revenue"], abs=0.01)
    assert one(wh, "SELECT count(*) FROM orders WHERE status = 'refunded' AND amount >= 0") == 0
    assert one(wh, "SELECT count(*) FROM orders WHERE status = 'refunded'") == demo_brand.summary["refunds"]
    walk_in = one(wh, "SELECT avg((member_id IS NULL)::INT) FROM orders WHERE status = 'paid'")
    assert 0.3 < float(walk_in) < 0.5  # type: ignore[arg-type]
    multi = one(wh, "SELECT avg((lines > 1)::INT) FROM orders WHERE status = 'paid'")
    assert 0.25 < float(multi) < 0.45  # type: ignore[arg-type]
    assert one(wh, "SELECT count(DISTINCT category) FROM order_items") == 6
    # big promotions: 双11 sells more than an ordinary day in the same month
    by_day = dict(wh.execute(
        "SELECT ordered_at::DATE, count(*) FROM orders WHERE month(ordered_at) = 11 AND year(ordered_at) = 2025 "
        "GROUP BY ALL"
    ).fetchall())  # fmt: skip
    ordinary = sorted(by_day.values())[len(by_day) // 2]
    assert by_day[max(k for k in by_day if k.day == 11)] > 3 * ordinary


def test_most_members_are_asleep(wh: duckdb.DuckDBPyConnection) -> None:
    asleep = one(
        wh,
        "SELECT avg((o.last IS NULL OR o.last < DATE '2026-11-20' - 89)::INT) FROM members m LEFT JOIN "
        "(SELECT member_id, max(ordered_at)::DATE AS last FROM orders WHERE status = 'paid' GROUP BY 1) o "
        "USING (member_id) WHERE m.source = 'erp'",
    )
    assert 0.74 <= float(asleep) <= 0.86  # type: ignore[arg-type]
    recent_stores = one(wh, "SELECT count(*) FROM stores WHERE opened_at > DATE '2025-11-20'")
    assert isinstance(recent_stores, int) and recent_stores >= 2


def test_cli_prints_one_json_object_and_explains_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    db = tmp_path / "wb.duckdb"
    res = runner.invoke(app, ["--db", str(db), "demo", "--members", "300", "--out", str(tmp_path / "d"), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["members"] == 300 and data["warehouse"]["members"] >= 300
    assert {r["file"] for r in data["imports"]} >= {"members_erp.csv", "orders.parquet"}
    out = str(tmp_path / "never")
    bad = runner.invoke(app, ["--db", str(db), "demo", "--end", "2026-11-31", "--out", out, "--json"])
    assert bad.exit_code == 2
    err = json.loads(bad.stdout)["error"]
    assert "--end" in err["message"] and "2026-11-31" in err["message"]
    assert not Path(out).exists()


def run_demo(db: Path, out: Path, **options: Any) -> dict[str, Any]:
    """`wb.demo.run` on an app over the warehouse `db` (default settings), as `winback demo --json` prints it."""
    from winback.app import Winback
    from winback.config import Settings

    with Winback(Settings.load(environ={}, db_path=db)) as wb:
        return wb.demo.run(out, **options).to_dict()


@pytest.mark.usefixtures("english")
def test_rerun_adds_nothing_and_another_brand_is_refused(tmp_path: Path) -> None:
    from winback.errors import InputError

    db, out = tmp_path / "wb.duckdb", tmp_path / "demo"
    first = run_demo(db, out, members=400, seed=3)
    again = run_demo(db, out, members=400, seed=3)
    assert [r["rows_loaded"] for r in again["imports"]] == [0] * 5
    assert [r["rows_duplicate"] for r in again["imports"]] == [r["rows_in"] for r in first["imports"]]
    assert again["warehouse"] == first["warehouse"]
    with pytest.raises(InputError, match="already holds"):
        run_demo(db, out, members=400, seed=4)


def test_demo_refuses_a_warehouse_it_did_not_make_unless_forced(tmp_path: Path) -> None:
    """`winback demo` into a brand's own warehouse (data, no demo marker) is refused; before the change it was
    accepted whenever the --out folder held a manifest of the same spec."""
    from winback.app import Winback
    from winback.config import Settings
    from winback.errors import InputError

    db, out = tmp_path / "real.duckdb", tmp_path / "demo"
    run_demo(tmp_path / "other.duckdb", out, members=300, seed=3)  # leaves a matching manifest in `out`
    with Winback(Settings.load(environ={}, db_path=db)) as wb:
        wb.db().execute(
            "INSERT INTO members (member_id, name, phone_status, source) VALUES ('REAL1', '真实会员', 'missing', 'erp')"
        )
    with pytest.raises(InputError, match="不是 `winback demo` 创建的"):
        run_demo(db, out, members=300, seed=3)
    forced = run_demo(db, out, members=300, seed=3, force=True)
    assert forced["warehouse"]["members"] >= 301
    with Winback(Settings.load(environ={}, db_path=db)) as wb:  # forcing does not make it a demo warehouse
        assert wb.db().scalar("SELECT count(*) FROM demo_marker") == 0
    with Winback(Settings.load(environ={}, db_path=tmp_path / "other.duckdb")) as wb:  # the demo marks its own
        assert json.loads(wb.db().scalar("SELECT spec FROM demo_marker"))["seed"] == 3


def test_parquet_only_layout_imports_cleanly(tmp_path: Path) -> None:
    summary = run_demo(tmp_path / "wb.duckdb", tmp_path / "pq", members=500, seed=9, parquet_only=True)
    assert summary["layout"] == "parquet"
    files = {r["file"]: r for r in summary["imports"]}
    assert set(files) == {"stores.csv", "staff.csv", "members_erp.parquet", "guide_wechat_contacts.parquet",
                          "orders.parquet"}  # fmt: skip
    assert all(r["rows_rejected"] == 0 and r["rows_loaded"] == r["rows_in"] for r in files.values())
    assert summary["warehouse"]["members"] == 500 + summary["wechat_contacts"]
