"""The refresh's analytic SQL, run on the engine (DuckDB or Spark): the per-member temporary tables and the compact
statistics pulled back to Python for the model fits and the quintile breakpoints.

The SQL text is built by `snapshot_sql` (pure); this module only runs it. Every function takes the analytic
`engine` first; the warehouse writes are in `store.py`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import TYPE_CHECKING

from winback.errors import EngineError
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings

if TYPE_CHECKING:
    import pyarrow as pa

    from winback.engine.base import Engine


def _day(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _first_value(engine: Engine, sql: str, column: str) -> dt.date | None:
    rows = engine.query(sql).to_pylist()
    return _day(rows[0][column]) if rows else None


def last_order_day(engine: Engine) -> dt.date | None:
    """The day of the last paid or refunded order (None without orders)."""
    return _first_value(engine, q.last_order_sql(), "last_day")


def first_order_day(engine: Engine) -> dt.date | None:
    """The day of the first paid or refunded order (None without orders)."""
    return _first_value(engine, q.first_order_sql(), "d")


def bitmap_origin(engine: Engine, as_of: dt.date) -> dt.date | None:
    """The origin of the purchase-day bitmaps at `as_of` (snapshot_sql.bitmap_origin_sql); None: no order."""
    return _first_value(engine, q.bitmap_origin_sql(as_of), "first_day")


def create_base(engine: Engine, as_of: dt.date) -> None:
    """The per-member statistics table at `as_of` from the stored facts valid at it (the warehouse: member_facts)."""
    from winback.lifecycle.facts_sql import facts_at_sql, stats_base_sql

    engine.execute(f"CREATE OR REPLACE TEMP TABLE {q.BASE} AS {stats_base_sql(facts_at_sql(as_of), as_of)}")


def create_prior(engine: Engine, cycle: CycleSettings) -> None:
    """The cohort priors of the purchase cycle."""
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {q.PRIOR} AS {q.prior_sql(cycle)}")


def purchase_triples(engine: Engine, as_of: dt.date | None = None) -> pa.Table:
    """Unique (x, t_x, T) in days with member counts n (the purchase model's sufficient statistics), from BASE, or
    with `as_of` straight from the stored facts valid at it (no BASE needed yet: a refit starts fitting first)."""
    if as_of is None:
        return engine.query(q.triples_sql())
    from winback.lifecycle.facts_sql import facts_at_sql, stats_base_sql

    return engine.query(q.triples_sql(f"({stats_base_sql(facts_at_sql(as_of), as_of)}) b"))


def gamma_pairs(engine: Engine) -> pa.Table:
    """Unique (x, m = rounded AOV) of repeat buyers with member counts n (Gamma-Gamma's sufficient statistics)."""
    return engine.query(q.gamma_pairs_sql())


def value_counts_base(engine: Engine) -> pa.Table:
    """(k, v, n) for k in r / f / m: the value counts over the purchasers of BASE, in one pass."""
    return engine.query(q.value_counts_at_sql(q.BASE))


def value_counts_at(engine: Engine, as_of: dt.date) -> pa.Table:
    """(k, v, n) for k in r / f / m: value counts over purchasers of the stored facts at `as_of`, in one pass."""
    from winback.lifecycle.facts_sql import facts_at_sql, stats_base_sql

    return engine.query(q.value_counts_at_sql(f"({stats_base_sql(facts_at_sql(as_of), as_of)})"))


def register_predictions(engine: Engine, table: pa.Table) -> None:
    """The per-triple predictions, visible to the snapshot SELECT (dropped by `drop_temps`)."""
    engine.register(q.PRED, table)


def drop_temps(engine: Engine) -> None:
    """Drop the refresh's temporary tables and views (those that exist)."""
    from winback.lifecycle.facts_sql import CURRENT, DELTA, FACTS

    for name in (*q.TEMP_TABLES, FACTS, DELTA, CURRENT):
        with contextlib.suppress(EngineError):
            engine.execute(f"DROP TABLE IF EXISTS {name}")
    with contextlib.suppress(Exception):  # a view that was never registered
        engine.unregister(q.PRED)
