"""The member export's fast path (issue 14, Build 4): DuckDB's COPY writes CSV and Parquet with every rule of the
one safe writer as SQL. On a hostile warehouse its files say what `export_table` (the Python path) says: the same
headers, the same cells (numbers as numbers), private 0600 files, formula cells quoted, phones masked."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from lc_helpers import add_members, add_orders

from winback.common.phones import display_phone, mask_phone, shown_phone_sql
from winback.engine import DuckDBEngine
from winback.lifecycle.export import export_table
from winback.lifecycle.refresh import refresh
from winback.lifecycle.views import export_members, list_members
from winback.warehouse import connect

AS_OF = dt.date(2024, 7, 1)
NAMES = ['=HYPERLINK("http://x/?"&C2,"点我")', "+1+1", "-2", "@SUM(A1)", "\tx", "\rx", 'a "quoted", name',
         "two\nlines", "emoji 😀👩‍👩‍👧", "王\x01五\x1f", "ok\ufffe", "", None, "张三", "'already",
         " =lead space"]  # fmt: skip
PHONES = ["+8613812345678", "+862164381234", "+85291234567", None, "", " +8613900001111 ", "+86", "12",
          "😀😀😀😀😀😀😀"]  # fmt: skip
STORES = ["S1", "=S2", "-S3", None, "S,4"]
AMOUNTS = [0.125, 12345678901234.56, 2.675, 99.995, 1.005, 0.01, 300.0, 1234.5]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "hostile.duckdb"
    con = connect(path)
    n = 120
    add_members(con, [(f"m{i:03d}", "2023-01-01", ["VIP", "=tier", None][i % 3], STORES[i % len(STORES)],
                       PHONES[i % len(PHONES)], NAMES[i % len(NAMES)], None) for i in range(n)])  # fmt: skip
    orders = [(f"o{i}-{k}", f"m{i:03d}", f"2024-0{1 + (i + k) % 6}-1{k} 10:00:00", AMOUNTS[(i + k) % len(AMOUNTS)],
               "paid") for i in range(n) for k in range(i % 4)]  # fmt: skip
    add_orders(con, orders)
    eng = DuckDBEngine(con)
    refresh(eng, eng, AS_OF)
    con.close()
    return path


def _both(db: DuckDBEngine, tmp: Path, ext: str, lang: str, full: bool) -> tuple[Path, Path]:
    old, new = tmp / f"old.{ext}", tmp / f"new.{ext}"
    export_table(list_members(db, show_phones=full, today=AS_OF).members, old, lang=lang)
    export_members(db, new, lang=lang, show_phones=full, today=AS_OF)
    return old, new


def _cells(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def _same(a: str, b: str) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)  # DuckDB writes 1500.0 where pyarrow writes 1500
    except ValueError:
        return False


@pytest.mark.parametrize(("lang", "full"), [("zh", False), ("en", False), ("zh", True)])
def test_csv_fast_path_says_what_the_python_writer_says(hostile: Path, tmp_path: Path, lang: str, full: bool) -> None:
    con = connect(hostile, read_only=True)
    old, new = _both(DuckDBEngine(con), tmp_path, "csv", lang, full)
    con.close()
    assert new.read_bytes()[:3] == b"\xef\xbb\xbf"  # the BOM: Excel on Chinese Windows reads UTF-8
    a, b = _cells(old), _cells(new)
    assert a[0] == b[0] and len(a) == len(b) > 100
    if lang == "zh":
        assert "手机" in "".join(b[0]) or b[0] != a[0]  # the Chinese headers
    diff = [(i, x, y) for i, (ra, rb) in enumerate(zip(a, b, strict=True)) for x, y in zip(ra, rb, strict=True)
            if not _same(x, y)]  # fmt: skip
    assert diff == []
    name = b[0].index(a[0][1])
    assert {r[name] for r in b[1:]} >= {"'" + NAMES[0], "'+1+1", "'\tx", "'\rx", "two\nlines", "emoji 😀👩‍👩‍👧"}
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for r in b[1:] for c in r if not _number(c))


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("full", [False, True])
def test_parquet_fast_path_has_the_same_values(hostile: Path, tmp_path: Path, full: bool) -> None:
    con = connect(hostile, read_only=True)
    old, new = _both(DuckDBEngine(con), tmp_path, "parquet", "zh", full)
    con.close()
    a, b = pq.read_table(old), pq.read_table(new)
    assert a.column_names == b.column_names
    assert a.to_pylist() == b.to_pylist()
    phones = set(b["phone"].to_pylist())
    assert ("138****5678" in phones) != full and ("13812345678" in phones) == full


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_fast_path_files_are_private_and_alone(hostile: Path, tmp_path: Path, ext: str) -> None:
    old = os.umask(0o002)
    try:
        con = connect(hostile, read_only=True)
        out = tmp_path / f"m.{ext}"
        out.write_text("an older export")  # replaced whole
        got = export_members(DuckDBEngine(con), out, lang="zh", today=AS_OF)
        con.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert got.count > 100 and got.file == out and got.format == ext
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m.{ext}"]  # no scratch directory left behind


def test_phone_sql_is_mask_phone() -> None:
    values = [*PHONES, "\t13812345678\n", "+8613812345678 ", "+861381234567x", "+8613812345\u3000", "+86138123456 7",
              "+1", "+", "+861", "+86😀😀😀😀😀😀😀", "abc", "1", "\u3000+8613812345678"]  # fmt: skip
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, p VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    for full, shown in ((False, mask_phone), (True, display_phone)):
        got = [r[0] for r in con.execute(f"SELECT {shown_phone_sql('p', full=full)} FROM t ORDER BY i").fetchall()]
        assert got == [shown(v) if v else None for v in values]
