"""Validation: one set-based pass that turns the staging relation into typed rows plus reasons.

Produces the temp table `wb_parsed`: `_row`, one typed column per mapped field, `_extra` (JSON of the columns
winback does not know, and, for master data, of values that could not be read), `_blanked` (fields blanked
that way), `_err` (why the row cannot be loaded, NULL if it can) and `_raw` (the row as read, for rejects).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from winback.engine.duckdb_engine import DuckDBEngine
from winback.ingest import values_sql as V
from winback.ingest.aliases import ColumnMapping
from winback.ingest.fields import MASTER_KINDS, Field, fields_of
from winback.ingest.readers import STAGED
from winback.ingest.sqltext import lit, names_of, q

PARSED = "wb_parsed"
_DATE_TYPES = ("date", "timestamp")


def json_object_sql(pairs: Sequence[tuple[str, str]]) -> str:
    """A JSON object of the non-NULL (key, SQL expression) pairs, or NULL when all are NULL."""
    if not pairs:
        return "NULL::JSON"
    items = ", ".join(f"{{'k': {lit(k)}, 'v': CAST({e} AS VARCHAR)}}" for k, e in pairs)
    return f"CAST(nullif(to_json(map_from_entries(list_filter([{items}], lambda e: e.v IS NOT NULL))), '{{}}') AS JSON)"


def text_of(col: str, type_: str) -> str:
    """The column as the text an export would show (typed Parquet columns included)."""
    t = type_.upper()
    if t in ("VARCHAR", "STRING"):
        return col
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        # 13812345678.0 must read as "13812345678", not "13812345678.0"
        return (
            f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 1e15 THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) "
            f"ELSE CAST({col} AS VARCHAR) END"
        )
    return f"CAST({col} AS VARCHAR)"


def detect_date_shapes(
    db: DuckDBEngine,
    kind: str,
    mapping: ColumnMapping,
    types: Mapping[str, str],
    columns: Mapping[str, str] | Sequence[str] = (),
) -> V.DateShapes:
    """Count the date layouts of the values that are not already ISO timestamps (only those need deciding);
    `columns` maps the file's columns to their staging names (`Staged.names`)."""
    cols = [src for f, src in mapping.fields.items() if fields_of(kind)[f].type in _DATE_TYPES]
    names = names_of(columns)
    total = V.DateShapes()
    for c in cols:
        raw = q(names.get(c, c))
        if types.get(c, "VARCHAR").upper().startswith(("DATE", "TIMESTAMP")):  # typed (Parquet): all ISO already
            typed = db.scalar(f"SELECT count({raw}) FROM {STAGED}")
            total = total + V.DateShapes(ymd=int(typed))
            continue
        text = text_of(raw, types.get(c, "VARCHAR"))
        fast = V.iso_fast(raw) if text == raw else f"try_cast({raw} AS TIMESTAMP)"
        # one scan: the ISO values are counted, the others (d is NULL for ISO values) have their layouts counted
        row = db.fetchone(
            f"SELECT {V.date_shape_counts('d')}, count(*) FILTER (WHERE _iso) FROM (SELECT _iso, CASE WHEN NOT _iso "
            f"THEN {V.date_text('c')} END AS d FROM (SELECT _iso, CASE WHEN NOT _iso THEN {V.clean(text, True)} END "
            f"AS c FROM (SELECT *, {fast} IS NOT NULL AS _iso FROM {STAGED} WHERE {raw} IS NOT NULL)))"
        )
        assert row is not None
        total = total + V.DateShapes(*(int(x or 0) for x in row[:5])) + V.DateShapes(ymd=int(row[5] or 0))
    return total


_ENUMS = {"bool": V.boolean, "gender": V.gender, "status": V.status}
_WHAT = {
    "money": "is not a number",
    "number": "is not a number",
    "int": "is not a whole number",
    "date": "is not a date",
    "timestamp": "is not a date",
    "bool": "is not yes or no",
    "gender": "is not a gender",
    "status": "is not a known order status (paid, unpaid, refunded or cancelled)",
}
_LAYERS = 6


@dataclass
class _FieldSQL:
    """One field's expressions, layer by layer, and the names of its value and "had text" columns."""

    layers: list[list[str]]
    value: str  # column holding the typed value
    has_text: str  # SQL: the cell had text (only meaningful where the value is NULL)
    shown: str  # SQL: the cell's text for messages


