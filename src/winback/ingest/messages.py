"""The import's newer messages in zh and en (pure): one place, so that they can move into the app's catalogue.

`text(key, lang, **values)` picks the language (zh unless lang is "en") and fills in the values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: key -> (zh, en)
LABELS: dict[str, tuple[str, str]] = {
    "date_forced": (
        "日期按 --date-order {order} 读取({what})",
        "dates read as {what_en} (--date-order {order})",
    ),
    "bad_date_order": ('--date-order "{given}" 无法识别', '--date-order "{given}" is not a date order'),
    "bad_date_order_hint": (
        "请用 dmy(日/月/年)、mdy(月/日/年)或 ymd(年/月/日);不给则按数据自动判断。",
        "Use dmy (day first), mdy (month first) or ymd (year first); without it the data decides.",
    ),
    "identical_lines": (
        "{n:,} 行与同一订单中前面的一行完全相同,已作为单独的商品行保留(如重复扫码);order_items 用 occurrence 区分",
        "{n:,} lines repeat an earlier line of their order exactly and were kept as separate lines (a double scan); "
        "order_items tells them apart by occurrence",
    ),
    "status_changes": (
        "{n:,} 个已导入订单的状态被本文件改变(如 已付款→已取消),已更新并记录在 order_status_changes",
        "{n:,} orders already in the warehouse changed status (e.g. paid -> cancelled): applied and recorded in "
        "order_status_changes",
    ),
    "conflicts": (
        "{n:,} 个{what}在文件中重复出现且取值不一致:已合并(后出现的非空值为准);前 {shown} 个见 conflicts_shown,"
        "全部见 winback rejects --conflicts",
        "{n:,} {what_en} repeat in the file with conflicting values: folded into one record (later non-empty values "
        "win); the first {shown} are in conflicts_shown, all of them in `winback rejects --conflicts`",
    ),
    "headerless": (
        "{file}:第 1 行看起来是数据,不是表头:{cells}",
        "{file}: row 1 looks like data, not a header: {cells}",
    ),
    "headerless_hint": (
        "文件似乎没有表头行。请在第一行加上列名(例如 会员卡号、手机号码、下单时间、实付金额),"
        "或从系统重新导出带表头的文件。",
        "The file seems to have no header row: add one with the column names (e.g. 会员卡号, 手机号码, 下单时间, "
        "实付金额), or export it again with headers.",
    ),
}

_DATE_ORDER_WHAT = {
    "dmy": ("日/月/年", "day-first"),
    "mdy": ("月/日/年", "month-first"),
    "ymd": ("年/月/日", "year-first"),
}
_KEY_WHAT = {
    "members": ("会员卡号", "member ids"),
    "stores": ("门店编号", "store ids"),
    "staff": ("导购编号", "guide ids"),
}


def text(key: str, lang: str = "zh", **values: object) -> str:
    zh, en = LABELS[key]
    return (en if lang == "en" else zh).format(**values)


def date_forced(order: str, lang: str) -> str:
    what, what_en = _DATE_ORDER_WHAT[order]
    return text("date_forced", lang, order=order, what=what, what_en=what_en)


def conflicts(kind: str, n: int, shown: int, lang: str) -> str:
    what, what_en = _KEY_WHAT.get(kind, ("编号", "ids"))
    return text("conflicts", lang, n=n, shown=shown, what=what, what_en=what_en)


# a header cell that reads like a value: a number or amount, a date, a phone, an id such as M1 / V0001 / 1001
_DATA_LIKE = re.compile(
    r"^(?:[-+]?[¥￥$]?\d[\d,]*(?:\.\d+)?"
    r"|\d{2,4}[-/.年]\d{1,2}(?:[-/.月]\d{1,4}日?)?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\+?\d[\d\s-]{6,}\d"
    r"|[A-Za-z]{1,4}[-_]?\d+)$"
)
_GENERATED = re.compile(r"^column\d+$")  # the name a reader gives an empty header cell


def looks_like_data(headers: Sequence[str]) -> bool:
    """Whether the header row reads like a row of data (at least half of its named cells are values)."""
    named = [h.strip() for h in headers if h.strip() and not _GENERATED.match(h.strip())]
    hits = sum(1 for h in named if _DATA_LIKE.match(_strip_dedup(h)))
    return bool(named) and hits * 2 >= len(named)


def _strip_dedup(h: str) -> str:
    """A reader makes repeated headers unique ('10', '10_1'): the suffix is not part of the cell."""
    return re.sub(r"_\d+$", "", h) if re.match(r"^\d", h) else h
