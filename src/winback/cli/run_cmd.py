"""`winback run [--date D]`: a day's work (refresh if new data arrived, escalate overdue tasks, enrol the journeys,
dispatch what is due). A thin shell over `wb.journeys` (outreach.journeys_service.JourneyService)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, say, table
from winback.cli.when import parse_date

if TYPE_CHECKING:
    from winback.outreach.journeys_types import RunResult

#: journey statuses, (zh, en)
STATUS = {
    "launched": ("已发起", "launched"),
    "nobody_due": ("今日无人", "nobody due"),
    "covered": ("已做过", "run before"),
    "failed": ("失败", "failed"),
    "paused": ("已暂停", "paused"),
}


@app.command("run")
@handle_errors()
def run_cmd(
    date: str = typer.Option(None, "--date", help="The day to run (YYYY-MM-DD, default today)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """A day's work: refresh if new data arrived, escalate overdue tasks, enrol journeys, dispatch. Twice for the
    same day creates nothing; skipped days are caught up once."""
    wb = current()
    emit(wb.journeys.run(parse_date(date, "--date")), json_output, lambda r: _render(r, wb.settings.lang))


def _render(r: RunResult, lang: str) -> None:
    rows = [
        [
            j.name,
            say(lang, *STATUS[j.status]),
            f"{j.covers[0]}–{j.covers[1]}",
            j.campaign_id,
            j.members,
            j.tasks,
            j.touches,
            j.note,
        ]
        for j in r.journeys
    ]
    cols = [
        say(lang, *h)
        for h in (
            ("旅程", "journey"),
            ("状态", "status"),
            ("覆盖", "covers"),
            ("活动", "campaign"),
            ("会员", "members"),
            ("任务", "tasks"),
            ("触达", "touches"),
            ("说明", "note"),
        )
    ]
    console.print(table(say(lang, f"{r.day} 的日常运行", f"daily run of {r.day}"), cols, rows))
    yes = say(lang, "是", "yes") if r.refreshed else say(lang, "否", "no")
    zh = f"刷新快照：{yes}；升级逾期任务 {r.escalated:,}；新建任务 {r.created_tasks:,}、触达 {r.created_touches:,}"
    en = (
        f"refreshed: {yes}; escalated {r.escalated:,}; created {r.created_tasks:,} tasks, {r.created_touches:,} touches"
    )
    console.print(say(lang, zh, en))
    for n in r.notes:
        console.print(n)
