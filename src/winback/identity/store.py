"""Warehouse side of identity resolution: what the model reads, and the runs, pairs and clusters it writes."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pyarrow as pa

from winback.identity.sqlutil import scalar
from winback.identity.survivor import Candidate
from winback.warehouse.registered import registered
from winback.warehouse.transaction import transaction

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


def member_features(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return con.sql(FEATURES_SQL).to_arrow_table()


def candidates(con: duckdb.DuckDBPyConnection, member_ids: list[str]) -> dict[str, Candidate]:
    """What the survivor rule needs for each member: source, orders owned now, registration date."""
    if not member_ids:
        return {}
    with registered(con, "_wb_ids", pa.table({"member_id": pa.array(member_ids, pa.string())})):
        rows = con.execute(
            """
            SELECT m.member_id, m.source, m.register_date,
                   (SELECT count(*) FROM orders o WHERE o.member_id = m.member_id AND o.status <> 'cancelled')
            FROM members m JOIN _wb_ids USING (member_id)
            """
        ).fetchall()
    return {r[0]: Candidate(member_id=r[0], source=r[1], orders=int(r[3]), register_date=r[2]) for r in rows}


def save_run(
    con: duckdb.DuckDBPyConnection,
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
    with transaction(con):
        run_id = int(scalar(con, "SELECT nextval('identity_run_seq')"))
        con.execute(
            "INSERT INTO identity_runs VALUES (?, current_timestamp::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, threshold, seed, members, pairs.num_rows, n_clusters, n_dupes, seconds, json.dumps(model)],
        )
        with registered(con, "_wb_pairs", pairs):
            con.execute(
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
            with registered(con, "_wb_clusters", cl):
                con.execute(
                    "INSERT INTO identity_clusters SELECT ?, cluster_id, member_id, is_survivor FROM _wb_clusters",
                    [run_id],
                )
    return run_id


def latest_run_id(con: duckdb.DuckDBPyConnection) -> int | None:
    row = con.execute("SELECT max(run_id) FROM identity_runs").fetchall()
    return None if not row or row[0][0] is None else int(row[0][0])


def member_samples(con: duckdb.DuckDBPyConnection, member_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Display fields of some members (name, phone, source, store) for the report sample."""
    if not member_ids:
        return {}
    with registered(con, "_wb_ids", pa.table({"member_id": pa.array(member_ids, pa.string())})):
        rows = con.execute(
            "SELECT m.member_id, m.name, m.phone, m.phone_raw, m.source, coalesce(m.store_id, m.register_store), "
            "m.birthday FROM members m JOIN _wb_ids USING (member_id)"
        ).fetchall()
    return {
        r[0]: {"name": r[1], "phone": r[2] or r[3], "source": r[4], "store_id": r[5], "birthday": r[6]} for r in rows
    }
