"""Reading a member-level results file (CSV/TSV, XLSX, Parquet; UTF-8 or GBK) as named columns, in batches.

Used by `winback measure`, which must work on any tool's export. `open_table(path)` reads the header and gives a
`TableStream` whose `batches(columns)` yields at most `rows` rows at a time of the columns asked for, so memory
is bounded by the batch, not the file (issue 15: `measure` used to hold ≈ 12× the file in Python lists).
CSV/XLSX values come back as Python objects (str stripped, int, float, None for an empty cell); Parquet batches
as Arrow arrays. Rows whose cells are all empty are skipped. `read_table` reads a whole (small) file into a
`FileTable` as before.

Bounds, checked before the part they bound is parsed: a header of at most MAX_COLUMNS columns, CSV lines of at
most MAX_LINE_CHARS characters (a single 1 GiB line is refused, not read), XLSX zip parts and their compression
ratio, and XLSX rows are read only as far right as the last column asked for (a cell claimed at XFD1048576 is
never padded out). XML in XLSX files is parsed by openpyxl through defusedxml (entities and DTDs refused).
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from winback.common.encoding import resolve_encoding
from winback.errors import InputError
from winback.i18n import N_, _

#: columns of a header (as the importer: a 10,000-column file exhausted DuckDB)
MAX_COLUMNS = 2_000
#: characters of one CSV line (quoted line breaks included); csv's own limit per field is 128 KiB
MAX_LINE_CHARS = 1 << 20
#: XLSX zip parts: uncompressed bytes of one part, of all parts, and the compression ratio of a large part
MAX_PART_BYTES, MAX_TOTAL_BYTES, MAX_RATIO, RATIO_FROM = 512 * 2**20, 1024 * 2**20, 100, 8 * 2**20
#: rows per batch (a few MB of Python objects for a handful of columns)
BATCH_ROWS = 65_536
_HINT_CSV = N_("Export the results as CSV (UTF-8 or GBK) or Parquet: those are read as streams.")

Batch = dict[str, Any]  # column name -> list of values (CSV, XLSX) or a pyarrow Array (Parquet)


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
            raise missing_column(self.path, name, self.columns)
        return self.data[name]


def missing_column(path: Path, name: str, columns: Sequence[str]) -> InputError:
    return InputError(
        _("no column {name!r} in {file}", name=name, file=path.name),
        hint=_("The file has columns: {columns}. Give one of them (names are exact).", columns=", ".join(columns)),
    )


@dataclass
class TableStream:
    """An open results file: its header, and its rows in batches (`batches`), read once."""

    path: Path
    columns: list[str]
    encoding: str | None
    header_rows: int
    _rows: Callable[[list[int], int], Iterator[Batch]] = field(repr=False)

    def check(self, names: Sequence[str]) -> None:
        for name in names:
            if name not in self.columns:
                raise missing_column(self.path, name, self.columns)

    def batches(self, names: Sequence[str], rows: int = BATCH_ROWS) -> Iterator[Batch]:
        """Batches of at most `rows` rows holding the columns `names` (checked: each must be in the header)."""
        self.check(names)
        wanted = list(dict.fromkeys(names))
        return self._rows([self.columns.index(n) for n in wanted], rows)


def decode(path: Path, encoding: str = "auto") -> tuple[str, str]:
    """Text and the encoding used, detected as `winback import` does (UTF-8 with/without BOM, else GB18030)."""
    enc = resolve_encoding(path, encoding)
    try:
        return path.read_bytes().decode(enc), enc
    except UnicodeDecodeError as exc:
        raise _not_text(path, enc, exc.start, exc.reason) from exc


def _not_text(path: Path, enc: str, where: int, reason: str) -> InputError:
    return InputError(
        _("{file} is not valid {encoding} text (byte {byte}): {reason}", file=path.name, encoding=enc, byte=where,
          reason=reason),
        hint=_("Give the right --encoding (utf-8, gbk, gb18030), or save the file as UTF-8 CSV or XLSX."),
    )  # fmt: skip


def _header(path: Path, header: list[str]) -> list[str]:
    if len(header) > MAX_COLUMNS:
        raise InputError(
            _("{file} has {n:,} columns; winback reads at most {limit:,}", file=path.name, n=len(header),
              limit=MAX_COLUMNS),
            hint=_("Keep the member id, the arm and the outcome columns, and measure that file."),
        )  # fmt: skip
    return header


def _bounded_lines(path: Path, text: IO[str], enc: str) -> Iterator[str]:
    """The file's lines, each at most MAX_LINE_CHARS long (a longer one is refused before it is held whole)."""
    n = 0
    while True:
        try:
            line = text.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError as exc:
            raise InputError(
                _("{file} is not valid {encoding} text near line {line:,}: {reason}", file=path.name, encoding=enc,
                  line=n + 1, reason=exc.reason),
                hint=_("Give the right --encoding (utf-8, gbk, gb18030), or save the file as UTF-8 CSV or XLSX."),
            ) from exc  # fmt: skip
        if not line:
            return
        n += 1
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                _("{file} line {line:,} is longer than {limit:,} characters", file=path.name, line=n,
                  limit=MAX_LINE_CHARS),
                hint=_("Is it really one row per member? Check the delimiter and the quotes, or export again."),
            )  # fmt: skip
        yield line


