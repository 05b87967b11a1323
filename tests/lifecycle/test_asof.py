"""Time runs one way (issue 9): which as-of dates a refresh accepts, and which snapshot a reader gets (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from winback.errors import InputError, NotFoundError
from winback.lifecycle.asof import check_as_of, default_as_of, newest_refresh, pick_snapshot
from winback.lifecycle.modelling import ModelFit, clv_flag

TODAY = dt.date(2026, 11, 21)


def _at(hour: int) -> dt.datetime:
    return dt.datetime(2026, 11, 21, hour)


def test_an_as_of_after_tomorrow_is_refused_unless_asked() -> None:
    check_as_of(dt.date(2026, 11, 22), TODAY, allow_future=False)  # tomorrow counts today's orders
    with pytest.raises(InputError) as err:
        check_as_of(dt.date(2030, 1, 1), TODAY, allow_future=False, lang="en")
    assert "2030-01-01" in err.value.message and "2026-11-22" in err.value.message
    assert "--allow-future" in (err.value.hint or "")
    with pytest.raises(InputError, match="晚于明天"):
        check_as_of(dt.date(2030, 1, 1), TODAY, allow_future=False)  # Chinese first
    check_as_of(dt.date(2030, 1, 1), TODAY, allow_future=True)


def test_the_default_as_of_is_at_most_tomorrow() -> None:
    assert default_as_of(dt.date(2026, 11, 20), TODAY, allow_future=False) == (dt.date(2026, 11, 21), False)
    assert default_as_of(dt.date(2026, 12, 5), TODAY, allow_future=False) == (dt.date(2026, 11, 22), True)
    assert default_as_of(dt.date(2026, 12, 5), TODAY, allow_future=True) == (dt.date(2026, 12, 6), False)


def test_the_default_snapshot_is_the_newest_refresh_not_the_largest_date(english: None) -> None:
    runs = [(dt.date(2026, 11, 1), _at(1)), (dt.date(2030, 1, 1), _at(2)), (dt.date(2026, 11, 21), _at(3))]
    assert newest_refresh(runs, TODAY) == dt.date(2026, 11, 21)
    later_old = [*runs, (dt.date(2026, 4, 1), _at(4))]  # a back-test built later is what was built last
    assert newest_refresh(later_old, TODAY) == dt.date(2026, 4, 1)
    assert newest_refresh(runs[:2], TODAY) == dt.date(2026, 11, 1)  # the future one is never the default
    assert newest_refresh(runs, None) == dt.date(2026, 11, 21)
    assert pick_snapshot(runs, dt.date(2030, 1, 1), TODAY) == dt.date(2030, 1, 1)  # asked for by name: fine
    with pytest.raises(NotFoundError, match="2030-01-01"):
        pick_snapshot([(dt.date(2030, 1, 1), _at(2))], None, TODAY, lang="en")
    with pytest.raises(NotFoundError, match="no snapshot"):
        pick_snapshot([], None, TODAY)


def test_clv_is_flagged_when_a_model_is_rough_or_missing() -> None:
    ok = ModelFit("mbg_nbd", {}, "weeks", -1.0, True, 10)
    rough = ModelFit("gamma_gamma", {}, None, -1.0, False, 10)
    assert clv_flag(ok, ok) is None
    assert clv_flag(ok, None) == "no_value_model"
    assert clv_flag(ok, rough) == "value_model_not_converged"
    assert clv_flag(rough, rough) == "purchase_model_not_converged,value_model_not_converged"
