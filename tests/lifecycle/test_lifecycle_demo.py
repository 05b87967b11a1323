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
            "SELECT count(*) FROM members WHERE merged_into IS NULL AND (register_date IS NULL OR register_date < ? "
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
