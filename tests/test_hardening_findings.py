"""Issue 15 findings that had no regression test of their own: XML entities in XLSX files (the import, the task
sheet import), and the dependency pins ("floors only and no lock or constraints file; `pyarrow>=15` admits
versions with a known deserialization CVE")."""

from __future__ import annotations

import re
import time
import tomllib
from importlib.metadata import version
from pathlib import Path

import duckdb
import pytest

from test_hardening_measure import _NS, _xlsx
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import InputError, WinbackError
from winback.ingest import import_file
from winback.warehouse.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
#: 25 levels of ten: expanded, one cell would be 10^25 "lol"s
_LAUGHS = "".join(f'<!ENTITY l{i + 1} "' + f"&l{i};" * 10 + '">' for i in range(25))
BILLION = f'<!DOCTYPE w [<!ENTITY l0 "lol">{_LAUGHS}]>'
XXE = '<!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _sheet(doctype: str, entity: str) -> str:
    rows = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>会员卡号</t></is></c><c r="B1" t="inlineStr"><is><t>姓名</t></is>'
        '</c></row><row r="2"><c r="A2" t="inlineStr"><is><t>M1</t></is></c><c r="B2" t="inlineStr"><is>'
        f"<t>&{entity};</t></is></c></row>"
    )
    return f'<?xml version="1.0"?>{doctype}<worksheet {_NS}><sheetData>{rows}</sheetData></worksheet>'


@pytest.mark.parametrize(("doctype", "entity"), [(BILLION, "l25"), (XXE, "x")], ids=["billion-laughs", "xxe"])
def test_import_never_expands_xml_entities(tmp_path: Path, doctype: str, entity: str) -> None:
    """The import reads XLSX with calamine: an entity-bearing sheet is refused or loaded unexpanded, quickly."""
    f = _xlsx(tmp_path / "m.xlsx", _sheet(doctype, entity))
    con = duckdb.connect()
    migrate(con)
    t0 = time.process_time()
    try:
        import_file(DuckDBEngine(con), "members", f)
    except WinbackError as exc:
        assert exc.message
    assert time.process_time() - t0 < 10
    names = [r[0] or "" for r in con.execute("SELECT name FROM members").fetchall()]
    assert all("lol" * 4 not in n and "root:" not in n for n in names), names


@pytest.mark.parametrize(("doctype", "entity"), [(BILLION, "l25"), (XXE, "x")], ids=["billion-laughs", "xxe"])
def test_task_sheet_import_refuses_xml_entities(tmp_path: Path, doctype: str, entity: str) -> None:
    """The task sheet is read with openpyxl, which parses through defusedxml: a clean InputError."""
    from winback.outreach.tasks_xlsx import read_workbook

    f = _xlsx(tmp_path / "tasks.xlsx", _sheet(doctype, entity))
    with pytest.raises(InputError):
        list(read_workbook(f))


def _pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, ver = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            out[re.sub(r"[-_.]+", "-", name).lower()] = ver
    return out


def _version(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def test_constraints_pin_every_runtime_dependency() -> None:
    pins = _pins()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = [re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0]).lower() for d in deps]
    assert [n for n in names if n not in pins] == []
    assert "-c constraints.txt" in (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")


def test_pyarrow_is_past_the_deserialization_advisory() -> None:
    """CVE-2023-47248 (arbitrary code execution reading IPC/Parquet) affects pyarrow 0.14.0 to 14.0.0."""
    assert _version(_pins()["pyarrow"]) >= (17,)
    assert _version(version("pyarrow")) >= (17,)
    assert "defusedxml" in _pins()
