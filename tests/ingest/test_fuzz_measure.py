"""Fuzzing `winback measure`'s readers (campaigns/table_file.py) like the import's (test_fuzz_import.py): hostile
cells and byte-corrupted CSV, XLSX and Parquet files are measured or refused with an InputError, never a traceback,
never a hang. Budget: FUZZ_EXAMPLES (default 12)."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_import import _TEXT, AMOUNTS, FUZZ, watchdog, write_xlsx

from winback.campaigns.measure_file import measure_file
from winback.errors import WinbackError

ARMS = st.one_of(st.sampled_from(["对照组", "A", " A ", "", "B", "1", "1.0"]), _TEXT)
HEADER = ["会员编号", "分组", "消费金额"]


def _rows() -> st.SearchStrategy[list[tuple[str, str, str]]]:
    return st.lists(st.tuples(_TEXT, ARMS, st.one_of(AMOUNTS, _TEXT)), min_size=0, max_size=10)


def _write(path: Path, fmt: str, rows: list[tuple[str, str, str]]) -> Path:
    rows = [("M0", "对照组", "1"), *rows]
    if fmt == "csv":
        import csv

        buf = io.StringIO()
        csv.writer(buf).writerows([HEADER, *rows])
        out = path.with_suffix(".csv")
        out.write_text(buf.getvalue(), encoding="utf-8")
        return out
    if fmt == "parquet":
        out = path.with_suffix(".parquet")
        pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADER)}), out)
        return out
    return write_xlsx(path.with_suffix(".xlsx"), [HEADER, *rows], numbers=True)


def _measure_or_refuse(path: Path) -> str:
    with watchdog():
        try:
            r = measure_file(path, arm="分组", control="对照组", outcomes=["消费金额"])
        except WinbackError as exc:
            assert exc.message.strip()
            return "refused"
    assert r.rows >= 1 and r.outcomes["消费金额"]["control"]["n"] >= 1
    return "measured"


@FUZZ
@given(fmt=st.sampled_from(["csv", "xlsx", "parquet"]), rows=_rows())
def test_hostile_cells_are_measured_or_refused(tmp_path_factory, fmt, rows) -> None:  # type: ignore[no-untyped-def]
    _measure_or_refuse(_write(tmp_path_factory.mktemp("fm") / "f", fmt, rows))


@FUZZ
@given(
    fmt=st.sampled_from(["csv", "xlsx", "parquet"]),
    patches=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)), min_size=1,
                     max_size=6),
    cut=st.one_of(st.none(), st.floats(0.05, 1)),
)  # fmt: skip
def test_corrupted_files_are_measured_or_refused(tmp_path_factory, fmt, patches, cut) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fmb")
    raw = bytearray(_write(tmp / "seed", fmt, [("M1", "A", "5"), ("M2", "对照组", "2"), ("M3", "A", "¥1,000")])
                    .read_bytes())  # fmt: skip
    for where, data in patches:
        at = int(where * len(raw))
        raw[at : at + len(data)] = data
    if cut is not None:
        raw = raw[: max(1, int(cut * len(raw)))]
    path = tmp / f"bad.{fmt}"
    path.write_bytes(bytes(raw))
    _measure_or_refuse(path)


def _seed_parquet(tmp: Path) -> bytearray:
    return bytearray(_write(tmp / "seed", "parquet", [("M1", "A", "5"), ("M2", "对照组", "2")]).read_bytes())


def test_found_a_column_name_that_is_not_utf8(tmp_path: Path) -> None:
    """Found by the fuzzer: a Parquet footer naming a column with invalid UTF-8 raised UnicodeDecodeError."""
    t = pq.read_table(_write(tmp_path / "seed", "parquet", [("M1", "A", "5"), ("M2", "对照组", "2")]))
    pq.write_table(t, tmp_path / "plain.parquet", store_schema=False)  # the names only in the Thrift footer
    raw = bytearray((tmp_path / "plain.parquet").read_bytes())
    name = "会员编号".encode()
    at = raw.find(name)
    while at >= 0:
        raw[at + 1] = 0xFF
        at = raw.find(name, at + 1)
    (tmp_path / "name.parquet").write_bytes(bytes(raw))
    assert _measure_or_refuse(tmp_path / "name.parquet") == "refused"


def test_found_a_corrupt_data_page(tmp_path: Path) -> None:
    """Found by the fuzzer: damaged page data raised OSError ('Received invalid levels') while streaming."""
    raw = _seed_parquet(tmp_path)
    first = pq.ParquetFile(io.BytesIO(bytes(raw))).metadata.row_group(0)
    for c in range(first.num_columns):
        col = first.column(c)
        start = col.data_page_offset
        raw[start + 8 : start + col.total_compressed_size - 2] = b"\xa5" * (col.total_compressed_size - 10)
    (tmp_path / "page.parquet").write_bytes(bytes(raw))
    assert _measure_or_refuse(tmp_path / "page.parquet") == "refused"


def test_found_a_damaged_xlsx_part(tmp_path: Path) -> None:
    """The import's finding (a damaged sheet part) through measure's reader: refused, not a traceback."""
    from test_fuzz_import import _damaged_sheet

    for how in ("garbage", "flip"):
        assert _measure_or_refuse(_damaged_sheet(tmp_path, how)) == "refused"
