"""Acceptance on the demo brand: the planted duplicates are found with precision and recall ≥ 0.95."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from test_dedupe import dedupe, precision_recall, predicted_pairs, truth_pairs, undo

from winback.warehouse import connect


@pytest.fixture
def demo_con(demo_brand: Any, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_brand.db_path, db)
    con = connect(db)
    yield con
    con.close()


def test_demo_duplicates_found(demo_brand: Any, demo_con: duckdb.DuckDBPyConnection) -> None:
    truth = pq.read_table(demo_brand.truth_dir / "duplicates.parquet").to_pylist()
    assert len(truth) > 100
    report = dedupe(demo_con)
    precision, recall = precision_recall(
        predicted_pairs(demo_con, report["run_id"]),
        truth_pairs([(t["member_id"], t["same_person_as"]) for t in truth]),
    )
    assert precision >= 0.95, precision
    assert recall >= 0.95, recall
    # survivors are the ERP records: every planted duplicate is a WeChat copy of an ERP member
    survivors = {
        m
        for (m,) in demo_con.execute(
            "SELECT member_id FROM identity_clusters WHERE run_id = ? AND is_survivor", [report["run_id"]]
        ).fetchall()
    }
    assert len(survivors & {t["same_person_as"] for t in truth}) >= 0.95 * len(survivors)


def test_demo_apply_then_undo_restores_the_tables(demo_con: duckdb.DuckDBPyConnection) -> None:
    def snapshot() -> tuple[list[tuple], list[tuple]]:
        return (
            demo_con.execute("SELECT * FROM members ORDER BY member_id").fetchall(),
            demo_con.execute("SELECT * FROM orders ORDER BY order_id, source_member_id, member_id").fetchall(),
        )

    before = snapshot()
    applied = dedupe(demo_con, apply=True)["applied"]
    assert applied["members"] > 100  # (orders stay put: the WeChat copies own none, the ERP records survive)
    assert snapshot() != before
    undo(demo_con)
    assert snapshot() == before