def _csv_rows(path: Path, reader: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise InputError(
            _("{file} is not readable as CSV: {reason}", file=path.name, reason=str(exc)),
            hint=_("Check the quotes and the delimiter, or save the file again as CSV from Excel or WPS."),
        ) from exc


@contextlib.contextmanager
def _open_csv(path: Path, encoding: str, arrow: bool) -> Iterator[TableStream]:
    enc = resolve_encoding(path, encoding)
    codec = "gb18030" if enc == "gbk" else enc
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=codec, errors="strict", newline="")
        lines = _bounded_lines(path, text, enc)
        first = next(lines, None)
        if first is None or not first.strip():
            raise InputError(_("{file} is empty", file=path.name),
                             hint=_("Give a file with a header row and one row per member."))  # fmt: skip
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff(first)

        def again() -> Iterator[str]:
            yield first
            yield from lines

        reader = _csv_rows(path, csv.reader(again(), delimiter=delimiter))
        header = _header(path, [h.strip() for h in next(reader)])

        def rows(idx: list[int], size: int) -> Iterator[Batch]:
            if arrow:
                yield from _arrow_csv_batches(path, codec, delimiter, header, idx)
            else:
                yield from _csv_batches(reader, header, idx, size)

        yield TableStream(path, header, enc, 1, rows)


def _arrow_csv_batches(path: Path, codec: str, delimiter: str, header: list[str], idx: list[int]) -> Iterator[Batch]:
    """The data rows through Arrow's streaming CSV reader (C++, a block of MAX_LINE_CHARS bytes at a time: a longer
    row is refused), as trimmed string arrays with empty cells null and blank rows dropped. A row with more or
    fewer cells than the header raises RaggedRows: the caller reads the file again with `arrow=False` (the csv
    module, which pads short rows and ignores extra cells, and numbers rows exactly as before)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    ragged: list[str] = []

    def on_ragged(row: Any) -> str:
        ragged.append(row.text)
        return "skip"

    names = [f"c{i}" for i in range(len(header))]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=MAX_LINE_CHARS,
                                       use_threads=False, encoding=codec),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_ragged),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )  # fmt: skip
    null = pa.scalar(None, pa.string())
    while True:
        try:
            b = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise _csv_error(path, exc) from exc
        cols = [pc.utf8_trim_whitespace(b.column(i)) for i in range(b.num_columns)]
        cols = [pc.if_else(pc.equal(c, ""), null, c) for c in cols]
        keep = cols[0].is_valid()
        for c in cols[1:]:
            keep = pc.or_(keep, c.is_valid())
        if ragged:
            raise RaggedRows(path)
        if b.num_rows:
            yield {header[i]: cols[i].filter(keep) for i in idx}


class RaggedRows(Exception):
    """A CSV row has more or fewer cells than the header: read the file with `open_table(..., arrow=False)`."""


def _csv_error(path: Path, exc: Exception) -> InputError:
    if "straddl" in str(exc):
        return InputError(
            _("{file} has a line longer than {limit:,} characters", file=path.name, limit=MAX_LINE_CHARS),
            hint=_("Is it really one row per member? Check the delimiter and the quotes, or export again."),
        )
    return InputError(
        _("{file} is not readable as CSV: {reason}", file=path.name, reason=str(exc)),
        hint=_("Check the quotes and the delimiter, or save the file again as CSV from Excel or WPS."),
    )


def _sniff(first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",\t;|").delimiter
    except csv.Error:
        return ","


def _csv_batches(reader: Iterator[list[str]], header: list[str], idx: list[int], size: int) -> Iterator[Batch]:
    names = [header[i] for i in idx]
    cols: list[list[object]] = [[] for _i in idx]
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        width = len(row)
        for out, i in zip(cols, idx, strict=True):
            cell = row[i].strip() if i < width else ""
            out.append(cell or None)
        if len(cols[0]) >= size:
            yield dict(zip(names, cols, strict=True))
            cols = [[] for _i in idx]
    if cols and cols[0]:
        yield dict(zip(names, cols, strict=True))


def _check_zip(path: Path) -> None:
    """Refuse an XLSX whose parts inflate beyond the limits, before any of them is parsed."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(_("{file} is not an XLSX workbook: {reason}", file=path.name, reason=str(exc)),
                         hint=_("Open it in Excel or WPS and save it as .xlsx, or export CSV.")) from exc  # fmt: skip
    total = sum(p.file_size for p in parts)
    for p in parts:
        ratio = p.file_size / max(p.compress_size, 1)
        if p.file_size > MAX_PART_BYTES or (p.file_size > RATIO_FROM and ratio > MAX_RATIO):
            raise InputError(
                _("{file}: {part} inflates to {mib:,.0f} MiB ({ratio:,.0f}× its packed size); the limits are "
                  "{limit:,.0f} MiB and {max_ratio}×", file=path.name, part=p.filename, mib=p.file_size / 2**20,
                  ratio=ratio, limit=MAX_PART_BYTES / 2**20, max_ratio=MAX_RATIO),
                hint=_(_HINT_CSV),
            )  # fmt: skip
    if total > MAX_TOTAL_BYTES:
        raise InputError(
            _("{file} inflates to {mib:,.0f} MiB; the limit is {limit:,.0f} MiB", file=path.name, mib=total / 2**20,
              limit=MAX_TOTAL_BYTES / 2**20),
            hint=_(_HINT_CSV),
        )  # fmt: skip


