"""Fuzzing the import (issue 15, item 10): every file is either loaded or rejected with a reason, never a
traceback, never a hang.

Hypothesis draws (1) tables of hostile cell values — dates, amounts and phones in every shape a till, an ERP or a
careless hand produces, control characters, quotes, line breaks, full-width digits, huge and tiny numbers —
written as CSV (UTF-8, GBK, three delimiters), XLSX and Parquet (text or typed columns) and imported as members
and orders; (2) byte-level corruptions of valid CSV, XLSX and Parquet files; (3) the Python value parsers
(phones, measure's numbers) directly. An import must end in an ImportResult whose counts add up, every reject with
a reason, every loaded amount and date in range — or a WinbackError with a message. Anything else fails, and a
watchdog (faulthandler) ends a run that hangs, printing where.

Budget: FUZZ_EXAMPLES examples per import test (default 12; CI stays fast), 10× that for the pure parsers.
A larger run by hand:  FUZZ_EXAMPLES=400 .venv/bin/python -m pytest -q -p no:cacheprovider tests/ingest/test_fuzz*.py
"""

from __future__ import annotations

import faulthandler
import io
import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.campaigns.measure import parse_number
from winback.common.phones import classify, normalise_text
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import WinbackError
from winback.ingest import import_file
from winback.warehouse.migrate import migrate

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
#: one import of a few rows takes well under a second; a run longer than this is a hang
HANG_SECONDS = 120
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

_CONTROL = st.characters(min_codepoint=0, max_codepoint=31)
_ODD = st.sampled_from(['"', "'", ",", ";", "\t", "\r", "\n", "\ufeff", "\u3000", "\x00", "=", "\\", "　", "\u202e"])
_TEXT = st.text(alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=["Cs"]), _CONTROL, _ODD),
                max_size=12)  # fmt: skip
DATES = st.sampled_from([
    "2024-01-02", "2024/1/2 13:05", "2024-01-02 13:05:06", "2024-01-02T13:05:06Z", "02/01/2024", "1/2/24 1:05 PM",
    "20240102", "2024年1月2日", "2024年01月02日 下午3:05", "45292", "45292.5", "0000-00-00", "2024-02-30",
    "9999-12-31 23:59:59", "1900-01-01", "1/1/0001", "-1", "2024-13-01", "24-1-2", "2024.1.2", "上午 9:00",
    "Jan 2, 2024", "", " ", "NULL", "null", "N/A", "--", "2024-01-02 25:61:61", "1e10", "१२", "2024-01-02\x00",
])  # fmt: skip
AMOUNTS = st.sampled_from([
    "12.5", "¥1,234.00", "￥88", "(12)", "（12）", "-5", "1e9", "1e400", "-1e400", "nan", "NaN", "inf", "１２３",
    "12,5", "1.234,56", "1,2,3", "$3", "99999999999999999999.99", "0.001", "-0", "+7", "12元", "", " ", "元",
    "--1", "1_000", "0x1F", "٣٤", "1.", ".5", "12.345.678", "¥-5", "5-",
])  # fmt: skip
PHONES = st.sampled_from([
    "13812345678", "+86 138-1234-5678", "138 1234 5678", "8613812345678", "０１３８１２３４５６７８", "12345",
    "021-64381234", "+85291234567", "+1 415 555 0100", "", "0", "1" * 40, "١٣٨١٢٣٤٥٦٧٨", "138****5678", "tel:138",
    "13812345678,13912345678", "+86+86 138",
])  # fmt: skip
IDS = st.one_of(st.sampled_from(["M1", "M2", "M1 ", " m1", "Ｍ１", "", "0001", "1.0", "1e3", "NULL"]), _TEXT)


