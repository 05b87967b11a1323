"""One safe writer for every export (CSV, XLSX, Parquet): the file is private and appears whole, and no cell of it
can become a formula.

- **Private and atomic.** The file is created with `os.open(O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)` under a random
  temporary name in the target directory, set to 0600 whatever the umask, and renamed into place when complete; a
  failed write leaves nothing behind (not even a half file), and an existing file of that name is replaced whole.
- **No formulas.** A text cell starting with `= + - @`, a tab or a carriage return is what Excel, WPS and LibreOffice
  run as a formula (`=HYPERLINK(...)` can send other rows to a URL). CSV gets a leading `'` on such cells (the
  OWASP rule); XLSX cells are written as explicit string cells (`write_string`), never as formulas, and characters
  XML forbids (C0 controls other than tab, LF, CR; U+FFFE/U+FFFF; lone surrogates) are removed, since one of them
  made the whole workbook unreadable.
- **Streaming.** XLSX is written with xlsxwriter's constant-memory mode, row by row; more rows than one sheet holds
  (1,048,575 under the header) are refused with a hint to use .csv or .parquet.

Pure of the warehouse: it takes Arrow tables and writes files.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc

from winback.errors import InputError
from winback.i18n import N_, t

#: Excel's sheet height, less the header row
MAX_XLSX_ROWS = 1_048_575
#: how a formula can start (OWASP "CSV injection"): text cells starting with one of these are neutralised
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_RE = r"^[=+\-@\t\r]"
#: characters XML 1.0 does not allow (an XLSX is XML): C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: rows between two progress reports
PROGRESS_EVERY = 50_000

#: this module's messages (msgids; the Chinese is in i18n/zh/common.po)
LABELS = {
    "too_many": N_("{n:,} rows do not fit on one Excel sheet (1,048,575 rows)"),
    "too_many_hint": N_("Export to .csv or .parquet, or narrow the list with --segment / --store."),
    "progress": N_("{done:,} of {total:,} rows written"),
}


def say(lang: str, key: str, **values: Any) -> str:
    """The message `key` in `lang`, with its values filled in."""
    return t(LABELS[key], lang, **values)


# -- cells ---------------------------------------------------------------------------------------------------------
def column_letter(j: int) -> str:
    """The spreadsheet column of 0-based index `j`: A … Z, AA … (pure)."""
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def xml_safe(text: str) -> str:
    """`text` without the characters XML forbids (pure)."""
    return _XML_ILLEGAL.sub("", text)


def csv_cell(text: str) -> str:
    """A text cell for CSV: a leading `'` if it would start a formula (pure)."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell_sql(expr: str) -> str:
    """SQL of a text cell for CSV: `csv_cell` as an expression (a `'` before a value that would start a formula;
    NULL stays NULL), for writers that let the database write the file (pure)."""
    starts = ", ".join("'" + c + "'" for c in FORMULA_START)
    return f"CASE WHEN left({expr}, 1) IN ({starts}) THEN '''' || {expr} ELSE {expr} END"


def csv_header(names: Sequence[str]) -> bytes:
    """The BOM and header line `write_csv` writes (every name quoted, quotes doubled), for a body written
    elsewhere (pure)."""
    return ("\ufeff" + ",".join('"' + str(n).replace('"', '""') + '"' for n in names) + "\n").encode()


def neutralise_column(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A string column with `'` put before every value that would start a formula (vectorised; others as they are)."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column
    risky = pc.fill_null(pc.match_substring_regex(column, _FORMULA_RE), False)
    return pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", column.type), column, ""), column)


def neutralise_table(table: pa.Table) -> pa.Table:
    """`table` with every string column neutralised for CSV (pure)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            table = table.set_column(i, field, neutralise_column(table.column(i)))
    return table


# -- files ---------------------------------------------------------------------------------------------------------
@contextmanager
def private_file(path: Path) -> Iterator[IO[bytes]]:
    """A binary file object that becomes `path` (mode 0600) when the block ends without an error.

    Created with O_EXCL under a random name in `path`'s directory (so the rename is atomic and no other file or
    symlink is ever written through), removed if the block fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken bits away (umask 0o277 gives 0400): exactly 0600
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise


