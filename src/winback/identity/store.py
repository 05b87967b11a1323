"""Warehouse side of identity resolution: what the model reads, the runs, pairs and clusters it writes, and the
scratch DuckDB database splink works in. Merging and undoing live in `store_merge`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from winback.engine.duckdb_engine import DuckDBEngine
from winback.identity.survivor import Candidate
from winback.warehouse import till_orders

if TYPE_CHECKING:
    from winback.identity.planted import Planted

# One row per member not merged away. Phones count only when the ingest marked them valid; names lose spaces
# and case; placeholder phones/WeChat ids are recognised by how many records share them (phone_n, wechat_n).
FEATURES_SQL = """
WITH base AS (
    SELECT
        member_id,
        CASE WHEN phone_status IN ('mobile', 'landline') THEN nullif(trim(phone), '') END AS phone,
        nullif(lower(regexp_replace(trim(coalesce(name, '')), '\\s+', '', 'g')), '') AS name,
        strftime(birthday, '%Y-%m-%d') AS birthday,
        nullif(trim(coalesce(wechat_id, '')), '') AS wechat_id,
        coalesce(store_id, register_store) AS store_id
    FROM members
    WHERE merged_into IS NULL
)
SELECT
    member_id, phone, name, birthday, wechat_id, store_id,
    CASE WHEN phone IS NULL THEN 0 ELSE count(*) OVER (PARTITION BY phone) END AS phone_n,
    CASE WHEN wechat_id IS NULL THEN 0 ELSE count(*) OVER (PARTITION BY wechat_id) END AS wechat_n
FROM base
ORDER BY member_id
"""


def value(db: DuckDBEngine, sql: str, params: list[Any] | None = None) -> Any:
    """The first value of the first row, or None. Fetches the whole result: DuckDB 2 refuses the relational API
    (which `query` and splink use) while a result is only partly fetched, as `fetchone`/`scalar` leave it."""
    rows = db.fetchall(sql, params)
    return rows[0][0] if rows else None


def member_features(db: DuckDBEngine) -> pa.Table:
    return db.query(FEATURES_SQL)


def _ids(member_ids: list[str]) -> pa.Table:
    return pa.table({"member_id": pa.array(member_ids, pa.string())})


def candidates(db: DuckDBEngine, member_ids: list[str]) -> dict[str, Candidate]:
    """What the survivor rule needs for each member: source, orders owned now, registration date."""
    if not member_ids:
        return {}
    with db.registered("_wb_ids", _ids(member_ids)):
        rows = db.fetchall(
            """
            SELECT m.member_id, m.source, m.register_date,
                   (SELECT count(*) FROM orders o WHERE o.member_id = m.member_id AND o.status IN ('paid', 'refunded'))
            FROM members m JOIN _wb_ids USING (member_id)
            """
        )
    return {r[0]: Candidate(member_id=r[0], source=r[1], orders=int(r[3]), register_date=r[2]) for r in rows}


def save_run(
    db: DuckDBEngine,
    *,
    threshold: float,
    seed: int,
    members: int,
    pairs: pa.Table,
    clusters: list[tuple[str, str, bool]],
    seconds: float,
    model: dict[str, Any],
) -> int:
    """Store one dedupe run: its pairs and its clusters (cluster_id, member_id, is_survivor). Returns run_id."""
    n_clusters = len({c for c, _, _ in clusters})
    n_dupes = sum(1 for _, _, s in clusters if not s)
    with db.transaction():
        run_id = int(value(db, "SELECT nextval('identity_run_seq')"))
        db.execute(
            "INSERT INTO identity_runs VALUES (?, current_timestamp::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, threshold, seed, members, pairs.num_rows, n_clusters, n_dupes, seconds, json.dumps(model)],
        )
        with db.registered("_wb_pairs", pairs):
            db.execute(
                "INSERT INTO identity_pairs SELECT ?, member_id_l, member_id_r, match_probability, match_weight, "
                "match_key FROM _wb_pairs",
                [run_id],
            )
        if clusters:
            cl = pa.table(
                {
                    "cluster_id": pa.array([c for c, _, _ in clusters], pa.string()),
                    "member_id": pa.array([m for _, m, _ in clusters], pa.string()),
                    "is_survivor": pa.array([s for _, _, s in clusters], pa.bool_()),
                }
            )
            with db.registered("_wb_clusters", cl):
                db.execute(
                    "INSERT INTO identity_clusters SELECT ?, cluster_id, member_id, is_survivor FROM _wb_clusters",
                    [run_id],
                )
    return run_id


def latest_run_id(db: DuckDBEngine) -> int | None:
    run = value(db, "SELECT max(run_id) FROM identity_runs")
    return None if run is None else int(run)


def member_samples(db: DuckDBEngine, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Display fields of some members (name, phone, source, store) for the report sample."""
    if not member_ids:
        return {}
    with db.registered("_wb_ids", _ids(member_ids)):
        rows = db.fetchall(
            "SELECT m.member_id, m.name, m.phone, m.phone_raw, m.source, coalesce(m.store_id, m.register_store), "
            "m.birthday FROM members m JOIN _wb_ids USING (member_id)"
        )
    return {
        r[0]: {"name": r[1], "phone": r[2] or r[3], "source": r[4], "store_id": r[5], "birthday": r[6]} for r in rows
    }


