"""A file's headers can never reach the import's own working columns (issue 15, item 1).

The finding: a members file with an extra column `__0_v` = `M1` overwrote member M1's name and phone; a column
`_err` rejected every row with the file's text as the reason; `_row` in an XLSX, `rowid` in a CSV or
`file_row_number` in a Parquet file broke the import. Reserved names in a file are ordinary data columns.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_util import write_csv

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest import import_file
from winback.warehouse.migrate import migrate

#: names the import uses for its own columns (staging, validation layers, folding, planning), and the names
#: the readers' generated columns and pseudo-columns have
INTERNAL = (
    "_row",
    "_err",
    "_raw",
    "_extra",
    "_blanked",
    "__0_v",
    "__0_f",
    "__0_t",
    "__0_c",
    "__0_s1",
    "__1_v",
    "__2_v",
    "__3_v",
    "file_row_number",
    "rowid",
    "_key",
    "_n",
    "_wx",
    "_extras",
    "_action",
    "_dir",
    "_cancel",
    "_repeat",
    "_exists",
    "_occ",
    "c1",
    "c2",
    "c3",
    "c4",
    "s1",
)
BASE = [["M1", "张三", "13812345678"], ["M2", "李四", "13900001111"], ["M3", "王五", "13700002222"]]
HEADER = ["会员卡号", "姓名", "手机号码"]


def _warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    return con


def _write(path: Path, fmt: str, header: list[str], rows: list[list[str]]) -> Path:
    if fmt == "csv":
        return write_csv(path.with_suffix(".csv"), header, rows)
    if fmt == "parquet":
        out = path.with_suffix(".parquet")
        pq.write_table(pa.table({h: pa.array([r[i] for r in rows], pa.string()) for i, h in enumerate(header)}), out)
        return out
    book = openpyxl.Workbook()
    book.active.append(header)
    for r in rows:
        book.active.append(r)
    out = path.with_suffix(".xlsx")
    book.save(out)
    return out


def _members(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT member_id, name, phone, extra FROM members ORDER BY member_id").fetchall()


def _check(tmp: Path, fmt: str, extra_headers: list[str], values: list[str], mapped: bool) -> None:
    con = _warehouse()
    db = DuckDBEngine(con)
    import_file(db, "members", _write(tmp / "base", fmt, HEADER, BASE))
    before = _members(con)
    header = HEADER + extra_headers
    row = ["M4", "赵六", "13600003333", *values]
    mapping = {h: "-" for h in extra_headers} if mapped else None
    r = import_file(db, "members", _write(tmp / "attack", fmt, header, [row]), mapping=mapping)
    assert (r.rows_in, r.rows_loaded, r.rows_rejected, r.rows_duplicate) == (1, 1, 0, 0)
    after = _members(con)
    assert after[:3] == before  # nobody else changed
    m4 = con.execute(
        "SELECT member_id, name, phone, CAST(extra AS VARCHAR) FROM members WHERE member_id = 'M4'"
    ).fetchone()
    assert m4 is not None and m4[:3] == ("M4", "赵六", "+8613600003333")
    kept = {h: v for h, v in zip(extra_headers, values, strict=True) if v.strip()}
    got = con.execute("SELECT extra FROM members WHERE member_id = 'M4'").fetchone()
    import json

    assert (json.loads(got[0]) if got and got[0] else {}) == kept
    assert con.execute("SELECT count(*) FROM rejects").fetchone() == (0,)
    con.close()


def test_internal_column_names_in_a_csv_are_plain_data(tmp_path: Path) -> None:
    _check(tmp_path, "csv", ["__0_v", "_err", "_row", "rowid"], ["M1", "evil reason", "7", "M2"], mapped=False)


def test_row_in_xlsx_and_file_row_number_in_parquet(tmp_path: Path) -> None:
    _check(tmp_path, "xlsx", ["_row", "__0_v"], ["99", "M1"], mapped=False)
    _check(tmp_path, "parquet", ["file_row_number", "_row"], ["M1", "5"], mapped=False)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fmt=st.sampled_from(["csv", "xlsx", "parquet"]),
    headers=st.lists(st.sampled_from(INTERNAL), min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_headers_drawn_from_the_internal_names_change_only_the_files_own_data(
    tmp_path_factory, fmt: str, headers: list[str], data: st.DataObject
) -> None:
    values = data.draw(
        st.lists(st.sampled_from(["M1", "M2", "x", "1", "evil"]), min_size=len(headers), max_size=len(headers))
    )
    _check(tmp_path_factory.mktemp("ns"), fmt, headers, values, mapped=True)
