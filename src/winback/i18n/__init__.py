"""The message catalogue: every user-facing string, in zh-CN and en, from one place.

Source strings are English (gettext msgids); the Chinese translations live in gettext `.po` files under
`winback/i18n/zh/`, one file per room (`cli.po`, `ingest.po`, `lifecycle.po`, ...) so rooms change independently;
together they are one catalogue (a msgid translated differently in two files is an error, see tests/test_i18n.py).

Use:
    from winback.i18n import _, N_, t

    raise InputError(_("{file} row {row}: amount {value!r} is not a number", file=f, row=n, value=v),
                     hint=_("Fix the cell or leave it empty."))
    HEADER = N_("members")           # marked for extraction, translated where shown: t(HEADER, lang)

`_()` translates into the current language (a context variable the CLI's --lang and the web's request set;
default zh) and then fills `{placeholders}` with str.format. `t(msgid, lang)` takes the language explicitly.
Missing translations fall back to the English msgid (tests/test_i18n.py fails on any missing one).
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

LANGS: tuple[str, ...] = ("zh", "en")
DEFAULT_LANG = "zh"
CATALOGUE_DIR = Path(__file__).with_name("zh")

_current: ContextVar[str] = ContextVar("winback_lang", default=DEFAULT_LANG)


def get_lang() -> str:
    """The language of the current command or request."""
    return _current.get()


def set_lang(lang: str) -> None:
    """Set the language for the rest of this context (the CLI's callback, a web request)."""
    _current.set(lang if lang in LANGS else DEFAULT_LANG)


@contextlib.contextmanager
def using(lang: str) -> Iterator[None]:
    """Render in `lang` inside the block."""
    token = _current.set(lang if lang in LANGS else DEFAULT_LANG)
    try:
        yield
    finally:
        _current.reset(token)


def N_(msgid: str) -> str:
    """Mark a string for the catalogue without translating it (module-level labels); translate with t()."""
    return msgid


def _(msgid: str, /, **values: Any) -> str:
    """`msgid` in the current language, with `{placeholders}` filled from `values`."""
    return t(msgid, None, **values)


def t(msgid: str, lang: str | None = None, /, **values: Any) -> str:
    """`msgid` in `lang` (None: the current language), with `{placeholders}` filled from `values`.

    lang "both" gives "中文 · English" (the demo's bilingual summary)."""
    lang = lang or _current.get()
    if lang == "both":
        return f"{t(msgid, 'zh', **values)} · {t(msgid, 'en', **values)}"
    text = (catalogue().get(msgid) or msgid) if lang == "zh" else msgid
    return text.format(**values) if values else text


def translated(msgid: str) -> bool:
    """Whether the catalogue has a Chinese translation for `msgid`."""
    return bool(catalogue().get(msgid))


@functools.cache
def catalogue() -> dict[str, str]:
    """msgid -> Chinese msgstr, merged from every room's .po file (read once per process)."""
    merged: dict[str, str] = {}
    for path in sorted(CATALOGUE_DIR.glob("*.po")):
        for msgid, msgstr in read_po(path).items():
            if msgstr:
                merged.setdefault(msgid, msgstr)
    return merged


_ENTRY = re.compile(r'^(msgctxt|msgid|msgstr)\s+"(.*)"\s*$')
_CONT = re.compile(r'^"(.*)"\s*$')


def read_po(path: Path) -> dict[str, str]:
    """The msgid -> msgstr pairs of one .po file (plain gettext: no plurals, no contexts; fuzzy entries skipped).

    A small reader of our own: Babel's takes ~10x longer to import and parse, and the CLI pays it on every
    command. tests/test_i18n.py checks it agrees with babel.messages.pofile on every file."""
    out: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    key: str | None = None
    fuzzy = pending_fuzzy = False

    def flush() -> None:
        msgid = "".join(entry.get("msgid", []))
        if msgid and "msgstr" in entry and not fuzzy:
            out[_unescape(msgid)] = _unescape("".join(entry["msgstr"]))

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#"):
            pending_fuzzy = pending_fuzzy or (line.startswith("#,") and "fuzzy" in line)
            continue
        m = _ENTRY.match(line)
        if m:
            if m.group(1) in ("msgid", "msgctxt") and (key == "msgstr" or key is None):
                flush()
                entry, fuzzy, pending_fuzzy = {}, pending_fuzzy, False
            key = m.group(1)
            entry.setdefault(key, []).append(m.group(2))
            continue
        m = _CONT.match(line)
        if m and key:
            entry[key].append(m.group(1))
    flush()
    return out


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), s)
