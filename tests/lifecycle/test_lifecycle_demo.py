"""End to end on the demo brand: refresh through the CLI, then compare with the generator's planted truth."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from winback.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def refreshed(demo_brand, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    db = tmp_path_factory.mktemp("lc_demo") / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    result = runner.invoke(app, ["--db", str(db), "refresh", "--json"])
    assert result.exit_code == 0, result.output
    return db, json.loads(result.stdout)


def test_refresh_json_on_the_demo(refreshed: tuple[Path, dict]) -> None:
    db, d = refreshed
    con = duckdb.connect(str(db), read_only=True)
    try:
        last = con.execute("SELECT CAST(max(ordered_at) AS DATE) FROM orders WHERE status <> 'cancelled'").fetchone()
        expected_members = con.execute(
            "SELECT count(*) FROM members WHERE merged_into IS NULL AND source <> 'guide_wechat' "  # contacts: issue 9
            "AND (register_date IS NULL OR register_date < ? "
            "OR member_id IN (SELECT member_id FROM orders WHERE status <> 'cancelled' AND ordered_at < ?))",
            [d["as_of"], d["as_of"]],
        ).fetchone()
    finally:
        con.close()
    assert d["as_of"] == (last[0].fromordinal(last[0].toordinal() + 1)).isoformat()
    assert d["members"] == expected_members[0] > 5000
    assert d["model"]["name"] == "mbg_nbd" and set(d["model"]["params"]) == {"r", "alpha", "a", "b"}
    assert d["model"]["time_unit"] == "weeks" and d["model"]["loglik"] < 0
    for scheme, counts in d["segments"].items():
        assert sum(counts.values()) == d["members"], scheme
    # the seeds' brands are mostly asleep: most buyers are past 90 days
    seed = d["segments"]["seed_cn"]
    buyers = d["members"] - seed["never_purchased"]
    assert seed["active"] < 0.5 * buyers


def test_snapshot_agrees_with_the_planted_truth(demo_brand, refreshed: tuple[Path, dict]) -> None:
    db, d = refreshed
    truth = pq.read_table(demo_brand.truth_dir / "members.parquet")
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.register("truth", truth)
        agree = con.execute(
            """
            SELECT count(*) AS n,
                   avg(CASE WHEN s.last_purchase = t.last_purchase THEN 1.0 ELSE 0.0 END) AS same_last,
                   avg(CASE WHEN t.alive_at_end THEN s.p_alive END) AS p_alive_alive,
                   avg(CASE WHEN NOT t.alive_at_end THEN s.p_alive END) AS p_alive_dead
            FROM member_snapshot s JOIN truth t ON t.member_id = s.member_id
            WHERE s.as_of = ? AND t.buyer AND s.orders > 0
            """,
            [d["as_of"]],
        ).fetchone()
    finally:
        con.close()
    n, same_last, alive, dead = agree
    assert n > 1000
    assert same_last > 0.95  # last purchase days agree (a few orders are planted dirt that import rejects)
    assert alive > dead + 0.1  # P(alive) separates the truly alive from the truly gone


def test_no_recent_buyer_is_churned(refreshed: tuple[Path, dict]) -> None:
    """Issue 9: 531 members who bought within 30 days (6,307 within 90) were `churned` on the 200k demo brand."""
    db, d = refreshed
    con = duckdb.connect(str(db), read_only=True)
    try:
        recent, churned_recent, silent_active = con.execute(
            """
            SELECT count(*) FILTER (WHERE s.recency_days <= 30),
                   count(*) FILTER (WHERE s.recency_days < 90 AND s.lifecycle_stage = 'churned'),
                   count(*) FILTER (WHERE g.segment <> 'active'
                                    AND s.lifecycle_stage IN ('active_repeat', 'new', 'trial'))
            FROM member_snapshot s JOIN member_segments g
              ON g.as_of = s.as_of AND g.member_id = s.member_id AND g.scheme = 'seed_cn'
            WHERE s.as_of = ?
            """,
            [d["as_of"]],
        ).fetchone()
    finally:
        con.close()
    assert recent > 200 and churned_recent == 0 and silent_active == 0
    assert d["segments"]["lifecycle"]["churned"] > 0


def test_backtest_predicted_revenue_of_the_next_90_days(demo_brand, tmp_path: Path) -> None:
    """Issue 9: expected revenue (expected purchase days × expected value per purchase day) of the next 90 days,
    from a snapshot at 2026-04-01, against the revenue those members really brought (the generator is known).
    The window Apr–Jun is about as busy as the year before it in the demo's shopping calendar (ratio 1.02); the
    models are stationary, so a window holding 双11 (17 % busier) is under-forecast (0.84 on the 200k brand) —
    docs/lifecycle.md, "Back-test"."""
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    d = json.loads(runner.invoke(app, ["--db", str(db), "refresh", "--as-of", "2026-04-01", "--json"]).stdout)
    assert d["value_model"]["converged"] and not [n for n in d["notes"] if "Gamma" in n]
    con = duckdb.connect(str(db), read_only=True)
    try:
        predicted, actual = con.execute(
            """
            SELECT (SELECT sum(expected_revenue_90d) FROM member_snapshot WHERE as_of = DATE '2026-04-01'),
                   (SELECT sum(o.amount) FROM orders o JOIN member_snapshot s
                      ON s.member_id = o.member_id AND s.as_of = DATE '2026-04-01'
                    WHERE o.status IN ('paid', 'refunded') AND o.ordered_at >= TIMESTAMP '2026-04-01'
                      AND o.ordered_at < TIMESTAMP '2026-06-30')
            """
        ).fetchone()
    finally:
        con.close()
    assert 0.9 <= float(predicted) / float(actual) <= 1.1, (predicted, actual)


def test_future_as_of_is_refused_and_never_the_default(demo_brand, tmp_path: Path) -> None:
    db = tmp_path / "wb.duckdb"
    shutil.copy(demo_brand.db_path, db)
    env = {"WINBACK_NOW": "2026-11-21 10:00:00"}
    refused = runner.invoke(app, ["--db", str(db), "refresh", "--as-of", "2030-01-01"], env=env)
    assert refused.exit_code != 0 and "Traceback" not in refused.output
    assert "2030-01-01" in refused.output and "--allow-future" in refused.output and "2026-11-22" in refused.output
    ok = runner.invoke(app, ["--db", str(db), "refresh", "--as-of", "2030-01-01", "--allow-future", "--json"], env=env)
    assert ok.exit_code == 0, ok.output
    seg = json.loads(runner.invoke(app, ["--db", str(db), "segments", "--json"], env=env).stdout)
    assert seg["as_of"] == "2026-11-21"  # the newest refresh dated at or before tomorrow, not the largest date
    # the default as-of is never after tomorrow: with "now" set back, orders after it are left out, with a note
    back = runner.invoke(app, ["--db", str(db), "refresh", "--json"], env={"WINBACK_NOW": "2026-10-01"})
    out = json.loads(back.stdout)
    assert out["as_of"] == "2026-10-02" and any("2026-10-02" in n for n in out["notes"])
