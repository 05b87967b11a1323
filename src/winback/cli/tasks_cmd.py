"""`winback tasks list|export|import|done|targets|escalate`: the guides' tasks and what came of them.

A thin shell over `wb.tasks` (outreach.task_service.TaskService), imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, pct, say, table

if TYPE_CHECKING:
    from winback.outreach.tasks_types import (
        DoneResult,
        EscalateResult,
        ExportResult,
        Funnel,
        ImportResult,
        TargetsResult,
        TaskList,
    )

tasks_app = typer.Typer(help="Guide tasks: list, export a task sheet, import outcomes, targets.", no_args_is_help=True)
app.add_typer(tasks_app, name="tasks")

JSON = typer.Option(False, "--json", help="Print one JSON object.")
CAMPAIGN = typer.Option(None, "--campaign", help="Only this campaign's tasks.")
STORE = typer.Option(None, "--store", help="Store id or name.")
GUIDE = typer.Option(None, "--guide", help="Guide id or name (a manager also sees what was escalated to her).")
STATUS = typer.Option(None, "--status", help="open | done | failed | skipped | overdue.")

#: headers and messages, (zh, en)
L = {
    "task": ("任务号", "task"),
    "store": ("门店", "store"),
    "guide": ("导购", "guide"),
    "member": ("会员", "member"),
    "status": ("状态", "status"),
    "outcome": ("结果", "outcome"),
    "due": ("截止", "due"),
    "escalated": ("已升级至", "escalated to"),
    "tasks": ("任务", "tasks"),
    "open": ("待办", "open"),
    "contacted": ("已联系", "contacted"),
    "invited": ("邀约", "invited"),
    "visited": ("到店", "visited"),
    "purchased": ("成交", "deals"),
    "manager": ("店长", "manager"),
}


def _h(lang: str, *keys: str) -> list[str]:
    return [say(lang, *L[k]) for k in keys]


@tasks_app.command("list")
@handle_errors()
def list_cmd(
    campaign: str = CAMPAIGN,
    store: str = STORE,
    guide: str = GUIDE,
    status: str = STATUS,
    limit: int = typer.Option(50, "--limit", help="Show at most this many (0 = all)."),
    json_output: bool = JSON,
) -> None:
    """Tasks by store, guide, campaign and status (overdue = open past its due time)."""
    wb = current()
    r = wb.tasks.list(campaign=campaign, store=store, guide=guide, status=status, limit=limit or None)
    emit(r, json_output, lambda x: _render_list(x, wb.settings.lang))


def _render_list(r: TaskList, lang: str) -> None:
    rows = [
        [
            t.task_id,
            t.store_name or t.store_id,
            t.guide_name or t.guide_id,
            t.member_id,
            t.status + (" !" if t.overdue else ""),
            t.outcome,
            f"{t.due_at:%Y-%m-%d}" if t.due_at else None,
            t.escalated_to_name or (say(lang, "总部", "HQ") if t.escalated_at else None),
        ]
        for t in r.tasks
    ]
    cols = _h(lang, "task", "store", "guide", "member", "status", "outcome", "due", "escalated")
    console.print(table(say(lang, "导购任务", "guide tasks"), cols, rows))
    console.print(
        say(
            lang,
            f"共 {r.total:,} 条，显示 {r.shown:,} 条（! = 已逾期）",
            f"{r.total:,} tasks, {r.shown:,} shown (! = overdue)",
        )
    )


@tasks_app.command("export")
@handle_errors()
def export_cmd(
    out: Path = typer.Option(Path("tasks.xlsx"), "--out", help="The XLSX task sheet to write."),
    campaign: str = CAMPAIGN,
    store: str = STORE,
    guide: str = GUIDE,
    status: str = STATUS,
    json_output: bool = JSON,
) -> None:
    """Write a task sheet: one worksheet per store and guide, member cards, scripts and outcome columns."""
    wb = current()
    r = wb.tasks.export(out, campaign=campaign, store=store, guide=guide, status=status)
    emit(r, json_output, lambda x: _render_export(x, wb.settings.lang))


def _render_export(r: ExportResult, lang: str) -> None:
    console.print(
        say(
            lang,
            f"已写出 {r.file}：{r.tasks:,} 条任务，{r.stores} 家门店，{r.guides} 页（每位导购一页）",
            f"wrote {r.file}: {r.tasks:,} tasks, {r.stores} stores, {r.guides} sheets (one per guide)",
        )
    )


@tasks_app.command("import")
@handle_errors()
def import_cmd(
    file: Path = typer.Argument(..., help="A filled-in task sheet (from `winback tasks export`)."),
    json_output: bool = JSON,
) -> None:
    """Read a filled-in task sheet back: each outcome is recorded once; bad rows are listed with the reason."""
    wb = current()
    emit(wb.tasks.import_sheet(file), json_output, lambda x: _render_import(x, wb.settings.lang))


def _render_import(r: ImportResult, lang: str) -> None:
    console.print(
        say(
            lang,
            f"{r.file}：{r.rows:,} 行填了结果，新记录 {r.recorded:,}，已记录过 {r.unchanged:,}，"
            f"更新任务 {r.tasks_changed:,}，拒收 {len(r.rejected):,}",
            f"{r.file}: {r.rows:,} rows with an outcome, {r.recorded:,} recorded, {r.unchanged:,} already recorded, "
            f"{r.tasks_changed:,} tasks updated, {len(r.rejected):,} rejected",
        )
    )
    if r.rejected:
        cols = [
            say(lang, "工作表", "sheet"),
            say(lang, "行", "row"),
            say(lang, "任务号", "task"),
            say(lang, "原因", "reason"),
        ]
        console.print(
            table(
                say(lang, "拒收的行", "rejected rows"),
                cols,
                [[x.sheet, x.row, x.task_id, x.reason] for x in r.rejected[:50]],
            )
        )


@tasks_app.command("clicks")
@handle_errors()
def clicks_cmd(
    file: Path = typer.Argument(..., help="A click log of the short links (CSV or JSON lines: code, clicked_at)."),
    json_output: bool = JSON,
) -> None:
    """Import the clicks on the per-touch short links (until the web console serves them): each click is recorded
    once and counts in `winback funnel`."""
    wb = current()
    emit(wb.outreach.import_clicks(file), json_output, lambda r: console.print(r.summary(), highlight=False))


@tasks_app.command("done")
@handle_errors()
def done_cmd(
    task: str = typer.Argument(..., help="The task id (e.g. C0001:M000123)."),
    outcome: str = typer.Option(
        ..., "--outcome", help="contacted | invited | visited | purchased | unreachable | declined."
    ),
    note: str = typer.Option(None, "--note", help="What the guide wants to remember."),
    who: str = typer.Option(None, "--who", help="Who recorded it (default: nobody named)."),
    json_output: bool = JSON,
) -> None:
    """Record one outcome of one task (the same outcome twice changes nothing)."""
    wb = current()
    emit(wb.tasks.done(task, outcome, note=note, who=who), json_output, lambda x: _render_done(x, wb.settings.lang))


def _render_done(r: DoneResult, lang: str) -> None:
    if not r.recorded:
        console.print(
            say(lang, f"{r.task_id} 已记录过 {r.outcome}，未改动", f"{r.task_id}: {r.outcome} was already recorded")
        )
        return
    console.print(
        say(
            lang,
            f"{r.task_id}：记录 {r.outcome}，任务 {r.status}（结果 {r.task_outcome}）",
            f"{r.task_id}: recorded {r.outcome}; the task is {r.status} ({r.task_outcome})",
        )
    )


@tasks_app.command("targets")
@handle_errors()
def targets_cmd(
    campaign: str = typer.Argument(..., help="The campaign id."),
    store: str = STORE,
    set_: list[str] = typer.Option(None, "--set", help="METRIC=N for --store (invited, visited, purchased)."),
    json_output: bool = JSON,
) -> None:
    """Per store: invitation / visit / deal targets from the scenario's KPIs, and how far each store got."""
    wb = current()
    r = wb.tasks.targets(campaign, store=store, set_pairs=set_ or [])
    emit(r, json_output, lambda x: _render_targets(x, wb.settings.lang))


