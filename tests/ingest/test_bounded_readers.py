"""Small hostile files do not take the machine (issue 15, item 4): each bomb is built here, then imported in one
child process whose peak memory (≤ 1 GiB) and time per file (≤ 10 s) are measured; each is refused with a message
that names the limit, or read.

The findings: a 1 MB XLSX reached 3.4 GB and a 1.6 KB one (its `<dimension>` claims A1:XFD1048576) spun for 7
minutes with openpyxl; a 1 GiB single-line CSV reached 2.3 GB while its delimiter was sniffed; 10,000 columns
exhausted DuckDB. With calamine a single cell at XFD1048576 makes it allocate the whole rectangle and abort.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

_CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
    'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WB = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
    'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" '
    'sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _col(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def _row(r: int, cells: list[tuple[str, str]]) -> str:
    body = "".join(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>' for ref, v in cells)
    return f'<row r="{r}">{body}</row>'


def _book(path: Path, chunks) -> Path:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            for c in chunks:
                f.write(c.encode())
    return path


HEADER_ROW = _row(1, [("A1", "会员卡号"), ("B1", "姓名")])


def _bombs(d: Path) -> dict[str, Path]:
    out = {}
    # inflates ~300x: 240,000 rows of two tiny cells (20 MiB of XML) in ~0.07 MB
    rows = '<row><c t="inlineStr"><is><t>M1</t></is></c><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    out["xlsx_ratio"] = _book(
        d / "ratio.xlsx", [_HEAD, "<sheetData>", HEADER_ROW, *([rows] * 12), "</sheetData></worksheet>"]
    )
    out["xlsx_far_cell"] = _book(
        d / "far.xlsx",
        [
            _HEAD,
            "<sheetData>",
            HEADER_ROW,
            _row(2, [("A2", "M1")]),
            _row(1048576, [("XFD1048576", "z")]),
            "</sheetData></worksheet>",
        ],
    )
    out["xlsx_dimension"] = _book(
        d / "dimension.xlsx",
        [
            _HEAD,
            '<dimension ref="A1:XFD1048576"/><sheetData>',
            HEADER_ROW,
            _row(2, [("A2", "M1"), ("B2", "张三")]),
            "</sheetData></worksheet>",
        ],
    )
    out["xlsx_10000_columns"] = _book(
        d / "wide.xlsx",
        [
            _HEAD,
            "<sheetData>",
            _row(1, [(f"{_col(i)}1", f"h{i}") for i in range(1, 10_001)]),
            _row(2, [("A2", "M1")]),
            "</sheetData></worksheet>",
        ],
    )
    laughs = "".join(f'<!ENTITY lol{i} "' + f"&lol{i - 1};" * 10 + '">' for i in range(2, 10))
    for name, dtd, value in [
        ("xlsx_billion_laughs", f'<!DOCTYPE l [<!ENTITY lol1 "lol">{laughs}]>', "&lol9;"),
        ("xlsx_xxe", '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', "&xxe;"),
    ]:
        cells = f'<row r="2"><c r="A2" t="inlineStr"><is><t>M1</t></is></c><c r="B2" t="inlineStr"><is><t>{value}'
        head = _HEAD.replace("<worksheet", dtd + "<worksheet")
        out[name] = _book(
            d / f"{name}.xlsx",
            [head, "<sheetData>", HEADER_ROW, cells, "</t></is></c></row>", "</sheetData></worksheet>"],
        )
    single = d / "single_line.csv"  # 1 GiB without a line break (sparse: written instantly, takes no disk)
    with single.open("wb") as f:
        f.write(b"member_id,name,")
        f.truncate(1 << 30)
    out["csv_1gib_single_line"] = single
    long_line = d / "long_line.csv"  # a good header, then a 1 GiB line
    with long_line.open("wb") as f:
        f.write(b"member_id,name\nM1,")
        f.truncate(1 << 30)
    with long_line.open("ab") as f:
        f.write(b"\nM2,x\n")
    out["csv_1gib_line"] = long_line
    wide = d / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(10_000)) + "\n" + ",".join("1" * 10_000) + "\n")
    out["csv_10000_columns"] = wide
    pq.write_table(pa.table({f"c{i}": [str(i)] for i in range(10_000)}), d / "wide.parquet")
    out["parquet_10000_columns"] = d / "wide.parquet"
    return out


CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback import i18n
    from winback.errors import WinbackError
    from winback.ingest import import_file
    from winback.warehouse import connect
    out = {}
    i18n.set_lang("en")  # the cases below match the English wording
    for name, path in json.loads(sys.argv[1]).items():
        db = DuckDBEngine(connect(":memory:"))
        t = time.perf_counter()
        try:
            r = import_file(db, "members", path)
            res = {"rows_in": r.rows_in, "rows_loaded": r.rows_loaded}
        except WinbackError as exc:
            res = {"error": type(exc).__name__, "message": exc.message}
        res["seconds"] = time.perf_counter() - t
        out[name] = res
        db.close()
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    d = tmp_path_factory.mktemp("bombs")
    files = {k: str(v) for k, v in _bombs(d).items()}
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(files)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_every_bomb_stays_within_1_gib_and_10_s(results: dict[str, dict[str, object]]) -> None:
    assert float(results["peak_rss_mib"]) <= 1024, results  # type: ignore[arg-type]
    slow = {k: v["seconds"] for k, v in results.items() if isinstance(v, dict) and float(v["seconds"]) > 10}
    assert not slow, slow


@pytest.mark.parametrize(
    ("bomb", "says"),
    [
        ("xlsx_ratio", "inflates to"),
        ("xlsx_far_cell", "has cells as far as row 1,048,576 and column 16,384"),
        ("xlsx_10000_columns", "10,000 columns; winback reads at most 2,000"),
        ("xlsx_billion_laughs", "unrecognized entity"),  # calamine's XML reader expands no entities
        ("xlsx_xxe", "unrecognized entity"),
        ("csv_1gib_single_line", "the first line (the header) is longer than 1,048,576 bytes"),
        ("csv_1gib_line", "a line is longer than 1,048,576 bytes"),
        ("csv_10000_columns", "10,000 columns; winback reads at most 2,000"),
        ("parquet_10000_columns", "10,000 columns; winback reads at most 2,000"),
    ],
)
def test_bombs_are_refused_with_the_limit(results: dict[str, dict[str, object]], bomb: str, says: str) -> None:
    r = results[bomb]
    assert r.get("error") == "InputError", r
    assert says in str(r["message"]), r


def test_a_dimension_claim_alone_is_harmless(results: dict[str, dict[str, object]]) -> None:
    assert results["xlsx_dimension"]["rows_loaded"] == 1, results["xlsx_dimension"]
