"""Master data (members, stores, staff): keyed upserts where newer non-empty values update the record.

Rules (docs/import.md): rows that repeat a key inside one file are folded into one record, later non-empty
values winning, and the extra rows count as duplicates; where they disagree on a non-empty value, every such value
goes to `import_conflicts` (and the first keys to the import's output). A record that is new is inserted; one
that exists is updated only with the non-empty values that differ (that row counts as loaded and updated); one
that would not change counts as a duplicate. `extra` JSON objects are merged key by key.
"""

from __future__ import annotations

from dataclasses import dataclass

from winback.engine.duckdb_engine import DuckDBEngine
from winback.i18n import _
from winback.ingest.aliases import ColumnMapping
from winback.ingest.plan import Apply, Plan, scalar, write_rejects
from winback.ingest.sqltext import lit, q
from winback.ingest.validate import PARSED

FOLD = "wb_fold"
CONFLICTS = "wb_conflicts"
INCOMING = "wb_incoming"
PLANNED = "wb_planned"
_MOBILE_RE = "1\\d{10}"


@dataclass(frozen=True)
class MasterSpec:
    table: str
    key: str
    columns: tuple[str, ...]  # target columns other than key/extra/import_id/updated_at
    has_phone_status: bool = False


SPECS = {
    "members": MasterSpec(
        "members",
        "member_id",
        (
            "name",
            "gender",
            "birthday",
            "phone_raw",
            "phone",
            "phone_status",
            "wechat_id",
            "email",
            "register_date",
            "register_channel",
            "register_store",
            "store_id",
            "guide_id",
            "tier",
            "points",
            "consent_sms",
            "consent_wechat",
            "consent_email",
            "consent_call",
            "opted_out_at",
            "source",
        ),
        has_phone_status=True,
    ),
    "stores": MasterSpec(
        "stores",
        "store_id",
        ("name", "city", "region", "address", "latitude", "longitude", "opened_at", "closed_at"),
    ),
    "staff": MasterSpec("staff", "guide_id", ("name", "store_id", "role", "phone", "wechat_id", "hired_at", "left_at")),
}


def register_phone_lookups(db: DuckDBEngine, table: str, norm_col: str) -> None:
    """Classify each distinct phone of `table.norm_col` (prefix cache for CN mobiles) into two lookup tables."""
    import pyarrow as pa  # here, not at the top: an import of orders needs neither pyarrow nor phonenumbers

    from winback.common import phones

    prefixes = [
        r[0]
        for r in db.fetchall(
            f"SELECT DISTINCT substr({norm_col}, 1, 7) FROM {table} WHERE regexp_full_match({norm_col}, '{_MOBILE_RE}')"
        )
    ]
    ok = [phones.mobile_prefix_valid(p) for p in prefixes]
    db.register("wb_phone_prefix", pa.table({"prefix": pa.array(prefixes, pa.string()), "ok": pa.array(ok)}))
    others = [
        r[0]
        for r in db.fetchall(
            f"SELECT DISTINCT {norm_col} FROM {table} WHERE {norm_col} IS NOT NULL "
            f"AND NOT regexp_full_match({norm_col}, '{_MOBILE_RE}')"
        )
    ]
    verdicts = phones.classify_many(others)
    db.register(
        "wb_phone_other",
        pa.table(
            {
                "norm": pa.array(others, pa.string()),
                "e164": pa.array([v[0] for v in verdicts], pa.string()),
                "status": pa.array([v[1] for v in verdicts], pa.string()),
            }
        ),
    )


def phone_sql(raw: str, norm: str) -> tuple[str, str, str]:
    """(join clause, e164 expression, status expression) over the lookups from `register_phone_lookups`."""
    join = (
        f"LEFT JOIN wb_phone_prefix pp ON regexp_full_match({norm}, '{_MOBILE_RE}') "
        f"AND pp.prefix = substr({norm}, 1, 7) "
        f"LEFT JOIN wb_phone_other po ON po.norm = {norm}"
    )
    e164 = f"CASE WHEN pp.ok THEN '+86' || {norm} WHEN pp.prefix IS NULL THEN po.e164 END"
    status = (
        f"CASE WHEN {raw} IS NULL THEN 'missing' WHEN {norm} IS NULL THEN 'invalid' "
        f"WHEN pp.prefix IS NOT NULL THEN CASE WHEN pp.ok THEN 'mobile' ELSE 'invalid' END "
        f"ELSE coalesce(po.status, 'invalid') END"
    )
    return join, e164, status


def plan_master(db: DuckDBEngine, kind: str, mapping: ColumnMapping, source: str | None) -> Plan:
    spec = SPECS[kind]
    present = set(mapping.fields)
    parsed_cols = [c for c in _parsed_columns(kind, present) if c not in ("member_id",)]
    _fold(db, kind, spec, present, parsed_cols)
    conflicts = _conflicts(db, kind, spec, present, parsed_cols)
    sel = _incoming(db, kind, spec, present, parsed_cols, source)
    # compare with what the warehouse holds
    skip = ("phone", "phone_status") if kind == "members" else ()
    compare = [c for c in spec.columns if sel[c] != "NULL" and c not in skip]
    _planned(db, spec, compare)
    plan = _counted(db, spec)
    plan.conflicts = conflicts
    plan.apply = _applier(kind, spec, present, compare, bool(conflicts))
    return plan


