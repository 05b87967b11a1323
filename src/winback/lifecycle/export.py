"""Writing member lists to xlsx, csv or parquet (phones are already masked by `views.list_members`), through the
one safe writer (`winback.common.export`: private 0600 files written atomically, no formula cells).

XLSX and CSV are for people: headers in the user's language, money rounded to fen, ratios to 3 places; XLSX with a
frozen header row, an autofilter and number formats, streamed. Parquet is for programs: column names and exact
values as the warehouse has them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from winback.common import export as safe
from winback.common.phones import shown_phone_sql
from winback.errors import InputError
from winback.i18n import N_, t

FORMATS = ("xlsx", "csv", "parquet")

#: column -> (header msgid (zh exports show its translation; en exports keep the column names, which scripts
#: and the docs use), number format key of `safe.NUMBER_FORMATS` or "", decimals to round to or None)
HEADERS: dict[str, tuple[str, str, int | None]] = {
    "member_id": (N_("member id"), "", None),
    "name": (N_("member's name"), "", None),
    "phone": (N_("mobile phone"), "", None),
    "wechat_id": (N_("WeChat id"), "", None),
    "store_id": (N_("store"), "", None),
    "guide_id": (N_("guide"), "", None),
    "tier": (N_("tier"), "", None),
    "segment": (N_("member segment"), "", None),
    "recency_days": (N_("days since the last purchase"), "int", None),
    "orders": (N_("number of orders"), "int", None),
    "monetary": (N_("total spent in yuan"), "money", 2),
    "cycle_days": (N_("purchase cycle in days"), "days", 1),
    "overdue_ratio": (N_("cycles overdue"), "ratio", 3),
    "p_alive": (N_("probability still active"), "ratio", 3),
    "clv": (N_("predicted value in yuan"), "money", 2),
    "expected_revenue_90d": (N_("expected revenue in the next 90 days, yuan"), "money", 2),
    "rfm_code": (N_("RFM code"), "", None),
    "value_layer": (N_("value layer"), "", None),
    "lifecycle_stage": (N_("lifecycle stage"), "", None),
    "last_purchase": (N_("last purchase"), "", None),
}

UNKNOWN_EXT = N_("cannot export to {name!r}: unknown extension {ext}")
UNKNOWN_EXT_HINT = N_("Use a file name ending in .xlsx, .csv or .parquet.")


def header(column: str, lang: str) -> str:
    """The header people see for `column` (the column name when it has none)."""
    found = HEADERS.get(column)
    if found is None or lang == "en":  # en keeps the column names, which scripts and the docs use
        return column
    return t(found[0], lang)


def rounded(table: pa.Table) -> pa.Table:
    """Money to 2 decimals, ratios to 3, cycles to 1 (pure; the columns keep their types' kind)."""
    for i, name in enumerate(table.column_names):
        places = HEADERS.get(name, ("", "", None))[2]
        col = table.column(i)
        if places is None or not (pa.types.is_floating(col.type) or pa.types.is_decimal(col.type)):
            continue
        if pa.types.is_decimal(col.type):
            col = pc.cast(col, pa.float64())
        table = table.set_column(i, name, pc.round(col, places))
    return table


def export_table(
    table: pa.Table,
    path: Path,
    *,
    lang: str = "en",
    progress: Callable[[str], None] | None = None,
    rows_done: Callable[[int, int], None] | None = None,
) -> str:
    """Write `table` in the format named by the file's extension; returns the format. `lang` is the user's
    language (the service passes `settings.lang`, zh by default); `progress` gets a line now and then, `rows_done`
    (rows written, total) for a progress bar (XLSX)."""
    path = Path(path)
    fmt = export_format(path, lang)
    if fmt == "parquet":
        safe.write_parquet(table, path)
        return fmt
    heads = [header(c, lang) for c in table.column_names]
    people = rounded(table).rename_columns(heads)
    if fmt == "csv":
        safe.write_csv(people, path)
    else:
        formats = {h: HEADERS[c][1] for c, h in zip(table.column_names, heads, strict=True) if c in HEADERS}
        safe.write_xlsx(
            people, path, formats=formats, sheet="会员" if lang != "en" else "members", lang=lang, progress=progress,
            rows_done=rows_done,
        )  # fmt: skip
    return fmt


# -- the fast path: the database writes the file ---------------------------------------------------------------
#: formats DuckDB's COPY writes for a member export (XLSX is streamed by `safe.write_xlsx`)
COPY_FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class CopyPlan:
    """How the database writes an export: the select list over the member list `m` (phones as stored; every rule
    of `export_table` as SQL), COPY's options, and the bytes before the body (CSV's BOM and header line)."""

    select: str
    options: str
    prefix: bytes


def export_format(path: Path, lang: str = "en") -> str:
    """The format named by the file's extension (xlsx, csv, parquet), or an InputError."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            t(UNKNOWN_EXT, lang, name=path.name, ext=path.suffix or "(none)"),
            hint=t(UNKNOWN_EXT_HINT, lang),
        )
    return fmt


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rounded_sql(expr: str, places: int) -> str:
    """SQL of `rounded`: half to even on the value times 10^places, as pyarrow's round (pure; non-finite
    products keep the value, where pyarrow raises)."""
    scaled = f"(CAST({expr} AS DOUBLE) * {10**places})"
    return f"CASE WHEN isfinite({scaled}) THEN round_even({scaled}, 0) / {10**places} ELSE CAST({expr} AS DOUBLE) END"


def copy_plan(schema: pa.Schema, fmt: str, *, lang: str, full_phones: bool) -> CopyPlan:
    """What writes the file `export_table` writes for `fmt` ("csv" or "parquet") from the member list `m` (phones
    as stored, columns as in `schema`): phones shown as `views.shown_phones` shows them; for CSV also headers in
    `lang`, money and ratios rounded, every text cell neutralised (pure)."""
    cols = []
    for f in schema:
        expr = f"m.{_ident(f.name)}"
        if f.name == "phone":
            expr = f"({shown_phone_sql(expr, full=full_phones)})"
        text = pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
        places = HEADERS.get(f.name, ("", "", None))[2]
        numeric = pa.types.is_floating(f.type) or pa.types.is_decimal(f.type)
        if fmt == "csv" and text:
            expr = safe.csv_cell_sql(expr)
        elif fmt == "csv" and places is not None and numeric:
            expr = rounded_sql(expr, places)
        cols.append(f"{expr} AS {_ident(f.name)}")
    if fmt == "parquet":
        return CopyPlan(", ".join(cols), "FORMAT parquet", b"")
    quoted = [_ident(f.name) for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    force = f", FORCE_QUOTE ({', '.join(quoted)})" if quoted else ""
    heads = safe.csv_header([header(f.name, lang) for f in schema])
    options = f"FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"'{force}"
    return CopyPlan(", ".join(cols), options, heads)
