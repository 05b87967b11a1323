"""Typed results of the lifecycle reads (`segments`, `transitions`, `members`, `explain`); `to_dict()` is the JSON
each command prints with --json (the keys are a contract: scripts and other issues' checks read them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.common.results import Result

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class SegmentRow:
    segment: str
    label: str
    members: int
    share: float
    avg_recency_days: float | None
    monetary: float
    avg_p_alive: float | None
    #: with --by: the dimension (store, tier, channel, guide) and this row's value of it
    by: str | None = None
    group: Any = None

    def to_dict(self) -> dict[str, Any]:
        row = {
            "segment": self.segment,
            "label": self.label,
            "members": self.members,
            "share": self.share,
            "avg_recency_days": self.avg_recency_days,
            "monetary": self.monetary,
            "avg_p_alive": self.avg_p_alive,
        }
        return {self.by: self.group, **row} if self.by else row


@dataclass
class SegmentSummary:
    as_of: dt.date
    scheme: str
    by: str | None
    members: int
    segments: list[SegmentRow]

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "scheme": self.scheme,
            "by": self.by,
            "members": self.members,
            "segments": [r.to_dict() for r in self.segments],
        }


@dataclass
class Move:
    """Members who were in `from_segment` at the earlier date and in `to_segment` at the later ("(none)": absent)."""

    from_segment: str
    to_segment: str
    from_label: str
    to_label: str
    members: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.from_segment,
            "to": self.to_segment,
            "from_label": self.from_label,
            "to_label": self.to_label,
            "members": self.members,
        }


@dataclass
class Transitions:
    scheme: str
    date_from: dt.date
    date_to: dt.date
    stayed: int
    slid: int
    woke_up: int
    moves: list[Move]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "stayed": self.stayed,
            "slid": self.slid,
            "woke_up": self.woke_up,
            "moves": [m.to_dict() for m in self.moves],
        }


@dataclass
class MemberList:
    """Members of some segments at one snapshot (phones masked unless `phones == "full"`); `file`/`format` are set
    when the list was exported instead of returned."""

    as_of: dt.date
    scheme: str
    members: pa.Table
    phones: str  # "masked" | "full"
    file: Path | None = None
    format: str | None = None
    exported: int | None = None  # rows written by the database itself (then `members` is empty)

    @property
    def count(self) -> int:
        return int(self.members.num_rows) if self.exported is None else self.exported

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.members.to_pylist()  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"as_of": self.as_of.isoformat(), "scheme": self.scheme, "count": self.count,
                               "phones": self.phones}  # fmt: skip
        if self.file is not None:
            out |= {"file": str(self.file), "format": self.format}
        else:
            out["members"] = self.rows
        return out


@dataclass
class SchemeMatch(Result):
    """The segment a member is in under one scheme, and the rule that put them there."""

    segment: str | None
    label: str
    rule: str | None
    rule_position: int | None
    earlier_rules_not_matched: list[str] = field(default_factory=list)


@dataclass
class CycleExplanation(Result):
    formula: str
    span_days: int
    n_intervals: int
    k: float
    prior_days: float
    prior_source: str
    value: float | None
    overdue_ratio: str | None


@dataclass
class Explanation:
    member_id: str
    as_of: dt.date
    engine: str | None
    snapshot: dict[str, Any]
    schemes: dict[str, SchemeMatch]
    cycle: CycleExplanation | None
    breakpoints: dict[str, list[float]]
    models: dict[str, dict[str, Any]]
    #: dormant? high quality? value at stake, and the rule (lifecycle/waking.py)
    worth_waking: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "snapshot": self.snapshot,
            "schemes": {name: m.to_dict() for name, m in self.schemes.items()},
            "cycle": self.cycle.to_dict() if self.cycle else None,
            "breakpoints": self.breakpoints,
            "models": self.models,
            "worth_waking": self.worth_waking,
        }


@dataclass
class Prepared(Result):
    """What a refresh summed for the pages after it wrote the snapshot at `as_of` (LifecycleService.prepare): the
    seconds each part took ("pages": the lifecycle's own; then each hook the app gave, by name)."""

    as_of: dt.date
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "seconds": dict(self.seconds)}
