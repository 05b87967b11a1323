"""Issue 15, "`measure` holds ≈ 12× the file in Python lists": `winback measure` streams its file in bounded
batches. A child process measures a large CSV and a large Parquet file within a fixed memory bound (the old
reader needed ≈ 13× the file: 1,050 MiB for a 77 MiB CSV, benchmarks/measure_bench.py); the streamed statistics
equal the whole-column ones for any batch split (hypothesis); the vectorised number parser agrees with
parse_number cell for cell; hostile files (an over-long line, an XLSX claiming A1:XFD1048576, an XLSX with XML
entities) are refused or read quickly with a reason, never a traceback."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from winback.campaigns.measure import Measurement, measure_columns, numbers, parse_number
from winback.campaigns.measure_file import measure_file
from winback.errors import InputError
from winback.i18n import using

ROWS = 600_000
#: peak RSS a child measuring the large file may reach above one measuring a 4-row file (same code, same
#: libraries loaded); the old reader needed ≈ 13× the file above it
BOUND_MIB = 100


def _big_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(5)
    arm = np.array(["对照组", "券 A", "回访 B"])[rng.integers(0, 3, rows)]
    bought = (rng.random(rows) < 0.1).astype(int)
    revenue = np.where(bought == 1, np.round(rng.gamma(2.0, 150.0, rows), 2), 0.0)
    t = pa.table({"会员编号": [f"M{i:08d}" for i in range(rows)], "分组": arm, "消费金额": revenue, "是否购买": bought})
    import pyarrow.csv as pacsv

    pacsv.write_csv(t, path)


def _peak_mib(args: list[str]) -> tuple[float, str]:
    """Peak RSS (MiB) of one child running `args` (measured by a fresh wrapper process: its only child)."""
    code = textwrap.dedent("""
        import json, resource, subprocess, sys
        done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
        print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode, done.stdout,
                          done.stderr]))
    """)
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    rss, rc, stdout, stderr = json.loads(out)
    assert rc == 0, stderr
    return rss / 1024, stdout


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("measure_big")
    csv_path = d / "big.csv"
    _big_csv(csv_path, ROWS)
    import pyarrow.csv as pacsv

    pq.write_table(pacsv.read_csv(csv_path), d / "big.parquet")
    small = d / "small.csv"
    small.write_text("会员编号,分组,消费金额,是否购买\nM1,对照组,0,0\nM2,券 A,5,1\nM3,对照组,2,1\nM4,券 A,0,0\n",
                     encoding="utf-8")  # fmt: skip
    pq.write_table(pacsv.read_csv(small), d / "small.parquet")
    return {"csv": csv_path, "parquet": d / "big.parquet", "small_csv": small, "small_parquet": d / "small.parquet"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_measure_streams_a_large_file_in_bounded_memory(big_files: dict[str, Path], fmt: str) -> None:
    def measure(path: Path) -> tuple[float, dict]:
        args = ["measure", str(path), "--arm", "分组", "--control", "对照组", "--outcome", "消费金额", "--outcome",
                "是否购买", "--json"]  # fmt: skip
        peak, out = _peak_mib([sys.executable, "-m", "winback", *args])
        return peak, json.loads(out)

    path = big_files[fmt]
    base, small = measure(big_files["small_" + fmt])
    peak, result = measure(path)
    assert (small["rows"], result["rows"]) == (4, ROWS)
    file_mib = path.stat().st_size / 2**20
    print(f"{fmt}: file {file_mib:.0f} MiB, peak {peak:.0f} MiB, a 4-row file {base:.0f} MiB")
    assert peak - base < BOUND_MIB, f"{fmt}: {peak:.0f} MiB peak for a {file_mib:.0f} MiB file (4 rows: {base:.0f})"


# -- the streamed statistics are the whole-column ones ------------------------------------------------------------
@given(
    st.lists(st.tuples(st.sampled_from(["c", "A", "B"]), st.integers(0, 500), st.booleans()), min_size=6,
             max_size=120),
    st.integers(1, 40),
)  # fmt: skip
def test_batches_give_the_whole_column_statistics(rows: list[tuple[str, int, bool]], batch: int) -> None:
    rows = [("c", 3, True), ("c", 0, False), ("A", 7, True), ("A", 1, False), *rows]
    arms = [r[0] for r in rows]
    rev = np.array([r[1] / 4 for r in rows])
    bought = np.array([float(r[2]) for r in rows])
    whole = measure_columns("arm", arms, "c", {"rev": rev, "bought": bought}, cost_per_contact=1.0)
    m = Measurement("arm", ["rev", "bought"])
    for i in range(0, len(rows), batch):
        m.add(arms[i : i + batch], {"rev": [str(v) for v in rev[i : i + batch]], "bought": bought[i : i + batch]})
    streamed = m.result("c", cost_per_contact=1.0)
    assert streamed.keys() == whole.keys()
    for name in ("rev", "bought"):
        w, s = whole["outcomes"][name], streamed["outcomes"][name]
        assert s["binary"] == w["binary"] and s["control"]["n"] == w["control"]["n"]
        for arm, e in w["arms"].items():
            for key, v in e.items():
                got = s["arms"][arm][key]
                assert got is None if v is None else got == pytest.approx(v, rel=1e-9, abs=1e-9), (name, arm, key)
    a, c = rev[np.array(arms) == "A"], rev[np.array(arms) == "c"]
    if a.var() > 0 or c.var() > 0:
        ref = sps.ttest_ind(a, c, equal_var=False)
        assert streamed["outcomes"]["rev"]["arms"]["A"]["p_value"] == pytest.approx(ref.pvalue, rel=1e-7)


_CELLS = st.one_of(
    st.none(),
    st.sampled_from(["", " 12 ", "1,234.5", "¥88", "￥1 000", "$3", "TRUE", "false", "是", "否", "1e3", "1e999"]),
    st.sampled_from(["nan", "inf", "-0", ".5", "5.", "1_000", "0x10", "１２", "12\u3000", "+7", "--1", "是的"]),
    st.text(alphabet="0123456789.,-+eE ¥$是否TRUEfalse_\u3000x", max_size=8),
    st.text(max_size=6),
)  # fmt: skip


@given(st.lists(_CELLS, min_size=1, max_size=30))
def test_vectorised_numbers_agree_with_parse_number(cells: list[str | None]) -> None:
    expected = [parse_number(c) for c in cells]
    if any(x is None for x in expected):
        first = next(i for i, x in enumerate(expected) if x is None)
        with pytest.raises(InputError) as info:
            numbers("rev", cells)
        assert f"row {first + 1} " in info.value.message or f"第 {first + 1} 行" in info.value.message
    else:
        assert numbers("rev", cells).tolist() == expected


# -- hostile and odd files ------------------------------------------------------------------------------------
def _measure(path: Path, **kw: object) -> dict:
    with using("en"):
        return measure_file(path, arm="分组", control="对照组", outcomes=["消费金额"], **kw).to_dict()  # type: ignore[arg-type]


def test_ragged_and_blank_rows_are_read_like_before(tmp_path: Path) -> None:
    """A row with fewer cells (padded: its missing outcome is an error), one with more (extra cells ignored),
    a row of empty cells (skipped), whitespace around cells (trimmed)."""
    f = tmp_path / "r.csv"
    f.write_text("会员编号,分组,消费金额,备注\nM1, 对照组 ,10,x\nM2,对照组,20\n,,,\nM3,A,30,y,extra\nM4,A, 40 ,\n",
                 encoding="utf-8")  # fmt: skip
    out = _measure(f)
    rev = out["outcomes"]["消费金额"]
    assert out["rows"] == 4 and rev["control"] == {"n": 2, "mean": 15.0} and rev["arms"]["A"]["mean"] == 35.0
    f.write_text("会员编号,分组,消费金额\nM1,对照组,10\nM2,对照组\nM3,A,30\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2 "):
        _measure(f)


def test_an_overlong_line_is_refused_before_it_is_held(tmp_path: Path) -> None:
    f = tmp_path / "long.csv"
    with f.open("w", encoding="utf-8") as fh:
        fh.write("会员编号,分组,消费金额\nM1,对照组,1\n")
        fh.write("M2,对照组," + "9" * (3 << 20) + "\n")
    with pytest.raises(InputError, match="longer than"):
        _measure(f)
    f.write_text("x" * (3 << 20), encoding="utf-8")  # a single line, the header itself
    with pytest.raises(InputError, match="longer than"):
        _measure(f)


def test_gbk_csv_streams(tmp_path: Path) -> None:
    f = tmp_path / "gbk.csv"
    f.write_bytes("会员编号,分组,消费金额\nM1,对照组,1\nM2,对照组,3\nM3,满减券,5\n".encode("gbk"))
    out = _measure(f, batch_rows=1)
    assert out["encoding"] == "gb18030" and out["outcomes"]["消费金额"]["arms"]["满减券"]["diff"] == 3.0


def _xlsx(path: Path, sheet_xml: str) -> Path:
    """A minimal XLSX around one sheet's XML (what a hostile tool could write)."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
        '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
        'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
        'name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
        'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return path


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _cells(rows: list[list[str]]) -> str:
    out = []
    for r, row in enumerate(rows, start=1):
        cells = "".join(f'<c r="{"ABCD"[j]}{r}" t="inlineStr"><is><t>{v}</t></is></c>' for j, v in enumerate(row))
        out.append(f'<row r="{r}">{cells}</row>')
    return "".join(out)


