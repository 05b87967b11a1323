"""`winback dedupe` on planted duplicates: accuracy, reproducibility, merge and exact undo."""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError, NotFoundError
from winback.identity import planted, service


def dedupe(con: duckdb.DuckDBPyConnection, **options: Any) -> dict[str, Any]:
    """The service's report on `con`, as the JSON `winback dedupe --json` prints."""
    return service.dedupe(DuckDBEngine(con), **options).to_dict()


def undo(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return service.undo(DuckDBEngine(con)).to_dict()


def truth_pairs(duplicates: list[tuple[str, str]]) -> set[frozenset[str]]:
    people: dict[str, set[str]] = defaultdict(set)
    for dup, orig in duplicates:
        people[orig] |= {dup, orig}
    return {frozenset(p) for ms in people.values() for p in itertools.combinations(sorted(ms), 2)}


def predicted_pairs(con: duckdb.DuckDBPyConnection, run_id: int) -> set[frozenset[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for cluster, member in con.execute(
        "SELECT cluster_id, member_id FROM identity_clusters WHERE run_id = ?", [run_id]
    ).fetchall():
        groups[cluster].append(member)
    return {frozenset(p) for ms in groups.values() for p in itertools.combinations(sorted(ms), 2)}


def precision_recall(pred: set[frozenset[str]], truth: set[frozenset[str]]) -> tuple[float, float]:
    hit = len(pred & truth)
    return hit / max(len(pred), 1), hit / max(len(truth), 1)


def test_finds_planted_duplicates(
    planted_con: duckdb.DuckDBPyConnection, planted_db: tuple[Path, planted.Planted]
) -> None:
    data = planted_db[1]
    report = dedupe(planted_con)
    precision, recall = precision_recall(predicted_pairs(planted_con, report["run_id"]), truth_pairs(data.duplicates))
    assert precision >= 0.95, precision
    assert recall >= 0.95, recall
    assert report["members"] == len(data.members)
    assert report["clusters"] == sum(report["cluster_sizes"].values())
    assert "u" in report["training"] and any(t.startswith("em:") for t in report["training"])
    # the sample shows masked phones only
    phones = [r["phone"] for c in report["sample"] for r in c["records"] if r["phone"]]
    assert phones and all("****" in p for p in phones)
    # every stored cluster has exactly one survivor, and it is the ERP record when there is one
    rows = planted_con.execute(
        """
        SELECT c.cluster_id, count(*) FILTER (WHERE is_survivor), bool_or(m.source = 'erp'),
               bool_or(is_survivor AND m.source = 'erp')
        FROM identity_clusters c JOIN members m USING (member_id) WHERE run_id = ? GROUP BY 1
        """,
        [report["run_id"]],
    ).fetchall()
    assert rows and all(n == 1 and (not has_erp or erp_survives) for _, n, has_erp, erp_survives in rows)


def test_training_is_reproducible(planted_con: duckdb.DuckDBPyConnection) -> None:
    first = dedupe(planted_con, seed=5)
    second = dedupe(planted_con, seed=5)
    a, b = (
        planted_con.execute(
            "SELECT member_id_l, member_id_r, round(match_probability, 9) FROM identity_pairs WHERE run_id = ? "
            "ORDER BY 1, 2",
            [r["run_id"]],
        ).fetchall()
        for r in (first, second)
    )
    assert a == b and len(a) > 0
    models = planted_con.execute(
        "SELECT model FROM identity_runs WHERE run_id IN (?, ?) ORDER BY run_id", [first["run_id"], second["run_id"]]
    ).fetchall()
    assert models[0][0] == models[1][0]


def _snapshot(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple], list[tuple]]:
    members = con.execute("SELECT * FROM members ORDER BY member_id").fetchall()
    orders = con.execute("SELECT * FROM orders ORDER BY order_id, source_member_id, member_id").fetchall()
    return members, orders


@pytest.mark.usefixtures("english")
def test_apply_merges_and_undo_restores_bit_for_bit(planted_con: duckdb.DuckDBPyConnection) -> None:
    before = _snapshot(planted_con)
    report = dedupe(planted_con, apply=True)
    applied = report["applied"]
    assert applied["members"] == report["duplicates"] > 0
    merged = dict(
        planted_con.execute("SELECT member_id, merged_into FROM members WHERE merged_into IS NOT NULL").fetchall()
    )
    clusters = dict(
        planted_con.execute(
            "SELECT member_id, cluster_id FROM identity_clusters WHERE run_id = ? AND NOT is_survivor",
            [report["run_id"]],
        ).fetchall()
    )
    assert merged == clusters
    # orders follow the survivor, the export's member id stays in source_member_id
    moved = planted_con.execute("SELECT count(*) FROM orders WHERE member_id <> source_member_id").fetchall()[0][0]
    assert moved == applied["orders"] > 0
    wrong = planted_con.execute(
        """
        SELECT count(*) FROM orders o JOIN members m ON m.member_id = o.source_member_id
        WHERE o.member_id <> coalesce(m.merged_into, m.member_id)
        """
    ).fetchall()[0][0]
    assert wrong == 0
    # a second dedupe sees only live records and finds nothing new to merge at the same threshold
    again = dedupe(planted_con)
    assert again["members"] == report["members"] - report["duplicates"]
    assert again["duplicates"] <= report["duplicates"] * 0.02
    undone = undo(planted_con)["undone"]
    assert undone["merge_id"] == applied["merge_id"] and undone["orders"] == applied["orders"]
    assert _snapshot(planted_con) == before
    with pytest.raises(NotFoundError, match="no applied merge"):
        undo(planted_con)


def test_undo_reverses_only_the_last_of_two_merges(planted_con: duckdb.DuckDBPyConnection) -> None:
    before = _snapshot(planted_con)
    first = dedupe(planted_con, threshold=0.999, apply=True)
    middle = _snapshot(planted_con)
    second = dedupe(planted_con, threshold=0.6, apply=True)
    assert second["applied"]["members"] >= 0
    undo(planted_con)
    assert _snapshot(planted_con) == middle
    undo(planted_con)
    assert _snapshot(planted_con) == before
    assert first["applied"]["merge_id"] < second["applied"]["merge_id"]


def _add_member(con: duckdb.DuckDBPyConnection, mid: str, source: str, birthday: str | None, reg: str | None) -> None:
    con.execute(
        "INSERT INTO members (member_id, source, phone, phone_status, name, birthday, wechat_id, register_date, "
        "store_id) VALUES (?, ?, '+8613911112222', 'mobile', '王芳', ?, 'wx_a', ?, 'S1')",
        [mid, source, birthday, reg],
    )


def test_merge_chain_moves_earlier_merges_to_the_new_survivor(con: duckdb.DuckDBPyConnection) -> None:
    _add_member(con, "W1", "guide_wechat", None, None)
    _add_member(con, "E1", "erp", "1990-03-04", "2020-01-01")
    con.execute(
        "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) VALUES "
        "('o1', 'W1', 'W1', '2024-01-01', 10, 'paid'), ('o2', NULL, NULL, '2024-01-02', 5, 'paid')"
    )
    first = dedupe(con, apply=True)
    assert first["clusters"] == 1 and first["sample"][0]["survivor"] == "E1"
    assert con.execute("SELECT merged_into FROM members WHERE member_id = 'W1'").fetchall() == [("E1",)]
    owners = "SELECT order_id, member_id, source_member_id FROM orders ORDER BY order_id"
    assert con.execute(owners).fetchall() == [("o1", "E1", "W1"), ("o2", None, None)]
    # a later import brings an older ERP card of the same person with an order of its own, and an order that
    # still names the merged-away WeChat record
    _add_member(con, "E0", "erp", "1990-03-04", "2016-06-01")
    con.execute(
        "INSERT INTO orders (order_id, member_id, source_member_id, ordered_at, amount, status) VALUES "
        "('o3', 'E0', 'E0', '2024-02-01', 20, 'paid'), ('o4', 'W1', 'W1', '2024-03-01', 30, 'paid')"
    )
    after_import = con.execute("SELECT * FROM members ORDER BY 1").fetchall(), con.execute(owners).fetchall()
    second = dedupe(con, apply=True)
    # E1 owns one order (moved from W1), E0 one (o4 still counts for W1); the tie goes to the older card, E0
    assert second["sample"][0]["survivor"] == "E0"
    merged = con.execute("SELECT member_id, merged_into FROM members ORDER BY 1").fetchall()
    assert merged == [("E0", None), ("E1", "E0"), ("W1", "E0")]
    assert con.execute(owners).fetchall() == [
        ("o1", "E0", "W1"),
        ("o2", None, None),
        ("o3", "E0", "E0"),
        ("o4", "E0", "W1"),
    ]
    assert second["applied"]["orders"] == 2  # o1 (from E1) and o4 (from W1)
    undo(con)
    assert (con.execute("SELECT * FROM members ORDER BY 1").fetchall(), con.execute(owners).fetchall()) == after_import


@pytest.mark.usefixtures("english")
def test_threshold_out_of_range_is_a_clear_error(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(InputError, match=r"between 0\.5 and 1, got 1\.5"):
        dedupe(con, threshold=1.5)
    with pytest.raises(InputError, match="got -1"):
        dedupe(con, sample=-1)


def test_empty_warehouse_reports_nothing(con: duckdb.DuckDBPyConnection) -> None:
    report = dedupe(con)
    assert report["members"] == 0 and report["clusters"] == 0 and report["applied"] is None
