"""SQL expressions that turn exported text into typed values, set-based, in DuckDB's dialect.

Builders return expressions of the target type that are NULL when the text cannot be read. A fast `try_cast`
of the raw column runs first; the slower normalisation (full-width digits, currency signs, Chinese dates …)
only sees the rest (`validate.build_parsed` assembles the layers).
"""

from __future__ import annotations

from dataclasses import dataclass

from winback.i18n import _
from winback.ingest.sqltext import lit

#: values that mean "nothing here" in exports
NULL_TOKENS = (
    "",
    "-",
    "--",
    "—",
    "/",
    "null",
    "none",
    "nan",
    "n/a",
    "na",
    "#n/a",
    "无",
    "空",
    "未知",
    "未填写",
    "0000-00-00",
    "0000-00-00 00:00:00",
    "0000/00/00",
    "00000000",
)
_FULLWIDTH_FROM = "０１２３４５６７８９．，－＋（）／：　"
_FULLWIDTH_TO = "0123456789.,-+()/: "
_TRIM_CHARS = " \t\r\n\u3000\u00a0"


def trimmed(text: str, thorough: bool = False) -> str:
    """Plain `trim` (spaces) is several times faster than trimming a list of characters, so tabs and ideographic
    spaces are only trimmed when `thorough` (on the slow paths of typed values)."""
    return f"trim({text}, {lit(_TRIM_CHARS)})" if thorough else f"trim({text})"


#: the placeholders as exports spell them (lower, UPPER, Title): comparing without lower() is cheaper
_NULL_SPELLINGS = tuple(dict.fromkeys(v for x in NULL_TOKENS for v in (x, x.upper(), x.title())))


#: the first characters of the placeholders (code points; 0 is the empty text): ascii() is about as cheap as
#: reading the column, so only the few values starting like a placeholder are compared with the list (a third of
#: the cost of comparing every value, per text column)
_NULL_FIRST = ", ".join(str(n) for n in sorted({ord(x[0]) if x else 0 for x in _NULL_SPELLINGS}))


def null_tokens(t: str) -> str:
    """NULL for empty cells and placeholders such as '-', 'NULL', '0000-00-00'; `t` should be a column name."""
    tokens = ", ".join(lit(x) for x in _NULL_SPELLINGS)
    listed = f"CASE WHEN {t} IN ({tokens}) THEN NULL ELSE {t} END"
    return f"CASE WHEN ascii({t}) IN ({_NULL_FIRST}) THEN {listed} ELSE {t} END"


def clean(text: str, thorough: bool = False) -> str:
    """Trimmed text or NULL, as one (nested) expression: use it only where few rows reach it."""
    return null_tokens(trimmed(text, thorough))


def halfwidth(v: str) -> str:
    return f"translate({v}, {lit(_FULLWIDTH_FROM)}, {lit(_FULLWIDTH_TO)})"


# --------------------------------------------------------------------------------------------- numbers
# Expressions are built in layers (each layer refers to the previous one's column by name) so that no part
# is repeated inside another: DuckDB does not share repeated sub-expressions inside CASE branches.
NUMERIC_SQL_TYPE = {"money": "DECIMAL(18, 2)", "number": "DOUBLE", "int": "INTEGER"}


def numeric_strip(c: str) -> str:
    """'¥1,234.50' '￥１２３' '(12.50)' '12.50-' 'RMB 12' -> '1,234.50' '123' '-12.50' '-12.50' '12'."""
    m = f"regexp_replace({halfwidth(c)}, '[¥￥$\\s]|RMB|CNY|rmb|元', '', 'g')"
    return f"regexp_replace({m}, '^\\((.*)\\)$|^(.*[0-9.])-$', '-\\1\\2')"


def money_fast(raw: str) -> str:
    """The fast path of a money text: the plain cast, or, for a value that starts with a yuan sign ('￥88.00',
    on many Chinese POS exports), the cast of the rest. Where either cast works the slow path would give the
    same value (it only removes the sign from such text), at a fraction of its cost: about 2 CPU s less per 5M
    lines when a tenth of them carry the sign."""
    cast = NUMERIC_SQL_TYPE["money"]
    return (
        f"coalesce(try_cast({raw} AS {cast}), CASE WHEN prefix({raw}, '￥') OR prefix({raw}, '¥') "
        f"THEN try_cast(substr({raw}, 2) AS {cast}) END)"
    )


