"""The import's memory ceiling: reading an amount of memory and DuckDB's display of one (pure; no SQL).

DuckDB keeps temporary tables and hash tables under its memory limit and spills beyond it, so a 10M-line file
does not take 5 GiB. The ceiling is the `import_memory` setting (WINBACK_IMPORT_MEMORY, default "2GB"); a lower
limit the connection already has is kept.
"""

from __future__ import annotations

import re

from winback.config import BY_NAME
from winback.errors import InputError
from winback.i18n import _

IMPORT_MEMORY_ENV = BY_NAME["import_memory"].env
DEFAULT_IMPORT_MEMORY: str = BY_NAME["import_memory"].default
_UNITS = {"": 1, "b": 1, "bytes": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4}
_UNITS |= {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def memory_bytes(text: str) -> int | None:
    """'2GB' / '1.7 GiB' / '500 MiB' -> bytes (None when unreadable)."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).lower() not in _UNITS:
        return None
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def import_memory_limit(wanted: str) -> int:
    """The ceiling in bytes for the `import_memory` setting's value; an InputError when it is not an amount."""
    limit = memory_bytes(wanted)
    if limit is None:
        raise InputError(
            _(
                '{import_memory_env}="{wanted}" is not an amount of memory',
                import_memory_env=IMPORT_MEMORY_ENV,
                wanted=wanted,
            ),
            hint=_('Give a size such as "2GB" or "512MB".'),
        )
    return limit


def shown_limit_bytes(shown: str) -> int:
    """DuckDB shows the limit truncated ('7.4 GiB' for 7.45 GiB): the middle of what it can be, so that setting it
    back shows the same text again and repeated imports do not creep the limit down."""
    m = re.fullmatch(r"\s*[0-9]+(?:\.([0-9]+))?\s*([A-Za-z]*)\s*", shown)
    exact = memory_bytes(shown)
    assert m is not None and exact is not None
    return exact + int(0.5 * 10 ** -len(m.group(1) or "") * _UNITS[m.group(2).lower()])


def needs_lowering(shown: str, limit: int) -> bool:
    """Whether the connection's limit (as DuckDB shows it) is above `limit`; an unreadable one is left alone."""
    now = memory_bytes(shown)
    return now is not None and now > limit
