"""Contact pressure, checked at send time against the ledger. Pure: no clock, no database.

For each touch about to be sent, `decide` says send, skip (with a reason from ledger.REASONS) or defer (quiet
hours: held until they end). The checks, in order:

1. the campaign was closed → skip `campaign_closed`; the member was merged into another record → `merged`;
2. opted out of everything (`members.opted_out_at`, an opt-out for '*') → `opted_out`; of this channel →
   `opted_out_channel`;
3. consent for the channel recorded as *no* → `no_consent` (unknown consent is allowed: the launch already
   applied the scenario's consent rule);
4. no address for the channel → `no_address`;
5. quiet hours (brand time zone, default 21:00–09:00) for the quiet channels (default SMS and calls) → defer to the
   end of the quiet hours (`quiet_hours`);
6. caps per member over rolling windows of 1, 7 and 30 days, overall and per channel → skip `cap_*` /
   `channel_cap_*`; a WeCom customer receives at most the enterprise's monthly quota of mass messages in a
   calendar month → skip `wecom_quota`.

The history a decision counts is every contact of the member in the ledger (sending, sent, delivered, any
channel, a guide's call included) plus the touches approved earlier in the same `decide` call, so a batch never
approves two touches a cap allows only one of.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from winback.errors import ConfigError
from winback.i18n import _

WINDOWS = (("day", 1), ("week", 7), ("month", 30))
SEND, SKIP, DEFER = "send", "skip", "defer"


@dataclass(frozen=True)
class Caps:
    """At most this many contacts per member in any rolling 1 / 7 / 30 days (None = no cap)."""

    day: int | None = None
    week: int | None = None
    month: int | None = None

    def limit(self, window: str) -> int | None:
        return getattr(self, window)


@dataclass(frozen=True)
class PressureRules:
    overall: Caps = Caps(day=1, week=3, month=6)
    per_channel: Mapping[str, Caps] = field(default_factory=dict)
    quiet: tuple[dt.time, dt.time] | None = (dt.time(21), dt.time(9))
    quiet_channels: frozenset[str] = frozenset({"sms", "ai_call", "guide_task"})
    wecom_quota: int | None = 4  # mass messages per customer per calendar month


@dataclass(frozen=True)
class Candidate:
    key: str
    member_id: str
    channel: str
    to: str | None
    consent: bool | None = None
    opted_out: bool = False  # every channel
    opted_out_channels: frozenset[str] = frozenset()
    merged: bool = False
    closed: bool = False  # the campaign was closed after the touch was queued


@dataclass(frozen=True)
class Decision:
    key: str
    verdict: str  # send | skip | defer
    reason: str | None = None
    until: dt.datetime | None = None  # defer: not before this


def parse_quiet(text: str | None) -> tuple[dt.time, dt.time] | None:
    """'21:00-09:00' -> (21:00, 09:00); '' or 'off' -> None. A window may wrap midnight."""
    if text is None or text.strip().lower() in ("", "off", "none"):
        return None
    try:
        start, end = (dt.time.fromisoformat(p.strip()) for p in text.split("-"))
    except ValueError as exc:
        raise ConfigError(
            _("quiet hours {text!r} are not HH:MM-HH:MM", text=text),
            hint=_("For example: 21:00-09:00 (or off)."),
        ) from exc
    return (start, end) if start != end else None


def in_quiet(t: dt.datetime, quiet: tuple[dt.time, dt.time] | None) -> bool:
    if quiet is None:
        return False
    start, end, now = quiet[0], quiet[1], t.time()
    return start <= now < end if start < end else (now >= start or now < end)


def quiet_end(t: dt.datetime, quiet: tuple[dt.time, dt.time]) -> dt.datetime:
    """The first moment after `t` outside the quiet hours (t must be inside them)."""
    end = dt.datetime.combine(t.date(), quiet[1])
    return end if end > t else end + dt.timedelta(days=1)


def _window_counts(history: Iterable[tuple[str, dt.datetime]], channel: str, now: dt.datetime) -> dict[str, int]:
    counts = {"day": 0, "week": 0, "month": 0, "ch_day": 0, "ch_week": 0, "ch_month": 0, "cal_month": 0}
    if not history:
        return counts
    for ch, ts in history:
        age = now - ts
        for name, days in WINDOWS:
            if dt.timedelta(0) <= age < dt.timedelta(days=days):
                counts[name] += 1
                if ch == channel:
                    counts["ch_" + name] += 1
        if ch == channel and (ts.year, ts.month) == (now.year, now.month) and ts <= now:
            counts["cal_month"] += 1
    return counts


def _cap_reason(counts: dict[str, int], rules: PressureRules, channel: str) -> str | None:
    for name, _days in WINDOWS:
        cap = rules.overall.limit(name)
        if cap is not None and counts[name] >= cap:
            return f"cap_{name}"
    ch_caps = rules.per_channel.get(channel)
    if ch_caps is not None:
        for name, _ in WINDOWS:
            cap = ch_caps.limit(name)
            if cap is not None and counts["ch_" + name] >= cap:
                return f"channel_cap_{name}"
    if channel == "wecom" and rules.wecom_quota is not None and counts["cal_month"] >= rules.wecom_quota:
        return "wecom_quota"
    return None


def check(c: Candidate, history: Iterable[tuple[str, dt.datetime]], rules: PressureRules, now: dt.datetime) -> Decision:
    """One touch against the member's contact history (channel, time) and the rules, at `now` (brand time)."""
    reason = None
    if c.closed:
        reason = "campaign_closed"
    elif c.merged:
        reason = "merged"
    elif c.opted_out:
        reason = "opted_out"
    elif c.channel in c.opted_out_channels:
        reason = "opted_out_channel"
    elif c.consent is False:
        reason = "no_consent"
    elif not c.to:
        reason = "no_address"
    if reason:
        return Decision(c.key, SKIP, reason)
    if c.channel in rules.quiet_channels and rules.quiet is not None and in_quiet(now, rules.quiet):
        return Decision(c.key, DEFER, "quiet_hours", quiet_end(now, rules.quiet))
    reason = _cap_reason(_window_counts(history, c.channel, now), rules, c.channel)
    return Decision(c.key, SKIP, reason) if reason else Decision(c.key, SEND)