def test_xlsx_dimension_claim_is_not_trusted(tmp_path: Path) -> None:
    """The 1.6 KB file whose <dimension> claims A1:XFD1048576 (it spun for minutes), plus one far-away cell."""
    rows = _cells([["会员编号", "分组", "消费金额"], ["M1", "对照组", "1"], ["M2", "对照组", "3"], ["M3", "A", "8"]])
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    f = _xlsx(tmp_path / "claim.xlsx", f'<?xml version="1.0"?><worksheet {_NS}><dimension ref="A1:XFD1048576"/>'
              f"<sheetData>{rows}{far}</sheetData></worksheet>")  # fmt: skip
    t0 = time.process_time()
    out = _measure(f)
    assert time.process_time() - t0 < 10
    assert out["rows"] == 3 and out["outcomes"]["消费金额"]["arms"]["A"]["diff"] == 6.0


def test_xlsx_entities_are_refused(tmp_path: Path) -> None:
    """Billion laughs: defusedxml (through openpyxl) refuses the entity declarations; a clean InputError."""
    lol = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    cell = '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
    f = _xlsx(
        tmp_path / "lol.xlsx", f'<?xml version="1.0"?>{lol}<worksheet {_NS}><sheetData>{cell}</sheetData></worksheet>'
    )
    with pytest.raises(InputError, match="XLSX"):
        _measure(f)


