"""Excel workbooks (.xlsx, .xlsm, .xls) read with calamine (`fastexcel`), bounded, as one Arrow table of text.

Limits are checked before anything is parsed (issue 15, item 4): an XLSX is a zip, so the uncompressed size and
the compression ratio of every part are read from the zip directory first (a 1 MB file that inflates to gigabytes
is refused before it inflates); then each worksheet's XML is streamed once through a few byte patterns to find the
largest row and column any cell claims, because calamine holds a sheet as a dense rectangle of cells (a single
cell at XFD1048576 would make it allocate 17 billion cells and abort the process); the rectangle may have at most
MAX_CELLS cells. An .xls is bounded by its file size (BIFF8 sheets have at most 65,536 × 256 cells). Then the sheet
is read by calamine; the columns are those up to the header's last non-empty cell (at most MAX_COLUMNS), and at
most MAX_ROWS rows are taken. A `<dimension>` claim is not used by anyone.

No SQL here: `readers._stage_excel` registers the table this returns.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from winback.errors import InputError
from winback.i18n import N_, _
from winback.ingest.limits import MAX_COLUMNS

MAX_ROWS = 1_048_576  # an Excel sheet's own limit
#: a part of an XLSX (a sheet's XML, the shared strings) may inflate to at most this many bytes …
MAX_PART_BYTES = 512 * 2**20
#: … and the whole workbook to this many
MAX_TOTAL_BYTES = 1024 * 2**20
#: a part larger than RATIO_FROM bytes may inflate at most MAX_RATIO times (real sheets: 5-30×; bombs: 100-1000×)
MAX_RATIO = 100
RATIO_FROM = 8 * 2**20
MAX_XLS_BYTES = 256 * 2**20
#: the rectangle of cells calamine allocates (rows × columns of the farthest cells): ~32 bytes each, plus text
MAX_CELLS = 10_000_000
_CHUNK = 1 << 22
_ROW_TAG = re.compile(rb'<row\b[^>]*? r="(\d+)"')
_WIDE_CELL = re.compile(rb' r="([A-Z]{2,3})(\d+)"')  # cells beyond column Z (rare in exports)
_DEEP_CELL = re.compile(rb' r="([A-Z])(\d{6,})"')  # cells below row 99,999 (a row tag may claim less)
_NARROW_CELL = re.compile(rb' r="([A-Z])\d')

_HINT_BIG = N_("Export the data as CSV (UTF-8 or GBK) or Parquet and import that: those are read as streams.")


@dataclass(frozen=True)
class Sheet:
    """A sheet as text: `table` has `_row` (data row number, header not counted) and c1, c2, … (one per header)."""

    name: str
    headers: list[str]
    table: pa.Table


def check_workbook(path: Path) -> None:
    """Refuse a workbook whose parts would inflate beyond the limits (before any parsing)."""
    if path.suffix.lower() == ".xls":
        if path.stat().st_size > MAX_XLS_BYTES:
            raise InputError(
                _(
                    "{file} is {st_size:,.0f} MiB, more than winback reads from an .xls ({limit:,.0f} MiB)",
                    file=path.name,
                    st_size=path.stat().st_size / 2**20,
                    limit=MAX_XLS_BYTES / 2**20,
                ),
                hint=_(_HINT_BIG),
            )
        return
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            _("{file} cannot be opened as XLSX: it is not a complete workbook ({exc})", file=path.name, exc=exc),
            hint=_("Check that it is an .xlsx workbook; save it again from Excel or WPS, or export CSV."),
        ) from exc
    total = 0
    for p in parts:
        total += p.file_size
        ratio = p.file_size / max(p.compress_size, 1)
        if p.file_size > MAX_PART_BYTES or (p.file_size > RATIO_FROM and ratio > MAX_RATIO):
            raise InputError(
                _(
                    (
                        "{file}: part {filename} inflates to {file_size:,.0f} MiB ({ratio:,.0f}× its "
                        "{compress_size:,.1f} MiB); the limit is {limit:,.0f} MiB per part and {max_ratio}× compression"
                    ),
                    file=path.name,
                    filename=p.filename,
                    file_size=p.file_size / 2**20,
                    ratio=ratio,
                    compress_size=p.compress_size / 2**20,
                    limit=MAX_PART_BYTES / 2**20,
                    max_ratio=MAX_RATIO,
                ),
                hint=_(_HINT_BIG),
            )
    if total > MAX_TOTAL_BYTES:
        raise InputError(
            _(
                "{file} inflates to {total:,.0f} MiB; the limit is {limit:,.0f} MiB",
                file=path.name,
                total=total / 2**20,
                limit=MAX_TOTAL_BYTES / 2**20,
            ),
            hint=_(_HINT_BIG),
        )
    with zipfile.ZipFile(path) as z:
        for p in parts:
            if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml"):
                _check_cells(path, z, p)


def _check_cells(path: Path, z: zipfile.ZipFile, p: zipfile.ZipInfo) -> None:
    """Refuse a sheet part whose claimed cell rectangle is beyond MAX_CELLS (or that cannot be read at all)."""
    try:
        rows, cols = _extent(z, p)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # a damaged part (issue 15 fuzzing)
        raise InputError(
            _("{file} cannot be opened as XLSX: it is not a complete workbook ({exc})", file=path.name, exc=exc),
            hint=_("Check that it is an .xlsx workbook; save it again from Excel or WPS, or export CSV."),
        ) from exc
    if rows * cols > MAX_CELLS:
        raise InputError(
            _(
                "{file}: {filename} has cells as far as row {rows:,} and column {cols:,} "
                "({cells:,} cells to hold); winback reads at most {limit:,} from a sheet",
                file=path.name,
                filename=p.filename,
                rows=rows,
                cols=cols,
                cells=rows * cols,
                limit=MAX_CELLS,
            ),
            hint=_("Delete stray cells far below or right of the data (Ctrl+End shows the last one), or export CSV.")
            + " "
            + _(_HINT_BIG),
        )


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _extent(z: zipfile.ZipFile, part: zipfile.ZipInfo) -> tuple[int, int]:
    """(largest row, largest column) that the worksheet's row tags and cell references claim, streamed. Columns are
    taken from every cell beyond column Z, from every cell below row 99,999, and from every cell of the first chunk
    (the header and the first rows): a stray cell in columns A-Z elsewhere can make the real width up to 26."""
    rows, cols, tail, first = 0, 1, b"", True
    with z.open(part) as f:
        while chunk := f.read(_CHUNK):
            buf = tail + chunk
            rows = max(rows, chunk.count(b"<row"), *(int(r) for r in _ROW_TAG.findall(buf)))
            for c, r in _WIDE_CELL.findall(buf):
                cols, rows = max(cols, _column_number(c)), max(rows, int(r))
            for c, r in _DEEP_CELL.findall(buf):
                cols, rows = max(cols, _column_number(c)), max(rows, int(r))
            if first:
                cols = max([cols, *(_column_number(c) for c in set(_NARROW_CELL.findall(buf)))])
                first = False
            tail = buf[-64:]
            if rows * cols > MAX_CELLS:
                break
    return rows, cols


def read_sheet(path: Path, sheet: str | None) -> Sheet:
    """The sheet (`sheet`, or the first) as text; the first non-empty row is the header."""
    import fastexcel  # imported here: only Excel imports pay for it

    check_workbook(path)
    try:
        book = fastexcel.read_excel(path)
        names = list(book.sheet_names)
    except Exception as exc:  # calamine raises its own kinds for a bad file
        raise InputError(
            _("{file} cannot be opened as an Excel workbook: {exc}", file=path.name, exc=_first_line(exc)),
            hint=_("Check that it is an .xlsx or .xls workbook; save it again from Excel or WPS, or export CSV."),
        ) from exc
    if sheet is not None and sheet not in names:
        raise InputError(
            _('{file} has no sheet "{sheet}"', file=path.name, sheet=sheet),
            hint=_("Its sheets are: {names}.", names=", ".join(names)),
        )
    name = sheet if sheet is not None else names[0]
    try:
        raw = book.load_sheet(name, header_row=None, dtypes="string").to_arrow()
    except Exception as exc:
        raise InputError(
            _("{file}: sheet {name} cannot be read: {exc}", file=path.name, name=name, exc=_first_line(exc)),
            hint=_("Save the workbook again from Excel or WPS, or export the sheet as CSV."),
        ) from exc
    return _shape(path, name, raw)


def _blank_to_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    text = col.cast(pa.string())
    return pc.if_else(pc.equal(pc.utf8_trim_whitespace(text), ""), pa.scalar(None, pa.string()), text)


def _shape(path: Path, name: str, raw: pa.Table) -> Sheet:
    cols = [_blank_to_null(c) for c in raw.columns]
    if not cols or raw.num_rows == 0:
        raise InputError(
            _("{file}: sheet {name} is empty", file=path.name, name=name), hint=_("Pick the sheet with --sheet NAME.")
        )
    filled = pc.is_valid(cols[0])
    for c in cols[1:]:
        filled = pc.or_(filled, pc.is_valid(c))
    nonempty = pc.indices_nonzero(filled)
    if len(nonempty) == 0:
        raise InputError(
            _("{file}: sheet {name} is empty", file=path.name, name=name), hint=_("Pick the sheet with --sheet NAME.")
        )
    at = int(nonempty[0].as_py())
    header = [c[at].as_py() for c in cols]
    width = max(i for i, h in enumerate(header) if h is not None) + 1
    if width > MAX_COLUMNS:
        raise InputError(
            _(
                "{file}: the header of sheet {name} has {width:,} columns; winback reads at most {limit:,}",
                file=path.name,
                name=name,
                width=width,
                limit=MAX_COLUMNS,
            ),
            hint=_("Delete the columns you do not need (or export only those) and import again."),
        )
    rows = pc.filter(nonempty, pc.greater(nonempty, at))
    if len(rows) > MAX_ROWS:
        raise InputError(
            _(
                "{file}: sheet {name} has {n_rows:,} rows; winback reads at most {limit:,} from a sheet",
                file=path.name,
                name=name,
                n_rows=len(rows),
                limit=MAX_ROWS,
            ),
            hint=_(_HINT_BIG),
        )
    headers = unique_headers(header[:width])
    arrays = [pc.subtract(rows, at).cast(pa.int64())] + [pc.take(c, rows) for c in cols[:width]]
    table = pa.Table.from_arrays(arrays, names=["_row", *(f"c{i}" for i in range(1, width + 1))])
    return Sheet(name, headers, table)


def unique_headers(raw: list[str | None]) -> list[str]:
    """Header cells as names: an empty one is `columnN`, a repeated one gets `_2`, `_3`, …"""
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(raw):
        name = (h or "").strip() or f"column{i + 1}"
        base, n = name, 1
        while name in seen:
            n += 1
            name = f"{base}_{n}"
        seen.add(name)
        out.append(name)
    return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