def decide(
    candidates: Iterable[Candidate],
    history: Mapping[str, list[tuple[str, dt.datetime]]],
    rules: PressureRules,
    now: dt.datetime,
) -> list[Decision]:
    """Decisions in the candidates' order; each approved touch joins its member's history for the next ones."""
    cands = list(candidates)
    verdicts = decide_columns(
        [c.member_id for c in cands],
        [c.channel for c in cands],
        [c.to for c in cands],
        [c.consent for c in cands],
        [c.opted_out for c in cands],
        [c.opted_out_channels for c in cands],
        [c.merged for c in cands],
        [c.closed for c in cands],
        history,
        rules,
        now,
    )
    return [
        Decision(c.key, SEND) if v is None else Decision(c.key, DEFER if v[1] else SKIP, v[0], v[1])
        for c, v in zip(cands, verdicts, strict=True)
    ]


def decide_columns(
    member_ids: Sequence[str],
    channels: Sequence[str],
    to: Sequence[str | None],
    consent: Sequence[bool | None],
    opted_out: Sequence[bool | None],
    opted_out_channels: Sequence[Iterable[str] | None],
    merged: Sequence[bool | None],
    closed: Sequence[bool | None],
    history: Mapping[str, list[tuple[str, dt.datetime]]],
    rules: PressureRules,
    now: dt.datetime,
) -> list[tuple[str, dt.datetime | None] | None]:
    """`decide` over columns (one entry per touch, in order), for a dispatch chunk of many thousand touches: per
    touch None (send) or (reason, until): `until` set = defer, None = skip. The same rules as `check`, in the
    same order; what is the same for the whole chunk (quiet hours at `now`, the caps of a member with no contact
    yet) is worked out once per channel, and only a member with history (or a second touch in the chunk)
    counts windows."""
    quiet_now = rules.quiet is not None and in_quiet(now, rules.quiet)
    hold = ("quiet_hours", quiet_end(now, rules.quiet)) if quiet_now and rules.quiet is not None else None
    fresh: dict[str, str | None] = {}  # channel -> the cap reason of a member with no contact (caps of 0)
    seen: dict[str, list[tuple[str, dt.datetime]]] = {}
    out: list[tuple[str, dt.datetime | None] | None] = []
    for mid, ch, addr, ok, out_all, out_chs, mrg, cls in zip(
        member_ids, channels, to, consent, opted_out, opted_out_channels, merged, closed, strict=True
    ):
        if cls:
            out.append(("campaign_closed", None))
        elif mrg:
            out.append(("merged", None))
        elif out_all:
            out.append(("opted_out", None))
        elif out_chs and ch in out_chs:
            out.append(("opted_out_channel", None))
        elif ok is False:
            out.append(("no_consent", None))
        elif not addr:
            out.append(("no_address", None))
        elif hold is not None and ch in rules.quiet_channels:
            out.append(hold)
        else:
            mine = seen.get(mid)
            if mine is None and mid not in history:
                if ch not in fresh:
                    fresh[ch] = _cap_reason(_window_counts((), ch, now), rules, ch)
                reason = fresh[ch]
                if reason is None:
                    seen[mid] = [(ch, now)]
                    out.append(None)
                else:
                    out.append((reason, None))
                continue
            if mine is None:
                mine = seen[mid] = list(history.get(mid, ()))
            reason = _cap_reason(_window_counts(mine, ch, now), rules, ch)
            if reason is None:
                mine.append((ch, now))
                out.append(None)
            else:
                out.append((reason, None))
    return out


def rules_from_config(raw: Mapping[str, object] | None, quiet_hours: str | None) -> PressureRules:
    """PressureRules from the channels file's [pressure] table (caps = {day, week, month}, [pressure.channel.X],
    quiet_channels, wecom_quota) and the quiet_hours setting (the file's `quiet_hours` wins)."""
    raw = dict(raw or {})
    quiet_text = raw.get("quiet_hours", quiet_hours)
    base = PressureRules()

    def caps(value: object, default: Caps) -> Caps:
        if value is None:
            return default
        if not isinstance(value, Mapping) or set(value) - {"day", "week", "month"}:
            raise ConfigError(
                _("caps in [pressure] must be a table of day, week, month, got {value!r}", value=value),
                hint=_("For example: caps = {example}", example="{ day = 1, week = 3, month = 6 }"),
            )
        return Caps(**{k: (None if v is None else int(v)) for k, v in value.items()})

    per_channel = raw.get("channel") or {}
    if not isinstance(per_channel, Mapping):
        raise ConfigError(
            _("[pressure.channel] must be a table"), hint=_("For example: [pressure.channel.sms] month = 2")
        )
    quota = raw.get("wecom_quota", base.wecom_quota)
    return PressureRules(
        overall=caps(raw.get("caps"), base.overall),
        per_channel={str(k): caps(v, Caps()) for k, v in per_channel.items()},
        quiet=parse_quiet(None if quiet_text is None else str(quiet_text)),
        quiet_channels=frozenset(raw.get("quiet_channels", base.quiet_channels)),  # type: ignore[arg-type]
        wecom_quota=None if quota is None else int(quota),  # type: ignore[call-overload]
    )
