"""A small streaming XLSX writer for the task sheets: what they use of SpreadsheetML and nothing else.

Worksheets of typed cells (text as inline strings — never a formula —, numbers, dates), column widths, a frozen
header row and first column, four cell styles (header, fill-in header, wrapped text, date) and one list
validation per sheet. Each worksheet's XML is written straight into the zip as its rows come (constant memory).
Why not xlsxwriter: its per-cell path (a method call, type checks, an escape regex and a write per cell) took ~90 %
of a 65,000-task export (cProfile, benchmarks/outreach_bench.py --demo); here a row is one joined string.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Sequence
from typing import IO, Any

from winback.common.export import column_letter, xml_safe

HEAD, FILL, WRAP, DATE = 1, 2, 3, 4  # cell style ids (cellXfs below)
_EPOCH = dt.datetime(1899, 12, 30)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_ESC = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet {_NS}><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="4"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill>
<fill><patternFill patternType="solid"><fgColor rgb="FFFFF2CC"/><bgColor indexed="64"/></patternFill></fill></fills>
<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>
<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>
<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="5"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"
applyAlignment="1">
<alignment wrapText="1"/></xf>
<xf numFmtId="0" fontId="1" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">
<alignment vertical="top" wrapText="1"/></xf>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1">
<alignment vertical="top"/></xf></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def _text(v: str) -> str:
    return xml_safe(v).translate(_ESC)


def cell(ref: str, v: Any, style: int = 0) -> str:
    """One <c> element (empty string for None)."""
    s = f' s="{style}"' if style else ""
    if v is None:
        return ""
    if isinstance(v, bool):
        return f'<c r="{ref}" t="b"{s}><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)):
        return f'<c r="{ref}"{s}><v>{v}</v></c>'
    if isinstance(v, (dt.date, dt.datetime)):
        d = v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
        serial = (d - _EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{style or DATE}"><v>{serial:.10g}</v></c>'
    return f'<c r="{ref}" t="inlineStr"{s}><is><t xml:space="preserve">{_text(str(v))}</t></is></c>'


class Sheet:
    """One worksheet being written: `header` once, then `rows`, then `close` (validation, end tags)."""

    def __init__(self, out: IO[bytes], widths: Sequence[float], freeze: bool = True, rows: int = 0) -> None:
        self.out, self.n, self.letters = out, 0, [column_letter(j) for j in range(len(widths))]
        pane = (
            '<pane xSplit="1" ySplit="1" topLeftCell="B2" activePane="bottomRight" state="frozen"/>'
            '<selection pane="bottomRight"/>'
            if freeze
            else ""
        )
        cols = "".join(f'<col min="{j + 1}" max="{j + 1}" width="{w}" customWidth="1"/>' for j, w in enumerate(widths))
        self._w(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS} {_REL_NS}>'
            + (f'<dimension ref="A1:{self.letters[-1]}{rows}"/>' if rows else "")  # readers pad rows to it
            + f'<sheetViews><sheetView workbookViewId="0">{pane}</sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>'
        )

    def _w(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))

    def row(self, values: Sequence[Any], styles: Sequence[int] | None = None) -> None:
        self.n += 1
        n, letters = self.n, self.letters
        cells = "".join(
            cell(f"{letters[j]}{n}", v, styles[j] if styles else 0) for j, v in enumerate(values) if v is not None
        )
        self._w(f'<row r="{n}">{cells}</row>')

    def close(self, validation: tuple[int, Sequence[str]] | None = None) -> None:
        """End the sheet; `validation` = (column, choices): a drop-down on that column's data rows."""
        tail = "</sheetData>"
        if validation and self.n > 1:
            col, choices = validation
            ref = f"{self.letters[col]}2:{self.letters[col]}{self.n}"
            formula = _text('"' + ",".join(choices) + '"')
            tail += (
                f'<dataValidations count="1"><dataValidation type="list" allowBlank="1" showErrorMessage="1" '
                f'sqref="{ref}"><formula1>{formula}</formula1></dataValidation></dataValidations>'
            )
        self._w(tail + "</worksheet>")


class Workbook:
    """A zip of worksheets written one after the other (`sheet(name, widths)` -> Sheet), closed with `close`."""

    def __init__(self, path: str) -> None:
        self.zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        self.names: list[str] = []
        self._open: IO[bytes] | None = None

    def sheet(self, name: str, widths: Sequence[float], freeze: bool = True, rows: int = 0) -> Sheet:
        self._end()
        self.names.append(name)
        self._open = self.zip.open(f"xl/worksheets/sheet{len(self.names)}.xml", "w", force_zip64=True)
        return Sheet(self._open, widths, freeze, rows)

    def _end(self) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None

    def close(self) -> None:
        self._end()
        n = len(self.names)
        sheets = "".join(
            f'<sheet name="{_text(s)}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(self.names, start=1)
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            f'worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        over = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1)
        )
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        pkg = "http://schemas.openxmlformats.org/package/2006"
        self.zip.writestr(
            "[Content_Types].xml",
            f'{head}<Types xmlns="{pkg}/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{over}</Types>",
        )
        self.zip.writestr(
            "_rels/.rels",
            f'{head}<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>',
        )
        self.zip.writestr("xl/workbook.xml", f"{head}<workbook {_NS} {_REL_NS}><sheets>{sheets}</sheets></workbook>")
        self.zip.writestr(
            "xl/_rels/workbook.xml.rels",
            f'{head}<Relationships xmlns="{pkg}/relationships">{rels}<Relationship Id="rId{n + 1}" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
            'Target="styles.xml"/></Relationships>',
        )
        self.zip.writestr("xl/styles.xml", _STYLES)
        self.zip.close()


def rows_of(records: Iterable[dict[str, Any]], keys: Sequence[str]) -> Iterable[list[Any]]:
    for r in records:
        yield [r.get(k) for k in keys]
