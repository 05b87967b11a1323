"""Contact pressure, as properties: whatever the members, channels, opt-outs, caps and times, an approved touch
never goes to an opted-out member, inside quiet hours on a quiet channel, without an address, or past a cap in
any rolling window; a held touch is held exactly to the end of the quiet hours."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from winback.errors import ConfigError
from winback.outreach.pressure import (
    DEFER,
    SEND,
    SKIP,
    Candidate,
    Caps,
    PressureRules,
    check,
    decide,
    in_quiet,
    parse_quiet,
    quiet_end,
    rules_from_config,
)

CHANNELS = ["sms", "wecom", "email", "webhook", "ai_call"]
T0 = dt.datetime(2026, 11, 1)
MEMBERS = [f"M{i}" for i in range(6)]

caps = st.builds(
    Caps,
    day=st.none() | st.integers(0, 3),
    week=st.none() | st.integers(0, 6),
    month=st.none() | st.integers(0, 10),
)
quiet = st.none() | st.tuples(
    st.integers(0, 23).map(lambda h: dt.time(h)), st.integers(0, 23).map(lambda h: dt.time(h))
).filter(lambda q: q[0] != q[1])
rules = st.builds(
    PressureRules,
    overall=caps,
    per_channel=st.dictionaries(st.sampled_from(CHANNELS), caps, max_size=3),
    quiet=quiet,
    quiet_channels=st.frozensets(st.sampled_from(CHANNELS)),
    wecom_quota=st.none() | st.integers(0, 4),
)
candidate = st.builds(
    Candidate,
    key=st.uuids().map(str),
    member_id=st.sampled_from(MEMBERS),
    channel=st.sampled_from(CHANNELS),
    to=st.sampled_from([None, "+8613900000000", "a@b.c"]),
    consent=st.sampled_from([None, True, False]),
    opted_out=st.booleans(),
    opted_out_channels=st.frozensets(st.sampled_from(CHANNELS), max_size=2),
    merged=st.booleans(),
)
# a schedule: dispatch runs at increasing times, each with a few candidates
runs = st.lists(
    st.tuples(st.integers(0, 60 * 24 * 40), st.lists(candidate, min_size=1, max_size=8)), min_size=1, max_size=25
)


def windows_ok(sent: list[tuple[str, str, dt.datetime]], r: PressureRules) -> None:
    """Every rolling window ending at a send holds no more than its cap, overall and per channel."""
    for member, channel, at in sent:
        mine = [(c, t) for m, c, t in sent if m == member and t <= at]
        for name, days in (("day", 1), ("week", 7), ("month", 30)):
            inside = [(c, t) for c, t in mine if at - t < dt.timedelta(days=days)]
            cap = r.overall.limit(name)
            assert cap is None or len(inside) <= cap, (member, name, inside)
            ch = r.per_channel.get(channel)
            ch_cap = None if ch is None else ch.limit(name)
            assert ch_cap is None or sum(c == channel for c, _ in inside) <= ch_cap
        if channel == "wecom" and r.wecom_quota is not None:
            same_month = [t for c, t in mine if c == "wecom" and (t.year, t.month) == (at.year, at.month)]
            assert len(same_month) <= r.wecom_quota


@given(rules, runs)
def test_approved_touches_respect_every_rule(r: PressureRules, schedule: list) -> None:  # type: ignore[type-arg]
    history: dict[str, list[tuple[str, dt.datetime]]] = {}
    sent: list[tuple[str, str, dt.datetime]] = []
    for minutes, cands in sorted(schedule, key=lambda x: x[0]):
        now = T0 + dt.timedelta(minutes=minutes)
        for c, d in zip(cands, decide(cands, history, r, now), strict=True):
            assert d.key == c.key
            if d.verdict == SEND:
                assert not (c.opted_out or c.merged or c.channel in c.opted_out_channels or c.consent is False)
                assert c.to
                assert not (c.channel in r.quiet_channels and in_quiet(now, r.quiet))
                sent.append((c.member_id, c.channel, now))
                history.setdefault(c.member_id, []).append((c.channel, now))
            elif d.verdict == DEFER:
                assert d.reason == "quiet_hours" and r.quiet is not None and d.until is not None
                assert d.until > now and not in_quiet(d.until, r.quiet)
                held = int((d.until - now).total_seconds() // 60)
                assert all(in_quiet(now + dt.timedelta(minutes=k), r.quiet) for k in range(0, held, 17))
            else:
                assert d.verdict == SKIP and d.reason
    windows_ok(sent, r)


@given(st.integers(0, 23), st.integers(0, 23), st.integers(0, 24 * 60 - 1))
def test_quiet_end_is_the_first_minute_outside(start: int, end: int, minute: int) -> None:
    if start == end:
        return
    q = (dt.time(start), dt.time(end))
    t = T0 + dt.timedelta(minutes=minute)
    if not in_quiet(t, q):
        return
    e = quiet_end(t, q)
    assert not in_quiet(e, q) and in_quiet(e - dt.timedelta(minutes=1), q) and e - t <= dt.timedelta(days=1)


def test_default_quiet_hours_are_21_to_9_for_sms_and_calls() -> None:
    r = PressureRules()
    c = Candidate("k", "M1", "sms", "+8613900000000")
    assert decide([c], {}, r, dt.datetime(2026, 11, 1, 20, 59))[0].verdict == SEND
    held = decide([c], {}, r, dt.datetime(2026, 11, 1, 21, 0))[0]
    assert (held.verdict, held.until) == (DEFER, dt.datetime(2026, 11, 2, 9, 0))
    assert decide([Candidate("k", "M1", "email", "a@b.c")], {}, r, dt.datetime(2026, 11, 1, 23))[0].verdict == SEND


def test_a_batch_never_approves_past_the_cap() -> None:
    r = PressureRules(overall=Caps(day=1))
    cands = [Candidate(f"k{i}", "M1", "sms", "+8613900000000") for i in range(3)]
    got = [d.reason for d in decide(cands, {}, r, dt.datetime(2026, 11, 1, 12))]
    assert got == [None, "cap_day", "cap_day"]


def test_rules_from_the_channels_file() -> None:
    r = rules_from_config(
        {"caps": {"day": 2}, "channel": {"sms": {"month": 1}}, "quiet_hours": "22:00-08:00", "wecom_quota": 2},
        "21:00-09:00",
    )
    assert r.overall == Caps(day=2) and r.per_channel["sms"] == Caps(month=1)
    assert r.quiet == (dt.time(22), dt.time(8)) and r.wecom_quota == 2
    assert rules_from_config({}, "off").quiet is None
    with pytest.raises(ConfigError, match="quiet hours"):
        parse_quiet("9pm-9am")
    with pytest.raises(ConfigError, match="caps"):
        rules_from_config({"caps": {"hour": 1}}, None)


@given(rules, runs)
def test_column_decisions_equal_one_check_at_a_time(r: PressureRules, schedule: list) -> None:  # type: ignore[type-arg]
    """decide (the dispatcher's column path, decide_columns) gives exactly what `check` gives touch by touch, each
    approved touch joining its member's history before the next: the fast path changes no rule."""
    history: dict[str, list[tuple[str, dt.datetime]]] = {}
    for minutes, cands in sorted(schedule, key=lambda x: x[0]):
        now = T0 + dt.timedelta(minutes=minutes)
        mine = {m: list(h) for m, h in history.items()}
        want = []
        for c in cands:
            d = check(c, mine.get(c.member_id, []), r, now)
            if d.verdict == SEND:
                mine.setdefault(c.member_id, []).append((c.channel, now))
            want.append(d)
        assert decide(cands, history, r, now) == want
        history = mine
