"""What the warehouse holds."""

from __future__ import annotations

from typing import Any

import duckdb

from winback.warehouse.migrate import current_version


def warehouse_info(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    names = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    ]
    counts = {n: int(con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}  # type: ignore[index]
    return {"schema_version": current_version(con), "tables": counts}
