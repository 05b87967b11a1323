"""The brand overview (what `winback demo` ends with) against independent counts on the demo brand."""

from __future__ import annotations

import json

import duckdb
import polars as pl
from typer.testing import CliRunner

from winback.cli.main import app
from winback.engine import DuckDBEngine
from winback.lifecycle import waking
from winback.overview.service import DORMANT, LIKELY_ALIVE_P, brand_overview


def test_demo_summary_carries_the_overview(demo_brand) -> None:
    analysis = demo_brand.summary["analysis"]
    ov = analysis["overview"]
    assert ov["as_of"] == analysis["refresh"]["as_of"]
    seed_cn = {s["segment"]: s["members"] for s in ov["segments"]["seed_cn"]}
    assert seed_cn == {k: v for k, v in analysis["refresh"]["segments"]["seed_cn"].items()} | {
        k: 0 for k in seed_cn if k not in analysis["refresh"]["segments"]["seed_cn"]
    }
    # The seeds' brand is mostly asleep: well over half of the members did not buy in 90 days.
    total = sum(seed_cn.values())
    assert seed_cn["active"] / total < 0.4
    for s in ov["segments"]["lifecycle"]:
        assert s["zh"] and s["en"], s


def test_overview_equals_independent_counts(demo_brand) -> None:
    con = duckdb.connect(str(demo_brand.db_path), read_only=True)
    try:
        ov = brand_overview(DuckDBEngine(con)).to_dict()
        members = pl.from_arrow(con.sql("SELECT * FROM members").to_arrow_table())
        snap = pl.from_arrow(
            con.execute("SELECT * FROM member_snapshot WHERE as_of = ?", [ov["as_of"]]).to_arrow_table()
        )
        segs = pl.from_arrow(
            con.execute(
                "SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = 'seed_cn'", [ov["as_of"]]
            ).to_arrow_table()
        )
    finally:
        con.close()
    unmerged = members.filter(pl.col("merged_into").is_null())
    live = unmerged.filter(pl.col("source") != "guide_wechat")  # issue 9: contacts are not members
    contacts = unmerged.filter(pl.col("source") == "guide_wechat")
    assert ov["quality"]["members_not_merged"] == live.height == ov["quality"]["members"]
    assert set(live["source"].unique().to_list()) == {"erp"}  # the member totals are the ERP member count
    assert ov["contacts"]["count"] == ov["quality"]["contacts"] == contacts.height > 0
    assert ov["contacts"]["reachable"] == contacts.filter(pl.col("phone_status") == "mobile").height
    assert snap.height == sum(s["members"] for s in ov["segments"]["seed_cn"]) <= live.height
    assert snap.join(contacts, on="member_id").height == 0  # never in stages, tiers or shares
    assert (
        ov["quality"]["valid_phone"]["count"]
        == live.filter(pl.col("phone_status").is_in(["mobile", "landline"])).height
    )

    joined = segs.join(snap, on="member_id").join(
        members.select("member_id", "phone_status", "opted_out_at"), on="member_id"
    )
    by_seg = {r["segment"]: r for r in ov["worth_waking"]["rows"]}
    assert list(by_seg) == list(DORMANT)
    stake = (pl.col("monetary").cast(pl.Float64) * 365.0 / pl.max_horizontal(
        pl.lit(365.0), pl.col("span_days").cast(pl.Float64) + pl.col("cycle_days").fill_null(0.0))
    )  # fmt: skip
    for seg in DORMANT:
        part = joined.filter(pl.col("segment") == seg)
        hq = part.filter((pl.col("purchase_days") >= 2) | (pl.col("m_score").fill_null(0) >= 4))
        reach = hq.filter((pl.col("phone_status") == "mobile") & pl.col("opted_out_at").is_null())
        assert by_seg[seg]["members"] == part.height
        assert by_seg[seg]["worth_waking"] == hq.height
        assert by_seg[seg]["reachable"] == reach.height
        assert by_seg[seg]["likely_alive"] == hq.filter(pl.col("p_alive") >= LIKELY_ALIVE_P).height
        got, want = by_seg[seg]["value_at_stake"], float(hq.select(stake.sum()).item() or 0.0)
        assert abs(got - want) < 1e-6 * max(1.0, want)
        got, want = by_seg[seg]["expected_revenue_365d"], float(hq["clv"].fill_null(0).sum())
        assert abs(got - want) < 1e-6 * max(1.0, want)
    top = ov["worth_waking"]["top"]
    assert top and [t["value_at_stake"] for t in top] == sorted((t["value_at_stake"] for t in top), reverse=True)
    assert top[0]["value_at_stake"] == max(
        (waking.value_at_stake(r) for r in joined.filter(pl.col("segment").is_in(DORMANT)).to_dicts()
         if waking.is_high_quality(r)), default=None)  # fmt: skip
    assert ov["worth_waking"]["rule_zh"] and ov["worth_waking"]["rule_en"]