def _field_sql(i: int, f: Field, raw: str, text: str, dm_order: str, is_text: bool = True) -> _FieldSQL:
    n = f"__{i}_"
    layers: list[list[str]] = [[] for _ in range(_LAYERS)]
    t = f.type
    if t in V.NUMERIC_SQL_TYPE or t in _DATE_TYPES:
        cast = V.NUMERIC_SQL_TYPE.get(t, "TIMESTAMP")
        fast = f"try_cast({raw} AS {cast})"
        if t in _DATE_TYPES and is_text:
            fast = V.iso_fast(raw)
        elif t == "money" and is_text:
            fast = V.money_fast(raw)
        elif t == "int":  # a cast to INTEGER rounds 2.5 to 3: only whole numbers take the fast path
            whole = f"NOT contains({raw}, '.')" if is_text else f"CAST({raw} AS DOUBLE) = trunc(CAST({raw} AS DOUBLE))"
            fast = f"CASE WHEN {whole} THEN {fast} END"
        layers[0].append(f"{fast} AS {n}f")
        layers[1].append(f"CASE WHEN {n}f IS NULL AND {raw} IS NOT NULL THEN {V.trimmed(text, True)} END AS {n}s1")
        layers[2].append(f"{V.null_tokens(n + 's1')} AS {n}s2")
        if t in _DATE_TYPES:
            layers[3].append(f"{V.date_text(n + 's2')} AS {n}s3")
            layers[4].append(f"{V.timestamp_slow(n + 's3', dm_order)} AS {n}s4")
            layers[5].append(f"{V.timestamp_final(t, n + 'f', n + 's4')} AS {n}v")
        else:
            layers[3].append(f"{V.numeric_strip(n + 's2')} AS {n}s3")
            layers[4].append(f"{V.numeric_commas(n + 's3')} AS {n}s4")
            layers[5].append(f"{V.numeric_final(t, n + 'f', n + 's4')} AS {n}v")
        return _FieldSQL(layers, f"{n}v", f"{n}s2 IS NOT NULL", f"{n}s1")
    if t in _ENUMS:
        layers[0].append(f"{V.trimmed(text)} AS {n}t")
        layers[1].append(f"{_ENUMS[t](n + 't')} AS {n}v")
        return _FieldSQL(layers, f"{n}v", f"{V.clean(text)} IS NOT NULL", f"{n}t")
    layers[0].append(f"{V.trimmed(text)} AS {n}t")
    if t == "id":  # placeholders and Excel's '12345.0' in one CASE (ids are most of an orders file's text)
        layers[1].append(f"{V.ident(n + 't', V.null_tokens(n + 't'))} AS {n}v")
        return _FieldSQL(layers, f"{n}v", f"{n}v IS NOT NULL", f"{n}t")
    layers[1].append(f"{V.null_tokens(n + 't')} AS {n}c")
    value = V.channel(n + "c") if t == "channel" else n + "c"
    layers[2].append(f"{value} AS {n}v")
    return _FieldSQL(layers, f"{n}v", f"{n}v IS NOT NULL", f"{n}t")


def build_parsed(
    db: DuckDBEngine,
    kind: str,
    mapping: ColumnMapping,
    columns: Mapping[str, str] | Sequence[str],
    dm_order: str,
    types: Mapping[str, str] | None = None,
) -> None:
    """CREATE TEMP TABLE wb_parsed for `kind` from wb_staged; `columns` maps the file's columns to their staging
    names (`Staged.names`; a list of names stands for itself)."""
    db.execute(parsed_sql(kind, mapping, columns, dm_order, types))


