"""`winback quality` figures against an independent computation in polars over the raw rows."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quality_oracle import MEMBER_COLS, check, expected

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError
from winback.quality import service
from winback.quality.service import headline
from winback.warehouse import connect

STORES = ["S1", "S2", "S3", None]


def quality_report(con: duckdb.DuckDBPyConnection, by: str | None = None) -> dict[str, Any]:
    """The service's report on `con`, as the JSON `winback quality --json` prints (without "db")."""
    return service.quality_report(DuckDBEngine(con), by=by).to_dict()


maybe_bool = st.sampled_from([True, False, None])


@st.composite
def warehouses(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(1, 25))
    ids = [f"M{i}" for i in range(n)]
    members = []
    for mid in ids:
        status = draw(st.sampled_from(["mobile", "mobile", "landline", "invalid", "missing"]))
        members.append(
            {
                "member_id": mid,
                "name": draw(st.sampled_from(["王芳", " ", "", None, "李强"])),
                "gender": draw(st.sampled_from(["F", "M", None])),
                "birthday": draw(st.one_of(st.none(), st.just(dt.date(1990, 1, 2)))),
                "phone": "+8613800000000" if status in ("mobile", "landline") else None,
                "phone_status": status,
                "register_date": draw(st.one_of(st.none(), st.just(dt.date(2020, 5, 1)))),
                "register_store": draw(st.sampled_from(STORES)),
                "store_id": draw(st.sampled_from(STORES)),
                "tier": draw(st.sampled_from(["普通", "贵宾", None, ""])),
                "consent_sms": draw(maybe_bool),
                "consent_call": draw(maybe_bool),
                "opted_out_at": draw(st.one_of(st.none(), st.just(dt.datetime(2025, 1, 1)))),
                "source": draw(st.sampled_from(["erp", "guide_wechat"])),
                "merged_into": None,
            }
        )
    for m in members[1:]:
        if draw(st.integers(0, 9)) == 0:
            m["merged_into"] = members[0]["member_id"]
    orders = [
        {
            "order_id": f"O{k}",
            "member_id": draw(st.sampled_from([*ids, None, "GHOST"])),
            "store_id": draw(st.sampled_from(STORES)),
            "status": draw(st.sampled_from(["paid", "refunded", "cancelled"])),
        }
        for k in range(draw(st.integers(0, 30)))
    ]
    runs = draw(st.integers(0, 2))  # 0: dedupe never ran; else clusters of the latest run count
    clusters = [
        {"run_id": r, "cluster_id": ids[0], "member_id": mid, "is_survivor": mid == ids[0]}
        for r in range(1, runs + 1)
        for mid in draw(st.lists(st.sampled_from(ids), unique=True, max_size=6))
    ]
    return {"members": members, "orders": orders, "runs": runs, "clusters": clusters}


def load(con: duckdb.DuckDBPyConnection, w: dict[str, Any]) -> None:
    for table in ("members", "orders", "identity_clusters", "identity_runs"):
        con.execute(f"DELETE FROM {table}")
    for m in w["members"]:
        con.execute(
            f"INSERT INTO members ({', '.join(MEMBER_COLS)}) VALUES ({', '.join('?' * len(MEMBER_COLS))})",
            [m[c] for c in MEMBER_COLS],
        )
    for o in w["orders"]:
        con.execute(
            "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
            "VALUES (?, ?, ?, ?, '2024-01-01', 1, ?)",
            [o["order_id"], o["member_id"], o["member_id"], o["store_id"], o["status"]],
        )
    for r in range(1, w["runs"] + 1):
        con.execute(
            "INSERT INTO identity_runs VALUES (?, '2026-01-01', 0.9, 1, 0, 0, 0, 0, 0, '{}')",
            [r],
        )
    for c in w["clusters"]:
        con.execute("INSERT INTO identity_clusters VALUES (?, ?, ?, ?)", list(c.values()))


@pytest.fixture(scope="module")
def mem_con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = connect(":memory:")
    yield c
    c.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(w=warehouses(), by=st.sampled_from([None, "store", "source", "tier"]))
def test_report_equals_independent_computation(
    mem_con: duckdb.DuckDBPyConnection, w: dict[str, Any], by: str | None
) -> None:
    load(mem_con, w)
    report = quality_report(mem_con, by=by)
    exp = expected(w, by)
    check(report["total"], exp["__total__"])
    check(report["contacts"], expected(w, None, contacts=True)["__total__"])  # counted apart (issue 9)
    assert report["contacts"]["orders"] is None
    assert report["dedupe_run"] == (w["runs"] or None)
    if by is None:
        assert report["groups"] == []
        return
    got = {g["key"]: g for g in report["groups"]}
    assert set(got) == set(exp) - {"__total__"}
    for key, g in got.items():
        check(g, exp[key])
        if by != "store":
            assert g["orders"] is None