def _not_xlsx(path: Path, exc: Exception) -> InputError:
    return InputError(
        _("{file} cannot be read as an XLSX workbook: {reason}", file=path.name, reason=f"{type(exc).__name__}: {exc}"),
        hint=_("Open it in Excel or WPS and save it as .xlsx, or export CSV."),
    )


@contextlib.contextmanager
def _open_xlsx(path: Path, sheet: str | None) -> Iterator[TableStream]:
    import openpyxl

    if not openpyxl.DEFUSEDXML:  # defusedxml is a dependency; OPENPYXL_DEFUSEDXML=False would switch it off
        raise InputError(
            _("XLSX files are read only through defusedxml, and openpyxl is running without it"),
            hint=_("Unset OPENPYXL_DEFUSEDXML (or set it to True), or export the results as CSV."),
        )
    _check_zip(path)
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, KeyError, defusedxml's EntitiesForbidden, openpyxl's own errors
        raise _not_xlsx(path, exc) from exc
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputError(_("no sheet {sheet!r} in {file}", sheet=sheet, file=path.name),
                             hint=_("Sheets: {sheets}.", sheets=", ".join(wb.sheetnames)))  # fmt: skip
        ws = wb[sheet] if sheet else wb.worksheets[0]
        ws.reset_dimensions()  # the sheet's own <dimension> claim is not trusted (A1:XFD1048576 spun for minutes)
        first = next(ws.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS + 1, values_only=True), None)
        if first is None:
            raise InputError(_("{file} has an empty first sheet", file=path.name),
                             hint=_("Put a header row in the first sheet."))  # fmt: skip
        last = max((i for i, h in enumerate(first) if h is not None and str(h).strip()), default=-1)
        header = _header(path, [str(h).strip() if h is not None else f"column_{i + 1}" for i, h in
                                enumerate(first[: last + 1])])  # fmt: skip

        def rows(idx: list[int], size: int) -> Iterator[Batch]:
            it = ws.iter_rows(min_row=2, max_col=max(idx) + 1, values_only=True)
            try:
                yield from _xlsx_batches(it, [header[i] for i in idx], idx, size)
            except Exception as exc:  # a damaged part: zlib, zipfile (CRC), XML parse errors from deep in openpyxl
                raise _not_xlsx(path, exc) from exc

        yield TableStream(path, header, None, 1, rows)
    finally:
        wb.close()


