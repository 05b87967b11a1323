"""What the warehouse holds."""

from __future__ import annotations

from typing import Any

import duckdb

from winback.warehouse.migrate import current_version


def warehouse_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    kinds = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"
    ).fetchall()
    names = [n for n, kind in kinds if kind == "BASE TABLE"]
    counts = {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}  # type: ignore[index]
    views = [n for n, kind in kinds if kind == "VIEW"]
    cols = ["import_id", "kind", "file", "encoding", "date_format", "finished_at", "rows_in", "rows_loaded",
            "rows_rejected", "rows_duplicate"]  # fmt: skip
    last = con.execute(f"SELECT {', '.join(cols)} FROM imports ORDER BY import_id DESC LIMIT 10").fetchall()
    return {
        "schema_version": current_version(con),
        "tables": counts,
        "views": views,  # computed when read (member_segments: from member_snapshot and the rules), not counted here
        "last_imports": [dict(zip(cols, r, strict=True)) for r in last],
    }
