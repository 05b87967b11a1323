"""`winback demo`: generate the demo brand, import it, print its summary (zh and en).

`demo_app` is a sub-app: with no subcommand it builds the brand; other modules add subcommands to it
(`winback demo respond …`). The summary is printed by `render_summary`, a list of sections that each take the
summary dict, so later steps (quality, segments) can add their own section with `add_summary_section`.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from winback.cli.app import app, current
from winback.cli.output import console, emit, err_console, fmt, handle_errors, pct, table
from winback.cli.when import parse_date
from winback.i18n import N_, _, t

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.demo.types import DemoSummary

#: winback.demo.defaults (not imported here, to keep start-up light; a test keeps them equal)
DEFAULT_END = dt.date(2026, 11, 20)
DEFAULT_MEMBERS = 200_000
DEFAULT_YEARS = 3
DEFAULT_SEED = 20261120

demo_app = typer.Typer(help="The demo brand: generate, import and explore a realistic synthetic brand.")
app.add_typer(demo_app, name="demo")

Section = Callable[[dict[str, Any], str], None]
_SECTIONS: list[Section] = []


def add_summary_section(section: Section) -> Section:
    """Register a printer `section(summary, lang)` that runs after the built-in ones (usable as a decorator)."""
    _SECTIONS.append(section)
    return section


#: the demo summary's rows
HEADLINE = (
    (N_("members"), "members"),
    (N_("orders (incl. walk-in)"), "orders"),
    (N_("refunds"), "refunds"),
    (N_("net revenue (RMB)"), "revenue"),
    (N_("stores"), "stores"),
    (N_("guides"), "guides"),
    (N_("guide WeChat contacts"), "wechat_contacts"),
    (N_("of them ERP members (planted)"), "planted_duplicates"),
)


@add_summary_section
def _headline(d: dict[str, Any], lang: str) -> None:
    spec = d["spec"]
    brand = d["brand"]["zh"] if lang == "zh" else d["brand"]["en"]
    other = d["brand"]["en"] if lang == "zh" else d["brand"]["zh"]
    head = t("Demo brand {brand} ({other}): {start} to {end}, seed {seed}", lang, brand=brand, other=other,
             start=spec["start"], end=spec["end"], seed=spec["seed"])  # fmt: skip
    console.print(f"[bold]{escape(head)}[/]", highlight=False)
    g = d["generated"]
    rows: list[tuple[str, object]] = [(t(label, lang), d[key]) for label, key in HEADLINE]
    rows += [
        (t("members without a purchase in 90 days", lang), pct(g["share_no_purchase_90d"])),
        (t("members who never bought", lang), pct(g["share_never_purchased"])),
    ]
    console.print(table(None, [t("item", lang), t("count", lang)], rows))


IMPORT_HEADS = (N_("file"), N_("rows in"), N_("loaded"), N_("rejected"), N_("duplicate"), N_("seconds"))


@add_summary_section
def _imports(d: dict[str, Any], lang: str) -> None:
    if not d.get("imports"):
        console.print(t("files written to {folder} (not imported)", lang, folder=d["out_dir"]), highlight=False)
        return
    rows = [
        (r["file"], r["rows_in"], r["rows_loaded"], r["rows_rejected"], r["rows_duplicate"], r["seconds"])
        for r in d["imports"]
    ]
    console.print(table(t("imports", lang), [t(h, lang) for h in IMPORT_HEADS], rows))
    secs = d["seconds"]
    console.print(
        t(
            "generated in {generate} s, imported in {imported} s; warehouse {db}, exports in {folder}",
            lang,
            generate=fmt(secs["generate"]),
            imported=fmt(secs["import"]),
            db=d["db"],
            folder=d["out_dir"],
        ),
        highlight=False,
    )


@add_summary_section
def _overview(d: dict[str, Any], lang: str) -> None:
    analysis = d.get("analysis")
    if not analysis:
        return
    from winback.cli.overview_cmd import render_overview

    dd = analysis["dedupe"]
    console.print(
        t(
            "suspected duplicates: {duplicates} ({clusters} clusters, threshold {threshold}; "
            "`winback dedupe --apply` merges them)",
            "both",
            duplicates=fmt(dd["duplicates"]),
            clusters=fmt(dd["clusters"]),
            threshold=dd["threshold"],
        ),
        highlight=False,
    )
    render_overview(analysis["overview"], "both")
    secs = d["seconds"]
    console.print(
        t(
            "dedupe {dedupe} s, refresh {refresh} s. Next: `winback scenarios`, "
            "`winback campaign create --scenario …` (see README).",
            lang,
            dedupe=fmt(secs.get("dedupe")),
            refresh=fmt(secs.get("refresh")),
        ),
        highlight=False,
    )


_ANALYSIS_STEPS = {"dedupe": N_("looking for duplicate members"), "refresh": N_("building the member snapshot")}


def render_summary(d: dict[str, Any], lang: str = "zh") -> None:
    """Print every registered section of the demo summary, in order."""
    for section in _SECTIONS:
        section(d, lang)


@demo_app.callback(invoke_without_command=True)
@handle_errors()
def demo_cmd(
    ctx: typer.Context,
    members: int = typer.Option(DEFAULT_MEMBERS, "--members", help="How many ERP members to generate."),
    years: int = typer.Option(DEFAULT_YEARS, "--years", help="Years of order history."),
    seed: int = typer.Option(DEFAULT_SEED, "--seed", help="Same seed, same brand."),
    end: str = typer.Option(DEFAULT_END.isoformat(), "--end", help="Last day of the history (YYYY-MM-DD)."),
    out: Path = typer.Option(Path("winback-demo"), "--out", help="Folder for the export files and the truth."),
    parquet_only: bool = typer.Option(
        None, "--parquet-only/--mixed", help="Write Parquet only (default above 1M members) or GBK CSV + XLSX."
    ),
    no_import: bool = typer.Option(False, "--no-import", help="Only write the files."),
    force: bool = typer.Option(
        False, "--force", help="Import even into a warehouse with data that was not made by `winback demo`."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Generate a realistic demo brand (exports with real-world dirt), import it, and print its summary."""
    if ctx.invoked_subcommand is not None:
        return
    wb = current()
    end_date = parse_date(end, "--end") or DEFAULT_END
    kwargs: dict[str, Any] = {
        "members": members,
        "years": years,
        "seed": seed,
        "end": end_date,
        "parquet_only": parquet_only,
        "do_import": not no_import,
        "force": force,
    }
    quiet = json_output or not sys.stderr.isatty()
    data = wb.demo.run(out, **kwargs) if quiet else _with_progress(wb, out, kwargs)
    emit(data, json_output, lambda d: render_summary(d.to_dict(), wb.settings.lang))