def parsed_sql(
    kind: str,
    mapping: ColumnMapping,
    columns: Mapping[str, str] | Sequence[str],
    dm_order: str,
    types: Mapping[str, str] | None = None,
) -> str:
    """The CREATE TEMP TABLE statement of `build_parsed` (pure). The file's columns are read under their staging
    names only: the file's headers appear as JSON keys (literals), never as SQL names."""
    types = types or {}
    fields = fields_of(kind)
    ref = {c: q(n) for c, n in names_of(columns).items()}
    text = {c: text_of(ref[c], types.get(c, "VARCHAR")) for c in ref}
    mapped = [(fields[name], src) for name, src in mapping.fields.items()]
    fsql = [_field_sql(i, f, ref[src], text[src], dm_order, text[src] == ref[src]) for i, (f, src) in enumerate(mapped)]
    errors, blank_checks = _checks(kind, mapped, fsql)
    all_empty = " AND ".join(f"{r} IS NULL" for r in ref.values())
    err_sql = f"nullif(concat_ws('; ', {', '.join(errors)}), '')" if errors else "NULL::VARCHAR"
    err_sql = f"CASE WHEN {all_empty} THEN 'the row is empty' ELSE {err_sql} END"
    extra_pairs = [(c, text[c]) for c in mapping.kept]
    extra_pairs += [
        (src, f"CASE WHEN {cond} THEN {x.shown} END")
        for (f, cond, x), src in zip(blank_checks, [mapping.fields[f.name] for f, _, _ in blank_checks], strict=True)
    ]
    blanked = (
        "list_filter(["
        + ", ".join(f"CASE WHEN {cond} THEN {lit(f.name)} END" for f, cond, _ in blank_checks)
        + "], lambda x: x IS NOT NULL)"
        if blank_checks
        else "NULL::VARCHAR[]"  # facts blank nothing; a NULL list is cheaper to store than 3M empty ones
    )
    raw_pairs = [(c, text[c]) for c in ref]
    layered = f"SELECT * FROM {STAGED}"
    for depth in range(_LAYERS):
        exprs = [e for x in fsql for e in x.layers[depth]]
        if exprs:
            layered = f"SELECT *, {', '.join(exprs)} FROM ({layered})"
    return f"""
CREATE OR REPLACE TEMP TABLE {PARSED} AS
SELECT _row, {", ".join(_out_columns(mapped, fsql))},
       {json_object_sql(extra_pairs)} AS _extra,
       {blanked} AS _blanked,
       _err,
       CASE WHEN _err IS NOT NULL THEN coalesce({json_object_sql(raw_pairs)}, '{{}}') END AS _raw
FROM (SELECT *, {err_sql} AS _err FROM ({layered}))
"""


def _checks(
    kind: str, mapped: list[tuple[Field, str]], fsql: list[_FieldSQL]
) -> tuple[list[str], list[tuple[Field, str, _FieldSQL]]]:
    """(reasons a row cannot be loaded, as SQL; master data's optional fields blanked when unreadable, as (field,
    "unreadable" condition, its SQL))."""
    master = kind in MASTER_KINDS
    errors: list[str] = []
    blank_checks: list[tuple[Field, str, _FieldSQL]] = []
    for (f, _), x in zip(mapped, fsql, strict=True):
        missing = f"'{f.says} is missing'" if f.required else "NULL"
        if f.type in _WHAT:
            msg = f"'{f.says} \"' || left({x.shown}, 60) || '\" {_WHAT[f.type]}'"
            if master and not f.required:
                blank_checks.append((f, f"CASE WHEN {x.value} IS NOT NULL THEN false ELSE {x.has_text} END", x))
            else:
                errors.append(
                    f"CASE WHEN {x.value} IS NOT NULL THEN NULL WHEN NOT ({x.has_text}) THEN {missing} ELSE {msg} END"
                )
        elif f.required:
            errors.append(f"CASE WHEN {x.value} IS NULL THEN {missing} END")
    value_of = {f.name: x.value for (f, _), x in zip(mapped, fsql, strict=True)}
    if kind == "members":
        if "member_id" in value_of:
            errors.append(f"CASE WHEN {value_of['member_id']} IS NULL THEN 'member id is missing' END")
        elif "wechat_id" in value_of:
            errors.append(
                f"CASE WHEN {value_of['wechat_id']} IS NULL THEN 'WeChat id is missing (the file has no member id)' END"
            )
    return errors, blank_checks


def _out_columns(mapped: list[tuple[Field, str]], fsql: list[_FieldSQL]) -> list[str]:
    """The typed columns of wb_parsed (a phone becomes `<field>_raw` and `<field>_norm`)."""
    out_cols: list[str] = []
    for (f, _), x in zip(mapped, fsql, strict=True):
        if f.type == "phone":
            out_cols.append(f"{x.value} AS {q(f.name + '_raw')}")
            out_cols.append(f"nullif({V.phone_text(x.value)}, '') AS {q(f.name + '_norm')}")
        elif f.type == "gender":
            out_cols.append(f"nullif({x.value}, '?') AS {q(f.name)}")
        else:
            out_cols.append(f"{x.value} AS {q(f.name)}")
    return out_cols
