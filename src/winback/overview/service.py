"""`OverviewService(wb)`: the few numbers an HQ CRM operator asks first, from the stored snapshot and quality report.

- valid members: not merged away, and a phone that is a valid mobile or landline;
- contactable: the quality report's definition (valid mobile, SMS or call consent, not opted out);
- the dormancy layers (seed 000) and lifecycle stages (seed 004), zh and en;
- contacts: guide-WeChat records that match no ERP member are counted apart, never in the member totals, shares,
  stages or tiers (they are not in the snapshot);
- worth waking: value at stake among dormant members (lifecycle/waking.py): the high-quality members who stopped
  buying (silent … lost; bought on 2+ days or top-40 % spend), with what they spent per year while active, and —
  for reference only — how many the model thinks are still alive and the revenue it expects without a campaign.
  (Before issue 9 the rule was "dormant and P(alive) ≥ 0.5": the members who would buy anyway.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from winback.common.results import Result
from winback.i18n import N_, t
from winback.lifecycle import waking
from winback.lifecycle.views import resolve_as_of, run_rules
from winback.overview import store
from winback.quality.service import headline, quality_report

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine

DORMANT = waking.DORMANT
LIKELY_ALIVE_P = 0.5  # shown for reference: "the model thinks they will buy anyway"
SCHEMES = ("seed_cn", "lifecycle")
TOP_AT_STAKE = 10


@dataclass
class SegmentShare(Result):
    segment: str
    zh: str
    en: str
    members: int
    share: float


@dataclass
class WakeRow(Result):
    """One dormancy layer: its members, how many are worth waking (high quality) and reachable, what is at stake."""

    segment: str
    members: int
    worth_waking: int
    reachable: int
    value_at_stake: float
    past_monetary: float
    likely_alive: int
    avg_p_alive: float | None
    expected_revenue_365d: float


@dataclass
class WorthWaking(Result):
    rule: str
    rule_zh: str
    rule_en: str
    rows: list[WakeRow]
    top: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Contacts(Result):
    """Guide-WeChat records matching no ERP member: contacts, not members (never in the totals above)."""

    count: int
    reachable: int  # with a valid mobile
    rule: str


@dataclass
class Overview(Result):
    """Everything `winback overview` and the demo summary show (stable keys for --json)."""

    as_of: dt.date
    quality: dict[str, Any]
    segments: dict[str, list[SegmentShare]]
    worth_waking: WorthWaking
    contacts: Contacts

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "as_of": self.as_of.isoformat()}


def _labels(rules: Mapping[str, Any], scheme: str) -> dict[str, tuple[str, str]]:
    """segment -> (zh, en), in rule order."""
    return {r["segment"]: (str(r["zh"]), str(r["en"])) for r in (rules.get(scheme) or {}).get("rules", [])}


def share_table(labels: Mapping[str, tuple[str, str]], counts: Mapping[str, int]) -> list[SegmentShare]:
    """Members per segment in rule order, then anything the rules no longer name (empty segments included; pure)."""
    total = sum(counts.values()) or 1
    segs = list(labels) + sorted(set(counts) - set(labels))
    return [
        SegmentShare(
            s, labels.get(s, (s, s))[0], labels.get(s, (s, s))[1], int(counts.get(s, 0)), counts.get(s, 0) / total
        )
        for s in segs
    ]


def segment_table(db: DuckDBEngine, as_of: dt.date, scheme: str) -> list[SegmentShare]:
    """Members per segment of a scheme, in rule order, with zh and en labels (empty segments included)."""
    return share_table(_labels(run_rules(db, as_of), scheme), store.segment_counts(db, as_of, scheme))


def wake_rows(by_segment: Mapping[str, tuple[Any, ...]]) -> list[WakeRow]:
    """One row per dormancy layer, in DORMANT order, zeros for a layer without members (pure)."""
    out = []
    for seg in DORMANT:
        r = by_segment.get(seg)
        if r is None:
            out.append(WakeRow(seg, 0, 0, 0, 0.0, 0.0, 0, None, 0.0))
            continue
        avg = None if r[7] is None else float(r[7])
        out.append(WakeRow(seg, int(r[1]), int(r[2]), int(r[3]), float(r[4]), float(r[5]), int(r[6]), avg, float(r[8])))
    return out


def worth_waking(db: DuckDBEngine, as_of: dt.date, lang: str = "zh") -> WorthWaking:
    """Per dormancy layer: members, how many are worth waking and reachable, and what is at stake; the top ones."""
    return WorthWaking(
        rule=waking.rule_text(lang),
        rule_zh=t(waking.RULE, "zh"),
        rule_en=t(waking.RULE, "en"),
        rows=wake_rows(store.worth_waking_rows(db, as_of, DORMANT)),
        top=store.top_at_stake(db, as_of, DORMANT, TOP_AT_STAKE),
    )


def build(db: DuckDBEngine, as_of: dt.date) -> None:
    """Sum the overview's worth-waking figures of `as_of` once, at refresh time (after its snapshot and segments are
    written), and its data-quality block (kept while the members and orders stay as they are: warehouse/stamp.py):
    the overview then reads a few rows instead of joining every member's snapshot and every order."""
    store.build_overview(db, as_of, DORMANT, TOP_AT_STAKE)
    store.keep_quality(db, quality_figures(db))


def brand_overview(
    db: DuckDBEngine, as_of: dt.date | None = None, *, today: dt.date | None = None, lang: str = "zh"
) -> Overview:
    """The overview at `as_of` (default: the newest refresh dated at or before tomorrow)."""
    as_of = resolve_as_of(db, as_of, today=today, lang=lang)
    figures = store.kept_quality(db) or quality_figures(db)
    count, reachable = figures["contacts"]
    return Overview(
        as_of=as_of,
        quality=figures["quality"],
        segments={scheme: segment_table(db, as_of, scheme) for scheme in SCHEMES},
        worth_waking=worth_waking(db, as_of, lang),
        contacts=Contacts(count=int(count), reachable=int(reachable), rule=t(CONTACTS_RULE, lang)),
    )


def quality_figures(db: DuckDBEngine) -> dict[str, Any]:
    """The overview's data-quality block, read live: {"quality": the quality report's headline with the members not
    merged away and those with a valid phone, "contacts": [contacts, those with a valid mobile]} (JSON-safe)."""
    report = quality_report(db)
    q = headline(report)
    live, valid = store.member_counts(db)
    q["members_not_merged"] = live
    q["valid_phone"] = {"count": valid, "share": valid / live if live else 0.0}
    c = report.contacts
    reachable = c.measures["valid_mobile"].count if c else 0
    return {"quality": q, "contacts": [c.members if c else 0, int(reachable or 0)]}


CONTACTS_RULE = N_(
    "guide-WeChat records matching no ERP member are contacts, not members: never in member totals, shares, "
    "stages or tiers"
)


class OverviewService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def overview(self, as_of: dt.date | None = None) -> Overview:
        """The brand at a glance: valid and contactable members, dormancy layers, lifecycle stages, who to wake."""
        return brand_overview(self.wb.db(write=False), as_of, today=self.wb.now().date(), lang=self.wb.settings.lang)

    def build(self, as_of: dt.date) -> None:
        """Sum the overview of the snapshot at `as_of` once (LifecycleService.prepare does):
        see `build`."""
        build(self.wb.db(), as_of)
