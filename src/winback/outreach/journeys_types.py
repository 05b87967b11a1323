"""Typed results of the daily run (JourneyService). `to_dict()` keys are `winback run --json`'s contract."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from winback.common.results import Result


@dataclass(frozen=True)
class JourneyDay(Result):
    journey_id: str
    name: str
    scenario: str
    status: str  # launched | nobody_due | paused | covered (run before) | failed
    covers: list[dt.date]  # [first day, last day] this run covered
    campaign_id: str | None
    members: int
    tasks: int
    touches: int
    note: str | None


@dataclass(frozen=True)
class RunResult(Result):
    day: dt.date
    at: dt.datetime
    refreshed: bool
    escalated: int
    journeys: list[JourneyDay]
    dispatch: dict[str, Any] | None  # the dispatcher's result, or None when no channels file is set
    created_tasks: int  # tasks and touches this run added to the warehouse (0 on a second run of a day)
    created_touches: int
    notes: list[str] = field(default_factory=list)
