"""Measures (pure): the planner file, each measure's effect on a cell (the brand's measured campaigns, else the
seed default, labelled), the options the solver chooses from, and what-ifs that must name a measure."""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from winback.common.tiers import shipped_order
from winback.errors import ConfigError, InputError
from winback.i18n import N_, _
from winback.planner.types import Z95, CellEstimate, Effect, Option, WhatIf

LEVERS = ("rate", "aov")
MIN_ARM = 30  # members per arm (treated and control) before a measured effect is used for a stage
MESSAGE_CHANNELS = ("sms", "wecom", "email")
#: where an effect comes from, as shown to people
SOURCES = (N_("measured"), N_("seed_default"))


@dataclass(frozen=True)
class Measure:
    id: str
    zh: str
    en: str
    lever: str
    scenario: str
    stages: tuple[str, ...]
    runs: int
    cost_per_contact: float
    minutes_per_contact: float
    default: Mapping[str, float]
    source_zh: str = ""
    source_en: str = ""

    def name(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Offer:
    """The scenario's offer and channel as the planner needs them (from the playbook)."""

    kind: str = "none"
    value: float = 0.0
    threshold: float = 0.0
    channel: str = "sms"
    window_days: int = 14

    def discount_on(self, amount: float) -> float:
        if amount < self.threshold or self.kind in ("none", "points"):
            return 0.0
        if self.kind == "discount":
            return amount * self.value / 100.0
        return min(self.value, amount)


@dataclass(frozen=True)
class PlannerConfig:
    tiers: tuple[str, ...]
    stages: tuple[str, ...]
    guide_hours_per_guide: float
    measures: dict[str, Measure]
    promotions: list[dict[str, Any]]
    phases: list[dict[str, Any]]
    source: str = "planner.toml"
    extra: dict[str, Any] = field(default_factory=dict)


def _measure(raw: dict[str, Any], where: str) -> Measure:
    try:
        m = Measure(
            id=str(raw["id"]), zh=str(raw["zh"]), en=str(raw["en"]), lever=str(raw["lever"]),
            scenario=str(raw["scenario"]), stages=tuple(str(s) for s in raw["stages"]), runs=int(raw.get("runs", 1)),
            cost_per_contact=float(raw.get("cost_per_contact", 0.0)),
            minutes_per_contact=float(raw.get("minutes_per_contact", 0.0)),
            default={k: float(v) for k, v in dict(raw.get("default", {})).items()},
            source_zh=str(raw.get("source_zh", "")), source_en=str(raw.get("source_en", "")),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            _("{where}: a measure is missing or has a bad field ({error})", where=where, error=exc),
            hint=_("Each [[measure]] needs id, zh, en, lever, scenario, stages and default."),
        ) from exc
    if m.lever not in LEVERS or m.runs < 1 or not {m.lever, "low", "high"} <= set(m.default):
        raise ConfigError(
            _(
                "{where}: measure {id} needs lever rate or aov, runs >= 1 and default = {{ {lever} = …, low = …, "
                "high = … }}",
                where=where,
                id=m.id,
                lever=m.lever,
            ),
            hint=_("Fix the measure in the planner file."),
        )
    return m


def parse_config(text: str, where: str = "planner.toml") -> PlannerConfig:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{where} is not valid TOML: {error}", where=where, error=exc), hint=_("Fix the file's syntax.")
        ) from exc
    measures = [_measure(m, where) for m in data.get("measure", [])]
    return PlannerConfig(
        tiers=tuple(str(t) for t in data["tiers"]) if "tiers" in data else shipped_order(),
        stages=tuple(str(s) for s in data.get("stages", [])),
        guide_hours_per_guide=float(data.get("guide_hours_per_guide", 0.0)),
        measures={m.id: m for m in measures},
        promotions=list(data.get("promotion", [])),
        phases=list(data.get("phase", [])),
        source=where,
    )


def default_config() -> PlannerConfig:
    text = resources.files("winback.planner").joinpath("planner.toml").read_text(encoding="utf-8")
    return parse_config(text, "winback/planner/planner.toml")


