"""Re-importing members: `extra` is compared as an object, so column order alone never makes an update."""

from __future__ import annotations

import json

from winback.ingest import import_file


def counts(r) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    return (r.rows_loaded, r.rows_updated, r.rows_duplicate)


def extra_of(con, member_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    row = con.execute("SELECT extra::VARCHAR FROM members WHERE member_id = ?", [member_id]).fetchone()
    return json.loads(row[0])


def test_reordered_columns_are_duplicates(con, db, csv_writer) -> None:
    a = csv_writer("m7.csv", ["member_id", "name", "alpha", "zeta"], [["7", "G", "a7", "z7"], ["8", "H", "a8", ""]])
    b = csv_writer("m8.csv", ["member_id", "name", "zeta", "alpha"], [["7", "G", "z7", "a7"], ["8", "H", "", "a8"]])
    assert counts(import_file(db, "members", a)) == (2, 0, 0)
    assert counts(import_file(db, "members", b)) == (0, 0, 2)
    assert counts(import_file(db, "members", a)) == (0, 0, 2)
    assert extra_of(con, "7") == {"alpha": "a7", "zeta": "z7"}
    # a real change is still an update, merged into what was kept
    c = csv_writer("m9.csv", ["member_id", "zeta", "alpha"], [["7", "z7", "a7-new"], ["8", "z8", ""]])
    assert counts(import_file(db, "members", c)) == (2, 2, 0)
    assert extra_of(con, "7") == {"alpha": "a7-new", "zeta": "z7"}
    assert extra_of(con, "8") == {"alpha": "a8", "zeta": "z8"}


def test_blank_after_an_unreadable_value_is_a_duplicate(con, db, csv_writer) -> None:
    header = ["member_id", "name", "zeta", "alpha", "备注", "birthday"]
    first = csv_writer("m5.csv", header, [["1", "A", "z1", "a1", "x", "notadate"]])
    assert counts(import_file(db, "members", first)) == (1, 0, 0)
    blank = csv_writer("m6.csv", header, [["1", "A", "z1", "a1", "x", ""]])
    r = import_file(db, "members", blank)
    assert counts(r) == (0, 0, 1)
    # blanks never erase: the unreadable value stays kept
    assert extra_of(con, "1") == {"zeta": "z1", "alpha": "a1", "备注": "x", "birthday": "notadate"}
    reordered = csv_writer(
        "m6b.csv", ["birthday", "备注", "alpha", "zeta", "name", "member_id"], [["", "x", "a1", "z1", "A", "1"]]
    )
    assert counts(import_file(db, "members", reordered)) == (0, 0, 1)
    # a newer non-empty value still wins
    newer = csv_writer("m6c.csv", header, [["1", "A", "z1", "a1", "y", "1990-01-02"]])
    assert counts(import_file(db, "members", newer)) == (1, 1, 0)
    assert con.execute("SELECT birthday::VARCHAR FROM members WHERE member_id = '1'").fetchone() == ("1990-01-02",)
    assert extra_of(con, "1")["备注"] == "y"