def _cell(kind: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(kind, kind, _TEXT)


ORDERS = ("单号", "会员卡号", "销售时间", "实收金额", "手机号")
MEMBERS = ("会员卡号", "姓名", "手机号码", "注册时间", "生日", "性别")
ROWS = {
    "orders": st.tuples(_cell(IDS), _cell(IDS), _cell(DATES), _cell(AMOUNTS), _cell(PHONES)),
    "members": st.tuples(_cell(IDS), _TEXT, _cell(PHONES), _cell(DATES), _cell(DATES),
                         _cell(st.sampled_from(["男", "女", "M", "F", "未知", "1", "0", ""]))),
}  # fmt: skip
HEADERS = {"orders": ORDERS, "members": MEMBERS}


@contextmanager
def watchdog() -> Iterator[None]:
    """A hang ends the run with every thread's stack printed (a hang inside DuckDB or a reader cannot be caught)."""
    faulthandler.dump_traceback_later(HANG_SECONDS, exit=True)
    t0 = time.monotonic()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert time.monotonic() - t0 < HANG_SECONDS


def _write(path: Path, fmt: str, header: tuple[str, ...], rows: list[tuple[str, ...]], typed: bool) -> Path:
    if fmt.startswith("csv"):
        import csv

        enc, delim = {"csv": ("utf-8", ","), "csv-gbk": ("gbk", ","), "csv-tab": ("utf-8-sig", "\t"),
                      "csv-semi": ("utf-8", ";")}[fmt]  # fmt: skip
        buf = io.StringIO()
        csv.writer(buf, delimiter=delim).writerows([header, *rows])
        out = path.with_suffix(".csv")
        try:
            out.write_bytes(buf.getvalue().encode(enc))
        except UnicodeEncodeError:  # not representable in GBK: the till would have written UTF-8
            out.write_bytes(buf.getvalue().encode("utf-8"))
        return out
    if fmt == "parquet":
        cols = {h: [r[i] for r in rows] for i, h in enumerate(header)}
        table = pa.table({h: pa.array(v, pa.string()) for h, v in cols.items()})
        if typed:  # numbers and dates as typed columns where they parse, as a BI tool writes them
            table = table.set_column(3, header[3], pa.array([parse_number(v) for v in cols[header[3]]], pa.float64()))
        out = path.with_suffix(".parquet")
        pq.write_table(table, out)
        return out
    return write_xlsx(path.with_suffix(".xlsx"), [header, *rows], numbers=typed)


def write_xlsx(out: Path, rows: list[list[object]], *, numbers: bool) -> Path:
    """`rows` (header first) as one sheet; `numbers`: cells that read as numbers are written as numbers."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(out), {"strings_to_numbers": numbers, "strings_to_formulas": False,
                                        "strings_to_urls": False})  # fmt: skip
    ws = wb.add_worksheet()
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            ws.write(i, j, v)
    wb.close()
    return out


def _fresh() -> tuple[duckdb.DuckDBPyConnection, DuckDBEngine]:
    con = duckdb.connect()
    migrate(con)
    return con, DuckDBEngine(con)


def _import_or_refuse(con: duckdb.DuckDBPyConnection, db: DuckDBEngine, kind: str, path: Path) -> str:
    """Import `path`; the outcome is 'loaded' (counts add up, rejects have reasons, values in range) or
    'refused' (a WinbackError with a message). Any other exception propagates and fails the test."""
    with watchdog():
        try:
            r = import_file(db, kind, path)
        except WinbackError as exc:
            assert exc.message.strip(), f"{type(exc).__name__} without a message"
            return "refused"
    assert r.rows_in == r.rows_loaded + r.rows_rejected + r.rows_duplicate, r
    reasons = con.execute("SELECT reason FROM rejects").fetchall()
    assert len(reasons) == r.rows_rejected and all(str(x[0] or "").strip() for x in reasons)
    if kind == "orders":
        bad = con.execute(
            "SELECT count(*) FROM orders WHERE ordered_at < TIMESTAMP '1900-01-01' OR ordered_at > TIMESTAMP "
            "'2200-01-01' OR amount IS NULL"
        ).fetchone()
        assert bad == (0,), "orders loaded with dates or amounts out of range"
    return "loaded"


FORMATS = ["csv", "csv-gbk", "csv-tab", "csv-semi", "xlsx", "parquet"]


@FUZZ
@given(
    kind=st.sampled_from(["orders", "members"]),
    fmt=st.sampled_from(FORMATS),
    typed=st.booleans(),
    data=st.data(),
)
def test_hostile_cells_are_loaded_or_rejected_with_a_reason(tmp_path_factory, kind, fmt, typed, data) -> None:  # type: ignore[no-untyped-def]
    rows = data.draw(st.lists(ROWS[kind], min_size=1, max_size=8))
    path = _write(tmp_path_factory.mktemp("fz") / "f", fmt, HEADERS[kind], rows, typed)
    con, db = _fresh()
    try:
        _import_or_refuse(con, db, kind, path)
    finally:
        con.close()


def _valid(tmp: Path, fmt: str) -> bytes:
    rows = [("A1", "M1", "2024-01-02 10:00", "12.50", "13812345678"), ("A2", "M2", "2024/1/3", "¥1,000", "")]
    return _write(tmp / "seed", fmt, ORDERS, rows, typed=True).read_bytes()


@FUZZ
@given(
    fmt=st.sampled_from(["csv", "xlsx", "parquet"]),
    patches=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=1, max_size=8)), min_size=1,
                     max_size=6),
    cut=st.one_of(st.none(), st.floats(0.05, 1)),
)  # fmt: skip
def test_corrupted_files_are_loaded_or_refused(tmp_path_factory, fmt, patches, cut) -> None:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fzb")
    raw = bytearray(_valid(tmp, fmt))
    for where, data in patches:
        at = int(where * len(raw))
        raw[at : at + len(data)] = data
    if cut is not None:
        raw = raw[: max(1, int(cut * len(raw)))]
    ext = {"csv": ".csv", "xlsx": ".xlsx", "parquet": ".parquet"}[fmt]
    path = tmp / f"bad{ext}"
    path.write_bytes(bytes(raw))
    con, db = _fresh()
    try:
        _import_or_refuse(con, db, "orders", path)
    finally:
        con.close()


def _damaged_sheet(tmp: Path, how: str) -> Path:
    """A valid XLSX whose sheet part is damaged inside its deflate stream ('garbage') or by one byte ('flip')."""
    import zipfile

    raw = bytearray(_valid(tmp, "xlsx"))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    mid = start + info.compress_size // 2
    if how == "garbage":
        raw[mid : mid + 8] = b"\xff" * 8
    else:
        raw[mid] ^= 0x01
    out = tmp / f"{how}.xlsx"
    out.write_bytes(bytes(raw))
    return out


@pytest.mark.parametrize("how", ["garbage", "flip"])
def test_a_damaged_sheet_part_is_refused_not_a_traceback(tmp_path: Path, how: str) -> None:
    """Found by the fuzzer (400 examples): zlib.error / BadZipFile (bad CRC-32) from the XLSX limit check."""
    con, db = _fresh()
    try:
        assert _import_or_refuse(con, db, "orders", _damaged_sheet(tmp_path, how)) == "refused"
    finally:
        con.close()


@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(st.one_of(PHONES, _TEXT, st.text(max_size=30)))
def test_phone_parsers_never_raise(text: str) -> None:
    norm = normalise_text(text)
    assert norm is None or isinstance(norm, str)
    e164, status = classify(norm)
    assert status and (e164 is None or e164.startswith("+"))


@settings(max_examples=EXAMPLES * 10, deadline=None)
@given(st.one_of(AMOUNTS, _TEXT, st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.booleans(),
                 st.none()))  # fmt: skip
def test_number_parser_never_raises(value: object) -> None:
    x = parse_number(value)
    assert x is None or math.isfinite(x)


def test_budget_is_stated() -> None:
    """The budget in use is printed in -v runs (the closing note reports it)."""
    assert EXAMPLES >= 1
    print(f"fuzz budget: {EXAMPLES} examples per import test, {EXAMPLES * 10} per parser test")


pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