# -- effects ---------------------------------------------------------------------------------------------------
def measured_effect(rows: Sequence[Mapping[str, Any]], scenario: str, stage: str) -> Effect | None:
    """The incremental revenue and response per member of the brand's campaigns of `scenario` on members of
    `stage` (treated minus control, Welch and two-proportion 95 % intervals), when both arms have MIN_ARM members."""
    from winback.campaigns.stats import Summary, two_proportions, welch

    arms = {bool(r["is_control"]): r for r in rows if r["scenario"] == scenario and r["stage"] == stage}
    if True not in arms or False not in arms:
        return None
    t, c = arms[False], arms[True]
    if int(t["n"]) < MIN_ARM or int(c["n"]) < MIN_ARM:
        return None

    def summary(r: Mapping[str, Any]) -> Summary:
        n, s, sq = int(r["n"]), float(r["revenue"]), float(r["revenue_sq"])
        mean = s / n
        return Summary(n, mean, max((sq - n * mean * mean) / (n - 1), 0.0) if n > 1 else 0.0)

    rev = welch(summary(t), summary(c))
    resp = two_proportions(int(t["responders"]), int(t["n"]), int(c["responders"]), int(c["n"]))
    if rev.diff is None:
        return None
    lo = rev.ci_low if rev.ci_low is not None else rev.diff
    hi = rev.ci_high if rev.ci_high is not None else rev.diff
    ids = tuple(sorted({i for r in (t, c) for i in str(r["campaigns"] or "").split(",") if i}))
    detail = _(
        "measured: {campaigns} ({n} treated, {m} control)", campaigns=", ".join(ids), n=int(t["n"]), m=int(c["n"])
    )
    return Effect(rev.diff, lo, hi, "measured", detail, rate=resp.diff, campaigns=ids, n=int(t["n"]) + int(c["n"]))


def default_effect(m: Measure, cell: CellEstimate, lang: str) -> Effect:
    """The seed default: a rate lever adds Δp repurchasers per member at the cell's AOV; an AOV lever raises the
    spend of the cell's repurchasers by a share."""
    rate, aov = cell.rate or 0.0, cell.aov or 0.0
    d = m.default
    if m.lever == "rate":
        room = max(1.0 - rate, 0.0)
        per = [min(v, room) * aov for v in (d["rate"], d["low"], d["high"])]
        kw: dict[str, float | None] = {"rate": min(d["rate"], room), "aov": None}
    else:
        per = [rate * v * aov for v in (d["aov"], d["low"], d["high"])]
        kw = {"rate": None, "aov": d["aov"]}
    source = m.source_en if lang == "en" else m.source_zh
    detail = _("seed default (no measured campaign of this scenario in this stage): {source}", source=source)
    return Effect(per[0], per[1], per[2], "seed_default", detail, **kw)


def effect_for(m: Measure, cell: CellEstimate, measured: Sequence[Mapping[str, Any]], lang: str) -> Effect:
    found = measured_effect(measured, m.scenario, cell.stage)
    return found if found is not None else default_effect(m, cell, lang)


def option_for(
    m: Measure,
    cell: CellEstimate,
    offer: Offer,
    effect: Effect,
    period_days: int,
    forced: bool = False,
    reachable: int | None = None,
) -> Option:
    """Measure `m` on every member of `cell` its channel can reach (`reachable`, default all), `m.runs` times in
    the period: gain, cost and resources."""
    n = cell.members if reachable is None else min(int(reachable), cell.members)
    runs = m.runs
    contacts = n * runs
    gain = contacts * effect.revenue_per_member
    sd = contacts * max(effect.high - effect.low, 0.0) / (2 * Z95)
    rate = cell.rate or 0.0
    lift = effect.rate if effect.rate is not None else 0.0
    window = min(offer.window_days / max(period_days, 1), 1.0)
    redeemers = contacts * min(max(lift, 0.0) + rate * window, 1.0) if offer.kind != "none" else 0.0
    order = max(offer.threshold, (cell.aov or 0.0) / 2)  # a redeeming order: at least the threshold
    cost = contacts * m.cost_per_contact + redeemers * offer.discount_on(order)
    hours = contacts * m.minutes_per_contact / 60.0 if offer.channel == "guide_task" else 0.0
    messages = contacts if offer.channel in MESSAGE_CHANNELS else 0
    return Option(
        m.id, cell.stage, cell.tier, m.lever, n, runs, gain, sd, cost, hours, messages, redeemers, effect, forced
    )