def _key_expr(kind: str, spec: MasterSpec, present: set[str]) -> str:
    if kind == "members":
        return "member_id" if "member_id" in present else "'wx:' || wechat_id"
    return spec.key


def _conflicts(db: DuckDBEngine, kind: str, spec: MasterSpec, present: set[str], parsed_cols: list[str]) -> int:
    """CONFLICTS (_key, field, _row, value, kept): every non-empty value of a field on which the rows repeating a
    key disagree (a phone compared as its digits); kept marks the value the fold keeps (the last one). Returns how
    many keys disagree."""
    if not scalar(db, f"SELECT count(*) FROM {FOLD} WHERE _n > 1"):
        return 0
    fields = {("phone" if c == "phone_norm" else c): c for c in parsed_cols if c not in (spec.key, "phone_raw")}
    if not fields:
        return 0
    cols = ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(f)}" for f, c in fields.items())
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {CONFLICTS} AS WITH v AS (SELECT _key, _row, field, value FROM "
        f"(SELECT {_key_expr(kind, spec, present)} AS _key, _row, {cols} FROM {PARSED} WHERE _err IS NULL "
        f"AND {_key_expr(kind, spec, present)} IN (SELECT _key FROM {FOLD} WHERE _n > 1)) "
        f"UNPIVOT (value FOR field IN ({', '.join(q(f) for f in fields)}))), "
        "c AS (SELECT _key, field, max(_row) AS last FROM v GROUP BY _key, field HAVING count(DISTINCT value) > 1) "
        "SELECT v._key, v.field, v._row, v.value, v._row = c.last AS kept FROM v JOIN c USING (_key, field)"
    )
    return scalar(db, f"SELECT count(DISTINCT _key) FROM {CONFLICTS}")


def conflicts_shown(db: DuckDBEngine, limit: int) -> list[tuple[str, str, list[int], list[str], str]]:
    """The first `limit` conflicting keys (in file order): (key, field, rows, values, kept value) per field."""
    return [
        (str(k), str(f), list(rows), list(values), str(kept))
        for k, f, rows, values, kept in db.fetchall(
            f"SELECT _key, field, list(_row ORDER BY _row), list(value ORDER BY _row), "
            f"any_value(value) FILTER (WHERE kept) FROM {CONFLICTS} WHERE _key IN (SELECT _key FROM {CONFLICTS} "
            f"GROUP BY _key ORDER BY min(_row) LIMIT {int(limit)}) GROUP BY _key, field ORDER BY min(_row), field"
        )
    ]


def _fold(db: DuckDBEngine, kind: str, spec: MasterSpec, present: set[str], parsed_cols: list[str]) -> None:
    """FOLD: one row per key of the file, later non-empty values winning, `_n` rows folded into it."""
    key_expr = _key_expr(kind, spec, present)
    aggs = [f"arg_max({q(c)}, _row) FILTER (WHERE {q(c)} IS NOT NULL) AS {q(c)}" for c in parsed_cols if c != spec.key]
    if kind == "members":
        aggs.append("bool_or(_wx) AS _wx")
        wx = "false" if "member_id" in present else "true"
    else:
        wx = "false"
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {FOLD} AS SELECT _key, count(*) AS _n, "
        f"{', '.join([*aggs, 'list(_extra ORDER BY _row) FILTER (WHERE _extra IS NOT NULL) AS _extras'])} "
        f"FROM (SELECT *, {key_expr} AS _key, {wx} AS _wx FROM {PARSED} WHERE _err IS NULL) GROUP BY _key"
    )


def _incoming(
    db: DuckDBEngine, kind: str, spec: MasterSpec, present: set[str], parsed_cols: list[str], source: str | None
) -> dict[str, str]:
    """INCOMING: the folded records in the target table's shape (NULL = "the file says nothing"); returns the
    expression of each target column."""
    sel = {c: "NULL" for c in spec.columns}
    joins = ""
    for c in parsed_cols:
        if c in sel:
            sel[c] = f"f.{q(c)}"
    if kind == "members":
        if "phone" in present:
            register_phone_lookups(db, FOLD, "phone_norm")
            joins, e164, status = phone_sql("f.phone_raw", "f.phone_norm")
            sel["phone_raw"], sel["phone"], sel["phone_status"] = "f.phone_raw", e164, status
        given = lit(source) if source else "NULL"
        col = "f.source" if "source" in present else "NULL"
        sel["source"] = f"coalesce({given}, {col}, CASE WHEN f._wx THEN 'guide_wechat' ELSE 'erp' END)"
    elif kind == "staff" and "phone" in present:
        register_phone_lookups(db, FOLD, "phone_norm")
        joins, e164, _ = phone_sql("f.phone_raw", "f.phone_norm")
        sel["phone"] = e164
    extra = "CASE WHEN len(f._extras) > 0 THEN list_reduce(f._extras, lambda a, b: json_merge_patch(a, b)) END"
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {INCOMING} AS SELECT f._key AS {q(spec.key)}, f._n, "
        + ", ".join(f"{expr} AS {q(c)}" for c, expr in sel.items())
        + f", CAST({extra} AS JSON) AS extra FROM {FOLD} f {joins}"
    )
    return sel


