"""`winback run [--date D]`: a day's work (refresh if new data arrived, escalate overdue tasks, enrol the journeys,
dispatch what is due). A thin shell over `wb.journeys` (outreach.journeys_service.JourneyService)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import PAGES_OPT, app, current, pages_wanted
from winback.cli.output import console, emit, handle_errors, table
from winback.cli.when import parse_date
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.outreach.journeys_types import RunResult

#: journey statuses, as the journeys service names them
STATUS = {
    "launched": N_("launched"),
    "nobody_due": N_("nobody due"),
    "covered": N_("run before"),
    "failed": N_("failed"),
    "paused": N_("paused"),
}
HEADS = (N_("journey"), N_("status"), N_("covers"), N_("campaign"), N_("members"), N_("tasks"), N_("touches"),
         N_("note"))  # fmt: skip


@app.command("run")
@handle_errors()
def run_cmd(
    date: str = typer.Option(None, "--date", help="The day to run (YYYY-MM-DD, default today)."),
    pages: bool = PAGES_OPT,
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """A day's work: refresh if new data arrived, escalate overdue tasks, enrol journeys, dispatch. Twice for the
    same day creates nothing; skipped days are caught up once."""
    emit(current().journeys.run(parse_date(date, "--date"), prepare=pages_wanted(pages)), json_output, _render)


def _render(r: RunResult) -> None:
    rows = [
        [
            j.name,
            _(STATUS[j.status]) if j.status in STATUS else j.status,
            f"{j.covers[0]}–{j.covers[1]}",
            j.campaign_id,
            j.members,
            j.tasks,
            j.touches,
            j.note,
        ]
        for j in r.journeys
    ]
    console.print(table(_("daily run of {day}", day=r.day), [_(h) for h in HEADS], rows))
    console.print(
        _(
            "refreshed: {yes}; escalated {escalated:,}; created {tasks:,} tasks, {touches:,} touches",
            yes=_("yes") if r.refreshed else _("no"),
            escalated=r.escalated,
            tasks=r.created_tasks,
            touches=r.created_touches,
        ),
        highlight=False,
    )
    for n in r.notes:
        console.print(n, highlight=False, markup=False)