def _with_progress(wb: Winback, out: Path, kwargs: dict[str, Any]) -> DemoSummary:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, console=err_console) as bar:
        task = bar.add_task(_("generating members"), total=kwargs["members"])

        def on_progress(stage: str, done: int, total: int | None) -> None:
            if stage == "generate":
                bar.update(task, description=_("generating members"), completed=done, total=total)
            elif stage in _ANALYSIS_STEPS:
                bar.update(task, description=_(_ANALYSIS_STEPS[stage]), completed=0, total=None)
            else:
                name, step = ([*stage.split(":"), "", ""])[1:3]
                bar.update(task, description=_("importing {name} ({step})", name=name, step=step), completed=done,
                           total=total)  # fmt: skip

        return wb.demo.run(out, progress=on_progress, **kwargs)


# -- winback demo respond (the response simulator, demo/respond.py) -------------------------------------------------
@demo_app.command("respond")
@handle_errors()
def demo_respond_cmd(
    campaign_id: str = typer.Argument(..., help="A launched campaign of the demo brand."),
    uplift: str = typer.Option(None, "--uplift", help="True uplift in purchase probability: 0.05 or silent=0.08,…"),
    seed: int = typer.Option(None, "--seed", help="Random seed of the first call (default 20261123)."),
    until: str = typer.Option(
        None, "--until", help="Write responses up to the end of this day (YYYY-MM-DD; default: the brand's now)."
    ),
    force: bool = typer.Option(False, "--force", help="Also on a warehouse not made by `winback demo`."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Simulate the members answering a launched campaign (orders, redemptions) with a known true uplift, up to
    the brand's now; run it again later (a later WINBACK_NOW) to continue the same simulation."""
    wb = current()
    result = wb.demo.respond(campaign_id, uplift=uplift, seed=seed, until=parse_date(until, "--until"), force=force)
    lang = wb.settings.lang

    def render(r: Any) -> None:  # a demo.respond.RespondResult
        done = t("the whole window simulated", lang)
        state = done if r.window_complete else t("run again later to continue", lang)
        console.print(
            t(
                "{campaign}: {orders:,} orders, {redeemed:,} coupons redeemed, {reached:,} members reached "
                "(seed {seed}), simulated up to {until}; {state}",
                lang,
                campaign=r.campaign_id,
                orders=r.orders,
                redeemed=r.redeemed,
                reached=r.reached,
                seed=r.seed,
                until=f"{r.simulated_until:%Y-%m-%d %H:%M}",
                state=state,
            ),
            highlight=False,
        )
        rows = [[t("control", lang) if a == "control" else a, x["members"], x["incremental_responders"],
                 x["incremental_revenue"]] for a, x in r.truth.items()]  # fmt: skip
        cols = [t(h, lang) for h in (N_("arm"), N_("members"), N_("incr. responders"), N_("incr. revenue"))]
        console.print(table(t("true effect (expected)", lang), cols, rows))

    emit(result, json_output, render)
