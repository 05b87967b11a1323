"""Journeys as rules data (rules/journeys.toml) and the daily run's decisions. Pure.

A journey names a scenario of the playbook; `winback run --date D` enrols it once per day: that day's audience
becomes a campaign of its own (launched with the scenario's holdout, so every day has its own control group).
A day already run creates nothing; a run after skipped days does their work once, recorded as covering them; a
day before the last one run is covered already.

Kinds: `scenario` (the scenario's own target, e.g. the escalation ladder's recency ranges: the audience of day D
includes everyone who crossed the threshold on the skipped days) and the everyday journeys, whose day's audience
outreach computes (outreach.occasions, store_occasions) and the scenario's `target.journey` reads: `birthday`,
`member_day`, `festival`, `season`, `tier_upgrade`, `points_expiry`.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from winback.common.tiers import shipped_order
from winback.errors import ConfigError, InputError
from winback.i18n import N_, _, t
from winback.outreach.occasions import Festival, parse_month_day

KINDS = ("scenario", "birthday", "member_day", "festival", "season", "tier_upgrade", "points_expiry")


@dataclass(frozen=True)
class Journey:
    id: str
    name_zh: str
    name_en: str
    scenario: str
    enabled: bool = True
    kind: str = "scenario"
    days_before: int = 0
    day_of_month: int | None = None  # member_day
    festivals: tuple[str, ...] = ()  # festival: ids of the [[festival]] table
    seasons: tuple[tuple[str, tuple[int, int]], ...] = ()  # season: (id, (month, day))
    expires: tuple[int, int] | None = None  # points_expiry: the yearly clearing day when the profile names none
    min_points: float = 0.0
    tiers: tuple[str, ...] = ()  # tier_upgrade: lowest first (default: rules/tiers.toml's order)
    profile_fields: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)  # member extra keys

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


@dataclass(frozen=True)
class JourneyRules:
    journeys: list[Journey]
    festivals: dict[str, Festival]


def _festival(raw: dict[str, Any], where: str) -> Festival:
    kinds = [k for k in ("statutory", "lunar", "solar") if k in raw]
    if len(kinds) != 1:
        raise ConfigError(
            _("festival {id!r} in {where} needs exactly one of statutory, lunar, solar", id=raw.get("id"), where=where)
        )
    try:
        md = parse_month_day(raw[kinds[0]], f"festival {raw['id']}") if kinds[0] != "statutory" else None
        return Festival(
            str(raw["id"]),
            str(raw["name_zh"]),
            str(raw["name_en"]),
            statutory=str(raw["statutory"]) if kinds[0] == "statutory" else None,
            lunar=md if kinds[0] == "lunar" else None,
            solar=md if kinds[0] == "solar" else None,
            offset=int(raw.get("offset", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(_("festival {id!r} in {where}: {error}", id=raw.get("id"), where=where, error=exc)) from exc


def _journey(raw: dict[str, Any], where: str) -> Journey:
    kind = str(raw.get("kind", "scenario"))
    if kind not in KINDS:
        raise ConfigError(
            _("journey {id!r} in {where}: kind {kind!r} is unknown", id=raw.get("id"), where=where, kind=kind),
            hint=_("Use one of {kinds}.", kinds=", ".join(KINDS)),
        )
    seasons = tuple((str(s["id"]), parse_month_day(s["starts"], f"season {s['id']}")) for s in raw.get("seasons", []))
    expires = raw.get("expires")
    fields = {str(k): tuple(str(x) for x in v) for k, v in dict(raw.get("profile_fields", {})).items()}
    j = Journey(
        str(raw["id"]),
        str(raw["name_zh"]),
        str(raw["name_en"]),
        str(raw["scenario"]),
        bool(raw.get("enabled", True)),
        kind,
        int(raw.get("days_before", 0)),
        int(raw["day_of_month"]) if "day_of_month" in raw else None,
        tuple(str(x) for x in raw.get("festivals", ())),
        seasons,
        parse_month_day(expires, f"journey {raw['id']} expires") if expires else None,
        float(raw.get("min_points", 0)),
        tuple(str(x) for x in raw["tiers"]) if "tiers" in raw else (shipped_order() if kind == "tier_upgrade" else ()),
        fields,
    )
    _check_journey(j, where)
    return j


def _check_journey(j: Journey, where: str) -> None:
    wrong = None
    if not 0 <= j.days_before <= 60:
        wrong = _("days_before must be between 0 and 60, got {n}", n=j.days_before)
    elif j.kind == "member_day" and not (j.day_of_month and 1 <= j.day_of_month <= 31):
        wrong = _("a member day needs day_of_month between 1 and 31")
    elif j.kind == "festival" and not j.festivals:
        wrong = _("a festival journey needs festivals = [ids of the [[festival]] table]")
    elif j.kind == "season" and not j.seasons:
        wrong = _("a season journey needs seasons, each with an id and starts = MM-DD")
    elif j.kind == "tier_upgrade" and len(j.tiers) < 2:
        wrong = _("a tier upgrade journey needs tiers = [lowest, …, highest]")
    if wrong:
        raise ConfigError(_("journey {id!r} in {where}: {wrong}", id=j.id, where=where, wrong=wrong))


def parse_journeys(text: str, where: str = "journeys.toml") -> list[Journey]:
    return parse_rules(text, where).journeys


def parse_rules(text: str, where: str = "journeys.toml") -> JourneyRules:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{where} is not valid TOML: {error}", where=where, error=exc), hint=_("Fix the line named above.")
        ) from exc
    festivals = {f.id: f for f in (_festival(r, where) for r in data.get("festival", []))}
    out: list[Journey] = []
    for raw in data.get("journey", []):
        try:
            j = _journey(raw, where)
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                _("journey {id!r} in {where} lacks or misstates {error}", id=raw.get("id", "?"), where=where, error=exc)
            ) from exc
        if any(o.id == j.id for o in out):
            raise ConfigError(_("journey {id!r} is defined twice in {where}", id=j.id, where=where))
        unknown = [f for f in j.festivals if f not in festivals]
        if unknown:
            raise ConfigError(
                _("journey {id!r} in {where} names unknown festivals {names}", id=j.id, where=where, names=unknown)
            )
        out.append(j)
    return JourneyRules(out, festivals)


def load_rules(path: Path | str | None = None) -> JourneyRules:
    """The given file, else the shipped rules/journeys.toml."""
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(_("journeys file {path} does not exist", path=p), hint=_("Fix the path."))
        return parse_rules(p.read_text(encoding="utf-8"), str(p))
    text = resources.files("winback").joinpath("rules", "journeys.toml").read_text(encoding="utf-8")
    return parse_rules(text, "winback/rules/journeys.toml")


def load_journeys(path: Path | str | None = None) -> list[Journey]:
    return load_rules(path).journeys


def covers_from(last_day: dt.date | None, day: dt.date) -> dt.date | None:
    """The first day a run of `day` covers (the day after the last one run, or `day` itself the first time), or
    None when `day` is covered already."""
    if last_day is None:
        return day
    if day <= last_day:
        return None
    return last_day + dt.timedelta(days=1)


def run_moment(day: dt.date, now: dt.datetime) -> dt.datetime:
    """When the run of `day` acts: now for today, 09:00 of an earlier day (a catch-up); never a future day."""
    if day > now.date():
        raise InputError(
            _("cannot run {day}: it is after today ({today})", day=day, today=now.date()),
            hint=_("Give today or an earlier day (--date YYYY-MM-DD), or set the brand's now (WINBACK_NOW)."),
        )
    return now if day == now.date() else dt.datetime.combine(day, dt.time(9))


#: the run's messages
NOTES = {
    "no_channels": N_("no channels file (WINBACK_CHANNELS): nothing dispatched; guide tasks wait in the task sheets"),
    "covered": N_("run before, last day"),
    "nobody": N_("nobody in the audience today"),
}


def note(lang: str, key: str) -> str:
    return t(NOTES[key], lang)


# -- the pause rule ------------------------------------------------------------------------------------------
Z95_ONE_SIDED = 1.6448536269514722


@dataclass(frozen=True)
class ArmSums:
    """One arm of one finished campaign of a journey: members, Σ revenue, Σ revenue², coupon discounts."""

    n: int
    revenue: float
    revenue_sq: float
    discounts: float = 0.0

    def mean_var(self) -> tuple[float, float]:
        if self.n < 2:
            return (self.revenue / self.n if self.n else 0.0), 0.0
        mean = self.revenue / self.n
        return mean, max(0.0, (self.revenue_sq - self.n * mean * mean) / (self.n - 1))


@dataclass(frozen=True)
class Pause:
    paused: bool
    campaigns: int
    incremental_margin: float | None  # Σ over campaigns of margin × incremental revenue − cost
    upper_95: float | None  # its one-sided 95 % upper bound

    def say(self, lang: str) -> str:
        if self.incremental_margin is None or self.upper_95 is None:
            return ""
        return t(
            "paused: incremental margin {margin:,.0f} over {n} campaigns, one-sided 95% upper bound {upper:,.0f} < 0",
            lang,
            margin=self.incremental_margin,
            n=self.campaigns,
            upper=self.upper_95,
        )


def pause_rule(finished: list[tuple[ArmSums, ArmSums, float, float]]) -> Pause:
    """(treated, control, margin, cost per contact) of every finished campaign of a journey -> whether the rung
    pauses: its pooled incremental margin (Σ margin × n_t (mean_t − mean_c) − n_t × cost per contact − discounts)
    is below zero with one-sided 95 % evidence (Welch variances, campaigns independent)."""
    usable = [(t, c, m, cpc) for t, c, m, cpc in finished if t.n > 0 and c.n > 0]
    if not usable:
        return Pause(False, 0, None, None)
    im = var = 0.0
    for tr, c, m, cpc in usable:
        (mt, vt), (mc, vc) = tr.mean_var(), c.mean_var()
        im += m * tr.n * (mt - mc) - tr.n * cpc - tr.discounts
        var += (m * tr.n) ** 2 * (vt / tr.n + vc / c.n)
    hi = im + Z95_ONE_SIDED * var**0.5
    return Pause(hi < 0, len(usable), im, hi)
