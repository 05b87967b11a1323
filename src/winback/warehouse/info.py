"""What the warehouse holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from winback.warehouse.migrate import current_version

_IMPORT_COLUMNS = ("import_id", "kind", "file", "encoding", "date_format", "finished_at", "rows_in", "rows_loaded",
                   "rows_rejected", "rows_duplicate")  # fmt: skip


@dataclass(frozen=True)
class WarehouseInfo:
    schema_version: int
    tables: dict[str, int]  # base table -> rows
    views: list[str]  # computed when read (member_segments: from member_snapshot and the rules), not counted
    last_imports: list[dict[str, Any]]  # the 10 newest, newest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "tables": self.tables,
            "views": self.views,
            "last_imports": self.last_imports,
        }


def warehouse_info(con: duckdb.DuckDBPyConnection) -> WarehouseInfo:
    kinds = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
    ).fetchall()
    names = [n for n, kind in kinds if kind == "BASE TABLE"]
    counts = {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}  # type: ignore[index]
    last = con.execute(f"SELECT {', '.join(_IMPORT_COLUMNS)} FROM imports ORDER BY import_id DESC LIMIT 10").fetchall()
    return WarehouseInfo(
        schema_version=current_version(con),
        tables=counts,
        views=[n for n, kind in kinds if kind == "VIEW"],
        last_imports=[dict(zip(_IMPORT_COLUMNS, r, strict=True)) for r in last],
    )