def write_via(path: Path, produce: Callable[[Path], int], *, prefix: bytes = b"") -> int:
    """Let `produce` write a file at a scratch path (in a fresh 0700 directory beside `path`, which no one else can
    enter), then copy it behind `prefix` into the `private_file` that becomes `path`; returns what `produce` did.

    For writers that open the file themselves (DuckDB's COPY): the file that appears is still created with O_EXCL,
    0600, and renamed into place whole; a failure leaves neither file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", suffix=".part", dir=path.parent) as scratch:
        out = Path(scratch) / "out"
        n = produce(out)
        with private_file(path) as fh, out.open("rb") as body:
            fh.write(prefix)
            fh.flush()
            shutil.copyfileobj(body, fh, 1 << 22)
    return n


def write_csv(table: pa.Table, path: Path) -> int:
    """`table` as CSV (UTF-8 with a BOM so that Excel on Chinese Windows reads the names), neutralised; rows."""
    import pyarrow.csv as pacsv

    with private_file(path) as fh:
        fh.write("\ufeff".encode())
        pacsv.write_csv(neutralise_table(table), fh)
    return table.num_rows


def write_parquet(table: pa.Table, path: Path) -> int:
    """`table` as Parquet (typed: nothing to neutralise, a reader never runs a cell); returns the rows."""
    import pyarrow.parquet as pq

    with private_file(path) as fh:
        pq.write_table(table, fh)
    return table.num_rows


#: per-column XLSX number formats by column name ("money", "ratio", "days", "int")
NUMBER_FORMATS = {"money": "#,##0.00", "ratio": "0.000", "days": "0.0", "int": "0"}


def _report(
    progress: Callable[[str], None] | None, rows_done: Callable[[int, int], None] | None, line: str, i: int, n: int
) -> None:
    if progress is not None:
        progress(line)
    if rows_done is not None:
        rows_done(i, n)


def write_xlsx(
    table: pa.Table,
    path: Path,
    *,
    headers: Sequence[str] | None = None,
    formats: Mapping[str, str] | None = None,
    sheet: str = "members",
    lang: str = "zh",
    progress: Callable[[str], None] | None = None,
    rows_done: Callable[[int, int], None] | None = None,
) -> int:
    """`table` as one XLSX sheet, streamed (constant memory): a bold header row (`headers`, default the column
    names), frozen, with an autofilter; text as string cells with XML-illegal characters removed; `formats` maps a
    column name to a key of NUMBER_FORMATS. `progress` gets a line every PROGRESS_EVERY rows, `rows_done` the rows
    written and the total (for a progress bar) every PROGRESS_EVERY rows and once the last row is written.
    Returns the rows."""
    import xlsxwriter

    n = table.num_rows
    if n > MAX_XLSX_ROWS:
        raise InputError(say(lang, "too_many", n=n), hint=say(lang, "too_many_hint"))
    names = table.column_names
    headers = list(headers) if headers is not None else names
    with private_file(path) as fh:
        wb = xlsxwriter.Workbook(
            fh,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        day = wb.add_format({"num_format": "yyyy-mm-dd"})
        stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        fmt = {k: wb.add_format({"num_format": v}) for k, v in NUMBER_FORMATS.items()}
        col_fmt = [fmt.get((formats or {}).get(c, "")) for c in names]
        ws = wb.add_worksheet(xml_safe(sheet)[:31] or "sheet")
        for j, h in enumerate(headers):
            ws.write_string(0, j, xml_safe(str(h)), head)
            ws.set_column(j, j, max(10, min(24, 2 * len(str(h)) + 2)))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(n, 1), max(len(names) - 1, 0))
        i = 0
        for batch in table.to_batches(max_chunksize=10_000):
            cols = [c.to_pylist() for c in batch.columns]
            for row in zip(*cols, strict=True):
                i += 1
                for j, v in enumerate(row):
                    if v is None:
                        continue
                    if isinstance(v, str):
                        ws.write_string(i, j, xml_safe(v))
                    elif isinstance(v, bool):
                        ws.write_boolean(i, j, v)
                    elif isinstance(v, (int, float, decimal.Decimal)):
                        ws.write_number(i, j, float(v), col_fmt[j])
                    elif isinstance(v, dt.datetime):
                        ws.write_datetime(i, j, v.replace(tzinfo=None), stamp)
                    elif isinstance(v, dt.date):
                        ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), day)
                    else:  # lists, dicts, bytes: their text, never a formula
                        ws.write_string(i, j, xml_safe(str(v)))
                if i % PROGRESS_EVERY == 0:
                    _report(progress, rows_done, say(lang, "progress", done=i, total=n), i, n)
        if rows_done is not None:
            rows_done(n, n)
        wb.close()
    return n
