"""Dates given on the command line."""

from __future__ import annotations

import datetime as dt

from winback.errors import InputError
from winback.i18n import _


def parse_date(value: str | None, option: str) -> dt.date | None:
    """`None` stays None; anything else must be YYYY-MM-DD, else a clear error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(
            _("{option} {value!r} is not a date", option=option, value=value),
            hint=_("Write it as YYYY-MM-DD, e.g. 2026-11-01."),
        ) from None
