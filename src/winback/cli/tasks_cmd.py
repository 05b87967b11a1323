"""`winback tasks list|export|import|done|targets|escalate`: the guides' tasks and what came of them.

A thin shell over `wb.tasks` (outreach.task_service.TaskService), imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, pct, table
from winback.i18n import N_, _

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

#: column names, task states and outcomes, as the tasks service names them
L = {
    "task": N_("task"),
    "store": N_("store"),
    "guide": N_("guide"),
    "member": N_("member"),
    "status": N_("status"),
    "outcome": N_("outcome"),
    "due": N_("due"),
    "escalated": N_("escalated to"),
    "tasks": N_("tasks"),
    "open": N_("open"),
    "done": N_("done"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "contacted": N_("contacted"),
    "invited": N_("invited"),
    "visited": N_("visited"),
    "purchased": N_("deals"),
    "unreachable": N_("unreachable"),
    "declined": N_("declined"),
    "manager": N_("manager"),
}


def _h(*keys: str) -> list[str]:
    return [_(L[k]) if k in L else k for k in keys]


def _word(key: str | None) -> str | None:
    """A task state or outcome in the user's language (None stays None)."""
    return None if key is None else (_(L[key]) if key in L else key)


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
    emit(r, json_output, _render_list)


def _render_list(r: TaskList) -> None:
    rows = [
        [
            t.task_id,
            t.store_name or t.store_id,
            t.guide_name or t.guide_id,
            t.member_id,
            f"{_word(t.status)}{' !' if t.overdue else ''}",
            _word(t.outcome),
            f"{t.due_at:%Y-%m-%d}" if t.due_at else None,
            t.escalated_to_name or (_("HQ") if t.escalated_at else None),
        ]
        for t in r.tasks
    ]
    cols = _h("task", "store", "guide", "member", "status", "outcome", "due", "escalated")
    console.print(table(_("guide tasks"), cols, rows))
    console.print(_("{total:,} tasks, {shown:,} shown (! = overdue)", total=r.total, shown=r.shown), highlight=False)


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
    emit(r, json_output, _render_export)


def _render_export(r: ExportResult) -> None:
    console.print(
        _("wrote {file}: {tasks:,} tasks, {stores} stores, {guides} sheets (one per guide)", file=r.file,
          tasks=r.tasks, stores=r.stores, guides=r.guides),
        highlight=False,
    )  # fmt: skip


@tasks_app.command("import")
@handle_errors()
def import_cmd(
    file: Path = typer.Argument(..., help="A filled-in task sheet (from `winback tasks export`)."),
    json_output: bool = JSON,
) -> None:
    """Read a filled-in task sheet back: each outcome is recorded once; bad rows are listed with the reason."""
    wb = current()
    emit(wb.tasks.import_sheet(file), json_output, _render_import)


def _render_import(r: ImportResult) -> None:
    console.print(
        _(
            "{file}: {rows:,} rows with an outcome, {recorded:,} recorded, {unchanged:,} already recorded, "
            "{changed:,} tasks updated, {rejected:,} rejected",
            file=r.file,
            rows=r.rows,
            recorded=r.recorded,
            unchanged=r.unchanged,
            changed=r.tasks_changed,
            rejected=len(r.rejected),
        ),
        highlight=False,
    )
    if r.rejected:
        cols = [_("sheet"), _("row"), _("task"), _("reason")]
        rows = [[x.sheet, x.row, x.task_id, x.reason] for x in r.rejected[:50]]
        console.print(table(_("rejected rows"), cols, rows))


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
    emit(wb.tasks.done(task, outcome, note=note, who=who), json_output, _render_done)


def _render_done(r: DoneResult) -> None:
    if not r.recorded:
        console.print(_("{task}: {outcome} was already recorded", task=r.task_id, outcome=_word(r.outcome)),
                      highlight=False)  # fmt: skip
        return
    console.print(
        _("{task}: recorded {outcome}; the task is {status} ({result})", task=r.task_id, outcome=_word(r.outcome),
          status=_word(r.status), result=_word(r.task_outcome)),
        highlight=False,
    )  # fmt: skip


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
    emit(r, json_output, _render_targets)


def _render_targets(r: TargetsResult) -> None:
    cols = _h("store", "tasks", "open", "contacted", *r.metrics)
    rows = []
    for s in [*r.stores, r.total]:
        name = s.store_name or (_("total") if s.store_id == "*" else s.store_id or _("no store"))
        cells = [f"{s.done[m]}/{s.targets.get(m, 0)} ({pct(s.completion[m])})" for m in r.metrics]
        rows.append([name, s.tasks, s.open, s.contacted, *cells])
    console.print(table(f"{r.campaign_id} {r.campaign_name} — " + _("targets"), cols, rows))
    console.print(r.rule, highlight=False, markup=False)


@tasks_app.command("escalate")
@handle_errors()
def escalate_cmd(json_output: bool = JSON) -> None:
    """Send overdue open tasks (and tasks without a guide) to the store manager, once each."""
    wb = current()
    emit(wb.tasks.escalate(), json_output, _render_escalate)


def _render_escalate(r: EscalateResult) -> None:
    console.print(_("escalated {n:,} overdue tasks", n=r.escalated), highlight=False)
    if r.by_manager:
        rows = [[x["store_id"], x["manager"], x["tasks"]] for x in r.by_manager]
        console.print(table(None, _h("store", "manager", "tasks"), rows))


@app.command("funnel")
@handle_errors()
def funnel_cmd(
    campaign: str = typer.Argument(..., help="The campaign id."),
    json_output: bool = JSON,
) -> None:
    """Per arm, members at each node: queued, sent, delivered, clicked, contacted, invited, visited, purchased."""
    wb = current()
    emit(wb.tasks.funnel(campaign), json_output, _render_funnel)


#: the funnel's nodes, as the tasks service names them
FUNNEL = {
    "queued": N_("queued"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    "skipped": N_("skipped"),
    "clicked": N_("clicked"),
    "tasks": N_("tasks"),
    "contacted": N_("contacted"),
    "invited": N_("invited"),
    "visited": N_("visited"),
    "purchased": N_("purchased"),
}


def arm_name(arm: str) -> str:
    return _("control") if arm == "control" else arm


def _render_funnel(r: Funnel) -> None:
    cols = [_("arm"), _("members")] + [_(FUNNEL[s]) if s in FUNNEL else s for s in r.stages]
    rows = [[arm_name(a.arm), a.members, *[f"{a.stages[s]:,} ({pct(a.rates[s])})" for s in r.stages]] for a in r.arms]
    start, end = r.window
    title = f"{r.campaign_id} {r.campaign_name} — " + _("funnel") + f" {start:%Y-%m-%d}–{end:%Y-%m-%d}"
    console.print(table(title, cols, rows))
    console.print(_("definitions: winback funnel ID --json"), highlight=False)
