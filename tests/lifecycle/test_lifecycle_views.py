"""Reading snapshots: segment counts, transitions, member lists and exports, explain — and their errors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lc_helpers import AS_OF
from openpyxl import load_workbook

from winback.engine import DuckDBEngine
from winback.errors import InputError, NotFoundError
from winback.lifecycle.export import export_table
from winback.lifecycle.views import explain_member, list_members, resolve_as_of, segment_summary, transitions

MARCH = dt.date(2024, 3, 1)


def test_segment_summary_in_rule_order_with_empty_segments(small_wh: DuckDBEngine) -> None:
    d = segment_summary(small_wh, scheme="seed_cn", lang="en").to_dict()
    assert d["as_of"] == AS_OF.isoformat() and d["members"] == 6
    assert [(r["segment"], r["members"]) for r in d["segments"]] == [
        ("never_purchased", 2),
        ("active", 2),
        ("silent", 0),
        ("near_dormant", 1),
        ("hibernating", 0),
        ("lost", 1),
    ]
    active = d["segments"][1]
    assert active["label"] == "active (< 90 days)"
    assert active["avg_recency_days"] == pytest.approx((52 + 1) / 2)
    assert active["monetary"] == pytest.approx(710.0)
    assert sum(r["share"] for r in d["segments"]) == pytest.approx(1.0)


@pytest.mark.usefixtures("english")
def test_segment_summary_by_store(small_wh: DuckDBEngine) -> None:
    d = segment_summary(small_wh, scheme="seed_cn", by="store", as_of=AS_OF).to_dict()
    got = {(r["store"], r["segment"]): r["members"] for r in d["segments"]}
    assert got == {
        ("S1", "active"): 1,
        ("S1", "near_dormant"): 1,
        ("S1", "lost"): 1,
        ("S2", "never_purchased"): 2,
        ("S2", "active"): 1,
    }
    with pytest.raises(InputError, match="cannot group by 'city'"):
        segment_summary(small_wh, by="city")


@pytest.mark.usefixtures("english")
def test_transitions(small_wh: DuckDBEngine) -> None:
    d = transitions(small_wh, date_from=MARCH, date_to=AS_OF, scheme="seed_cn").to_dict()
    moves = {(m["from"], m["to"]): m["members"] for m in d["moves"]}
    # at 2024-03-01: m1 active (51 days), m2 near_dormant (274 days), m7 lost, m8 active (91 days → silent)
    assert moves[("near_dormant", "active")] == 1  # m2 woke up
    assert moves[("silent", "near_dormant")] == 1  # m8 slid
    assert moves[("active", "active")] == 1
    assert moves[("lost", "lost")] == 1
    assert moves[("never_purchased", "never_purchased")] == 2
    assert (d["woke_up"], d["slid"], d["stayed"]) == (1, 1, 2)
    with pytest.raises(InputError, match="must be before"):
        transitions(small_wh, date_from=AS_OF, date_to=MARCH)


@pytest.mark.usefixtures("english")
def test_missing_snapshot_dates_are_named(small_wh: DuckDBEngine) -> None:
    with pytest.raises(NotFoundError, match="no snapshot at 2024-05-01") as info:
        resolve_as_of(small_wh, dt.date(2024, 5, 1))
    assert "2024-03-01" in (info.value.hint or "")


@pytest.mark.usefixtures("english")
def test_list_members_masks_phones_and_filters(small_wh: DuckDBEngine) -> None:
    found = list_members(small_wh, segments=["active"], stores=["S1"])
    day, t = found.as_of, found.members
    assert day == AS_OF
    rows = t.to_pylist()
    assert [r["member_id"] for r in rows] == ["m1"]
    assert rows[0]["phone"] == "138****5678" and rows[0]["name"] == "张三"
    everyone = list_members(small_wh, scheme="value").members
    assert everyone.num_rows == 6
    with pytest.raises(InputError, match="unknown segment"):
        list_members(small_wh, segments=["sleepy"])
    with pytest.raises(InputError, match="unknown scheme"):
        list_members(small_wh, scheme="nope")


@pytest.mark.parametrize("ext", ["csv", "parquet", "xlsx"])
def test_export_formats(small_wh: DuckDBEngine, tmp_path: Path, ext: str) -> None:
    t = list_members(small_wh).members
    path = tmp_path / f"members.{ext}"
    assert export_table(t, path) == ext
    if ext == "parquet":
        back = pq.read_table(path).to_pylist()
    elif ext == "csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            back = list(csv.DictReader(fh))
    else:
        ws = load_workbook(path, read_only=True).active
        values = list(ws.values)
        head = values[0]
        # trailing empty cells are not stored in the sheet: pad each row back to the header's width
        back = [dict(zip(head, [*r, *[None] * (len(head) - len(r))], strict=True)) for r in values[1:]]
    assert len(back) == 6
    m1 = next(r for r in back if r["member_id"] == "m1")
    assert m1["phone"] == "138****5678"
    assert all("13812345678" not in str(r) for r in back)


def test_export_rejects_unknown_extension(small_wh: DuckDBEngine, tmp_path: Path) -> None:
    t = list_members(small_wh).members
    with pytest.raises(InputError, match=r"unknown extension \.json"):
        export_table(t, tmp_path / "m.json")


def test_explain(small_wh: DuckDBEngine) -> None:
    d = explain_member(small_wh, "m1", lang="en").to_dict()
    assert d["as_of"] == AS_OF.isoformat()
    assert d["snapshot"]["recency_days"] == 52
    seed = d["schemes"]["seed_cn"]
    assert (seed["segment"], seed["rule"], seed["rule_position"]) == ("active", "recency_days < 90", 2)
    assert seed["earlier_rules_not_matched"] == ["recency_days IS NULL"]
    assert d["cycle"]["value"] == pytest.approx(144.125)
    assert d["cycle"]["prior_source"] == "all"
    assert d["breakpoints"]["m"] == [10.0, 60.0, 320.0, 390.0]
    assert set(d["schemes"]) == {"seed_cn", "months", "cycle", "lifecycle", "rfm", "value"}


@pytest.mark.usefixtures("english")
def test_explain_errors(small_wh: DuckDBEngine) -> None:
    with pytest.raises(NotFoundError, match="merged into m1"):
        explain_member(small_wh, "m4")
    with pytest.raises(NotFoundError, match="not in the snapshot"):
        explain_member(small_wh, "nobody")