def test_golden_small_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        INSERT INTO members (member_id, name, gender, birthday, phone, phone_status, register_date, store_id, tier,
                             consent_sms, source, merged_into) VALUES
        ('A', '王芳', 'F', '1990-01-01', '+8613800000001', 'mobile', '2020-01-01', 'S1', '普通', true, 'erp', NULL),
        ('B', '李强', 'M', NULL, '+8613800000002', 'mobile', '2020-01-01', 'S1', '普通', NULL, 'erp', NULL),
        ('C', NULL, NULL, NULL, NULL, 'invalid', NULL, 'S2', NULL, true, 'guide_wechat', NULL),
        ('D', '赵敏', 'F', '1991-01-01', NULL, 'missing', '2021-01-01', 'S2', '贵宾', NULL, 'erp', NULL),
        ('E', '王芳', 'F', NULL, '+8613800000001', 'mobile', NULL, 'S1', NULL, true, 'guide_wechat', 'A')
        """
    )
    con.execute(
        """
        INSERT INTO orders (order_id, member_id, store_id, ordered_at, amount, status) VALUES
        ('1', 'A', 'S1', '2024-01-01', 10, 'paid'), ('2', 'D', 'S2', '2024-01-01', 10, 'cancelled'),
        ('3', NULL, 'S2', '2024-01-01', 10, 'paid'), ('4', 'ZZ', 'S3', '2024-01-01', 10, 'paid')
        """
    )
    r = quality_report(con, by="store")
    t = r["total"]
    # issue 9: C (a guide-WeChat record matching no ERP member) is a contact, not a member; it used to count as one
    # (members 4, contactable 1/4, invalid 1, incomplete 3, birthday 2/4, never purchased 3)
    assert t["members"] == 3  # E is merged into A, C is a contact
    assert r["contacts"]["members"] == 1 and r["contacts"]["measures"]["invalid_phone"]["count"] == 1
    assert t["measures"]["contactable"] == {"count": 1, "share": 1 / 3}  # B's consent is unknown, not given
    assert t["measures"]["invalid_phone"]["count"] == 0 and t["measures"]["missing_phone"]["count"] == 1
    assert t["measures"]["incomplete_profile"]["count"] == 2
    assert t["incomplete_fields"]["birthday"] == {"count": 1, "share": 1 / 3}
    assert t["measures"]["never_purchased"]["count"] == 2  # D's only order was cancelled
    assert t["measures"]["suspected_duplicate"] == {"count": None, "share": None}  # dedupe never ran
    assert t["orders"] == {"orders": 4, "without_member": {"count": 2, "share": 0.5}}
    assert [(g["key"], g["members"], g["orders"]["orders"]) for g in r["groups"]] == [
        ("S1", 2, 1),
        ("S2", 1, 2),
        ("S3", 0, 1),
    ]
    assert headline(r)["contactable"] == {"count": 1, "share": 1 / 3} and headline(r)["contacts"] == 1
    json.dumps(r, ensure_ascii=False)  # plain JSON types only


@pytest.mark.usefixtures("english")
def test_unknown_grouping_is_a_clear_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InputError, match="cannot group the quality report by 'city'") as err:
        quality_report(con, by="city")
    assert "store, source, tier" in (err.value.hint or "")


def test_tiers_are_listed_in_the_brand_rank_order(con: duckdb.DuckDBPyConnection) -> None:
    """普通 < 高级 < 贵宾 < 至尊贵宾 (rules/tiers.toml), not Unicode order (贵 < 至 < 普 < 高); no tier first."""
    rows = ", ".join(
        f"('{i}', '+86138000000{i:02d}', 'mobile', 'S1', {tier}, 'erp')"
        for i, tier in enumerate(["'至尊贵宾'", "'普通'", "'贵宾'", "NULL", "'高级'", "'普通'"])
    )
    con.execute(f"INSERT INTO members (member_id, phone, phone_status, store_id, tier, source) VALUES {rows}")
    r = quality_report(con, by="tier")
    assert [g["key"] for g in r["groups"]] == [None, "普通", "高级", "贵宾", "至尊贵宾"]
    assert sorted(k for k in ("普通", "高级", "贵宾", "至尊贵宾")) != ["普通", "高级", "贵宾", "至尊贵宾"]
