"""`winback staff leaderboard`: guides ranked on the members they woke, against their own control members.

A thin shell over `wb.staff` (outreach.task_service.StaffService), imported when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, pct, table
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.outreach.tasks_types import Leaderboard

staff_app = typer.Typer(help="Staff: the guides' leaderboard.", no_args_is_help=True)
app.add_typer(staff_app, name="staff")

#: the leaderboard's columns
HEADS = (N_("rank"), N_("guide"), N_("store"), N_("tasks"), N_("contacts"), N_("invited"), N_("visited"),
         N_("purchased"), N_("revenue"), N_("incremental [95%]"), N_("score"))  # fmt: skip


@staff_app.command("leaderboard")
@handle_errors()
def leaderboard_cmd(
    store: str = typer.Option(None, "--store", help="Store id or name."),
    period: str = typer.Option(None, "--period", help="90d (default), 2026-11, 2026-10-01..2026-11-30 or all."),
    limit: int = typer.Option(30, "--limit", help="Show the top N (0 = all)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Per guide: tasks, contacts, invited, visited, purchased, revenue and incremental reactivations against her
    own control members, ranked with shrinkage (the rule is printed)."""
    wb = current()
    r = wb.staff.leaderboard(store=store, period=period)
    emit(r, json_output, lambda x: _render(x, limit))


def _ci(lo: float | None, hi: float | None) -> str:
    return "—" if lo is None or hi is None else f"[{lo:.0f}, {hi:.0f}]"


def _render(r: Leaderboard, limit: int) -> None:
    rows = [
        [
            g.rank,
            g.guide,
            g.store,
            g.tasks,
            g.contacts,
            g.invited,
            g.visited,
            g.purchased,
            g.revenue,
            "—" if g.incremental is None else f"{g.incremental:+.1f} {_ci(*g.incremental_ci)}",
            pct(g.shrunk_uplift),
        ]
        for g in (r.guides[:limit] if limit else r.guides)
    ]
    p = r.period
    title = _("guide leaderboard (campaigns launched {start}–{end})", start=p["start"], end=p["end"])
    console.print(table(title, [_(h) for h in HEADS], rows))
    mu, tau2, n = pct(r.prior["pooled_uplift"]), r.prior["tau2"], len(r.campaigns)
    console.print(
        _("{n} campaigns; pooled uplift {mu}, between-guide τ² = {tau2}", n=n, mu=mu, tau2=f"{tau2:.2g}"),
        highlight=False,
    )
    console.print(_("ranking rule: {rule}", rule=r.rule), highlight=False, markup=False)