def test_openpyxl_parses_through_defusedxml() -> None:
    import openpyxl
    import openpyxl.xml.functions as xml

    assert openpyxl.DEFUSEDXML is True and xml.iterparse.__module__.startswith("defusedxml")


def test_no_traceback_from_the_cli_on_a_hostile_file(tmp_path: Path) -> None:
    f = tmp_path / "long.csv"
    f.write_text("x" * (3 << 20), encoding="utf-8")
    args = [sys.executable, "-m", "winback", "measure", str(f), "--arm", "a", "--control", "c", "--outcome", "o"]
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "WINBACK_LANG": "zh"})
    assert done.returncode == 2 and "Traceback" not in done.stderr and "个字符" in done.stderr


def test_resource_module_reports_kib() -> None:
    """ru_maxrss is KiB on Linux (the bound above assumes it)."""
    assert sys.platform.startswith("linux")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 10_000


def test_xlsx_is_refused_when_openpyxl_runs_without_defusedxml(tmp_path: Path) -> None:
    """OPENPYXL_DEFUSEDXML=False switches openpyxl to the stdlib parser: measure then refuses XLSX files."""
    f = _xlsx(tmp_path / "ok.xlsx", f'<?xml version="1.0"?><worksheet {_NS}><sheetData>'
              f'{_cells([["分组", "消费金额"], ["对照组", "1"]])}</sheetData></worksheet>')  # fmt: skip
    code = f"from winback.campaigns.measure_file import measure_file; measure_file({str(f)!r}, arm='分组', " \
        "control='对照组', outcomes=['消费金额'])"  # fmt: skip
    env = {**os.environ, "OPENPYXL_DEFUSEDXML": "False", "WINBACK_LANG": "en"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode != 0 and "defusedxml" in done.stderr and "InputError" in done.stderr
