"""`refresh --history`'s one pass over the orders on the engine (DuckDB or Spark), written into the warehouse's
member_facts (history_sql.py builds the SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.lifecycle import history_sql as h
from winback.lifecycle import queries

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine


def history_facts(engine: Engine, db: DuckDBEngine, dates: Sequence[dt.date]) -> int:
    """member_facts := every member's facts at every one of `dates`, only the rows that change (call inside the
    refresh's transaction; every stored fact row goes first: the caller checked no other date needs them).
    Purchase days per bucket from bitmaps where the engine has them and no bucket is longer than they hold."""
    db.execute("DELETE FROM member_facts")
    bitmap = engine.dialect.purchase_day_bitmaps and h.bitmap_fits(dates, queries.bitmap_origin(engine, max(dates)))
    return engine.insert_into_warehouse(db, "member_facts", h.HISTORY_COLUMNS, h.history_facts_sql(dates, bitmap))


def member_counts(db: DuckDBEngine, dates: Sequence[dt.date]) -> dict[dt.date, int]:
    """The members at each of `dates` (the fact rows valid there: opened on or before it, not closed on or before
    it), from one GROUP BY over member_facts instead of a count per date."""
    rows = db.fetchall(
        "SELECT d, sum(n) FROM (SELECT valid_from AS d, 1 AS n FROM member_facts UNION ALL "
        "SELECT valid_to, -1 FROM member_facts WHERE valid_to IS NOT NULL) GROUP BY d ORDER BY d"
    )
    out, running, i = {}, 0, 0
    for d in sorted(dates):
        while i < len(rows) and rows[i][0] <= d:
            running += int(rows[i][1])
            i += 1
        out[d] = running
    return out
