"""A minimal XLSX writer: one sheet of text cells (inline strings), streamed to disk, byte-for-byte reproducible.

Enough for an export a guide would send (Excel, WPS and openpyxl open it); about ten times faster than
openpyxl's write-only mode, and the zip entries carry a fixed timestamp so the same rows give the same file.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from winback.common.export import column_letter

_FIXED_TIME = (2020, 1, 1, 0, 0, 0)
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"

_CONTENT_TYPES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


class XlsxWriter:
    """Rows of text (None = empty cell) into a one-sheet workbook; call `close()` to finish the file."""

    def __init__(self, path: Path, sheet: str) -> None:
        self.path = path
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
        self._sheet = sheet
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", _FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._fh = self._zip.open(info, "w")
        self._fh.write(
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}"><sheetData>'.encode()
        )
        self._row = 0
        self._letters: list[str] = []

    def write_rows(self, rows: Iterable[Sequence[str | None]]) -> None:
        parts: list[str] = []
        for row in rows:
            self._row += 1
            while len(self._letters) < len(row):
                self._letters.append(column_letter(len(self._letters)))
            cells = "".join(
                f'<c r="{self._letters[j]}{self._row}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                for j, v in enumerate(row)
                if v is not None
            )
            parts.append(f'<row r="{self._row}">{cells}</row>')
        self._fh.write("".join(parts).encode())

    def close(self) -> None:
        self._fh.write(b"</sheetData></worksheet>")
        self._fh.close()
        workbook = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" xmlns:r="{_REL}">'
            f'<sheets><sheet name="{escape(self._sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'
        )
        for name, text in (
            ("[Content_Types].xml", _CONTENT_TYPES),
            ("_rels/.rels", _ROOT_RELS),
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ):
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            self._zip.writestr(info, text)
        self._zip.close()