def numeric_commas(m: str) -> str:
    """Drop thousands separators; NULL when a comma is not one ('12,5')."""
    return (
        f"CASE WHEN NOT contains({m}, ',') THEN {m} "
        f"WHEN regexp_full_match({m}, '[-+]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d*)?') THEN replace({m}, ',', '') END"
    )


def numeric_final(type_: str, fast: str, slow: str) -> str:
    """The value: `fast` (try_cast of the raw column) where it worked, else the cleaned `slow` text cast."""
    if type_ == "int":
        d = f"try_cast({slow} AS DECIMAL(18, 4))"
        return f"CASE WHEN {fast} IS NOT NULL THEN {fast} WHEN {d} = round({d}) THEN try_cast({d} AS INTEGER) END"
    return f"CASE WHEN {fast} IS NOT NULL THEN {fast} ELSE try_cast({slow} AS {NUMERIC_SQL_TYPE[type_]}) END"


# --------------------------------------------------------------------------------------------- dates
YMD = "ymd"
DMY = "dmy"
MDY = "mdy"
SERIAL = "excel-serial"


def date_text(c: str) -> str:
    """Normalised date text: half-width digits, '年月日' '/' '.' -> '-', 'T' -> ' ', and a 12-hour clock as
    '9:05 PM' ('9:05pm', '9:05 p.m.', '上午 9:05' = AM, '下午 9:05' / '晚上 9:05' = PM)."""
    d = halfwidth(c)
    d = f"replace(replace(replace(replace({d}, '年', '-'), '月', '-'), '日', ' '), '/', '-')"
    d = f"regexp_replace({d}, '^(\\d{{1,4}})\\.(\\d{{1,2}})\\.(\\d{{1,4}})', '\\1-\\2-\\3')"
    d = f"regexp_replace({d}, '(\\d)T(\\d)', '\\1 \\2')"
    return f"trim(CASE WHEN regexp_matches({d}, '{_RE_MERIDIEM}') THEN {_meridiem_last(d)} ELSE {d} END)"


#: a 12-hour clock's AM/PM marker, before ('下午 9:05') or after ('9:05 PM') the time
_RE_MERIDIEM = "[AaPp]\\.?[Mm]\\.?\\s*$|上午|下午|晚上"
_CLOCK = "(\\d{1,2}:\\d{2}(:\\d{2})?)"


def _meridiem_last(d: str) -> str:
    """'… 下午 9:05:03' / '… 9:05pm' -> '… 9:05:03 PM' / '… 9:05 PM' (the layout `strptime`'s '%p' reads)."""
    d = f"regexp_replace({d}, '\\s*上午\\s*{_CLOCK}', ' \\1 AM')"
    d = f"regexp_replace({d}, '\\s*(下午|晚上)\\s*{_CLOCK}', ' \\2 PM')"
    d = f"regexp_replace({d}, '(\\d)\\s*[Aa]\\.?[Mm]\\.?\\s*$', '\\1 AM')"
    return f"regexp_replace({d}, '(\\d)\\s*[Pp]\\.?[Mm]\\.?\\s*$', '\\1 PM')"


_CLOCK_FORMATS = (" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p")  # 12 AM = 00, 12 PM = 12
_YMD_FORMATS = ["%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d", *("%Y-%m-%d" + t for t in _CLOCK_FORMATS)]
_COMPACT_FORMATS = ["%Y%m%d", "%Y%m%d%H%M%S", *("%Y%m%d" + t for t in _CLOCK_FORMATS)]


def _dm_formats(order: str, year: str) -> list[str]:
    head = "%d-%m-" if order == DMY else "%m-%d-"
    return [head + year + tail for tail in (*_CLOCK_FORMATS, "")]


def _fmt_list(formats: list[str]) -> str:
    return "[" + ", ".join(lit(f) for f in formats) + "]"