def options(
    config: PlannerConfig,
    cells: Sequence[CellEstimate],
    offers: Mapping[str, Offer],
    measured: Sequence[Mapping[str, Any]],
    period_days: int,
    what_ifs: Sequence[WhatIf],
    lang: str,
    reach: Mapping[tuple[str, str], Mapping[str, int]] | None = None,
) -> list[Option]:
    """Every measure on every cell it may be used on, for the members its channel can reach (`reach`: cell ->
    channel -> members; without it, every member); what-ifs' options are forced in."""
    forced = {(w.measure, w.stage, w.tier) for w in what_ifs}
    out = []
    for cell in cells:
        if cell.members <= 0:
            continue
        for m in config.measures.values():
            if cell.stage not in m.stages:
                continue
            eff = effect_for(m, cell, measured, lang)
            offer = offers.get(m.scenario, Offer())
            cell_reach = (reach or {}).get((cell.stage, cell.tier))
            reachable = cell_reach.get(offer.channel) if cell_reach is not None else None
            if reachable == 0:
                continue
            forced_here = (m.id, cell.stage, cell.tier) in forced
            out.append(option_for(m, cell, offer, eff, period_days, forced_here, reachable))
    return out


# -- what-ifs --------------------------------------------------------------------------------------------------
_WHAT_IF = re.compile(
    r"^(?P<stage>[a-z_]+)/(?P<tier>[^:@]*):(?P<lever>rate|aov)(?P<change>[+-]\d+(\.\d+)?%?)?"
    r"(@(?P<measure>[A-Za-z0-9_]+))?$"
)


def parse_what_if(text: str, config: PlannerConfig, cells: Sequence[CellEstimate]) -> WhatIf:
    """`STAGE/TIER:rate|aov[+N%]@MEASURE`: a change to one cell, delivered by the named measure. Refused without
    a measure, with a measure that does not work on the cell's stage or lever, or for an unknown cell."""
    m = _WHAT_IF.match(text.strip())
    if not m:
        raise InputError(
            _("the what-if {text!r} is not STAGE/TIER:rate|aov[+N%]@MEASURE", text=text),
            hint=_("For example --what-if active_repeat/高级:aov+5%@active_targeted_coupon."),
        )
    stage, tier, lever = m.group("stage"), m.group("tier"), m.group("lever")
    if not any(c.stage == stage and c.tier == tier for c in cells):
        known = ", ".join(f"{c.stage}/{c.tier}" for c in cells if c.members)
        raise InputError(
            _("the what-if names a cell {cell} the plan does not have", cell=f"{stage}/{tier}"),
            hint=_("Cells of this plan: {known}.", known=known),
        )
    fits = [x.id for x in config.measures.values() if stage in x.stages and x.lever == lever]
    measure = m.group("measure")
    if not measure:
        raise InputError(
            _(
                "the what-if {text!r} changes the {lever} of {cell} without a measure: a change is only accepted "
                "with the measure that delivers it",
                text=text,
                lever=lever,
                cell=f"{stage}/{tier}",
            ),
            hint=_(
                "Attach a measure with @MEASURE; measures for this cell and lever: {fits}.",
                fits=", ".join(fits) or _("none (add one to the planner file)"),
            ),
        )
    if measure not in fits:
        raise InputError(
            _(
                "the measure {measure} does not change the {lever} of {stage} members",
                measure=measure,
                lever=lever,
                stage=stage,
            ),
            hint=_("Measures for this cell and lever: {fits}.", fits=", ".join(fits) or "—"),
        )
    change = m.group("change")
    value = float(change.rstrip("%")) / (100.0 if change.endswith("%") else 1.0) if change else None
    return WhatIf(stage, tier, lever, value, measure)


def check_what_if(w: WhatIf, option: Option, cell: CellEstimate) -> None:
    """A stated change beyond what the measure delivers at its 95 % upper bound is a wish, not a plan."""
    if w.change is None:
        return
    eff = option.effect
    base = (cell.aov or 0.0) if w.lever == "rate" else (cell.rate or 0.0) * (cell.aov or 0.0)
    upper = eff.high / base if base > 0 else 0.0
    if w.change > upper + 1e-9:
        raise InputError(
            _(
                "the what-if asks {lever} {change:+.1%} in {cell}, but {measure} delivers at most {upper:+.1%} per run "
                "({detail})",
                lever=w.lever,
                change=w.change,
                cell=f"{w.stage}/{w.tier}",
                measure=w.measure,
                upper=upper,
                detail=eff.detail,
            ),
            hint=_("Lower the change, leave it out (the measure's own effect is used), or add another measure."),
        )


def safe_ratio(a: float, b: float) -> float | None:
    return a / b if b and math.isfinite(a / b) else None
