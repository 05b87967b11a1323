"""Which as-of dates a refresh accepts and which snapshot a reader gets by default (pure).

Time runs one way: a snapshot at as-of D counts orders strictly before D, so the newest honest snapshot is dated
tomorrow (it counts today's orders). `refresh --as-of` later than tomorrow is refused unless asked for
(`--allow-future`), the default as-of (the day after the last order) is never later than tomorrow, and a reader
that names no snapshot gets the newest *refresh* dated at or before tomorrow — not the largest date, so a snapshot
built for a future date (on purpose) does not become everybody's default. "Today" is the brand's now
(`wb.now()`, which honours WINBACK_NOW).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from winback.errors import InputError, NotFoundError
from winback.i18n import N_, _, t

# every user-facing string of this module, by key (English msgids; the Chinese is in i18n/zh/lifecycle_refresh.po)
MESSAGES: dict[str, str] = {
    "future": N_(
        "the as-of date {as_of} is after tomorrow ({limit}): orders after today have not happened yet, and such a "
        "snapshot would become everybody's default"
    ),
    "future_hint": N_("Give a date up to {limit}, or add --allow-future to build a future-dated snapshot on purpose."),
    "clamped": N_(
        "orders dated after today ({after}) exist and are not counted: the default as-of is {limit} "
        "(use --as-of with --allow-future to include them)"
    ),
    "only_future": N_("only snapshots dated after tomorrow ({limit}) exist: {dates}"),
    "only_future_hint": N_("Name one of them with --as-of, or run `winback refresh` to build today's snapshot."),
}


def text(key: str, lang: str, **values: object) -> str:
    """The message `key` in `lang` (zh, en or both), placeholders filled."""
    return t(MESSAGES[key], lang, **values)


def latest_allowed(today: dt.date) -> dt.date:
    """The latest as-of a refresh accepts without --allow-future: tomorrow (it counts today's orders)."""
    return today + dt.timedelta(days=1)


def check_as_of(as_of: dt.date, today: dt.date, *, allow_future: bool, lang: str = "zh") -> None:
    """Refuse an as-of later than tomorrow unless `allow_future`."""
    limit = latest_allowed(today)
    if as_of > limit and not allow_future:
        values = {"as_of": as_of.isoformat(), "limit": limit.isoformat()}
        raise InputError(text("future", lang, **values), hint=text("future_hint", lang, **values))


def default_as_of(last_order_day: dt.date, today: dt.date, *, allow_future: bool) -> tuple[dt.date, bool]:
    """(the day after the last order, capped at tomorrow unless `allow_future`; whether it was capped)."""
    wanted = last_order_day + dt.timedelta(days=1)
    limit = latest_allowed(today)
    if wanted > limit and not allow_future:
        return limit, True
    return wanted, False


def newest_refresh(runs: Sequence[tuple[dt.date, dt.datetime]], today: dt.date | None) -> dt.date | None:
    """The as-of of the newest refresh (latest refreshed_at, then the later date) dated at or before tomorrow;
    any date when `today` is None; None when there is none."""
    limit = latest_allowed(today) if today is not None else None
    fit = [(at, d) for d, at in runs if limit is None or d <= limit]
    return max(fit)[1] if fit else None


def pick_snapshot(
    runs: Sequence[tuple[dt.date, dt.datetime]], as_of: dt.date | None, today: dt.date | None, lang: str = "zh"
) -> dt.date:
    """The given snapshot date (which must exist) or the default one (`newest_refresh`)."""
    dates = sorted({d for d, _ in runs})
    if not dates:
        raise NotFoundError(_("no snapshot has been built yet"), hint=_("Run `winback refresh` first."))
    if as_of is not None:
        if as_of not in dates:
            shown = ", ".join(d.isoformat() for d in dates[-6:])
            raise NotFoundError(
                _("there is no snapshot at {date}", date=as_of.isoformat()),
                hint=_(
                    "Snapshots exist at: {dates}. Run `winback refresh --as-of {date}` to build one.",
                    dates=shown,
                    date=as_of.isoformat(),
                ),
            )
        return as_of
    found = newest_refresh(runs, today)
    if found is None:
        assert today is not None
        values = {"limit": latest_allowed(today).isoformat(), "dates": ", ".join(d.isoformat() for d in dates[-6:])}
        raise NotFoundError(text("only_future", lang, **values), hint=text("only_future_hint", lang, **values))
    return found