RE_YMD = "^\\d{4}-\\d{1,2}-\\d{1,2}"
RE_DM4 = "^\\d{1,2}-\\d{1,2}-\\d{4}"
RE_DM2 = "^\\d{1,2}-\\d{1,2}-\\d{2}( |$)"
RE_COMPACT = "^\\d{8}($|\\d{6}$| \\d)"
RE_SERIAL = "^\\d{5}(\\.\\d+)?$"


def timestamp_slow(d: str, dm_order: str = MDY) -> str:
    """Normalised date text (`date_text`, a column name) -> TIMESTAMP, NULL when unreadable or not a real date.
    `dm_order` reads d-d-yyyy and d-d-yy as day-first (dmy) or month-first (mdy); ymd (only when asked for with
    --date-order) reads yy-mm-dd and refuses d-d-yyyy."""
    serial = f"TIMESTAMP '1899-12-30' + to_microseconds(CAST(round(CAST({d} AS DOUBLE) * 86400000000) AS BIGINT))"
    if dm_order == YMD:
        dm4 = "NULL::TIMESTAMP"
        dm2 = f"try_strptime({d}, {_fmt_list(['%y-%m-%d' + t for t in (*_CLOCK_FORMATS, '')])})"
    else:
        dm4 = f"try_strptime({d}, {_fmt_list(_dm_formats(dm_order, '%Y'))})"
        dm2 = f"try_strptime({d}, {_fmt_list(_dm_formats(dm_order, '%y'))})"
    return (
        f"CASE WHEN regexp_matches({d}, '{RE_YMD}') THEN try_strptime({d}, {_fmt_list(_YMD_FORMATS)}) "
        f"WHEN regexp_matches({d}, '{RE_DM4}') THEN {dm4} "
        f"WHEN regexp_matches({d}, '{RE_DM2}') THEN {dm2} "
        f"WHEN regexp_matches({d}, '{RE_COMPACT}') THEN try_strptime({d}, {_fmt_list(_COMPACT_FORMATS)}) "
        f"WHEN regexp_matches({d}, '{RE_SERIAL}') THEN {serial} END"
    )


def iso_fast(v: str) -> str:
    """ISO text ('2024-03-05', '2024-03-05 13:05:00') cast directly; DuckDB's cast also takes '1/2/24' as year 1,
    so only text with '-' as its fifth character goes this way. The cast also reads '2024-03-05 09:05 PM' as 09:05
    (it ignores the marker), so text with AM/PM takes the slow path."""
    ampm = " OR ".join(f"contains({v}, '{m}')" for m in ("AM", "PM", "am", "pm"))
    return f"CASE WHEN substr({v}, 5, 1) = '-' AND NOT ({ampm}) THEN try_cast({v} AS TIMESTAMP) END"


#: dates outside [FIRST_YEAR, LAST_YEAR] are not dates a brand's data can hold ('1/1/0001', '9999-12-31' as
#: "no end"): unreadable, so rejected with the field's reason (issue 15 fuzzing: year 1 orders were loaded)
FIRST_YEAR, LAST_YEAR = 1900, 2199


def timestamp_final(type_: str, fast: str, slow_ts: str) -> str:
    v = f"CASE WHEN {fast} IS NOT NULL THEN {fast} ELSE {slow_ts} END"
    v = f"(CASE WHEN year({v}) BETWEEN {FIRST_YEAR} AND {LAST_YEAR} THEN {v} END)"
    return f"CAST({v} AS DATE)" if type_ == "date" else v


def date_shape_counts(d: str) -> str:
    """Aggregates that tell which date layouts a column uses (for `decide_date_format`); `d` is the `date_text`
    column of values that are not ISO timestamps (those need no decision)."""
    first = f"try_cast(regexp_extract({d}, '^(\\d{{1,2}})-', 1) AS INTEGER)"
    second = f"try_cast(regexp_extract({d}, '^\\d{{1,2}}-(\\d{{1,2}})-', 1) AS INTEGER)"
    dm = f"(regexp_matches({d}, '{RE_DM4}') OR regexp_matches({d}, '{RE_DM2}'))"
    return (
        f"count(*) FILTER (WHERE regexp_matches({d}, '{RE_YMD}') OR regexp_matches({d}, '{RE_COMPACT}')), "
        f"count(*) FILTER (WHERE {dm}), "
        f"count(*) FILTER (WHERE {dm} AND {first} > 12), "
        f"count(*) FILTER (WHERE {dm} AND {second} > 12), "
        f"count(*) FILTER (WHERE regexp_matches({d}, '{RE_SERIAL}'))"
    )


