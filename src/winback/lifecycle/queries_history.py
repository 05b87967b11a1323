"""`refresh --history`'s one pass over the orders on the engine (DuckDB or Spark), written into the warehouse's
member_facts (history_sql.py builds the SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.lifecycle import history_sql as h

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine


def history_facts(engine: Engine, db: DuckDBEngine, dates: Sequence[dt.date]) -> int:
    """member_facts := every member's facts at every one of `dates`, only the rows that change (call inside the
    refresh's transaction; every stored fact row goes first: the caller checked no other date needs them)."""
    db.execute("DELETE FROM member_facts")
    return engine.insert_into_warehouse(db, "member_facts", h.HISTORY_COLUMNS, h.history_facts_sql(dates))
