"""Journeys as rules data (rules/journeys.toml) and the daily run's decisions. Pure.

A journey names a scenario of the playbook; `winback run --date D` enrols it once per day: that day's audience
becomes a campaign of its own (launched with the scenario's holdout, so every day has its own control group).
A day already run creates nothing; a run after skipped days does their work once (the audience of day D includes
everyone who crossed the threshold on the skipped days, since the targets are recency ranges), recorded as
covering them; a day before the last one run is covered already.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from winback.errors import ConfigError, InputError


@dataclass(frozen=True)
class Journey:
    id: str
    name_zh: str
    name_en: str
    scenario: str
    enabled: bool = True

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def parse_journeys(text: str, where: str = "journeys.toml") -> list[Journey]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", hint="Fix the line named above.") from exc
    out: list[Journey] = []
    for raw in data.get("journey", []):
        try:
            j = Journey(
                str(raw["id"]),
                str(raw["name_zh"]),
                str(raw["name_en"]),
                str(raw["scenario"]),
                bool(raw.get("enabled", True)),
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"journey {raw.get('id', '?')!r} in {where} lacks {exc}") from exc
        if any(o.id == j.id for o in out):
            raise ConfigError(f"journey {j.id!r} is defined twice in {where}")
        out.append(j)
    return out


def load_journeys(path: Path | str | None = None) -> list[Journey]:
    """The given file, else the shipped rules/journeys.toml."""
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"journeys file {p} does not exist", hint="Fix the path.")
        return parse_journeys(p.read_text(encoding="utf-8"), str(p))
    text = resources.files("winback").joinpath("rules", "journeys.toml").read_text(encoding="utf-8")
    return parse_journeys(text, "winback/rules/journeys.toml")


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
            f"cannot run {day}: it is after today ({now.date()})",
            hint="Give today or an earlier day (--date YYYY-MM-DD), or set the brand's now (WINBACK_NOW).",
        )
    return now if day == now.date() else dt.datetime.combine(day, dt.time(9))


#: the run's messages, (zh, en)
NOTES = {
    "no_channels": (
        "未设置渠道配置文件（WINBACK_CHANNELS）：未派发；导购任务在任务表里等待",
        "no channels file (WINBACK_CHANNELS): nothing dispatched; guide tasks wait in the task sheets",
    ),
    "covered": ("已运行过，最后一天", "run before, last day"),
    "nobody": ("今天没有符合条件的会员", "nobody in the audience today"),
}


def note(lang: str, key: str) -> str:
    zh, en = NOTES[key]
    return zh if lang == "zh" else en


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
        im, hi = self.incremental_margin, self.upper_95
        if lang == "zh":
            return f"已暂停：{self.campaigns} 期活动的增量毛利 {im:,.0f} 元，单侧 95% 上限 {hi:,.0f} 元 < 0"
        n = self.campaigns
        return f"paused: incremental margin {im:,.0f} over {n} campaigns, one-sided 95% upper bound {hi:,.0f} < 0"


def pause_rule(finished: list[tuple[ArmSums, ArmSums, float, float]]) -> Pause:
    """(treated, control, margin, cost per contact) of every finished campaign of a journey -> whether the rung
    pauses: its pooled incremental margin (Σ margin × n_t (mean_t − mean_c) − n_t × cost per contact − discounts)
    is below zero with one-sided 95 % evidence (Welch variances, campaigns independent)."""
    usable = [(t, c, m, cpc) for t, c, m, cpc in finished if t.n > 0 and c.n > 0]
    if not usable:
        return Pause(False, 0, None, None)
    im = var = 0.0
    for t, c, m, cpc in usable:
        (mt, vt), (mc, vc) = t.mean_var(), c.mean_var()
        im += m * t.n * (mt - mc) - t.n * cpc - t.discounts
        var += (m * t.n) ** 2 * (vt / t.n + vc / c.n)
    hi = im + Z95_ONE_SIDED * var**0.5
    return Pause(hi < 0, len(usable), im, hi)