@dataclass(frozen=True)
class DateShapes:
    ymd: int = 0
    dm: int = 0
    first_over_12: int = 0  # evidence for day-first
    second_over_12: int = 0  # evidence for month-first
    serial: int = 0

    def __add__(self, other: DateShapes) -> DateShapes:
        return DateShapes(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.ymd, self.dm, self.first_over_12, self.second_over_12, self.serial)


@dataclass(frozen=True)
class DateDecision:
    dm_order: str  # dmy | mdy: how d-d-yyyy dates are read
    label: str  # what the import reports, e.g. "ymd", "dmy", "ymd+excel-serial"
    note: str | None = None


DATE_ORDERS = (DMY, MDY, YMD)


def decide_date_format(shapes: DateShapes, forced: str | None = None) -> DateDecision:
    """Pick day-first or month-first from the data: a first part above 12 can only be a day, a second part
    above 12 only a day too. With no evidence either way, month-first is assumed and said so. `forced` (dmy, mdy
    or ymd, from --date-order) decides instead of the data; values that do not fit it are rejected."""
    if forced is not None:
        present = sorted(((shapes.ymd, YMD), (shapes.dm, forced), (shapes.serial, SERIAL)), key=lambda p: -p[0])
        label = "+".join(dict.fromkeys(name for n, name in present if n)) or forced
        return DateDecision(forced, label, None)
    note = None
    if shapes.first_over_12 > shapes.second_over_12:
        order = DMY
    elif shapes.second_over_12 > shapes.first_over_12:
        order = MDY
    else:
        order = MDY
        if shapes.dm:
            note = _(
                "{n:,} dates like 03/05/2024 could be day-first or month-first and no value settles it; "
                "month-first was assumed",
                n=shapes.dm,
            )
    if shapes.first_over_12 and shapes.second_over_12:
        note = _(
            "dates are mixed: {day_first:,} can only be day-first and {month_first:,} only month-first; {order} "
            "was used and the others are rejected",
            day_first=shapes.first_over_12,
            month_first=shapes.second_over_12,
            order=order,
        )
    present = sorted(((shapes.ymd, YMD), (shapes.dm, order), (shapes.serial, SERIAL)), key=lambda p: -p[0])
    label = "+".join(name for n, name in present if n) or "none"
    return DateDecision(order, label, note)


