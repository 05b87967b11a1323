"""`winback dispatch`: send the due touches through the configured channels (crash-safe, resumable)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.outreach.types import DispatchResult

#: the dispatch table's columns
HEADS = (N_("channel"), N_("resolved"), N_("sent out"), N_("sent"), N_("delivered"), N_("failed"), N_("retry later"),
         N_("pending/unknown"), N_("held (quiet hours)"), N_("skipped (reason)"))  # fmt: skip


def render(r: DispatchResult) -> None:
    from winback.outreach.ledger import reason_text

    lang = current().settings.lang
    rows = [
        (c.channel, c.resolved, c.claimed, c.sent, c.delivered, c.failed, c.retry, c.pending + c.unknown, c.deferred,
         "; ".join(f"{reason_text(k, lang)} {n:,}" for k, n in c.skipped.items()) or "—")
        for c in r.channels
    ]  # fmt: skip
    title = _("dispatch {now}", now=r.now) + (" " + _("(dry run: nothing sent)") if r.dry_run else "")
    console.print(table(title, [_(h) for h in HEADS], rows))
    if r.unconfigured:
        console.print(
            _("due touches on channels that are not configured: {channels}", channels=", ".join(r.unconfigured)),
            highlight=False,
        )
        console.print(
            _("add [channels.NAME] to the channels file (--channels FILE or WINBACK_CHANNELS); see docs/outreach.md"),
            highlight=False,
            markup=False,
        )


@app.command("dispatch")
@handle_errors()
def dispatch(
    channel: str = typer.Option(None, "--channel", help="Only this channel (a table of the channels file)."),
    campaign: str = typer.Option(None, "--campaign", help="Only this campaign's touches."),
    limit: int = typer.Option(None, "--limit", help="Send at most N touches in this run."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be sent, skipped and held; send nothing."),
    channels: Path = typer.Option(None, "--channels", help="Channels file (TOML); default: $WINBACK_CHANNELS."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Send what is due through the configured channels: batched, rate-limited, crash-safe and resumable."""
    r = current().outreach.dispatch(
        channel=channel, campaign_id=campaign, limit=limit, dry_run=dry_run, channels_file=channels
    )
    emit(r, json_output, render)
