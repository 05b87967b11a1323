"""Scenario playbooks loaded from rules TOML (data, not code): targets, exclusions, offers, scripts, KPIs."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from winback.errors import ConfigError, NotFoundError

OFFER_KINDS = ("voucher", "discount", "gift_pack", "points", "none")
MAX_PLAYBOOK_BYTES = 1_048_576  # a scenarios file is refused above 1 MiB (docs/lifecycle.md, limits)
# zh first, then en; `{where}` names the file.
LIMIT_MESSAGES: dict[str, tuple[str, str]] = {
    "bytes": (
        "{where}：场景规则文件 {size:,} 字节，超过上限 {limit:,} 字节",
        "{where}: the scenarios file is {size:,} bytes, over the limit of {limit:,} bytes",
    ),
    "recursion": (
        "{where}：嵌套过深，无法解析（Python 递归上限）",
        "{where}: nested too deeply to parse (Python's recursion limit)",
    ),
}
LIMIT_HINT = "请简化该文件（上限见 docs/lifecycle.md）。 / Simplify the file (limits: docs/lifecycle.md)."


def _limit(key: str, where: str, size: int = 0, limit: int = 0) -> ConfigError:
    zh, en = LIMIT_MESSAGES[key]
    fields = {"where": where, "size": size, "limit": limit}
    return ConfigError(f"{zh.format(**fields)} / {en.format(**fields)}", hint=LIMIT_HINT)


CHANNELS = ("guide_task", "sms", "wecom", "email")


@dataclass(frozen=True)
class Offer:
    kind: str
    value: float
    threshold: float

    def label(self, lang: str = "zh") -> str:
        if self.kind == "voucher":
            base = f"{self.value:g}元代金券" if lang == "zh" else f"a ¥{self.value:g} voucher"
        elif self.kind == "discount":
            base = f"{(100 - self.value) / 10:g}折券" if lang == "zh" else f"{self.value:g}% off"
        elif self.kind == "gift_pack":
            base = f"{self.value:g}元大礼包" if lang == "zh" else f"a ¥{self.value:g} gift pack"
        elif self.kind == "points":
            base = f"{self.value:g}积分" if lang == "zh" else f"{self.value:g} points"
        else:
            return "关怀" if lang == "zh" else "a care call"
        if self.threshold > 0:
            base += f"（满{self.threshold:g}元可用）" if lang == "zh" else f" (on orders of ¥{self.threshold:g}+)"
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
        if scenario_id not in self.scenarios:
            raise NotFoundError(
                f"no scenario {scenario_id!r}",
                hint=f"Known scenarios: {', '.join(self.scenarios)} (see `winback scenarios`).",
            )
        return self.scenarios[scenario_id]

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
        raise ConfigError(f"scenario {raw.get('id', '?')!r} in {where} is incomplete: {exc!r}") from exc
    if offer.kind not in OFFER_KINDS:
        raise ConfigError(f"scenario {sc.id!r}: offer kind {offer.kind!r} is not one of {OFFER_KINDS}")
    if sc.channel not in CHANNELS:
        raise ConfigError(f"scenario {sc.id!r}: channel {sc.channel!r} is not one of {CHANNELS}")
    if sc.order_by not in ("monetary", "clv", "recency_days"):
        raise ConfigError(f"scenario {sc.id!r}: order_by {sc.order_by!r} is not monetary, clv or recency_days")
    return sc


def parse_playbook(text: str, where: str = "scenarios.toml") -> Playbook:
    if len(text) > MAX_PLAYBOOK_BYTES:
        raise _limit("bytes", where, len(text.encode("utf-8")), MAX_PLAYBOOK_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}", hint="Fix the line named above.") from exc
    except RecursionError:
        raise _limit("recursion", where) from None
    scenarios: dict[str, Scenario] = {}
    for raw in data.get("scenario", []):
        sc = _scenario(raw, where)
        if sc.id in scenarios:
            raise ConfigError(f"scenario {sc.id!r} is defined twice in {where}")
        scenarios[sc.id] = sc
    defaults = dict(data.get("defaults", {}))
    response = {seg: (float(v["treated"]), float(v["baseline"])) for seg, v in defaults.pop("response", {}).items()}
    phases = list(data.get("big_promo_phase", []))
    for ph in phases:
        if ph.get("scenario") not in scenarios:
            raise ConfigError(f"big promotion phase {ph.get('id')!r} names unknown scenario {ph.get('scenario')!r}")
    return Playbook(scenarios, phases, defaults, response, where)


def load_playbook(path: Path | str | None = None) -> Playbook:
    """The given file (the `scenarios` setting), else the shipped rules/scenarios.toml."""
    if path:
        p = Path(path)
        if not p.exists():
            raise ConfigError(
                f"scenario rules file {p} does not exist",
                hint="Fix the path or unset WINBACK_SCENARIOS.",
            )
        if p.stat().st_size > MAX_PLAYBOOK_BYTES:
            raise _limit("bytes", str(p), p.stat().st_size, MAX_PLAYBOOK_BYTES)
        return parse_playbook(p.read_text(encoding="utf-8"), str(p))
    text = resources.files("winback").joinpath("rules", "scenarios.toml").read_text(encoding="utf-8")
    return parse_playbook(text, "winback/rules/scenarios.toml")
