"""The brand's wall clock.

Exports write order times in the brand's local time without a zone (2024-03-05 13:05, or just a date), so every
time winback stamps (campaign launch, coupon issue, redemption) is local wall-clock time too, naive, in the zone
named by $WINBACK_TZ (default Asia/Shanghai). Mixing UTC stamps with local order times shifts response windows by
hours and refuses same-day redemptions.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from winback.errors import ConfigError

ENV_TZ = "WINBACK_TZ"
DEFAULT_TZ = "Asia/Shanghai"
_CHINA = dt.timezone(dt.timedelta(hours=8), "CST")  # no daylight saving since 1991: exact without tzdata


def brand_zone(name: str | None = None) -> dt.tzinfo:
    name = name or os.environ.get(ENV_TZ) or DEFAULT_TZ
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        if name in ("Asia/Shanghai", "Asia/Chongqing", "PRC"):
            return _CHINA
        raise ConfigError(
            f"{ENV_TZ}={name!r} is not a time zone this machine knows",
            hint="Use an IANA name such as Asia/Shanghai or Asia/Hong_Kong (install the tzdata package if needed).",
        ) from None


def brand_now(zone: str | None = None) -> dt.datetime:
    """Now, as the brand's local wall-clock time (naive, whole seconds)."""
    return dt.datetime.now(brand_zone(zone)).replace(tzinfo=None, microsecond=0)
