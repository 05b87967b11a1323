from __future__ import annotations

import datetime as dt

import pytest

from winback.clock import brand_now, brand_zone
from winback.config import Settings
from winback.errors import ConfigError


def test_brand_clock_is_local_wall_time() -> None:
    tz = Settings.load({"WINBACK_TZ": "Asia/Shanghai"}).tz
    local = brand_now(tz)
    utc = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert local.tzinfo is None and local.microsecond == 0
    assert abs((local - utc) - dt.timedelta(hours=8)) < dt.timedelta(minutes=1)
    assert brand_zone(tz).utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(hours=8)  # no summer time in China


def test_unknown_zone_is_a_clear_error() -> None:
    tz = Settings.load({"WINBACK_TZ": "Mars/Olympus"}).tz
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        brand_now(tz)