# --------------------------------------------------------------------------------------------- codes
_TRUE = ("1", "y", "yes", "true", "t", "是", "同意", "允许", "订阅", "已订阅", "接收", "on", "√", "✓", "开启", "开")
_FALSE = (
    "0",
    "n",
    "no",
    "false",
    "f",
    "否",
    "不同意",
    "拒绝",
    "不允许",
    "退订",
    "已退订",
    "未订阅",
    "不接收",
    "off",
    "×",
    "关闭",
    "关",
)
_FEMALE = ("女", "f", "female", "woman", "女士", "女性", "2")
_MALE = ("男", "m", "male", "man", "先生", "男性", "1")
_GENDER_UNKNOWN = ("0", "9", "保密", "u", "unknown", "其他")
_ONLINE = (
    "线上",
    "online",
    "网店",
    "商城",
    "小程序",
    "微信",
    "微商城",
    "天猫",
    "京东",
    "app",
    "电商",
    "官网",
    "公众号",
    "web",
    "h5",
    "淘宝",
    "抖音",
    "企业微信",
)
_OFFLINE = ("线下", "offline", "门店", "实体店", "店铺", "pos", "柜台", "专柜", "store", "shop", "店内")
STATUS_PAID = (
    "已付款",
    "已支付",
    "支付",
    "付款",
    "paid",
    "完成",
    "已完成",
    "成功",
    "交易成功",
    "正常",
    "销售",
    "sale",
    "sold",
    "complete",
    "completed",
    "已结账",
    "已结算",
    "结账",
    "有效",
    "已收货",
    "已发货",
    "ok",
    "normal",
    "done",
    "已签收",
    "待发货",
    "已付款待发货",
    "买家已付款",
    "等待卖家发货",
    "待收货",
    "卖家已发货",
    "等待买家确认收货",
    "交易完成",
    "订单完成",
)
#: not paid (yet): loaded as `unpaid`, never counted as a purchase; a later import that says paid changes it
STATUS_UNPAID = (
    "待付款",
    "未付款",
    "待支付",
    "未支付",
    "等待付款",
    "等待买家付款",
    "待买家付款",
    "待付",
    "未结账",
    "挂单",
    "unpaid",
    "pending",
    "pending payment",
    "awaiting payment",
    "not paid",
)
STATUS_REFUNDED = (
    "退货",
    "退款",
    "已退货",
    "已退款",
    "退货完成",
    "退款成功",
    "退货退款",
    "refund",
    "refunded",
    "return",
    "returned",
    "退",
)
STATUS_CANCELLED = (
    "取消",
    "已取消",
    "作废",
    "已作废",
    "关闭",
    "交易关闭",
    "已关闭",
    "cancelled",
    "canceled",
    "cancel",
    "void",
    "voided",
    "撤销",
    "已撤销",
    "订单关闭",
    "交易取消",
    "订单取消",
    "已失效",
    "失效",
    "closed",
)


def _in(v: str, values: tuple[str, ...]) -> str:
    return f"{v} IN ({', '.join(lit(x) for x in values)})"


def _enum(v: str, cases: tuple[tuple[tuple[str, ...], str], ...], otherwise: str = "NULL") -> str:
    """The value of the first list holding `lower(v)`, else `otherwise`. The lists are lower case and disjoint, so
    the text as written is tried first: most cells match a list exactly and skip lower() (half the cost)."""
    exact = " ".join(f"WHEN {_in(v, values)} THEN {value}" for values, value in cases)
    folded = " ".join(f"WHEN {_in(f'lower({v})', values)} THEN {value}" for values, value in cases)
    return f"CASE {exact} ELSE CASE {folded} ELSE {otherwise} END END"


def boolean(v: str) -> str:
    return _enum(v, ((_TRUE, "true"), (_FALSE, "false")))


def gender(v: str) -> str:
    """'F' | 'M' | '?' (unknown on purpose, stored NULL) | NULL (unreadable)."""
    return _enum(v, ((_FEMALE, "'F'"), (_MALE, "'M'"), (_GENDER_UNKNOWN, "'?'")))


def channel(v: str) -> str:
    return _enum(v, ((_ONLINE, "'online'"), (_OFFLINE, "'offline'")), f"lower({v})")


def status(v: str) -> str:
    return _enum(
        v,
        ((STATUS_PAID, "'paid'"), (STATUS_REFUNDED, "'refunded'"), (STATUS_CANCELLED, "'cancelled'"),
         (STATUS_UNPAID, "'unpaid'")),
    )  # fmt: skip


def phone_text(v: str) -> str:
    """Digits (and a leading +) only; a +86 / 0086 / 86 before an 11-digit mobile dropped."""
    p = f"regexp_replace({halfwidth(v)}, '[^0-9+]', '', 'g')"
    return f"regexp_replace({p}, '^(?:\\+86|0086|86)(1\\d{{10}})$', '\\1')"


def ident(v: str, otherwise: str | None = None) -> str:
    """Ids as exports write them; an Excel float id '12345.0' becomes '12345'. `otherwise` (default `v`) is the
    value of every other id: `null_tokens(v)` folds the placeholder check into the same CASE."""
    return (
        f"CASE WHEN suffix({v}, '.0') AND regexp_full_match({v}, '\\d+\\.0+') THEN split_part({v}, '.', 1) "
        f"ELSE {otherwise or v} END"
    )
