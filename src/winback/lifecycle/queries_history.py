"""`refresh --history`'s one pass over the orders on the engine (DuckDB or Spark), written into the warehouse's
member_facts, and the statistics of every date carried from one date to the next on the warehouse (history_sql.py
builds the SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.lifecycle import history_sql as h
from winback.lifecycle import queries, store_facts
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.facts_sql import facts_at_sql, stats_base_sql

if TYPE_CHECKING:
    import pyarrow as pa

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


class CarriedStats:
    """The statistics a refresh reads from its per-member BASE, for the history's dates in ascending order, carried
    from date to date (history_sql.STATS): `advance(d)` brings the counts to `d` from the fact rows opened and
    closed since the previous date, the readers give the tables `refresh._compute` wants at `d`. The cohort priors
    (medians) are taken from the facts valid at `d` directly (no per-member table is made)."""

    def __init__(self) -> None:
        self.at: dt.date | None = None
        self.tables: dict[str, str] = {}  # name -> the temp table holding its counts at `at`
        self.step = 0

    def advance(self, db: DuckDBEngine, as_of: dt.date) -> None:
        if self.at is not None and as_of <= self.at:
            raise ValueError(f"CarriedStats.advance: {as_of} is not after {self.at}")
        if self.at is None:  # the first date: every row valid there is "opened"
            a = q.date_lit(as_of)
            opened, closed = f"valid_from <= {a} AND (valid_to IS NULL OR valid_to > {a})", "FALSE"
        else:
            opened, closed = store_facts._moved_since(self.at, as_of)
        db.execute(f"CREATE OR REPLACE TEMP TABLE {h.MOVED} AS {h.moved_sql(opened, closed)}")
        self.step += 1
        for name in h.STATS:  # two tables per name, used in turn: the new counts are made from the old ones
            new, old = f"{name}_{self.step % 2}", self.tables.get(name)
            db.execute(f"CREATE OR REPLACE TEMP TABLE {new} AS {h.carried_counts_sql(name, old)}")
            if old is not None:
                db.execute(f"DROP TABLE {old}")
            self.tables[name] = new
        db.execute(f"DROP TABLE {h.MOVED}")
        self.at = as_of

    def prior(self, db: DuckDBEngine, as_of: dt.date, cycle: CycleSettings) -> None:
        db.execute(f"CREATE OR REPLACE TEMP TABLE {q.PRIOR} AS {q.prior_sql(cycle, source=self._facts(as_of))}")

    @staticmethod
    def _facts(as_of: dt.date) -> str:
        return f"({stats_base_sql(facts_at_sql(as_of), as_of)})"

    def triples(self, db: DuckDBEngine, as_of: dt.date) -> pa.Table:
        return db.query(h.triples_at_sql(self._table("wb_lc_hist_triples", as_of), as_of))

    def pairs(self, db: DuckDBEngine, as_of: dt.date) -> pa.Table:
        return db.query(h.pairs_at_sql(self._table("wb_lc_hist_pairs", as_of)))

    def value_counts(self, db: DuckDBEngine, as_of: dt.date) -> pa.Table:
        return db.query(h.value_counts_carried_sql(self._table("wb_lc_hist_values", as_of), as_of))

    def _table(self, name: str, as_of: dt.date) -> str:
        if self.at != as_of:
            raise ValueError(f"CarriedStats: the counts are at {self.at}, not {as_of}")
        return self.tables[name]

    def drop(self, db: DuckDBEngine) -> None:
        for table in [h.MOVED, *self.tables.values()]:
            db.execute(f"DROP TABLE IF EXISTS {table}")
        self.tables.clear()
