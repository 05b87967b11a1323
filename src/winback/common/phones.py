"""Phone numbers: normalise to E.164 and classify as mobile / landline / invalid / missing.

`phonenumbers` is called once per distinct value, never per row; 11-digit Chinese mobile numbers are judged by
their 7-digit prefix (the CN mobile pattern is decided by the leading digits), so a million members cost a few
thousand library calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType

MOBILE = "mobile"
LANDLINE = "landline"
INVALID = "invalid"
MISSING = "missing"

_CN_MOBILE = re.compile(r"^1\d{10}$")
_KEEP = re.compile(r"[^0-9+]")
_CC = re.compile(r"^(?:\+86|0086|86)(1\d{10})$")
_MOBILE_TYPES = {PhoneNumberType.MOBILE}
_LANDLINE_TYPES = {
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.SHARED_COST,
    PhoneNumberType.UAN,
    PhoneNumberType.VOIP,
    PhoneNumberType.PREMIUM_RATE,
}
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋", "0123456789+")


def normalise_text(raw: str | None) -> str | None:
    """'+86 138-1234-5678' -> '13812345678'; the same rule as the SQL `values_sql.phone_text`."""
    if raw is None:
        return None
    p = _KEEP.sub("", raw.translate(_FULLWIDTH))
    p = _CC.sub(r"\1", p)
    return p or None


def classify_direct(text: str | None, region: str = "CN") -> tuple[str | None, str]:
    """(E.164 or None, status) straight from phonenumbers, no cache."""
    if not text:
        return None, MISSING
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None, INVALID
    if not phonenumbers.is_valid_number(num):
        return None, INVALID
    kind = phonenumbers.number_type(num)
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if kind in _MOBILE_TYPES:
        return e164, MOBILE
    if kind in _LANDLINE_TYPES:
        return e164, LANDLINE
    return None, INVALID


@lru_cache(maxsize=1 << 20)
def mobile_prefix_valid(prefix7: str) -> bool:
    """Whether 11-digit numbers starting with this 7-digit prefix are valid CN mobiles. The number is built
    directly (an 11-digit national number needs no parsing), which halves the cost of a verdict."""
    num = phonenumbers.PhoneNumber(country_code=86, national_number=int(prefix7 + "0000"))
    return phonenumbers.is_valid_number(num) and phonenumbers.number_type(num) in _MOBILE_TYPES


def classify(text: str | None, region: str = "CN") -> tuple[str | None, str]:
    """(E.164 or None, status) for a normalised phone text, using the prefix cache for CN mobiles."""
    if not text:
        return None, MISSING
    if region == "CN" and _CN_MOBILE.match(text):
        return ("+86" + text, MOBILE) if mobile_prefix_valid(text[:7]) else (None, INVALID)
    return classify_direct(text, region)


def classify_many(texts: Iterable[str | None], region: str = "CN") -> list[tuple[str | None, str]]:
    return [classify(t, region) for t in texts]


def display_phone(phone: str | None) -> str:
    """A stored E.164 number as people dial it: '+8613812345678' -> '13812345678', '+862164381234' ->
    '02164381234'; other countries keep their '+' form. For lists a person asked to see unmasked."""
    if not phone:
        return ""
    p = phone.strip()
    if p.startswith("+86"):
        return p[3:] if p[3:4] == "1" else "0" + p[3:]
    return p


def mask_phone(phone: str | None) -> str:
    """'13812345678' and '+8613812345678' -> '138****5678': Chinese numbers are shown as people write them (no +86,
    landlines with their leading 0: '+862164381234' -> '021****1234'); other countries keep the '+'
    ('+85291234567' -> '+852****4567'); short values keep 1+1 digits."""
    if not phone:
        return ""
    p = phone.strip()
    lead = ""
    if p.startswith("+86"):
        p = p[3:] if p[3:4] == "1" else "0" + p[3:]
    elif p.startswith("+"):
        lead, p = "+", p[1:]
    if len(p) >= 7:
        return lead + p[:3] + "*" * 4 + p[-4:]
    if len(p) >= 3:
        return lead + p[0] + "*" * (len(p) - 2) + p[-1]
    return lead + "*" * len(p)


#: what str.strip() removes (every character str.isspace() calls whitespace), for the SQL twins below
_STRIP = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


def _national_sql(p: str) -> str:
    """SQL of the number as people write it (no +86; a Chinese landline gets its 0; other countries lose the +)."""
    return (
        f"CASE WHEN starts_with({p}, '+86') THEN (CASE WHEN substr({p}, 4, 1) = '1' THEN substr({p}, 4) "
        f"ELSE '0' || substr({p}, 4) END) WHEN starts_with({p}, '+') THEN substr({p}, 2) ELSE {p} END"
    )


def shown_phone_sql(column: str, *, full: bool) -> str:
    """SQL of `column` as a list shows it: `mask_phone` (or `display_phone` when `full`) of every non-empty value,
    NULL for NULL and ''; the same text as the Python functions (pure; tested against them). A stored Chinese
    mobile (+861 and ten digits, most of a brand's members) takes a short branch; CASE evaluates the general
    one only for the other rows."""
    p = f"trim({column}, '{_STRIP}')"
    n = f"({_national_sql(p)})"
    if full:
        general = f"CASE WHEN starts_with({p}, '+86') THEN {n} ELSE {p} END"
        mobile = f"substr({column}, 4)"
    else:
        lead = f"(CASE WHEN starts_with({p}, '+') AND NOT starts_with({p}, '+86') THEN '+' ELSE '' END)"
        general = (
            f"{lead} || CASE WHEN length({n}) >= 7 THEN left({n}, 3) || '****' || right({n}, 4) "
            f"WHEN length({n}) >= 3 THEN left({n}, 1) || repeat('*', length({n}) - 2) || right({n}, 1) "
            f"ELSE repeat('*', length({n})) END"
        )
        mobile = f"substr({column}, 4, 3) || '****' || right({column}, 4)"
    return (
        f"CASE WHEN {column} IS NULL OR {column} = '' THEN NULL "
        f"WHEN length({column}) = 14 AND starts_with({column}, '+861') AND right({column}, 1) BETWEEN '0' AND '9' "
        f"THEN {mobile} ELSE {general} END"
    )
