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

FORMATS = ("xlsx", "csv", "parquet")

#: column -> (zh header, en wording (for the message catalogue; en exports keep the column names),
#: number format key of `safe.NUMBER_FORMATS` or "", decimals to round to or None)
HEADERS: dict[str, tuple[str, str, str, int | None]] = {
    "member_id": ("会员编号", "member id", "", None),
    "name": ("姓名", "name", "", None),
    "phone": ("手机", "phone", "", None),
    "wechat_id": ("微信号", "WeChat id", "", None),
    "store_id": ("门店", "store", "", None),
    "guide_id": ("导购", "guide", "", None),
    "tier": ("等级", "tier", "", None),
    "segment": ("分群", "segment", "", None),
    "recency_days": ("距上次购买(天)", "days since last purchase", "int", None),
    "orders": ("订单数", "orders", "int", None),
    "monetary": ("累计消费(元)", "total spent (¥)", "money", 2),
    "cycle_days": ("购买周期(天)", "purchase cycle (days)", "days", 1),
    "overdue_ratio": ("超期倍数", "overdue ratio", "ratio", 3),
    "p_alive": ("活跃概率", "P(alive)", "ratio", 3),
    "clv": ("预测价值(元)", "predicted value (¥)", "money", 2),
    "expected_revenue_90d": ("90天预期收入(元)", "expected revenue 90 d (¥)", "money", 2),
    "rfm_code": ("RFM 编码", "RFM code", "", None),
    "value_layer": ("价值分层", "value layer", "", None),
    "lifecycle_stage": ("生命周期阶段", "lifecycle stage", "", None),
    "last_purchase": ("最近购买", "last purchase", "", None),
}

LABELS = {
    "unknown_ext": (
        "无法导出到 {name!r}：不认识的扩展名 {ext}",
        "cannot export to {name!r}: unknown extension {ext}",
    ),
    "unknown_ext_hint": (
        "请用 .xlsx、.csv 或 .parquet 结尾的文件名。",
        "Use a file name ending in .xlsx, .csv or .parquet.",
    ),
}


def _say(lang: str, key: str, **values: object) -> str:
    zh, en = LABELS[key]
    return (en if lang == "en" else zh).format(**values)


def header(column: str, lang: str) -> str:
    """The header people see for `column` (the column name when it has none)."""
    found = HEADERS.get(column)
    if found is None or lang == "en":  # en keeps the column names, which scripts and the docs use
        return column
    return found[0]


def rounded(table: pa.Table) -> pa.Table:
    """Money to 2 decimals, ratios to 3, cycles to 1 (pure; the columns keep their types' kind)."""
    for i, name in enumerate(table.column_names):
        places = HEADERS.get(name, ("", "", "", None))[3]
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
            _say(lang, "unknown_ext", name=path.name, ext=path.suffix or "(none)"),
            hint=_say(lang, "unknown_ext_hint"),
        )
    if fmt == "parquet":
        safe.write_parquet(table, path)
        return fmt
    heads = [header(c, lang) for c in table.column_names]
    people = rounded(table).rename_columns(heads)
    if fmt == "csv":
        safe.write_csv(people, path)
    else:
        formats = {h: HEADERS[c][2] for c, h in zip(table.column_names, heads, strict=True) if c in HEADERS}
        safe.write_xlsx(
            people, path, formats=formats, sheet="会员" if lang != "en" else "members", lang=lang, progress=progress
        )
    return fmt
