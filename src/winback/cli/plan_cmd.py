"""`winback plan history|create|solve|export|review`: the repurchase target planner (seed 004).

A thin shell over `wb.planner` (planner.service.PlannerService), imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, pct, table
from winback.cli.when import parse_date
from winback.i18n import _, t

if TYPE_CHECKING:
    from winback.planner.types import HistoryResult, PlanResult, ReviewResult, SolveResult

plan_app = typer.Typer(
    help="Repurchase target planner: history, status quo, gap, measures, phases.", no_args_is_help=True
)
app.add_typer(plan_app, name="plan")

JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")


def _names(stages: list[dict[str, str]], lang: str) -> dict[str, str]:
    return {s["stage"]: s.get(lang, s["stage"]) for s in stages}


def _tier(tier: str) -> str:
    return tier or _("(no tier)")


def _render_history(h: HistoryResult, lang: str) -> None:
    names = _names(h.stages, lang)
    for p in h.periods:
        rows = []
        for c in [*p.cells, p.total]:
            ch = p.change.get(f"{c.stage}/{c.tier}", {})
            stage = _("Total") if c.stage == "*" else names.get(c.stage, c.stage)
            rows.append(
                [
                    stage,
                    "" if c.tier == "*" else _tier(c.tier),
                    c.members,
                    c.repurchasers,
                    pct(c.rate),
                    fmt(c.aov),
                    fmt(c.revenue),
                    pct(ch.get("rate")),
                    pct(ch.get("contribution")),
                ]
            )
        console.print(table(p.period.label(), [
            _("Lifecycle stage"), _("Tier"), _("Members"), _("Repurchasers"), _("Repurchase rate"), _("AOV"),
            _("Contribution"), _("Rate change YoY"), _("Contribution change YoY")], rows))  # fmt: skip
    for n in h.notes:
        console.print(n)


def _interval(d: dict[str, Any]) -> str:
    return f"{fmt(d['value'])} [{fmt(d['low'])}, {fmt(d['high'])}]"


def _render_plan(p: PlanResult, lang: str) -> None:
    names = _names(p.stages, lang)
    rows = [
        [
            names.get(c["stage"], c["stage"]),
            _tier(c["tier"]),
            c["members"],
            fmt(c["repurchasers"]),
            pct(c["rate"]),
            fmt(c["aov"]),
            fmt(c["revenue"]),
            fmt(c["target_revenue"]),
            fmt(c["gap"]),
        ]
        for c in p.cells
    ]
    console.print(table(_("plan {plan_id} — {period}", plan_id=p.plan_id, period=p.period.label()), [
        _("Lifecycle stage"), _("Tier"), _("Members"), _("Repurchasers"), _("Repurchase rate"), _("AOV"),
        _("Status quo revenue"), _("Target revenue"), _("Gap")], rows))  # fmt: skip
    sq = p.status_quo
    console.print(
        _(
            "target {target}: new members {new}, existing members {existing}",
            target=fmt(p.target_revenue),
            new=fmt(p.new_member_revenue),
            existing=fmt(p.existing_target),
        )
    )
    console.print(
        _(
            "status quo (95 % interval): repurchasers {reps}, revenue {rev}; gap {gap}",
            reps=_interval(sq["repurchasers"]),
            rev=_interval(sq["revenue"]),
            gap=fmt(p.gap),
        )
    )
    for n in p.notes:
        console.print(n, highlight=False)
    console.print(_("next: winback plan solve {plan_id}", plan_id=p.plan_id))


def _render_solve(s: SolveResult, lang: str) -> None:
    measures, stages = s.names.get("measures", {}), s.names.get("stages", {})
    rows = [
        [measures.get(o.measure, o.measure), stages.get(o.stage, o.stage), _tier(o.tier),
         _("Repurchase rate") if o.lever == "rate" else _("AOV"), o.audience, fmt(o.gain), fmt(o.cost),
         fmt(o.guide_hours), t(o.effect.source, lang)]
        for o in s.chosen
    ]  # fmt: skip
    console.print(table(_("measures chosen for {plan_id} ({status})", plan_id=s.plan_id, status=t(s.status, lang)), [
        _("Measure"), _("Lifecycle stage"), _("Tier"), _("Lever"), _("Audience"), _("Expected incremental revenue"),
        _("Cost"), _("Guide hours"), _("Effect source")], rows))  # fmt: skip
    console.print(
        _(
            "expected contribution {c} (95 % interval); incremental {i}; cost {cost}; incremental ROI {roi}; "
            "probability of reaching the target {p}",
            c=_interval(s.expected_contribution),
            i=_interval(s.incremental),
            cost=fmt(s.cost),
            roi=fmt(s.incremental_roi),
            p=pct(s.probability_of_target),
        )
    )
    ph = [
        [
            r["phase_name"],
            r["start"],
            r["end"],
            r["group"],
            r["strategy"],
            fmt(r["target_incremental_revenue"]),
            r["messages"],
            fmt(r["guide_hours"]),
        ]
        for r in s.phases
    ]
    console.print(table(_("phase strategy table"), [
        _("Phase"), _("Start"), _("End"), _("Target group"), _("Strategy"), _("Phase target (incremental revenue)"),
        _("Messages"), _("Guide hours")], ph))  # fmt: skip
    for n in s.notes:
        console.print(n, highlight=False)


def _render_review(r: ReviewResult, lang: str) -> None:
    rows = [
        [
            r.stage_names.get(c["stage"], c["stage"]),
            _tier(c["tier"]),
            c["members"],
            fmt(c["estimate_revenue"]),
            fmt(c["target_revenue"]),
            fmt(c["actual_revenue"]),
            pct(c["actual_vs_estimate"]),
            pct(c["actual_vs_target"]),
        ]
        for c in r.cells
    ]
    t = r.total
    rows.append(
        [
            _("Total"),
            "",
            "",
            fmt(t["estimate_revenue"]),
            fmt(t["target_revenue"]),
            fmt(t["actual_revenue"]),
            pct(t["actual_vs_estimate"]),
            pct(t["actual_vs_target"]),
        ]
    )
    console.print(table(_("review of {plan_id} — {period}", plan_id=r.plan_id, period=r.period.label()), [
        _("Lifecycle stage"), _("Tier"), _("Members"), _("Status quo revenue"), _("Target revenue"),
        _("Actual revenue"), _("Actual vs estimate"), _("Actual vs target")], rows))  # fmt: skip
    for n in r.notes:
        console.print(n, highlight=False)


@plan_app.command("history")
@handle_errors()
def history_cmd(
    years: int = typer.Option(3, "--years", help="How many past years."),
    by: str = typer.Option("stage,tier", "--by", help="stage, tier or stage,tier."),
    as_of: str = typer.Option(None, "--as-of", help="End of the last period (default: the day after the last order)."),
    period: str = typer.Option(None, "--period", help="One period instead: YYYY or YYYY-MM-DD:YYYY-MM-DD."),
    export: Path = typer.Option(None, "--export", help="Also write the matrix to this .xlsx file."),
    json_output: bool = JSON,
) -> None:
    """Members by lifecycle stage × tier at each period's start: repurchasers, rate, AOV, contribution, change."""
    from winback.planner.matrix import parse_period

    wb = current()
    result = wb.planner.history(years=years, by=[b.strip() for b in by.split(",") if b.strip()],
                                as_of=parse_date(as_of, "--as-of"), period=parse_period(period) if period else None,
                                export=export)  # fmt: skip
    emit(result, json_output, lambda h: _render_history(h, wb.settings.lang))


