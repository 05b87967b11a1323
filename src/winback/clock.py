"""The brand's wall clock.

Exports write order times in the brand's local time without a zone (2024-03-05 13:05, or just a date), so every
time winback stamps (campaign launch, coupon issue, redemption) is local wall-clock time too, naive, in the zone
named by the `tz` setting ($WINBACK_TZ, default Asia/Shanghai), which the entry point passes in. Mixing UTC
stamps with local order times shifts response windows by hours and refuses same-day redemptions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from winback.errors import ConfigError
from winback.i18n import _

DEFAULT_TZ = "Asia/Shanghai"
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # no daylight saving since 1991: exact without tzdata


def brand_zone(name: str = DEFAULT_TZ) -> dt.tzinfo:
    name = name or DEFAULT_TZ
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
            return _CHINA
        raise ConfigError(
            _("WINBACK_TZ={name!r} is not a time zone this machine knows", name=name),
            hint=_("Use an IANA name such as Asia/Shanghai or Asia/Hong_Kong (install the tzdata package if needed)."),
        ) from None


def brand_now(zone: str = DEFAULT_TZ) -> dt.datetime:
    """Now, as the brand's local wall-clock time (naive, whole seconds)."""
    return dt.datetime.now(brand_zone(zone)).replace(tzinfo=None, microsecond=0)
