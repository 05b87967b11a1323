"""What `winback quality` returns (typed; `to_dict()` is the command's --json shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result


@dataclass(frozen=True)
class Counted(Result):
    """How many, and their share of the block's members (or orders); both None when not measured."""

    count: int | None
    share: float | None


@dataclass(frozen=True)
class OrderFigures(Result):
    orders: int
    without_member: Counted


@dataclass(frozen=True)
class QualityBlock(Result):
    """The measures over one set of members: the total, or one store, source or tier."""

    members: int
    measures: dict[str, Counted]
    incomplete_fields: dict[str, Counted]
    orders: OrderFigures | None  # None in source and tier groups (orders carry no source or tier)


@dataclass(frozen=True)
class QualityGroup(Result):
    key: str | None
    block: QualityBlock

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, **self.block.to_dict()}


@dataclass
class QualityReport(Result):
    by: str | None
    dedupe_run: int | None  # the latest `winback dedupe` run, or None when it never ran
    total: QualityBlock
    groups: list[QualityGroup] = field(default_factory=list)
    definitions: dict[str, Any] = field(default_factory=dict)
    #: guide-WeChat records matching no ERP member: contacts, never in the member totals (same measures)
    contacts: QualityBlock | None = None
    db: str | None = None  # the warehouse file (set by the service; left out of to_dict when unknown)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        if self.db is None:
            del out["db"]
        return out
