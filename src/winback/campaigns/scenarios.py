"""Scenario playbooks loaded from rules TOML (data, not code): targets, exclusions, offers, scripts, KPIs."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from winback.errors import ConfigError, InputError, NotFoundError
from winback.i18n import N_, _, get_lang, t

OFFER_KINDS = ("voucher", "discount", "gift_pack", "points", "none")
MAX_PLAYBOOK_BYTES = 1_048_576  # a scenarios file is refused above 1 MiB (docs/lifecycle.md, limits)
# `{where}` names the file (msgids; the Chinese is in i18n/zh/campaigns.po)
LIMIT_MESSAGES: dict[str, str] = {
    "bytes": N_("{where}: the scenarios file is {size:,} bytes, over the limit of {limit:,} bytes"),
    "recursion": N_("{where}: nested too deeply to parse (Python's recursion limit)"),
}
LIMIT_HINT = N_("Simplify the file (limits: docs/lifecycle.md).")


def _name_key(name: str) -> str:
    return "".join(name.split()).casefold()


def _limit(key: str, where: str, size: int = 0, limit: int = 0) -> ConfigError:
    return ConfigError(_(LIMIT_MESSAGES[key], where=where, size=size, limit=limit), hint=_(LIMIT_HINT))


CHANNELS = ("guide_task", "sms", "wecom", "email")


@dataclass(frozen=True)
class Offer:
    kind: str
    value: float
    threshold: float

    def label(self, lang: str = "zh") -> str:
        if self.kind == "voucher":
            base = t("a ¥{value:g} voucher", lang, value=self.value)
        elif self.kind == "discount":  # Chinese names the share paid (8.5折), English the share off (15% off)
            base = f"{(100 - self.value) / 10:g}折券" if lang == "zh" else t("{value:g}% off", "en", value=self.value)
        elif self.kind == "gift_pack":
            base = t("a ¥{value:g} gift pack", lang, value=self.value)
        elif self.kind == "points":
            base = t("{value:g} points", lang, value=self.value)
        else:
            return t("a care call", lang)
        if self.threshold > 0:
            base += t(" (on orders of ¥{threshold:g}+)", lang, threshold=self.threshold)
        return base

    def discount_on(self, amount: float) -> float:
        """What the offer takes off an order of `amount` (0 when below threshold or no money offer)."""
        if amount < self.threshold or self.kind == "none":
            return 0.0
        if self.kind == "discount":
            return round(amount * self.value / 100.0, 2)
        if self.kind in ("voucher", "gift_pack"):
            return min(self.value, amount)
        return 0.0


@dataclass(frozen=True)
class Target:
    scheme: str = "seed_cn"
    segments: tuple[str, ...] = ()
    orders_eq: int | None = None
    recency_min: int | None = None
    recency_max: int | None = None
    journey: str | None = None  # only the members an everyday journey enrolled (journey_audience, outreach)


@dataclass(frozen=True)
class Scenario:
    id: str
    name_zh: str
    name_en: str
    target: Target
    exclude_active: bool
    order_by: str
    offer: Offer
    channel: str
    script_zh: str
    script_en: str
    kpis: tuple[str, ...]
    note_zh: str = ""
    note_en: str = ""
    ladder_step: int | None = None

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Playbook:
    scenarios: dict[str, Scenario]
    phases: list[dict[str, Any]]
    defaults: dict[str, Any]
    response_defaults: dict[str, tuple[float, float]]  # segment -> (treated, baseline)
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def get(self, scenario_id: str) -> Scenario:
        """The scenario named by its id, its Chinese name or its English name (case and spaces ignored)."""
        if scenario_id in self.scenarios:
            return self.scenarios[scenario_id]
        key = _name_key(scenario_id)
        found = [sc for sc in self.scenarios.values() if key in {_name_key(n) for n in (sc.id, sc.name_zh, sc.name_en)}]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise InputError(
                _("the scenario name {name!r} is ambiguous", name=scenario_id),
                hint=_(
                    "It names {choices}: give the id.",
                    choices=", ".join(f"{x.id} ({x.name(get_lang())})" for x in found),
                ),
            )
        raise NotFoundError(
            _("no scenario {scenario_id!r}", scenario_id=scenario_id),
            hint=_(
                "Known scenarios: {scenarios} (see `winback scenarios`).",
                scenarios=", ".join(f"{sc.id} ({sc.name(get_lang())})" for sc in self.scenarios.values()),
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "defaults": self.defaults,
            "scenarios": [s.to_dict() for s in self.scenarios.values()],
            "big_promo_phases": self.phases,
        }


def _scenario(raw: dict[str, Any], where: str) -> Scenario:
    try:
        t = raw.get("target", {})
        offer = Offer(str(raw["offer"]["kind"]), float(raw["offer"]["value"]), float(raw["offer"]["threshold"]))
        sc = Scenario(
            id=str(raw["id"]),
            name_zh=str(raw["name_zh"]),
            name_en=str(raw["name_en"]),
            target=Target(
                scheme=str(t.get("scheme", "seed_cn")),
                segments=tuple(t.get("segments", ())),
                orders_eq=t.get("orders_eq"),
                recency_min=t.get("recency_min"),
                recency_max=t.get("recency_max"),
                journey=t.get("journey"),
            ),
            exclude_active=bool(raw.get("exclude_active", True)),
            order_by=str(raw.get("order_by", "monetary")),
            offer=offer,
            channel=str(raw["channel"]),
            script_zh=str(raw["script_zh"]),
            script_en=str(raw["script_en"]),
            kpis=tuple(raw.get("kpis", ())),
            note_zh=str(raw.get("note_zh", "")),
            note_en=str(raw.get("note_en", "")),
            ladder_step=raw.get("ladder_step"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            _("scenario {id!r} in {where} is incomplete: {exc!r}", id=raw.get("id", "?"), where=where, exc=exc)
        ) from exc
    if offer.kind not in OFFER_KINDS:
        raise ConfigError(
            _(
                "scenario {id!r}: offer kind {kind!r} is not one of {offer_kinds}",
                id=sc.id,
                kind=offer.kind,
                offer_kinds=OFFER_KINDS,
            )
        )
    if sc.channel not in CHANNELS:
        raise ConfigError(
            _(
                "scenario {id!r}: channel {channel!r} is not one of {channels}",
                id=sc.id,
                channel=sc.channel,
                channels=CHANNELS,
            )
        )
    if sc.order_by not in ("monetary", "clv", "recency_days"):
        raise ConfigError(
            _(
                "scenario {id!r}: order_by {order_by!r} is not monetary, clv or recency_days",
                id=sc.id,
                order_by=sc.order_by,
            )
        )
    return sc


def parse_playbook(text: str, where: str = "scenarios.toml") -> Playbook:
    if len(text) > MAX_PLAYBOOK_BYTES:
        raise _limit("bytes", where, len(text.encode("utf-8")), MAX_PLAYBOOK_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            _("{where} is not valid TOML: {exc}", where=where, exc=exc), hint=_("Fix the line named above.")
        ) from exc
    except RecursionError:
        raise _limit("recursion", where) from None
    scenarios: dict[str, Scenario] = {}
    for raw in data.get("scenario", []):
        sc = _scenario(raw, where)
        if sc.id in scenarios:
            raise ConfigError(_("scenario {id!r} is defined twice in {where}", id=sc.id, where=where))
        scenarios[sc.id] = sc
    defaults = dict(data.get("defaults", {}))
    response = {seg: (float(v["treated"]), float(v["baseline"])) for seg, v in defaults.pop("response", {}).items()}
    phases = list(data.get("big_promo_phase", []))
    for ph in phases:
        if ph.get("scenario") not in scenarios:
            raise ConfigError(
                _(
                    "big promotion phase {id!r} names unknown scenario {scenario!r}",
                    id=ph.get("id"),
                    scenario=ph.get("scenario"),
                )
            )
    return Playbook(scenarios, phases, defaults, response, where)


def load_playbook(path: Path | str | None = None) -> Playbook:
    """The given file (the `scenarios` setting), else the shipped rules/scenarios.toml."""
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(
                _("scenario rules file {path} does not exist", path=p),
                hint=_("Fix the path or unset WINBACK_SCENARIOS."),
            )
        if p.stat().st_size > MAX_PLAYBOOK_BYTES:
            raise _limit("bytes", str(p), p.stat().st_size, MAX_PLAYBOOK_BYTES)
        return parse_playbook(p.read_text(encoding="utf-8"), str(p))
    text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    return parse_playbook(text, "winback/rules/scenarios.toml")
