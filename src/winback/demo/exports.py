"""Writers for the demo's export files: UTF-8 and GBK CSV, XLSX and Parquet, appended chunk by chunk.

`Exports` owns the files of one demo run. In the default (mixed) layout it writes what real brands hand over:
stores.csv and staff.csv (UTF-8), members_erp.csv (GBK, Chinese headers), guide_wechat_contacts.xlsx and
orders.parquet. In the Parquet-only layout (for 10M-member benchmarks) members and contacts go to Parquet too.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from winback.demo.xlsx import XlsxWriter

MIXED = "mixed"
PARQUET = "parquet"

STORES = "stores.csv"
STAFF = "staff.csv"
ORDERS = "orders.parquet"
MEMBERS_CSV = "members_erp.csv"
MEMBERS_PARQUET = "members_erp.parquet"
WECHAT_XLSX = "guide_wechat_contacts.xlsx"
WECHAT_PARQUET = "guide_wechat_contacts.parquet"
TRUTH_DIR = "truth"
TRUTH_MEMBERS = "members.parquet"
TRUTH_DUPLICATES = "duplicates.parquet"


DUPLICATES_SCHEMA = pa.schema([("member_id", pa.string()), ("same_person_as", pa.string())])


def csv_bytes(table: pa.Table, header: bool) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=header, quoting_style="needed"))
    return buf.getvalue()


def write_csv(table: pa.Table, path: Path, encoding: str = "utf-8") -> None:
    data = csv_bytes(table, True)
    path.write_bytes(data if encoding == "utf-8" else data.decode("utf-8").encode(encoding))


class CsvAppender:
    """A CSV file written in pieces (header with the first piece), in any encoding Python knows."""

    def __init__(self, path: Path, encoding: str) -> None:
        self.path = path
        self.encoding = encoding
        self._fh = path.open("wb")
        self._first = True

    def write(self, table: pa.Table) -> None:
        data = csv_bytes(table, self._first)
        self._first = False
        self._fh.write(data if self.encoding == "utf-8" else data.decode("utf-8").encode(self.encoding))

    def close(self) -> None:
        self._fh.close()


class ParquetAppender:
    """A Parquet file written row group by row group (bounded memory whatever the total size)."""

    def __init__(self, path: Path, schema: pa.Schema | None = None) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        if schema is not None:
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table.cast(self._writer.schema))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class XlsxAppender:
    """An XLSX workbook with one sheet of text cells, streamed (see `demo.xlsx`)."""

    def __init__(self, path: Path, sheet: str) -> None:
        self.path = path
        self._xlsx = XlsxWriter(path, sheet)
        self._first = True

    def write(self, table: pa.Table) -> None:
        if self._first:
            self._xlsx.write_rows([table.column_names])
            self._first = False
        columns = [c.cast(pa.string()).to_pylist() for c in table.columns]
        self._xlsx.write_rows(zip(*columns, strict=True))

    def close(self) -> None:
        self._xlsx.close()


@dataclass
class Exports:
    out_dir: Path
    layout: str = MIXED
    files: dict[str, Path] = field(default_factory=dict)
    _open: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        (self.out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
        truth = self.out_dir / TRUTH_DIR
        if self.layout == MIXED:
            members: Any = CsvAppender(self.out_dir / MEMBERS_CSV, "gbk")
            wechat: Any = XlsxAppender(self.out_dir / WECHAT_XLSX, "导购微信好友")
        else:
            members = ParquetAppender(self.out_dir / MEMBERS_PARQUET)
            wechat = ParquetAppender(self.out_dir / WECHAT_PARQUET)
        self._open = {
            "members": members,
            "wechat": wechat,
            "orders": ParquetAppender(self.out_dir / ORDERS),
            "truth_members": ParquetAppender(truth / TRUTH_MEMBERS),
            "truth_duplicates": ParquetAppender(truth / TRUTH_DUPLICATES, DUPLICATES_SCHEMA),
        }

    def write_master(self, stores: pa.Table, staff: pa.Table) -> None:
        write_csv(stores, self.out_dir / STORES)
        write_csv(staff, self.out_dir / STAFF)
        self.files["stores"] = self.out_dir / STORES
        self.files["staff"] = self.out_dir / STAFF

    def append(self, name: str, table: pa.Table) -> None:
        self._open[name].write(table)

    def close(self) -> dict[str, Path]:
        for name, appender in self._open.items():
            appender.close()
            self.files[name] = appender.path
        return dict(self.files)
