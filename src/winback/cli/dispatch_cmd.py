"""`winback dispatch`: send the due touches through the configured channels (crash-safe, resumable)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, say, table

if TYPE_CHECKING:
    from winback.outreach.types import DispatchResult

LABELS = {
    "title": ("触达发送", "dispatch"),
    "dry": ("(试运行,未发送)", "(dry run: nothing sent)"),
    "channel": ("渠道", "channel"),
    "resolved": ("补查", "resolved"),
    "claimed": ("发出", "sent out"),
    "sent": ("已发送", "sent"),
    "delivered": ("已送达", "delivered"),
    "failed": ("失败", "failed"),
    "retry": ("稍后重试", "retry later"),
    "waiting": ("待确认/未知", "pending/unknown"),
    "deferred": ("免打扰推迟", "held (quiet hours)"),
    "skipped": ("跳过(原因)", "skipped (reason)"),
    "unconfigured": ("这些渠道有待发触达但未配置", "due touches on channels that are not configured"),
    "hint": ("在渠道配置文件里加 [channels.名称](--channels FILE 或 WINBACK_CHANNELS),见 docs/outreach.md",
             "add [channels.NAME] to the channels file (--channels FILE or WINBACK_CHANNELS); see docs/outreach.md"),
}  # fmt: skip


def render(r: DispatchResult) -> None:
    from winback.outreach.ledger import reason_text

    lang = current().settings.lang

    def t(k: str) -> str:
        return say(lang, *LABELS[k])

    cols = ["channel", "resolved", "claimed", "sent", "delivered", "failed", "retry", "waiting", "deferred", "skipped"]
    rows = [
        (c.channel, c.resolved, c.claimed, c.sent, c.delivered, c.failed, c.retry, c.pending + c.unknown, c.deferred,
         "; ".join(f"{reason_text(k, lang)} {n:,}" for k, n in c.skipped.items()) or "—")
        for c in r.channels
    ]  # fmt: skip
    console.print(table(f"{t('title')} {r.now} {t('dry') if r.dry_run else ''}", [t(c) for c in cols], rows))
    if r.unconfigured:
        console.print(f"{t('unconfigured')}: {', '.join(r.unconfigured)}\n{t('hint')}", highlight=False)


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
