"""Reading a member-level results file (CSV/TSV, XLSX, Parquet; UTF-8 or GBK) into named columns.

Used by `winback measure`, which must work on any tool's export. Values come back as Python objects
(str, int, float, None); the caller decides what a column must be.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from winback.common.encoding import resolve_encoding
from winback.errors import InputError


@dataclass(frozen=True)
class FileTable:
    path: Path
    columns: list[str]
    data: dict[str, list[object]]
    encoding: str | None
    header_rows: int = 1  # lines before the first data row, so row N is file line N + header_rows

    @property
    def rows(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def column(self, name: str) -> list[object]:
        if name not in self.data:
            raise InputError(
                f"no column {name!r} in {self.path.name}",
                hint=f"The file has columns: {', '.join(self.columns)}. Give one of them (names are exact).",
            )
        return self.data[name]


def decode(path: Path, encoding: str = "auto") -> tuple[str, str]:
    """Text and the encoding used, detected as `winback import` does (UTF-8 with/without BOM, else GB18030)."""
    enc = resolve_encoding(path, encoding)
    try:
        return path.read_bytes().decode(enc), enc
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name} is not valid {enc} text (byte {exc.start}): {exc.reason}",
            hint="Give the right --encoding (utf-8, gbk, gb18030), or save the file as UTF-8 CSV or XLSX.",
        ) from exc


def _read_csv(path: Path, encoding: str) -> FileTable:
    text, enc = decode(path, encoding)
    sample = text[:20000]
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if path.suffix.lower() not in (".tsv",):
        try:
            delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputError(
            f"{path.name} is empty", hint="Give a file with a header row and one row per member."
        ) from None
    data: dict[str, list[object]] = {h: [] for h in header}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        for i, h in enumerate(header):
            cell = row[i].strip() if i < len(row) else ""
            data[h].append(cell if cell != "" else None)
    return FileTable(path, header, data, enc)


def _read_xlsx(path: Path, sheet: str | None) -> FileTable:
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(f"no sheet {sheet!r} in {path.name}", hint=f"Sheets: {', '.join(wb.sheetnames)}.")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        first = next(rows, None)
        if first is None:
            raise InputError(f"{path.name} has an empty first sheet", hint="Put a header row in the first sheet.")
        header = [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in enumerate(first)]
        data: dict[str, list[object]] = {h: [] for h in header}
        for row in rows:
            if row is None or all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
                continue
            for i, h in enumerate(header):
                v = row[i] if i < len(row) else None
                data[h].append(v.strip() or None if isinstance(v, str) else v)
        return FileTable(path, header, data, None)
    finally:
        wb.close()


def _read_parquet(path: Path) -> FileTable:
    import pyarrow.parquet as pq

    t = pq.read_table(path)
    return FileTable(path, list(t.column_names), {c: t.column(c).to_pylist() for c in t.column_names}, None)


def read_table(path: Path | str, *, encoding: str = "auto", sheet: str | None = None) -> FileTable:
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}", hint="Check the path (relative paths start at the current folder).")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix in (".parquet", ".pq"):
        return _read_parquet(path)
    if suffix in (".csv", ".tsv", ".txt", ""):
        return _read_csv(path, encoding)
    raise InputError(
        f"cannot read {path.name}: unknown file type {suffix!r}", hint="Give a .csv, .tsv, .xlsx or .parquet file."
    )
