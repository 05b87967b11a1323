"""The task sheets' streaming XLSX writer, read back by openpyxl: typed cells, text never a formula, XML-illegal
characters dropped, styles, frozen panes, the outcome drop-down, a private file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.common.export import column_letter as col_letter
from winback.outreach.tasks_xlsx import read_workbook, write_workbook


def test_column_letters() -> None:
    assert [col_letter(j) for j in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_a_sheet_reads_back_with_its_types_styles_and_validation(tmp_path: Path) -> None:
    cards = [
        {"task_id": "C1:M1", "member": "=HYPERLINK(\"x\")", "priority": 3, "cycle_days": 41.5,
         "last_purchase": dt.date(2026, 5, 1), "script": "您好\x03 & <b>", "outcome": "已邀约"},
        {"task_id": "C1:M2", "member": "@SUM(A1)"},
    ]  # fmt: skip
    path = tmp_path / "t.xlsx"
    assert write_workbook(path, [("静安店", "小王", cards)], "zh", dt.datetime(2026, 11, 23)) == ["静安店-小王"]
    assert path.stat().st_mode & 0o777 == 0o600
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["说明", "静安店-小王"]
    ws = wb["静安店-小王"]
    assert ws.freeze_panes == "B2" and ws["A1"].value == "任务号" and ws["A1"].font.b
    head = [c.value for c in ws[1]]
    member, when = ws.cell(2, head.index("会员") + 1), ws.cell(2, head.index("最近购买") + 1)
    assert member.data_type == "s" and member.value == '=HYPERLINK("x")'  # text, not a formula
    assert when.is_date and when.value == dt.datetime(2026, 5, 1) and when.number_format == "yyyy-mm-dd"
    assert ws.cell(2, head.index("话术") + 1).value == "您好 & <b>"
    [dv] = ws.data_validations.dataValidation
    assert str(dv.sqref) == f"{col_letter(head.index('结果'))}2:{col_letter(head.index('结果'))}3"
    rows = {c["task_id"]: c for _, _, c in read_workbook(path)}
    assert rows["C1:M1"]["priority"] == 3 and rows["C1:M1"]["cycle_days"] == 41.5 and rows["C1:M2"]["outcome"] is None


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=40))
def test_any_text_survives_except_what_xml_forbids(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    write_workbook(path, [("s", "g", [{"task_id": "T1", "script": text}])], "en", dt.datetime(2026, 11, 23))
    [(_, _, cells)] = list(read_workbook(path))
    legal = "".join(
        ch for ch in text
        if ch in "\t\n\r" or 0x20 <= ord(ch) <= 0xD7FF or 0xE000 <= ord(ch) <= 0xFFFD or ord(ch) > 0xFFFF
    )  # fmt: skip
    got = cells.get("script")
    assert (got or "") == legal.replace("\r\n", "\n").replace("\r", "\n") or (got or "") == legal