@plan_app.command("create")
@handle_errors()
def create_cmd(
    period: str = typer.Option(..., "--period", help="The plan's period: YYYY or YYYY-MM-DD:YYYY-MM-DD."),
    target_revenue: float = typer.Option(..., "--target-revenue", help="The period's member sales target (yuan)."),
    as_of: str = typer.Option(
        None, "--as-of", help="Estimate from this snapshot (default: the period start or the latest data)."
    ),
    new_member_share: float = typer.Option(None, "--new-member-share", help="Share of the target from new members."),
    new_member_revenue: float = typer.Option(None, "--new-member-revenue", help="Revenue expected from new members."),
    what_if: list[str] = typer.Option(None, "--what-if", help="STAGE/TIER:rate|aov[+N%]@MEASURE (repeatable)."),
    promotion: str = typer.Option(None, "--promotion", help="The big promotion of the phase table (618, double11)."),
    planner_file: Path = typer.Option(
        None,
        "--planner-file",
        help="The brand's planner file (measures, tiers, "
        "phases; default: the shipped planner.toml), kept with the plan.",
    ),
    json_output: bool = JSON,
) -> None:
    """A target for a period: the existing members' part, their status quo, the gap per cell and in total."""
    from winback.planner.matrix import parse_period

    wb = current()
    result = wb.planner.create(
        parse_period(period), target_revenue=target_revenue, as_of=parse_date(as_of, "--as-of"),
        new_member_share=new_member_share, new_member_revenue=new_member_revenue, what_ifs=what_if or [],
        promotion=promotion,
        planner_file=planner_file,
    )  # fmt: skip
    emit(result, json_output, lambda p: _render_plan(p, wb.settings.lang))


@plan_app.command("solve")
@handle_errors()
def solve_cmd(
    plan_id: str = typer.Argument(..., help="The plan id (from plan create)."),
    budget: float = typer.Option(None, "--budget", help="Spend at most this (yuan): the most contribution within it."),
    guide_hours: float = typer.Option(None, "--guide-hours", help="Guide hours available (default: from staff)."),
    json_output: bool = JSON,
) -> None:
    """The measures per cell that close the gap at the least cost (MILP, HiGHS), with the phase table."""
    wb = current()
    result = wb.planner.solve(plan_id, budget=budget, guide_hours=guide_hours)
    emit(result, json_output, lambda s: _render_solve(s, wb.settings.lang))


@plan_app.command("export")
@handle_errors()
def export_cmd(
    plan_id: str = typer.Argument(..., help="The plan id (from plan create)."),
    out: Path = typer.Option(..., "--out", help="The workbook to write (.xlsx)."),
    json_output: bool = JSON,
) -> None:
    """The plan as a workbook: history, status quo, gap, measures, phase table."""
    wb = current()
    result = wb.planner.export(plan_id, out)
    emit(
        result,
        json_output,
        lambda r: console.print(_("wrote {file} ({sheets})", file=r.file, sheets=", ".join(r.sheets))),
    )


@plan_app.command("review")
@handle_errors()
def review_cmd(
    plan_id: str = typer.Argument(..., help="The plan id (from plan create)."),
    json_output: bool = JSON,
) -> None:
    """Estimate vs target vs actual per cell, once the period has data."""
    wb = current()
    result = wb.planner.review(plan_id)
    emit(result, json_output, lambda r: _render_review(r, wb.settings.lang))
