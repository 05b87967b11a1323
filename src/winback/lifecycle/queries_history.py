"""`refresh --history`'s one pass over the orders on the engine (DuckDB or Spark), written into the warehouse's
member_facts, and each date's per-member statistics on the warehouse from those facts as integers
(history_sql.py builds the SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.lifecycle import history_sql as h
from winback.lifecycle import queries
from winback.lifecycle import snapshot_sql as q

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.lifecycle.cycle import CycleSettings


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


def create_rows(db: DuckDBEngine) -> HistoryStats:
    """KEYS and ROWS (history_sql) from the history's member_facts, once per run: every date's BASE then filters
    integers (no string column is read or grouped per date); what reads them. Dropped by `drop_rows`."""
    db.execute(f"CREATE OR REPLACE TEMP TABLE {h.KEYS} AS {h.keys_sql()}")
    db.execute(f"CREATE OR REPLACE TEMP TABLE {h.ROWS} AS {h.rows_sql()}")
    return HistoryStats()


def drop_rows(db: DuckDBEngine) -> None:
    for name in h.ROW_TABLES:
        db.execute(f"DROP TABLE IF EXISTS {name}")


class HistoryStats:
    """A history date's BASE and cohort priors from ROWS (refresh._compute's `stats`): the same rows and values
    as from the stored facts (queries.create_base, create_prior; tests/lifecycle/test_history.py), the cohorts
    grouped by integer ids and named once per date's few thousand priors."""

    def create_base(self, db: DuckDBEngine, as_of: dt.date) -> None:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {q.BASE} AS {h.base_at_sql(as_of)}")

    def create_prior(self, db: DuckDBEngine, cycle: CycleSettings) -> None:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {h.PRIOR_IDS} AS {q.prior_sql(cycle)}")
        db.execute(f"CREATE OR REPLACE TEMP TABLE {q.PRIOR} AS {h.named_prior_sql()}")
