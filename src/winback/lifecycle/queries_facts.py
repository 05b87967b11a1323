"""The refresh's passes over orders on the engine (DuckDB or Spark): every member's facts (a full rebuild), or
only the changed members' (the incremental path), copied into the warehouse's temporary tables.

This is the only part of a refresh that reads orders; everything after it runs on the warehouse over
`member_facts` (store_facts.py), so the two engines give the same snapshot by construction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from winback.lifecycle import facts_sql as f

if TYPE_CHECKING:
    import pyarrow as pa

    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine

DELTA_COLUMNS = ("kind", *f.FACT_COLUMNS, "present")


def _temp_facts(db: DuckDBEngine, name: str, delta: bool = False) -> None:
    cols = f"kind VARCHAR, {f.fact_columns_ddl()}, present BOOLEAN" if delta else f.fact_columns_ddl()
    db.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({cols})")


def full_facts(engine: Engine, db: DuckDBEngine, as_of: dt.date, origin: dt.date | None) -> int:
    """Every member's facts at `as_of` (one pass over orders on the engine) into the warehouse's temp FACTS."""
    _temp_facts(db, f.FACTS)
    return engine.insert_into_warehouse(db, f.FACTS, f.FACT_COLUMNS, f.facts_sql(as_of, origin))


def insert_facts(
    engine: Engine, db: DuckDBEngine, as_of: dt.date, origin: dt.date | None, until: dt.date | None
) -> int:
    """Every member's facts at `as_of` straight into member_facts as rows [as_of, until) (nothing stored covers
    as_of): the orders pass is written once, with no temporary copy."""
    nxt = f"DATE '{until.isoformat()}'" if until else "CAST(NULL AS DATE)"
    rest = ", ".join(f"x.{c}" for c in f.FACT_COLUMNS[1:])
    sql = f"SELECT x.member_id, DATE '{as_of.isoformat()}', {nxt}, {rest} FROM ({f.facts_sql(as_of, origin)}) x"
    cols = ("member_id", "valid_from", "valid_to", *f.FACT_COLUMNS[1:])
    return engine.insert_into_warehouse(db, "member_facts", cols, sql)


def changed_facts(
    engine: Engine,
    db: DuckDBEngine,
    *,
    since: dt.date,
    as_of: dt.date,
    import_id: int,
    merge_members: pa.Table,
    status_orders: pa.Table,
) -> int:
    """The members whose facts may have changed since the snapshot at `since` (built after import `import_id`),
    and per member either their full facts or the increments of their new orders, into the warehouse's temp
    DELTA. Returns how many members were looked at."""
    engine.register(f.MERGE_MEMBERS, merge_members)
    engine.register(f.STATUS_ORDERS, status_orders)
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {f.CHANGED} AS {f.changed_members_sql(since, as_of, import_id)}")
    engine.execute(f"CREATE OR REPLACE TEMP TABLE {f.COMPLEX} AS SELECT member_id FROM {f.CHANGED} WHERE hard = 1")
    _temp_facts(db, f.DELTA, delta=True)
    full = f.facts_sql(as_of, None, only=f.COMPLEX)
    hard = engine.fetchall(f"SELECT count(*) FROM {f.COMPLEX}")
    if not (hard and hard[0][0]):  # nobody to recompute in full: no pass over all orders for them
        full += " AND false"
    engine.insert_into_warehouse(db, f.DELTA, DELTA_COLUMNS, f.delta_sql(since, as_of).replace("{full}", full))
    db.execute(f"CREATE OR REPLACE TEMP TABLE {f.CURRENT} AS {f.current_sql(f.DELTA)}")
    orphans = db.query(f.orphans_sql(f.DELTA))
    if orphans.num_rows:  # present now, absent at `since`: their earlier orders count too
        ids = orphans.select(["member_id"])
        with db.registered("wb_lc_orphans_w", ids):
            db.execute(
                f"DELETE FROM {f.DELTA} WHERE kind = 'add' AND member_id IN (SELECT member_id FROM wb_lc_orphans_w)"
            )
        with engine.registered("wb_lc_orphans", ids):
            engine.insert_into_warehouse(
                db,
                f.DELTA,
                DELTA_COLUMNS,
                f"SELECT 'full' AS kind, {', '.join('x.' + c for c in f.FACT_COLUMNS)}, TRUE AS present "
                f"FROM ({f.facts_sql(as_of, None, only='wb_lc_orphans')}) x",
            )
    row = engine.fetchall(f"SELECT count(*) FROM {f.CHANGED}")
    return int(row[0][0]) if row else 0


def drop(engine: Engine) -> None:
    """The engine's temporary tables and registered tables of the incremental path (those that exist)."""
    import contextlib

    from winback.errors import EngineError

    for name in (f.CHANGED, f.COMPLEX):
        with contextlib.suppress(EngineError):
            engine.execute(f"DROP TABLE IF EXISTS {name}")
    for name in (f.MERGE_MEMBERS, f.STATUS_ORDERS):
        with contextlib.suppress(Exception):
            engine.unregister(name)
