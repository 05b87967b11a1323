"""Validation: one set-based pass that turns the staging relation into typed rows plus reasons.

Produces the temp table `wb_parsed`: `_row`, one typed column per mapped field, `_extra` (JSON of the columns
winback does not know, and, for master data, of values that could not be read), `_blanked` (fields blanked
that way), `_err` (why the row cannot be loaded, NULL if it can) and `_raw` (the row as read, for rejects).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from winback.ingest import values_sql as V
from winback.ingest.aliases import ColumnMapping
from winback.ingest.fields import MASTER_KINDS, Field, fields_of
from winback.ingest.readers import STAGED
from winback.ingest.sqltext import lit, q

PARSED = "wb_parsed"
_DATE_TYPES = ("date", "timestamp")


def json_object_sql(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object of the non-NULL (key, SQL expression) pairs, or NULL when all are NULL."""
    if not pairs:
        return "NULL::JSON"
    items = ", ".join(f"{{'k': {lit(k)}, 'v': CAST({e} AS VARCHAR)}}" for k, e in pairs)
    return f"CAST(nullif(to_json(map_from_entries(list_filter([{items}], lambda e: e.v IS NOT NULL))), '{{}}') AS JSON)"


def detect_date_shapes(con: duckdb.DuckDBPyConnection, kind: str, mapping: ColumnMapping) -> V.DateShapes:
    cols = [src for f, src in mapping.fields.items() if fields_of(kind)[f].type in _DATE_TYPES]
    if not cols:
        return V.DateShapes()
    parts = ", ".join(V.date_shape_counts(V.clean(q(c))) for c in cols)
    row = con.execute(f"SELECT {parts} FROM {STAGED}").fetchone()
    assert row is not None
    total = V.DateShapes()
    for i in range(len(cols)):
        total = total + V.DateShapes(*(int(x or 0) for x in row[5 * i : 5 * i + 5]))
    return total


def _typed(f: Field, c: str, dm_order: str) -> str:
    t = f.type
    if t == "id":
        return V.ident(c)
    if t == "money":
        return V.money(c)
    if t == "number":
        return V.number(c)
    if t == "int":
        return V.integer(c)
    if t == "date":
        return V.date(c, dm_order)
    if t == "timestamp":
        return V.timestamp(c, dm_order)
    if t == "bool":
        return V.boolean(c)
    if t == "gender":
        return V.gender(c)
    if t == "channel":
        return V.channel(c)
    if t == "status":
        return V.status(c)
    if t == "phone":
        return V.phone_text(c)
    return c


_WHAT = {
    "money": "is not a number",
    "number": "is not a number",
    "int": "is not a whole number",
    "date": "is not a date",
    "timestamp": "is not a date",
    "bool": "is not yes or no",
    "gender": "is not a gender",
    "status": "is not a known order status (paid, refunded or cancelled)",
}


def _fails(f: Field, c: str, v: str) -> str | None:
    """SQL condition: the cell had text but it could not be read as the field's type."""
    if f.type not in _WHAT:
        return None
    return f"({c} IS NOT NULL AND {v} IS NULL)"


def _message(f: Field, c: str) -> str:
    return f"'{f.says} \"' || left({c}, 60) || '\" {_WHAT[f.type]}'"


def build_parsed(
    con: duckdb.DuckDBPyConnection, kind: str, mapping: ColumnMapping, columns: Sequence[str], dm_order: str
) -> None:
    """CREATE TEMP TABLE wb_parsed for `kind` from wb_staged."""
    fields = fields_of(kind)
    master = kind in MASTER_KINDS
    mapped = [(fields[name], src) for name, src in mapping.fields.items()]
    clean_cols = [f"{V.clean(q(src))} AS {q('c_' + f.name)}" for f, src in mapped]
    raw_cols = [q(c) for c in columns]
    typed_cols = [f"{_typed(f, q('c_' + f.name), dm_order)} AS {q('v_' + f.name)}" for f, _ in mapped]

    errors: list[str] = []
    blank_checks: list[tuple[Field, str, str]] = []  # (field, fail condition, source column)
    for f, src in mapped:
        c, v = q("c_" + f.name), q("v_" + f.name)
        fail = _fails(f, c, v)
        if f.required:
            errors.append(f"CASE WHEN {c} IS NULL THEN '{f.says} is missing' END")
        if fail is None:
            continue
        if master and not f.required:
            blank_checks.append((f, fail, src))
        else:
            errors.append(f"CASE WHEN {fail} THEN {_message(f, c)} END")
    if kind == "members":
        if "member_id" in mapping.fields:
            errors.append("CASE WHEN c_member_id IS NULL THEN 'member id is missing' END")
        elif "wechat_id" in mapping.fields:
            errors.append("CASE WHEN c_wechat_id IS NULL THEN 'WeChat id is missing (the file has no member id)' END")
    source_cols = ", ".join(q(c) for c in columns)
    err_sql = f"nullif(concat_ws('; ', {', '.join(errors)}), '')" if errors else "NULL::VARCHAR"
    err_sql = f"CASE WHEN coalesce({source_cols}) IS NULL THEN 'the row is empty' ELSE {err_sql} END"

    out_cols: list[str] = []
    for f, _ in mapped:
        c, v = q("c_" + f.name), q("v_" + f.name)
        if f.type == "phone":
            out_cols.append(f"{c} AS {q(f.name + '_raw')}")
            out_cols.append(f"nullif({v}, '') AS {q(f.name + '_norm')}")
        elif f.type == "gender":
            out_cols.append(f"nullif({v}, '?') AS {q(f.name)}")
        else:
            out_cols.append(f"{v} AS {q(f.name)}")
    extra_pairs = [(c, q(c)) for c in mapping.kept]
    extra_pairs += [(src, f"CASE WHEN {fail} THEN {q('c_' + f.name)} END") for f, fail, src in blank_checks]
    blanked = (
        "list_filter(["
        + ", ".join(f"CASE WHEN {fail} THEN {lit(f.name)} END" for f, fail, _ in blank_checks)
        + "], lambda x: x IS NOT NULL)"
        if blank_checks
        else "[]::VARCHAR[]"
    )
    raw_pairs = [(c, q(c)) for c in columns]
    sql = f"""
CREATE OR REPLACE TEMP TABLE {PARSED} AS
WITH c AS (SELECT _row, {", ".join(clean_cols + raw_cols)} FROM {STAGED}),
p AS (SELECT *, {", ".join(typed_cols)} FROM c),
e AS (SELECT *, {err_sql} AS _err FROM p)
SELECT _row, {", ".join(out_cols)},
       {json_object_sql(extra_pairs)} AS _extra,
       {blanked} AS _blanked,
       _err,
       CASE WHEN _err IS NOT NULL THEN coalesce({json_object_sql(raw_pairs)}, '{{}}') END AS _raw
FROM e
"""
    con.execute(sql)
