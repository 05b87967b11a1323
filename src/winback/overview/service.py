"""`OverviewService(wb)`: the few numbers an HQ CRM operator asks first, from the stored snapshot and quality report.

- valid members: not merged away, and a phone that is a valid mobile or landline;
- contactable: the quality report's definition (valid mobile, SMS or call consent, not opted out);
- the dormancy layers (seed 000) and lifecycle stages (seed 004), zh and en;
- worth waking: members who stopped buying (silent … lost) but whose P(alive) is still ≥ 0.5 — the model thinks
  they have not left the brand — with the revenue the model expects from them in the next 365 days (CLV) if
  nothing is done; those are the members a campaign should reach first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from winback.common.results import Result
from winback.lifecycle.views import resolve_as_of, run_rules
from winback.overview import store
from winback.quality.service import headline, quality_report

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.engine.duckdb_engine import DuckDBEngine

DORMANT = ("silent", "near_dormant", "hibernating", "lost")
WORTH_WAKING_P_ALIVE = 0.5
SCHEMES = ("seed_cn", "lifecycle")


@dataclass
class SegmentShare(Result):
    segment: str
    zh: str
    en: str
    members: int
    share: float


@dataclass
class WakeRow(Result):
    """One dormancy layer: its members, how many are still likely alive and reachable, their expected revenue."""

    segment: str
    members: int
    likely_alive: int
    reachable: int
    avg_p_alive: float | None
    expected_revenue_365d: float
    past_monetary: float


@dataclass
class WorthWaking(Result):
    rule: str
    rows: list[WakeRow]


@dataclass
class Overview(Result):
    """Everything `winback overview` and the demo summary show (stable keys for --json)."""

    as_of: dt.date
    quality: dict[str, Any]
    segments: dict[str, list[SegmentShare]]
    worth_waking: WorthWaking

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
            out.append(WakeRow(seg, 0, 0, 0, None, 0.0, 0.0))
            continue
        avg = None if r[4] is None else float(r[4])
        out.append(WakeRow(seg, int(r[1]), int(r[2]), int(r[3]), avg, float(r[5]), float(r[6])))
    return out


def worth_waking(db: DuckDBEngine, as_of: dt.date) -> list[WakeRow]:
    """Per dormancy layer: members, how many are still likely alive and contactable, and their expected revenue."""
    return wake_rows(store.worth_waking_rows(db, as_of, DORMANT, WORTH_WAKING_P_ALIVE))


def brand_overview(db: DuckDBEngine, as_of: dt.date | None = None) -> Overview:
    """The overview at `as_of` (default: the latest snapshot)."""
    as_of = resolve_as_of(db, as_of)
    q = headline(quality_report(db))
    live, valid = store.member_counts(db)
    q["members_not_merged"] = live
    q["valid_phone"] = {"count": valid, "share": valid / live if live else 0.0}
    return Overview(
        as_of=as_of,
        quality=q,
        segments={scheme: segment_table(db, as_of, scheme) for scheme in SCHEMES},
        worth_waking=WorthWaking(
            rule=f"seed_cn segment in {list(DORMANT)} and p_alive >= {WORTH_WAKING_P_ALIVE}",
            rows=worth_waking(db, as_of),
        ),
    )


class OverviewService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def overview(self, as_of: dt.date | None = None) -> Overview:
        """The brand at a glance: valid and contactable members, dormancy layers, lifecycle stages, who to wake."""
        return brand_overview(self.wb.db(write=False), as_of)