def _planned(db: DuckDBEngine, spec: MasterSpec, compare: list[str]) -> None:
    """PLANNED: each incoming record with its action (insert, update or same) against the warehouse."""
    # `extra` as JSON text depends on key order (exports order columns differently, json_merge_patch moves keys):
    # compare its sorted entries, so a member whose extra values are all the same counts as a duplicate
    merged = "json_merge_patch(coalesce(e.extra, '{}'), n.extra)"
    changed = " OR ".join(
        [f"(n.{q(c)} IS NOT NULL AND n.{q(c)} IS DISTINCT FROM e.{q(c)})" for c in compare if c != "source"]
        + [f"(n.extra IS NOT NULL AND {_entries(merged)} IS DISTINCT FROM {_entries('e.extra')})"]
    )
    db.execute(
        f"CREATE OR REPLACE TEMP TABLE {PLANNED} AS SELECT n.*, CASE WHEN e.{q(spec.key)} IS NULL THEN 'insert' "
        f"WHEN {changed} THEN 'update' ELSE 'same' END AS _action "
        f"FROM {INCOMING} n LEFT JOIN {spec.table} e ON e.{q(spec.key)} = n.{q(spec.key)}"
    )


def _counted(db: DuckDBEngine, spec: MasterSpec) -> Plan:
    counts = dict(db.fetchall(f"SELECT _action, count(*) FROM {PLANNED} GROUP BY _action"))  # type: ignore[arg-type]
    folded = scalar(db, f"SELECT coalesce(sum(_n - 1), 0) FROM {PLANNED}")
    plan = Plan(
        rows_loaded=int(counts.get("insert", 0)) + int(counts.get("update", 0)),
        rows_updated=int(counts.get("update", 0)),
        rows_duplicate=int(counts.get("same", 0)) + folded,
    )
    if folded:
        plan.notes.append(
            _("{n:,} rows repeated a {key} already in the file and were folded into it", n=folded, key=spec.key)
        )
    return plan


def _applier(kind: str, spec: MasterSpec, present: set[str], compare: list[str], conflicts: bool) -> Apply:
    """The writes of the plan (inserts, updates of changed records, conflicts, rejects), run in the caller's
    transaction."""

    def apply(c: DuckDBEngine, import_id: int) -> None:
        cols = [spec.key, *spec.columns, "extra"]
        ins = [q(x) for x in cols]
        vals = [q(x) for x in cols]
        if kind == "members":
            vals[ins.index('"phone_status"')] = "coalesce(phone_status, 'missing')"
            vals[ins.index('"store_id"')] = "coalesce(store_id, register_store)"
        c.execute(
            f"INSERT INTO {spec.table} ({', '.join(ins)}, import_id, updated_at) "
            f"SELECT {', '.join(vals)}, {import_id}, current_timestamp::TIMESTAMP FROM {PLANNED} "
            "WHERE _action = 'insert'"
        )
        sets = [f"{q(x)} = coalesce(p.{q(x)}, t.{q(x)})" for x in compare if x != "source"]
        if kind == "members" and "phone" in present:
            sets.append("phone = CASE WHEN p.phone_raw IS NOT NULL THEN p.phone ELSE t.phone END")
            sets.append("phone_status = CASE WHEN p.phone_raw IS NOT NULL THEN p.phone_status ELSE t.phone_status END")
        sets.append(
            "extra = CASE WHEN p.extra IS NULL THEN t.extra ELSE json_merge_patch(coalesce(t.extra, '{}'), p.extra) END"
        )
        sets += [f"import_id = {import_id}", "updated_at = current_timestamp::TIMESTAMP"]
        c.execute(
            f"UPDATE {spec.table} AS t SET {', '.join(sets)} FROM {PLANNED} p "
            f"WHERE t.{q(spec.key)} = p.{q(spec.key)} AND p._action = 'update'"
        )
        if conflicts:
            c.execute(
                "INSERT INTO import_conflicts (import_id, kind, key, field, row_number, value, kept) "
                f"SELECT {import_id}, {lit(kind)}, _key, field, _row, value, kept FROM {CONFLICTS} "
                "ORDER BY _key, field, _row"
            )
        write_rejects(c, import_id)

    return apply


def _entries(extra: str) -> str:
    """A JSON object's (key, value) entries sorted by key: equal exactly when the objects are equal as objects."""
    return f"list_sort(map_entries(CAST({extra} AS MAP(VARCHAR, JSON))))"


def _parsed_columns(kind: str, present: set[str]) -> list[str]:
    """Columns of wb_parsed that carry mapped fields (phone becomes phone_raw + phone_norm)."""
    out: list[str] = []
    for f in present:
        if f == "phone":
            out += ["phone_raw", "phone_norm"]
        else:
            out.append(f)
    return out
