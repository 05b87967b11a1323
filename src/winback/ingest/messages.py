"""The import's newer messages (pure): English msgids of the catalogue, rendered in the user's language.

`text(key, lang, **values)` renders one in `lang` (None: the current language) and fills in the values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from winback.i18n import N_, t

#: key -> msgid (English; the Chinese is in i18n/zh/ingest.po)
LABELS: dict[str, str] = {
    "date_forced": N_("dates read as {what} (--date-order {order})"),
    "bad_date_order": N_('--date-order "{given}" is not a date order'),
    "bad_date_order_hint": N_(
        "Use dmy (day first), mdy (month first) or ymd (year first); without it the data decides."
    ),
    "identical_lines": N_(
        "{n:,} lines repeat an earlier line of their order exactly and were kept as separate lines (a double scan); "
        "order_items tells them apart by occurrence"
    ),
    "status_changes": N_(
        "{n:,} orders already in the warehouse changed status (e.g. paid -> cancelled): applied and recorded in "
        "order_status_changes"
    ),
    "conflicts": N_(
        "{n:,} {what} repeat in the file with conflicting values: folded into one record (later non-empty values "
        "win); the first {shown} are in conflicts_shown, all of them in `winback rejects --conflicts`"
    ),
    "headerless": N_("{file}: row 1 looks like data, not a header: {cells}"),
    "headerless_hint": N_(
        "The file seems to have no header row: add one with the column names (e.g. 会员卡号, 手机号码, 下单时间, "
        "实付金额), or export it again with headers."
    ),
}

_DATE_ORDER_WHAT = {"dmy": N_("day-first"), "mdy": N_("month-first"), "ymd": N_("year-first")}
_KEY_WHAT = {"members": N_("member ids"), "stores": N_("store ids"), "staff": N_("guide ids")}


def text(key: str, lang: str | None = None, **values: object) -> str:
    """The message `key` in `lang` (None: the current language), with its values filled in."""
    return t(LABELS[key], lang, **values)


def date_forced(order: str, lang: str | None = None) -> str:
    return text("date_forced", lang, order=order, what=t(_DATE_ORDER_WHAT[order], lang))


def conflicts(kind: str, n: int, shown: int, lang: str | None = None) -> str:
    return text("conflicts", lang, n=n, shown=shown, what=t(_KEY_WHAT.get(kind, N_("ids")), lang))


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
