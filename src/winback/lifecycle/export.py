"""Writing member lists to xlsx, csv or parquet (phones are already masked by `views.list_members`)."""

from __future__ import annotations

import datetime as dt
import decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from winback.errors import InputError

FORMATS = ("xlsx", "csv", "parquet")


def export_table(table: pa.Table, path: Path) -> str:
    """Write `table` in the format named by the file's extension; returns the format."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            f"cannot export to {path.name!r}: unknown extension {path.suffix or '(none)'}",
            hint="Use a file name ending in .xlsx, .csv or .parquet.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        # UTF-8 with BOM so that Excel on Chinese Windows opens the names correctly
        with path.open("wb") as fh:
            fh.write("\ufeff".encode())
            pacsv.write_csv(table, fh)
    else:
        _write_xlsx(table, path)
    return fmt


def _cell(v: object) -> object:
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def _write_xlsx(table: pa.Table, path: Path) -> None:
    from openpyxl import Workbook

    if table.num_rows > 1_048_575:
        raise InputError(
            f"{table.num_rows:,} members do not fit on one Excel sheet (1,048,575 rows)",
            hint="Export to .csv or .parquet, or narrow the list with --segment / --store.",
        )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("members")
    ws.append(table.column_names)
    for batch in table.to_batches(max_chunksize=10_000):
        cols = [c.to_pylist() for c in batch.columns]
        for row in zip(*cols, strict=True):
            ws.append([_cell(v) for v in row])
    wb.save(path)
