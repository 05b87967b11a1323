"""Typed results of the outreach service (their to_dict() is the commands' JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field

from winback.common.results import Result
from winback.i18n import _


@dataclass(frozen=True)
class ChannelReport(Result):
    channel: str
    configured: bool
    resolved: int  # touches found in `sending` and resolved first
    claimed: int  # touches sent to the channel in this run (dry run: would be)
    sent: int
    delivered: int
    failed: int
    retry: int  # back in the queue for a later attempt
    unknown: int  # no answer: resolved at the next dispatch
    pending: int  # accepted, waiting (a guide's WeCom confirmation)
    deferred: int  # quiet hours: held until they end
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> touches
    receipts: int = 0
    opt_outs: int = 0


@dataclass(frozen=True)
class DispatchResult(Result):
    dry_run: bool
    now: str
    channels: list[ChannelReport]
    unconfigured: list[str]  # channels with due touches and no [channels.NAME] in the channels file

    @property
    def total_sent(self) -> int:
        return sum(c.sent + c.delivered for c in self.channels)


@dataclass(frozen=True)
class LedgerRowCount(Result):
    channel: str
    status: str
    reason: str | None
    touches: int


@dataclass(frozen=True)
class LedgerSummary(Result):
    campaign_id: str | None
    rows: list[LedgerRowCount]


@dataclass(frozen=True)
class OptOutResult(Result):
    member_id: str
    channel: str
    new: bool


@dataclass(frozen=True)
class LinkFollowed(Result):
    """A short link the console redirected: where to (the target stored with the code, nothing from the request)
    and whether this was the code's first click (later ones count as clicks, not as new clickers)."""

    code: str
    target_url: str
    first: bool


@dataclass(frozen=True)
class WecomCallback(Result):
    """One WeCom callback: the URL check's answer (`echo`), or an event; a contact deletion of a known member is a
    WeCom opt-out (`opted_out`: newly recorded; a retry of the same event records nothing)."""

    channel: str
    echo: str | None = None
    event: str | None = None
    member_id: str | None = None
    opted_out: bool = False


@dataclass(frozen=True)
class ClicksImport(Result):
    """`winback tasks clicks FILE`: a redirect server's click log loaded into link_clicks."""

    file: str
    lines: int
    new: int  # clicks recorded now
    already: int  # in an earlier import (same code, time and client)
    unknown: int  # codes no touch carried (not stored)

    def summary(self) -> str:
        return _(
            "{file}: {lines:,} clicks, {new:,} recorded, {already:,} imported before, {unknown:,} unknown codes",
            file=self.file,
            lines=self.lines,
            new=self.new,
            already=self.already,
            unknown=self.unknown,
        )