def test_overview_cli_json_and_no_snapshot_error(demo_brand, tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["--db", str(demo_brand.db_path), "overview", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data) >= {"as_of", "quality", "segments", "worth_waking"}

    empty = tmp_path / "empty.duckdb"
    runner.invoke(app, ["--db", str(empty), "init"])
    res = runner.invoke(app, ["--db", str(empty), "overview"])
    assert res.exit_code != 0
    assert "Traceback" not in res.output


def test_contacts_are_one_definition() -> None:
    """The snapshot (lifecycle) and the quality report leave out the same records as contacts."""
    from winback.lifecycle.snapshot_sql import CONTACT_SOURCES as SNAPSHOT
    from winback.quality.metrics import CONTACT_SOURCES as QUALITY

    assert SNAPSHOT == QUALITY == ("guide_wechat",)


def test_contacts_are_listed_as_their_own_group(demo_brand) -> None:
    runner = CliRunner()
    ov = json.loads(runner.invoke(app, ["--db", str(demo_brand.db_path), "overview", "--json"]).stdout)
    res = runner.invoke(app, ["--db", str(demo_brand.db_path), "members", "--contacts", "--limit", "100000", "--json"])
    assert res.exit_code == 0, res.output
    listed = json.loads(res.stdout)
    assert listed["scheme"] == "contacts" and listed["count"] == ov["contacts"]["count"] > 0
    assert {m["source"] for m in listed["members"]} == {"guide_wechat"} and listed["phones"] == "masked"
    bad = runner.invoke(app, ["--db", str(demo_brand.db_path), "members", "--contacts", "--segment", "active"])
    assert bad.exit_code != 0 and "--contacts" in bad.output


def test_a_built_overview_reads_the_same_and_a_new_refresh_unbuilds_it(demo_brand, tmp_path) -> None:
    import shutil

    from winback.overview import service, store

    shutil.copy(demo_brand.db_path, tmp_path / "wb.duckdb")
    con = duckdb.connect(str(tmp_path / "wb.duckdb"))
    try:
        db = DuckDBEngine(con)
        as_of = brand_overview(db).as_of
        assert store.built(db, as_of) and store.kept_quality(db)  # the demo's refresh built it (lifecycle.prepare)
        con.execute("DELETE FROM overview_built")
        con.execute("DELETE FROM overview_quality")
        assert not store.built(db, as_of) and store.kept_quality(db) is None
        live = brand_overview(db).to_dict()
        service.build(db, as_of)
        assert store.built(db, as_of) and store.kept_quality(db) == {"quality": live["quality"], "contacts": [
            live["contacts"]["count"], live["contacts"]["reachable"]]}  # fmt: skip
        assert brand_overview(db).to_dict() == live
        assert len(live["worth_waking"]["top"]) == service.TOP_AT_STAKE
        con.execute("UPDATE snapshot_runs SET refreshed_at = refreshed_at + INTERVAL 1 DAY WHERE as_of = ?", [as_of])
        assert not store.built(db, as_of)  # the snapshot was written again after the build: read it live
        assert brand_overview(db).to_dict() == live
    finally:
        con.close()
