"""OutreachService(wb): dispatch what is due, the ledger's counts, opt-outs. Thin: the decisions are in pressure
and dispatch, the statements in store / store_dispatch, the providers in channels/."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from winback.errors import ConfigError, NotFoundError
from winback.i18n import _
from winback.outreach import store
from winback.outreach.types import (
    ChannelReport,
    ClicksImport,
    DispatchResult,
    LedgerRowCount,
    LedgerSummary,
    LinkFollowed,
    OptOutResult,
)

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.outreach.dispatch import Tally


def _report(t: Tally) -> ChannelReport:
    o = t.outcomes
    return ChannelReport(
        channel=t.channel,
        configured=t.configured,
        resolved=t.resolved,
        claimed=t.claimed,
        sent=o["sent"],
        delivered=o["delivered"],
        failed=o["failed"],
        retry=o["retry"],
        unknown=o["unknown"],
        pending=o["pending"],
        deferred=t.deferred,
        skipped=dict(sorted(t.skipped.items())),
        receipts=t.receipts,
        opt_outs=t.opt_outs,
    )


class OutreachService:
    def __init__(self, wb: Winback) -> None:
        self.wb = wb

    def dispatch(
        self,
        *,
        channel: str | None = None,
        campaign_id: str | None = None,
        limit: int | None = None,
        dry_run: bool = False,
        channels_file: Path | None = None,
        chunk: int = 10_000,
    ) -> DispatchResult:
        """Send what is due (or, dry run, say what would be sent), channel by channel; see outreach.dispatch."""
        from winback.outreach import store_dispatch
        from winback.outreach.channels import load_channel
        from winback.outreach.config import load_channels
        from winback.outreach.dispatch import Dispatcher
        from winback.outreach.links import link_settings
        from winback.outreach.pressure import rules_from_config

        if limit is not None and limit < 0:
            raise ConfigError(_("--limit must not be negative: {limit}", limit=limit), hint=_("e.g. --limit 1000"))
        cfg = load_channels(channels_file or self.wb.settings.channels)
        rules = rules_from_config(cfg.pressure, self.wb.settings.quiet_hours)
        links = link_settings(cfg.links)
        if channel is not None and channel not in cfg.channels:
            raise ConfigError(
                _("channel {channel} is not configured", channel=channel),
                hint=_(
                    "Add [channels.{channel}] to the channels file (--channels FILE or WINBACK_CHANNELS); "
                    "configured: {names}",
                    channel=channel,
                    names=", ".join(sorted(cfg.channels)) or "-",
                ),
            )
        db = self.wb.db(write=not dry_run)
        now = self.wb.now()
        due = store_dispatch.queued_channels(db, now, campaign_id)
        names = [channel] if channel else sorted(cfg.channels)
        unconfigured = [] if channel else sorted(set(due) - set(cfg.channels))
        built = {} if dry_run else {n: load_channel(cfg.channels[n]) for n in names}
        try:
            tallies = []
            for name in names:  # each channel may set its own chunk (touches claimed per transaction)
                size = int(cfg.channels[name].get("chunk", chunk)) if name in cfg.channels else chunk
                d = Dispatcher(
                    db, built, rules, self.wb.now, campaign_id=campaign_id, limit=limit, chunk=size, links=links
                )
                d.claimed_total = sum(t.claimed for t in tallies)
                tallies += d.plan([name]) if dry_run else d.run([name])
        finally:
            for ch in built.values():
                ch.close()
        return DispatchResult(dry_run, now.isoformat(sep=" "), [_report(t) for t in tallies], unconfigured)

    def import_clicks(self, path: Path | str) -> ClicksImport:
        """Load a click log of the per-touch short links (CSV or JSON lines, outreach.links.read_click); a line
        imported before adds nothing; clicks join the funnel's `clicked` node."""
        from winback.outreach import store_links
        from winback.outreach.clicks_file import read_clicks

        p = Path(path)
        clicks = read_clicks(p)
        new, already, unknown = store_links.import_clicks(self.wb.db(), clicks, p.name, self.wb.now())
        return ClicksImport(str(p), len(clicks), new, already, unknown)

    def follow_link(self, code: str, *, client: str | None = None) -> LinkFollowed:
        """A click on a per-touch short link (the console's `GET /s/{code}`): recorded in link_clicks (source
        web; the funnel's `clicked` node, like imported clicks), answered with the target stored for the code."""
        from winback.outreach import store_links
        from winback.outreach.links import served_click

        now = self.wb.now()
        click = served_click(code, now, client)
        hit = None if click is None else store_links.record_click(self.wb.db(), click, now)
        if hit is None:
            raise NotFoundError(
                _("no such short link: {code}", code=code[:40]),
                hint=_("The link may be mistyped or cut off; open it again from the message you received."),
            )
        return LinkFollowed(code, hit[0], hit[1])

    def ledger(self, *, campaign_id: str | None = None) -> LedgerSummary:
        rows = store.ledger_counts(self.wb.db(write=False), campaign_id=campaign_id)
        return LedgerSummary(campaign_id, [LedgerRowCount(*r) for r in rows])

    def opt_out(
        self, member_id: str, *, channel: str = "*", source: str = "manual", reason: str | None = None
    ) -> OptOutResult:
        new = store.opt_out(self.wb.db(), member_id, channel, source=source, reason=reason, now=self.wb.now())
        return OptOutResult(member_id, channel, new)