def _xlsx_batches(it: Iterator[tuple[object, ...]], names: list[str], idx: list[int], size: int) -> Iterator[Batch]:
    cols: list[list[object]] = [[] for _i in idx]
    for row in it:
        cells = [row[i] if i < len(row) else None for i in idx]
        cells = [(v.strip() or None) if isinstance(v, str) else v for v in cells]
        if all(v is None for v in cells):
            continue
        for out, v in zip(cols, cells, strict=True):
            out.append(v)
        if len(cols[0]) >= size:
            yield dict(zip(names, cols, strict=True))
            cols = [[] for _i in idx]
    if cols[0]:
        yield dict(zip(names, cols, strict=True))


@contextlib.contextmanager
def _open_parquet(path: Path) -> Iterator[TableStream]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(path)
        names = list(f.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError) as exc:  # ValueError: a name that is not UTF-8
        raise InputError(_("{file} is not a readable Parquet file: {reason}", file=path.name, reason=str(exc)),
                         hint=_("Write it again, or export CSV.")) from exc  # fmt: skip
    with contextlib.closing(f):
        header = _header(path, names)

        def rows(idx: list[int], size: int) -> Iterator[Batch]:
            names = [header[i] for i in idx]
            try:
                for b in f.iter_batches(batch_size=size, columns=names):
                    yield {n: b.column(j) for j, n in enumerate(names)}
            except (pa.ArrowException, OSError, ValueError) as exc:  # OSError: a corrupt data page
                raise InputError(_("{file} is not a readable Parquet file: {reason}", file=path.name,
                                   reason=str(exc)), hint=_("Write it again, or export CSV.")) from exc  # fmt: skip

        yield TableStream(path, header, None, 1, rows)


def open_table(
    path: Path | str, *, encoding: str = "auto", sheet: str | None = None, arrow: bool = True
) -> contextlib.AbstractContextManager[TableStream]:
    """The file's header and a stream of its rows (see TableStream); use as `with open_table(p) as t:`.

    A CSV is read by Arrow unless `arrow` is False; Arrow's batches raise RaggedRows at a row whose cell count
    differs from the header's, and the caller starts again with arrow=False (`read_columns` does)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(_("no such file: {path}", path=path),
                         hint=_("Check the path (relative paths start at the current folder)."))  # fmt: skip
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, sheet)
    if suffix in (".parquet", ".pq"):
        return _open_parquet(path)
    if suffix in (".csv", ".tsv", ".txt", ""):
        return _open_csv(path, encoding, arrow)
    raise InputError(
        _("cannot read {file}: unknown file type {suffix!r}", file=path.name, suffix=suffix),
        hint=_("Give a .csv, .tsv, .xlsx or .parquet file."),
    )


def read_columns(
    path: Path | str,
    names: Sequence[str],
    take: Callable[[TableStream], Callable[[Batch], None]],
    *,
    encoding: str = "auto",
    sheet: str | None = None,
    rows: int = BATCH_ROWS,
) -> TableStream:
    """Stream the columns `names` of the file into the consumer `take(stream)` returns, batch by batch; a CSV
    with ragged rows is streamed again from the start by the csv module into a fresh consumer."""
    for arrow in (True, False):
        try:
            with open_table(path, encoding=encoding, sheet=sheet, arrow=arrow) as t:
                t.check(names)
                consume = take(t)
                for batch in t.batches(names, rows=rows):
                    consume(batch)
                return t
        except RaggedRows:
            continue
    raise AssertionError("unreachable: the csv module reads ragged rows")


def read_table(path: Path | str, *, encoding: str = "auto", sheet: str | None = None) -> FileTable:
    """The whole file as columns of Python values (for small files; `open_table` streams)."""
    data: dict[str, list[object]] = {}

    def take(t: TableStream) -> Callable[[Batch], None]:
        data.clear()
        data.update({h: [] for h in t.columns})

        def add(batch: Batch) -> None:
            for name, values in batch.items():
                data[name].extend(values.to_pylist() if hasattr(values, "to_pylist") else values)

        return add

    with open_table(path, encoding=encoding, sheet=sheet, arrow=False) as head:
        columns = list(dict.fromkeys(head.columns))
    t = read_columns(path, columns, take, encoding=encoding, sheet=sheet)
    return FileTable(t.path, t.columns, data, t.encoding, t.header_rows)
