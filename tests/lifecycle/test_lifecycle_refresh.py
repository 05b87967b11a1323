"""refresh on a hand-built warehouse: golden numbers, boundaries, idempotence, history, invariants (hypothesis)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lc_helpers import AS_OF, add_members, add_orders, build_small, snapshot_rows

from winback.engine import DuckDBEngine
from winback.errors import ConfigError, EngineError, InputError
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.history import month_starts, refresh_history
from winback.lifecycle.refresh import default_as_of, refresh
from winback.warehouse import connect


def test_members_in_the_snapshot(small: duckdb.DuckDBPyConnection) -> None:
    rows = snapshot_rows(small)
    # m4 merged away, m5 registered on the as-of date
    assert sorted(rows) == ["m1", "m2", "m3", "m6", "m7", "m8"]


def test_golden_member_facts(small: duckdb.DuckDBPyConnection) -> None:
    m1 = snapshot_rows(small)["m1"]
    assert m1["first_purchase"] == dt.date(2024, 1, 10)
    assert m1["last_purchase"] == dt.date(2024, 5, 10)  # the 2024-07-01 order is ON the as-of date
    assert m1["orders"] == 4  # two on 2024-01-10, cancelled and refund not counted
    assert m1["purchase_days"] == 3
    assert m1["frequency"] == 2
    assert m1["monetary"] == Decimal("390.00")  # 100 + 50 + 200 - 40 + 80
    assert m1["aov"] == pytest.approx(97.5)
    assert m1["recency_days"] == 52
    assert m1["span_days"] == 121
    assert m1["first_purchase_days"] == 173
    assert m1["tenure_days"] == 547  # since registration 2023-01-01
    # prior: median mean interval of repeat buyers m1 (60.5) and m2 (395) = 227.75 (too few for a cohort)
    assert m1["cycle_prior_days"] == pytest.approx(227.75)
    assert m1["cycle_prior_source"] == "all"
    assert m1["cycle_days"] == pytest.approx((121 + 2 * 227.75) / 4)
    assert m1["cycle_weight"] == pytest.approx(0.5)
    assert m1["overdue_ratio"] == pytest.approx(52 / 144.125)

    m2 = snapshot_rows(small)["m2"]
    assert (m2["recency_days"], m2["orders"], m2["monetary"]) == (1, 2, Decimal("320.00"))
    assert m2["cycle_days"] == pytest.approx((395 + 455.5) / 3)


def test_never_purchased_members(small: duckdb.DuckDBPyConnection) -> None:
    rows = snapshot_rows(small)
    for mid in ("m3", "m6"):
        r = rows[mid]
        assert r["recency_days"] is None and r["orders"] == 0 and r["monetary"] == Decimal("0.00")
        assert r["cycle_days"] is None and r["r_score"] is None and r["f_score"] is None and r["m_score"] is None
    assert rows["m3"]["tenure_days"] == 182
    assert rows["m6"]["tenure_days"] is None  # no registration date, no purchase


def test_rfm_scores_and_value_layers(small: duckdb.DuckDBPyConnection) -> None:
    rows = snapshot_rows(small)
    assert {m: rows[m]["rfm_code"] for m in ("m1", "m2", "m7", "m8")} == {
        "m1": "444",
        "m2": "533",
        "m7": "212",
        "m8": "311",
    }
    assert {m: r["value_layer"] for m, r in rows.items()} == {
        "m1": "waist",
        "m2": "waist",
        "m3": "tail",
        "m6": "tail",
        "m7": "tail",
        "m8": "tail",
    }


def test_segments_by_scheme(small: duckdb.DuckDBPyConnection) -> None:
    got = dict(
        small.execute(
            "SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = 'seed_cn'", [AS_OF]
        ).fetchall()
    )
    assert got == {
        "m1": "active",
        "m2": "active",
        "m3": "never_purchased",
        "m6": "never_purchased",
        "m7": "lost",
        "m8": "near_dormant",
    }
    cycle = dict(
        small.execute(
            "SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = 'cycle'", [AS_OF]
        ).fetchall()
    )
    # m7: 912 days / prior 227.75 = 4.0 cycles; m8: 213 / 227.75 = 0.94
    assert cycle == {
        "m1": "within_cycle",
        "m2": "within_cycle",
        "m3": "never_purchased",
        "m6": "never_purchased",
        "m7": "lapsed",
        "m8": "within_cycle",
    }
    stages = dict(
        small.execute("SELECT member_id, lifecycle_stage FROM member_snapshot WHERE as_of = ?", [AS_OF]).fetchall()
    )
    assert stages["m3"] == stages["m6"] == "potential"
    assert stages["m7"] == "churned"  # 4 cycles overdue


def test_the_earlier_snapshot_is_kept(small: duckdb.DuckDBPyConnection) -> None:
    march = snapshot_rows(small, dt.date(2024, 3, 1))
    assert "m3" in march and march["m1"]["orders"] == 2 and march["m1"]["recency_days"] == 51
    assert [r[0] for r in small.execute("SELECT as_of FROM snapshot_runs ORDER BY 1").fetchall()] == [
        dt.date(2024, 3, 1),
        AS_OF,
    ]


def test_refresh_result_and_rerun_replaces(con: duckdb.DuckDBPyConnection) -> None:
    build_small(con)
    eng = DuckDBEngine(con)
    assert default_as_of(eng) == AS_OF + dt.timedelta(days=1)  # the day after the last order (2024-07-01)
    first = refresh(eng, eng, AS_OF)
    again = refresh(eng, eng, AS_OF)
    d = again.to_dict()
    assert d["as_of"] == "2024-07-01" and d["members"] == 6
    assert d["segments"]["seed_cn"] == {
        "never_purchased": 2,
        "active": 2,
        "silent": 0,
        "near_dormant": 1,
        "hibernating": 0,
        "lost": 1,
    }
    assert d["segments"]["value"] == {"head": 0, "waist": 2, "tail": 4}
    assert first.segments == again.segments
    assert set(d["model"]) >= {"name", "params", "time_unit", "loglik"}
    n = con.execute("SELECT count(*) FROM member_snapshot").fetchone()
    s = con.execute("SELECT count(*) FROM member_segments").fetchone()
    assert n == (6,) and s == (6 * len(d["segments"]),)
    run = con.execute("SELECT rules, settings FROM snapshot_runs").fetchall()
    assert len(run) == 1 and "seed_cn" in json.loads(run[0][0])
    assert json.loads(run[0][1])["breakpoints"]["r"] == [1.0, 52.0, 213.0, 912.0]
    # no temporary tables are left behind
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'wb_lc_%'").fetchone() == (0,)


def test_cohort_prior_with_a_small_min_cohort(con: duckdb.DuckDBPyConnection) -> None:
    build_small(con)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF, cycle=CycleSettings(min_cohort=1, k=1.0))
    rows = snapshot_rows(con)
    assert (rows["m1"]["cycle_prior_source"], rows["m1"]["cycle_prior_days"]) == ("cohort", pytest.approx(60.5))
    assert (rows["m2"]["cycle_prior_source"], rows["m2"]["cycle_prior_days"]) == ("cohort", pytest.approx(395.0))
    # regular/S1 has no repeat buyer and neither has the tier: all repeat buyers' median
    assert (rows["m7"]["cycle_prior_source"], rows["m7"]["cycle_prior_days"]) == ("all", pytest.approx(227.75))
    assert rows["m1"]["cycle_days"] == pytest.approx((121 + 60.5) / 3)


def test_no_orders_is_a_clear_error(con: duckdb.DuckDBPyConnection, english: None) -> None:
    add_members(con, [("x", "2024-01-01", None, None, None, None, None)])
    wh = DuckDBEngine(con)
    with pytest.raises(InputError, match="no orders"):
        refresh(wh, wh)
    res = refresh(wh, wh, dt.date(2024, 2, 1))  # an explicit date still works: everyone "potential"
    assert res.segments["lifecycle"]["potential"] == 1 and res.model is None and res.notes


def test_a_failed_refresh_changes_nothing(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    build_small(con)
    wh = DuckDBEngine(con)
    refresh(wh, wh, AS_OF)
    before = con.execute("SELECT count(*) FROM member_snapshot").fetchone()
    bad = tmp_path / "bad.toml"
    # valid rules whose CAST fails at run time on DuckDB
    bad.write_text(
        '[schemes.boom]\nzh = "x"\nen = "x"\nrules = [\n'
        '  { segment = "a", when = "CAST(tier AS INTEGER) > 1", zh = "a", en = "a" },\n'
        '  { segment = "b", when = "true", zh = "b", en = "b" },\n]\n',
        encoding="utf-8",
    )
    with pytest.raises(EngineError, match=r"(?i)conver|cast"):
        refresh(wh, wh, AS_OF, rules_files=[bad])
    assert con.execute("SELECT count(*) FROM member_snapshot").fetchone() == before


def test_month_starts() -> None:
    assert month_starts(dt.date(2023, 11, 15), dt.date(2024, 2, 1)) == [
        dt.date(2023, 12, 1),
        dt.date(2024, 1, 1),
        dt.date(2024, 2, 1),
    ]
    assert month_starts(dt.date(2024, 1, 31), dt.date(2024, 1, 31)) == []


def test_history_monthly(con: duckdb.DuckDBPyConnection, english: None) -> None:
    add_members(con, [("a", "2024-01-01", None, None, None, None, None)])
    add_orders(con, [("1", "a", "2024-01-15 10:00:00", 10, "paid"), ("2", "a", "2024-03-20 10:00:00", 10, "paid")])
    wh = DuckDBEngine(con)
    results = refresh_history(wh, wh, dt.date(2024, 3, 25))
    assert [r.as_of for r in results] == [dt.date(2024, 2, 1), dt.date(2024, 3, 1), dt.date(2024, 3, 25)]
    # the last date's result carries its counts; earlier dates are counted by whoever reads them (the view)
    assert results[-1].segments["seed_cn"]["active"] == 1 and all(r.segments == {} for r in results[:-1])
    active = con.execute(
        "SELECT as_of, count(*) FROM member_segments WHERE scheme = 'seed_cn' AND segment = 'active' GROUP BY 1"
    ).fetchall()
    assert sorted(active) == [(r.as_of, 1) for r in results]
    with pytest.raises(InputError, match="unknown history period"):
        refresh_history(wh, wh, every="weekly")


# -- invariants on random histories ---------------------------------------------------------------------------

BASE = dt.datetime(2023, 1, 1)
order_st = st.tuples(
    st.integers(0, 5),  # member
    st.integers(0, 500),  # day offset
    st.integers(0, 23),  # hour
    st.integers(1, 900),  # amount
    st.sampled_from(["paid", "paid", "paid", "refunded", "cancelled"]),
)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    c = connect(tmp_path_factory.mktemp("lc_prop") / "p.duckdb")
    yield c
    c.close()


@given(
    orders=st.lists(order_st, max_size=40),
    merged=st.sets(st.integers(0, 5), max_size=2),
    as_of_offset=st.integers(1, 520),
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_invariants(
    scratch: duckdb.DuckDBPyConnection,
    orders: list[tuple[int, int, int, int, str]],
    merged: set[int],
    as_of_offset: int,
) -> None:
    con = scratch
    # member_snapshot and member_segments are views over these
    for t in ("members", "orders", "member_facts", "snapshot_priors", "snapshot_predictions", "model_fits",
              "snapshot_runs"):  # fmt: skip
        con.execute(f"DELETE FROM {t}")
    add_members(
        con,
        [
            (f"u{i}", "2022-06-01", "VIP" if i % 2 else None, f"S{i % 2}", None, None, "u9" if i in merged else None)
            for i in range(6)
        ],
    )
    rows = []
    for k, (m, day, hour, amount, status) in enumerate(orders):
        at = BASE + dt.timedelta(days=day, hours=hour)
        rows.append((f"o{k}", f"u{m}", at.isoformat(sep=" "), -amount if status == "refunded" else amount, status))
    add_orders(con, rows)
    as_of = (BASE + dt.timedelta(days=as_of_offset)).date()
    wh = DuckDBEngine(con)
    res = refresh(wh, wh, as_of)

    alive = {f"u{i}" for i in range(6) if i not in merged}
    snap = snapshot_rows(con, as_of)
    assert set(snap) == alive
    assert res.members == len(alive)
    for scheme, counts in res.segments.items():
        assert sum(counts.values()) == len(alive), scheme
        per_member = con.execute(
            "SELECT member_id, count(*) FROM member_segments WHERE as_of = ? AND scheme = ? GROUP BY 1",
            [as_of, scheme],
        ).fetchall()
        assert {m for m, _ in per_member} == alive and all(n == 1 for _, n in per_member)
    cutoff = dt.datetime.combine(as_of, dt.time())
    for mid, r in snap.items():
        mine = [o for o in rows if o[1] == mid and dt.datetime.fromisoformat(o[2]) < cutoff]
        counted = [o for o in mine if o[4] in ("paid", "refunded")]
        paid = [o for o in mine if o[4] == "paid"]
        assert r["monetary"] == Decimal(sum(o[3] for o in counted)).quantize(Decimal("0.01"))
        assert r["orders"] == len(paid)
        assert r["purchase_days"] == len({o[2][:10] for o in paid})
        if paid:
            assert r["recency_days"] >= 1
            assert r["cycle_days"] > 0 and r["overdue_ratio"] >= 0
            assert r["last_purchase"] == max(dt.date.fromisoformat(o[2][:10]) for o in paid)
            assert all(1 <= r[c] <= 5 for c in ("r_score", "f_score", "m_score"))
        else:
            assert r["recency_days"] is None and r["r_score"] is None
        if r["p_alive"] is not None:
            assert 0.0 <= r["p_alive"] <= 1.0


def test_no_scheme_is_a_config_error(con: duckdb.DuckDBPyConnection, english: None) -> None:
    build_small(con)
    wh = DuckDBEngine(con)
    with pytest.raises(ConfigError, match="no segmentation scheme"):
        refresh(wh, wh, AS_OF, schemes=[])