def insert_planted(db: DuckDBEngine, planted: Planted) -> None:
    """Insert planted members and orders (`identity.planted.generate`) into an (empty) warehouse via Arrow."""
    with db.registered("_wb_planted_m", pa.Table.from_pylist(planted.members)):
        db.execute(
            "INSERT INTO members (member_id, name, birthday, phone_raw, phone, phone_status, wechat_id, "
            "register_date, register_store, store_id, source) SELECT member_id, name, birthday, "
            "replace(phone, '+86', ''), phone, phone_status, wechat_id, register_date, store_id, store_id, source "
            "FROM _wb_planted_m"
        )
    if planted.orders:
        with db.registered("_wb_planted_o", pa.Table.from_pylist(planted.orders)):
            db.execute(
                "INSERT INTO orders (order_id, member_id, source_member_id, store_id, ordered_at, amount, status) "
                "SELECT order_id, member_id, member_id, store_id, ordered_at, amount::DECIMAL(18,2), status "
                "FROM _wb_planted_o"
            )
            till_orders.sync(db.con, "o.order_id IN (SELECT order_id FROM _wb_planted_o)")


# -- the scratch database splink works in (in memory: splink's own tables never touch the warehouse) -------------
@contextmanager
def scratch() -> Iterator[DuckDBEngine]:
    """A fresh in-memory DuckDB for one scoring run, closed afterwards."""
    engine = DuckDBEngine(duckdb.connect(":memory:"))
    try:
        yield engine
    finally:
        engine.close()


def splink_input(engine: DuckDBEngine, features: pa.Table, name: str) -> Any:
    """`features` readable as `name` in the scratch database, and splink's handle on it (a SplinkDataFrame over
    that table, the same one `DuckDBAPI.register(features, table_name=name)` would make)."""
    from splink import DuckDBAPI

    engine.register(name, features)
    return DuckDBAPI(connection=engine.con).register(name, table_name=name)


def near_certain_pairs(engine: DuckDBEngine, table: str, *, max_shared: int) -> int:
    """Pairs of `table` with the same phone and name, or the same WeChat id (placeholders left out)."""
    return int(
        value(
            engine,
            f"""
            SELECT count(*) FROM (
                SELECT l.member_id, r.member_id FROM {table} l JOIN {table} r
                  ON l.phone = r.phone AND l.phone_n <= {max_shared} AND l.name = r.name
                 AND l.member_id < r.member_id
                UNION
                SELECT l.member_id, r.member_id FROM {table} l JOIN {table} r
                  ON l.wechat_id = r.wechat_id AND l.wechat_n <= {max_shared} AND l.member_id < r.member_id
            )
            """,
        )
    )


def pairs_meeting(engine: DuckDBEngine, table: str, condition: str) -> int:
    """Pairs of `table` a training rule (an SQL condition over l and r) would yield."""
    count = value(engine, f"SELECT count(*) FROM {table} l JOIN {table} r ON {condition} AND l.member_id < r.member_id")
    return int(count or 0)


def scored_pairs(engine: DuckDBEngine, predictions: str) -> pa.Table:
    """splink's predictions table as member_id_l, member_id_r, match_probability, match_weight, match_key."""
    return engine.query(
        "SELECT member_id_l, member_id_r, match_probability::DOUBLE AS match_probability, "
        "match_weight::DOUBLE AS match_weight, match_key::VARCHAR AS match_key "
        f"FROM {predictions} ORDER BY member_id_l, member_id_r"
    )
