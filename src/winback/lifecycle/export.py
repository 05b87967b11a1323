"""Writing member lists to xlsx, csv or parquet (phones are already masked by `views.list_members`), through the
one safe writer (`winback.common.export`: private 0600 files written atomically, no formula cells).

XLSX and CSV are for people: headers in the user's language, money rounded to fen, ratios to 3 places; XLSX with a
frozen header row, an autofilter and number formats, streamed. Parquet is for programs: column names and exact
values as the warehouse has them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from winback.common import export as safe
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
    table: pa.Table, path: Path, *, lang: str = "en", progress: Callable[[str], None] | None = None
) -> str:
    """Write `table` in the format named by the file's extension; returns the format. `lang` is the user's
    language (the service passes `settings.lang`, zh by default); `progress` gets a line now and then (XLSX)."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(
            t(UNKNOWN_EXT, lang, name=path.name, ext=path.suffix or "(none)"),
            hint=t(UNKNOWN_EXT_HINT, lang),
        )
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
            people, path, formats=formats, sheet="会员" if lang != "en" else "members", lang=lang, progress=progress
        )
    return fmt