def _render_targets(r: TargetsResult, lang: str) -> None:
    cols = _h(lang, "store", "tasks", "open", "contacted") + [say(lang, *L[m]) for m in r.metrics]
    rows = []
    for s in [*r.stores, r.total]:
        name = s.store_name or (
            say(lang, "合计", "total") if s.store_id == "*" else s.store_id or say(lang, "无门店", "no store")
        )
        cells = [f"{s.done[m]}/{s.targets.get(m, 0)} ({pct(s.completion[m])})" for m in r.metrics]
        rows.append([name, s.tasks, s.open, s.contacted, *cells])
    console.print(table(f"{r.campaign_id} {r.campaign_name} — " + say(lang, "目标完成", "targets"), cols, rows))
    console.print(r.rule)


@tasks_app.command("escalate")
@handle_errors()
def escalate_cmd(json_output: bool = JSON) -> None:
    """Send overdue open tasks (and tasks without a guide) to the store manager, once each."""
    wb = current()
    emit(wb.tasks.escalate(), json_output, lambda x: _render_escalate(x, wb.settings.lang))


def _render_escalate(r: EscalateResult, lang: str) -> None:
    console.print(say(lang, f"升级 {r.escalated:,} 条逾期任务", f"escalated {r.escalated:,} overdue tasks"))
    if r.by_manager:
        rows = [[x["store_id"], x["manager"], x["tasks"]] for x in r.by_manager]
        console.print(table(None, _h(lang, "store", "manager", "tasks"), rows))


@app.command("funnel")
@handle_errors()
def funnel_cmd(
    campaign: str = typer.Argument(..., help="The campaign id."),
    json_output: bool = JSON,
) -> None:
    """Per arm, members at each node: queued, sent, delivered, clicked, contacted, invited, visited, purchased."""
    wb = current()
    emit(wb.tasks.funnel(campaign), json_output, lambda x: _render_funnel(x, wb.settings.lang))


def _render_funnel(r: Funnel, lang: str) -> None:
    names = {
        "queued": ("入账", "queued"),
        "sent": ("已发出", "sent"),
        "delivered": ("已送达", "delivered"),
        "failed": ("失败", "failed"),
        "skipped": ("跳过", "skipped"),
        "clicked": ("点击", "clicked"),
        "tasks": ("任务", "tasks"),
        "contacted": ("已联系", "contacted"),
        "invited": ("邀约", "invited"),
        "visited": ("到店", "visited"),
        "purchased": ("购买", "purchased"),
    }
    cols = [say(lang, "组别", "arm"), say(lang, "会员", "members")] + [say(lang, *names[s]) for s in r.stages]
    rows = [[a.arm, a.members, *[f"{a.stages[s]:,} ({pct(a.rates[s])})" for s in r.stages]] for a in r.arms]
    start, end = r.window
    title = f"{r.campaign_id} {r.campaign_name} — " + say(lang, "漏斗", "funnel") + f" {start:%Y-%m-%d}–{end:%Y-%m-%d}"
    console.print(table(title, cols, rows))
    console.print(say(lang, "定义：winback funnel ID --json", "definitions: winback funnel ID --json"))
