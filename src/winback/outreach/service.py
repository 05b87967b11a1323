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
    WecomCallback,
)

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.outreach.config import ChannelConfig, ChannelsFile
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

    def wecom_callback(
        self, *, signature: str, timestamp: str, nonce: str, echostr: str | None = None, body: bytes | None = None,
        channel: str | None = None, channels_file: Path | None = None,
    ) -> WecomCallback:  # fmt: skip
        """WeCom's callback (outreach/channels/wecom_callback.py): the URL check (`echostr`) or an event (`body`);
        `change_external_contact` / `del_external_contact | del_follow_user` opts the member out of that WeCom
        channel (opt_outs, source wecom_deleted), so the pressure rules skip them (`opted_out_channel`)."""
        import json

        from winback.outreach.channels import wecom_callback as cb
        from winback.outreach.config import load_channels

        cfg = _wecom_config(load_channels(channels_file or self.wb.settings.channels), channel)
        keys = cb.callback_keys(cfg)
        if echostr is not None:
            cb.verify(keys, signature, timestamp, nonce, echostr)
            return WecomCallback(cfg.name, echo=cb.decrypt(keys, echostr))
        encrypted = cb.xml_fields(body or b"").get("Encrypt", "")
        cb.verify(keys, signature, timestamp, nonce, encrypted)
        fields = cb.xml_fields(cb.decrypt(keys, encrypted).encode())
        event = cb.contact_deleted(fields)
        if event is None:
            return WecomCallback(cfg.name, event=fields.get("ChangeType") or fields.get("Event"))
        db, now = self.wb.db(), self.wb.now()
        member = store.member_by_wecom(db, event.external_userid)
        new = bool(member) and store.opt_out(db, str(member), cfg.name, source="wecom_deleted",
                                             reason=event.change_type, now=now)  # fmt: skip
        payload = {"change_type": event.change_type, "user_id": event.user_id, "address": event.external_userid}
        store.record_inbound(db, event.event_key, channel=cfg.name, kind="contact_deleted", member_id=member,
                             payload=json.dumps(payload), now=now)  # fmt: skip
        return WecomCallback(cfg.name, event=event.change_type, member_id=member, opted_out=new)

    def ledger(self, *, campaign_id: str | None = None) -> LedgerSummary:
        rows = store.ledger_counts(self.wb.db(write=False), campaign_id=campaign_id)
        return LedgerSummary(campaign_id, [LedgerRowCount(*r) for r in rows])

    def opt_out(
        self, member_id: str, *, channel: str = "*", source: str = "manual", reason: str | None = None
    ) -> OptOutResult:
        new = store.opt_out(self.wb.db(), member_id, channel, source=source, reason=reason, now=self.wb.now())
        return OptOutResult(member_id, channel, new)


def _wecom_config(cfg: ChannelsFile, channel: str | None) -> ChannelConfig:
    """The WeCom channel a callback is for: the one named, else the only one with the wecom plugin."""
    found = [c for c in cfg.channels.values() if c.plugin == "wecom" and (channel is None or c.name == channel)]
    if len(found) != 1:
        raise ConfigError(
            _("no single WeCom channel for the callback (asked: {channel}, configured: {names})",
              channel=channel or "-", names=", ".join(c.name for c in found) or "-"),
            hint=_("Configure [channels.wecom] with callback_token and callback_aes_key in the channels file; "
                   "with several WeCom channels, add ?channel=NAME to the callback URL."),
        )  # fmt: skip
    return found[0]
