"""Readers: put an export (CSV/TSV, XLSX/XLS, Parquet) in front of SQL as a staging relation.

The staging relation `wb_staged` has `_row` (1-based data row number, header not counted) followed by the
file's own columns under generated names `c1`, `c2`, … (`Staged.names` maps the file's headers to them, so no
header can name a working column): VARCHAR for CSV/TSV/XLSX, the file's own types for Parquet (typed columns
skip parsing).
Rows the CSV reader cannot split into the header's columns are collected in `wb_reader_rejects` (row number,
reason, raw line) so nothing is lost silently.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from winback.common.encoding import new_temp_file, remove_stale_temp_files, resolve_encoding, transcode_to_utf8
from winback.engine.duckdb_engine import DuckDBEngine
from winback.errors import EngineError, InputError
from winback.i18n import _
from winback.ingest.limits import MAX_COLUMNS, MAX_HEADER_BYTES, MAX_LINE_BYTES
from winback.ingest.sqltext import lit, q

STAGED = "wb_staged"
READER_REJECTS = "wb_reader_rejects"
_RAW = "wb_stage_raw"
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".parquet": "parquet",
    ".pq": "parquet",
}

Progress = Callable[[int], None]


@dataclass
class Staged:
    columns: list[str]
    file_format: str
    encoding: str | None
    rows_read: int  # rows in the staging relation
    reader_rejects: int  # rows the reader could not split
    temp_files: list[Path] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)  # column -> SQL type when not VARCHAR (Parquet)
    names: dict[str, str] = field(default_factory=dict)  # the file's column -> its generated name in staging

    @property
    def rows_in(self) -> int:
        return self.rows_read + self.reader_rejects

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)


def staged_names(columns: list[str]) -> dict[str, str]:
    """The staging relation's names for the file's columns: `c1`, `c2`, … in file order. The file's headers never
    become SQL names, so a header such as `_row`, `_err`, `__0_v`, `rowid` or `file_row_number` is data like any
    other and cannot reach a working column (every working column starts with `_`)."""
    return {c: f"c{i}" for i, c in enumerate(columns, start=1)}


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            _(
                "{file}: cannot tell the format from the extension {value}",
                file=path.name,
                value=path.suffix or "(none)",
            ),
            hint=_(
                "winback reads .csv, .tsv, .txt, .xlsx, .xls and .parquet files; rename the file or export one "
                "of those."
            ),
        )
    return fmt


def drop_staging(db: DuckDBEngine) -> None:
    for view in (STAGED,):
        db.execute(f"DROP VIEW IF EXISTS temp.{view}")
    for tbl in (_RAW, READER_REJECTS, "wb_csv_rejects", "wb_csv_scans", "wb_row_shift"):
        db.execute(f"DROP TABLE IF EXISTS temp.{tbl}")


def drop_raw(db: DuckDBEngine) -> None:
    """Free the staging relation once validation and planning are done (reader rejects are kept)."""
    db.execute(f"DROP VIEW IF EXISTS temp.{STAGED}")
    for tbl in (_RAW, "wb_row_shift"):
        db.execute(f"DROP TABLE IF EXISTS temp.{tbl}")


def stage(
    db: DuckDBEngine,
    path: Path,
    *,
    encoding: str = "auto",
    sheet: str | None = None,
    on_rows: Progress | None = None,
) -> Staged:
    if not path.exists():
        raise InputError(_("no such file: {path}", path=path), hint=_("Check the path (quote it if it has spaces)."))
    if path.is_dir():
        raise InputError(
            _("{path} is a folder, not an export file", path=path), hint=_("Give one .csv/.tsv/.xlsx/.parquet file.")
        )
    fmt = file_format(path)
    if path.stat().st_size == 0:
        raise InputError(
            _("{file} is empty (0 bytes)", file=path.name), hint=_("Export it again: it has no header and no rows.")
        )
    drop_staging(db)
    remove_stale_temp_files()  # left behind by a killed import
    if fmt in ("csv", "tsv"):
        return _stage_csv(db, path, fmt, encoding)
    if fmt == "parquet":
        return _stage_parquet(db, path)
    return _stage_excel(db, path, fmt, sheet, on_rows)


def _empty_rejects(db: DuckDBEngine) -> None:
    db.execute(f"CREATE TEMP TABLE {READER_REJECTS} (row_number BIGINT, reason VARCHAR, raw JSON)")


# ----------------------------------------------------------------------------------------------- CSV / TSV
def _header_line(path: Path) -> str:
    """The first line, read as a bounded prefix (never more than MAX_HEADER_BYTES + 1 bytes)."""
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES + 1)
    end = head.find(b"\n")
    if end < 0 and len(head) > MAX_HEADER_BYTES:
        raise InputError(
            _(
                "{file}: the first line (the header) is longer than {limit:,} bytes",
                file=path.name,
                limit=MAX_HEADER_BYTES,
            ),
            hint=_(
                "This is not a usable export (no line breaks, or a header of thousands of columns). Export it "
                "again as CSV with one row per line, or as XLSX/Parquet."
            ),
        )
    return head[: end if end >= 0 else len(head)].decode("utf-8-sig", errors="replace").rstrip("\r")


def _sniff_delimiter(path: Path, fmt: str) -> str:
    """The delimiter (from the header line; `.tsv` is tab); a header of more than MAX_COLUMNS columns is refused
    before DuckDB reads anything."""
    header = _header_line(path)
    if fmt == "tsv":
        best = "\t"
    else:
        counts = {d: header.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=lambda d: counts[d])
        best = best if counts[best] else ","
    width = len(next(csv.reader([header], delimiter=best), []))
    if width > MAX_COLUMNS:
        raise InputError(
            _(
                "{file} has {width:,} columns; winback reads at most {limit:,}",
                file=path.name,
                width=width,
                limit=MAX_COLUMNS,
            ),
            hint=_("Delete the columns you do not need (or export only those) and import again."),
        )
    return best


def _stage_csv(db: DuckDBEngine, path: Path, fmt: str, encoding: str) -> Staged:
    enc = resolve_encoding(path, encoding)
    _header_line(path)  # bounded, before anything is transcoded or read
    if enc not in ("gbk", "gb18030"):
        return _read_csv(db, path, path, fmt, enc)
    utf8 = new_temp_file(".utf8.csv")  # 0600, O_EXCL, in the private 0700 directory
    try:
        transcode_to_utf8(path, utf8, enc)
        return _read_csv(db, path, utf8, fmt, enc)
    finally:  # DuckDB has copied the rows into a temporary table: the plain-text copy goes at once
        utf8.unlink(missing_ok=True)


def _read_csv(db: DuckDBEngine, path: Path, read_path: Path, fmt: str, enc: str) -> Staged:
    """Read the UTF-8 text `read_path` (the file itself, or its transcoded copy) into the staging relation."""
    delim = _sniff_delimiter(read_path, fmt)
    options = (
        f"header = true, all_varchar = true, delim = {lit(delim)}, quote = '\"', escape = '\"', auto_detect = true, "
        f"max_line_size = {MAX_LINE_BYTES}"
    )
    try:
        # the header as DuckDB reads it (names made unique), then the rows under generated names (`names`): a
        # header such as `rowid` would otherwise hide the row number
        columns = [
            r[0]
            for r in db.fetchall(
                f"DESCRIBE SELECT * FROM read_csv({lit(str(read_path))}, {options}, ignore_errors = true)"
            )
        ]
        names = staged_names(columns)
        db.execute(
            f"CREATE TEMP TABLE {_RAW} AS SELECT * FROM read_csv({lit(str(read_path))}, {options}, "
            f"names = [{', '.join(lit(n) for n in names.values())}], store_rejects = true, "
            "rejects_table = 'wb_csv_rejects', rejects_scan = 'wb_csv_scans')"
        )
    except EngineError as exc:
        if "line size" in str(exc.__cause__ or exc.message).lower():
            raise InputError(
                _(
                    "{file}: a line is longer than {limit:,} bytes ({reason})",
                    file=path.name,
                    limit=MAX_LINE_BYTES,
                    reason=_reason(exc),
                ),
                hint=_("A value with an unclosed quote, or a file without line breaks: export it again."),
            ) from exc
        raise InputError(
            _("{file} cannot be read as {upper}: {reason}", file=path.name, upper=fmt.upper(), reason=_reason(exc)),
            hint=_("Check that the file is a delimited text export with a header row."),
        ) from exc
    db.execute(
        f"CREATE TEMP TABLE {READER_REJECTS} AS SELECT line - 1 AS row_number, "
        f"string_agg({_CSV_REASON}, '; ') AS reason, json_object('line', any_value(csv_line)) AS raw "
        "FROM wb_csv_rejects GROUP BY line ORDER BY line"
    )
    n_bad = _count(db, READER_REJECTS)
    cols_sql = ", ".join(f"r.{q(n)}" for n in names.values())
    if n_bad:
        # data row number = position among good rows + number of bad rows before it (an ASOF join on the
        # threshold t_k = b_k - 1 - k, where b_k is the k-th bad row number, 0-based k)
        db.execute(
            "CREATE TEMP TABLE wb_row_shift AS SELECT row_number - 1 - (row_number() OVER (ORDER BY row_number) - 1)"
            f" AS t, row_number() OVER (ORDER BY row_number) AS k FROM {READER_REJECTS}"
        )
        db.execute(
            f"CREATE TEMP VIEW {STAGED} AS SELECT r.rowid + 1 + coalesce(s.k, 0) AS _row, {cols_sql} "
            f"FROM {_RAW} r ASOF LEFT JOIN wb_row_shift s ON r.rowid >= s.t"
        )
    else:
        db.execute(f"CREATE TEMP VIEW {STAGED} AS SELECT r.rowid + 1 AS _row, {cols_sql} FROM {_RAW} r")
    db.execute("DROP TABLE IF EXISTS temp.wb_csv_rejects")
    db.execute("DROP TABLE IF EXISTS temp.wb_csv_scans")
    return Staged(columns, fmt, enc, _count(db, _RAW), n_bad, names=names)


# DuckDB's CSV reader says what broke in its own words; say it in the user's, keeping DuckDB's detail.
_CSV_REASON = (
    "CASE CAST(error_type AS VARCHAR) "
    "WHEN 'TOO MANY COLUMNS' THEN 'the row has more fields than the header (a value with an unquoted comma?): ' "
    "|| error_message "
    "WHEN 'MISSING COLUMNS' THEN 'the row has fewer fields than the header (a line break inside a value?): ' "
    "|| error_message "
    "WHEN 'INVALID ENCODING' THEN 'the row is not valid text in the file''s encoding (try --encoding gbk)' "
    "WHEN 'UNQUOTED VALUE' THEN 'a quote inside a value that is not quoted: ' || error_message "
    "ELSE error_message END"
)


def _count(db: DuckDBEngine, table: str) -> int:
    return int(db.scalar(f"SELECT count(*) FROM {table}") or 0)


def _reason(exc: EngineError) -> str:
    """The backend's own first line (what the reader said), without the engine's prefix."""
    text = str(exc.__cause__ or exc.message).strip()
    return text.splitlines()[0] if text else exc.message


# ----------------------------------------------------------------------------------------------- Parquet
def _stage_parquet(db: DuckDBEngine, path: Path) -> Staged:
    try:
        desc = db.fetchall(f"DESCRIBE SELECT * FROM read_parquet({lit(str(path))})")
    except EngineError as exc:
        raise InputError(
            _("{file} cannot be read as Parquet: {reason}", file=path.name, reason=_reason(exc)),
            hint=_("Check that the file is a complete Parquet file."),
        ) from exc
    cols = [(str(r[0]), str(r[1])) for r in desc]
    if len(cols) > MAX_COLUMNS:
        raise InputError(
            _(
                "{file} has {n_cols:,} columns; winback reads at most {limit:,}",
                file=path.name,
                n_cols=len(cols),
                limit=MAX_COLUMNS,
            ),
            hint=_("Write only the columns you need to the Parquet file and import again."),
        )
    names = staged_names([n for n, _ in cols])
    body = ", ".join(q(n) for n in names.values())
    renamed = ", ".join(q(n) for n in names.values())
    if "file_row_number" in names:  # the reader's row number would clash: number the rows of a copy instead
        db.execute(f"CREATE TEMP TABLE {_RAW} AS SELECT * FROM read_parquet({lit(str(path))}) AS t({renamed})")
        db.execute(f"CREATE TEMP VIEW {STAGED} AS SELECT rowid + 1 AS _row, {body} FROM {_RAW}")
    else:
        src = f"read_parquet({lit(str(path))}, file_row_number = true) AS t({renamed}, _file_row)"
        db.execute(f"CREATE TEMP VIEW {STAGED} AS SELECT _file_row + 1 AS _row, {body} FROM {src}")
    _empty_rejects(db)
    rows = int(db.scalar(f"SELECT sum(num_rows) FROM parquet_file_metadata({lit(str(path))})") or 0)
    return Staged([n for n, _ in cols], "parquet", None, rows, 0, types=dict(cols), names=names)


# ----------------------------------------------------------------------------------------------- Excel
def _stage_excel(db: DuckDBEngine, path: Path, fmt: str, sheet: str | None, on_rows: Progress | None) -> Staged:
    """An .xlsx/.xlsm/.xls sheet read by calamine (`ingest/excel.py`, bounded) and registered as the staging
    relation; empty rows are left out (their row numbers are not reused)."""
    from winback.ingest import excel  # pyarrow and calamine: imported only for a workbook

    read = excel.read_sheet(path, sheet)
    names = staged_names(read.headers)
    db.execute(f"CREATE TEMP TABLE {_RAW} (_row BIGINT, " + ", ".join(f"{q(n)} VARCHAR" for n in names.values()) + ")")
    with db.registered("wb_excel_sheet", read.table):
        db.execute(f"INSERT INTO {_RAW} SELECT * FROM wb_excel_sheet")
    if on_rows:
        on_rows(read.table.num_rows)
    db.execute(f"CREATE TEMP VIEW {STAGED} AS SELECT * FROM {_RAW}")
    _empty_rejects(db)
    return Staged(read.headers, fmt, None, read.table.num_rows, 0, names=names)
