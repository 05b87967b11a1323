"""The SQL behind `winback quality`: one pass over members with flags, one over orders, grouped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from winback.quality.metrics import CONTACT_SOURCES, PROFILE_FIELDS

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

_KEYS = {
    None: "NULL::VARCHAR",
    "store": "coalesce(m.store_id, m.register_store)",
    "source": "m.source",
    "tier": "m.tier",
}


def latest_dedupe_run(db: DuckDBEngine) -> int | None:
    """The latest `winback dedupe` run, or None when identity resolution never ran (or its table is absent)."""
    has = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'identity_runs'")
    if not has or not has[0][0]:
        return None
    rows = db.fetchall("SELECT max(run_id) FROM identity_runs")
    return None if not rows or rows[0][0] is None else int(rows[0][0])


def contact_sql(alias: str = "m") -> str:
    """SQL: the (unmerged) record is a contact, not a member."""
    return f"coalesce({alias}.source, '') IN ({', '.join(repr(s) for s in CONTACT_SOURCES)})"


def member_counts(
    db: DuckDBEngine, by: str | None, run_id: int | None, *, contacts: bool = False
) -> list[dict[str, Any]]:
    """Aggregate rows over members (or, with `contacts`, over contacts); the row with grouped = 1 is the total, the
    others one per key of `by`."""
    key = _KEYS[by]
    party = contact_sql("m") if contacts else f"NOT {contact_sql('m')}"
    missing = ",\n".join(f"count(*) FILTER (WHERE {cond}) AS missing_{f}" for f, cond in PROFILE_FIELDS.items())
    any_missing = " OR ".join(f"({c})" for c in PROFILE_FIELDS.values())
    dup_join = (
        "LEFT JOIN (SELECT DISTINCT member_id FROM identity_clusters WHERE run_id = ? AND NOT is_survivor) d "
        "ON d.member_id = m.member_id"
        if run_id is not None
        else "LEFT JOIN (SELECT NULL::VARCHAR AS member_id WHERE false) d ON d.member_id = m.member_id"
    )
    # contacts are few: their buyers are found by probing the orders against them, not by listing every buyer
    only_party = f"AND member_id IN (SELECT member_id FROM members m WHERE {party})" if contacts else ""
    sql = f"""
    WITH buyers AS (SELECT DISTINCT member_id FROM orders WHERE status = 'paid' AND member_id IS NOT NULL
                    {only_party}),
    m AS (
        SELECT m.*, {key} AS grp, d.member_id IS NOT NULL AS dup, b.member_id IS NULL AS never
        FROM members m
        {dup_join}
        LEFT JOIN buyers b ON b.member_id = m.member_id
        WHERE m.merged_into IS NULL AND {party}
    )
    SELECT grouping(grp) AS grouped, grp AS key,
        count(*) AS members,
        count(*) FILTER (WHERE phone_status = 'mobile' AND (consent_sms IS TRUE OR consent_call IS TRUE)
                         AND opted_out_at IS NULL) AS contactable,
        count(*) FILTER (WHERE phone_status = 'mobile') AS valid_mobile,
        count(*) FILTER (WHERE phone_status = 'landline') AS landline,
        count(*) FILTER (WHERE phone_status = 'invalid') AS invalid_phone,
        count(*) FILTER (WHERE phone_status = 'missing') AS missing_phone,
        count(*) FILTER (WHERE {any_missing}) AS incomplete_profile,
        count(*) FILTER (WHERE dup) AS suspected_duplicate,
        count(*) FILTER (WHERE never) AS never_purchased,
        {missing}
    FROM m
    GROUP BY GROUPING SETS ((), (grp))
    ORDER BY grouped DESC, key NULLS LAST
    """
    rows = db.dicts(sql, [run_id] if run_id is not None else None)
    if by is None:
        rows = [r for r in rows if r["grouped"] == 1]
    return rows


def order_counts(db: DuckDBEngine, by: str | None) -> dict[str | None, tuple[int, int]]:
    """(orders, orders without a known member) in total (key '__total__') and per store when `by` = store.

    Orders carry a store but no source or tier, so only the store grouping splits them."""
    base = """
        SELECT o.store_id AS grp, count(*) AS orders,
               count(*) FILTER (WHERE o.member_id IS NULL OR m.member_id IS NULL) AS without_member
        FROM orders o LEFT JOIN members m ON m.member_id = o.member_id
    """
    total = db.fetchall(base.replace("o.store_id AS grp, ", ""))[0]
    out: dict[str | None, tuple[int, int]] = {"__total__": (int(total[0]), int(total[1]))}
    if by == "store":
        for grp, n, w in db.fetchall(base + " GROUP BY o.store_id"):
            out[grp] = (int(n), int(w))
    return out
