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

from winback.cli.app import app, current
from winback.cli.output import console, emit, err_console, fmt, handle_errors, pct, say, table
from winback.cli.when import parse_date

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


@add_summary_section
def _headline(d: dict[str, Any], lang: str) -> None:
    spec = d["spec"]
    console.print(
        say(
            lang,
            f"[bold]演示品牌 {d['brand']['zh']}[/]（{d['brand']['en']}）：{spec['start']} 至 {spec['end']}，"
            f"种子 {spec['seed']}",
            f"[bold]Demo brand {d['brand']['en']}[/] ({d['brand']['zh']}): {spec['start']} to {spec['end']}, "
            f"seed {spec['seed']}",
        ),
        highlight=False,
    )
    g = d["generated"]
    rows = [
        (say(lang, "会员", "members"), d["members"]),
        (say(lang, "订单（含非会员）", "orders (incl. walk-in)"), d["orders"]),
        (say(lang, "退货单", "refunds"), d["refunds"]),
        (say(lang, "净销售额（元）", "net revenue (RMB)"), d["revenue"]),
        (say(lang, "门店", "stores"), d["stores"]),
        (say(lang, "导购", "guides"), d["guides"]),
        (say(lang, "导购微信好友", "guide WeChat contacts"), d["wechat_contacts"]),
        (say(lang, "其中与ERP会员重复（埋点）", "of them ERP members (planted)"), d["planted_duplicates"]),
        (say(lang, "90天无消费会员占比", "members without a purchase in 90 days"), pct(g["share_no_purchase_90d"])),
        (say(lang, "从未消费会员占比", "members who never bought"), pct(g["share_never_purchased"])),
    ]
    console.print(table(None, [say(lang, "项目", "item"), say(lang, "数量", "count")], rows))


@add_summary_section
def _imports(d: dict[str, Any], lang: str) -> None:
    if not d.get("imports"):
        console.print(
            say(lang, f"文件已写入 {d['out_dir']}（未导入）", f"files written to {d['out_dir']} (not imported)")
        )
        return
    cols = [
        say(lang, "文件", "file"),
        say(lang, "读入", "rows in"),
        say(lang, "导入", "loaded"),
        say(lang, "拒绝", "rejected"),
        say(lang, "重复", "duplicate"),
        say(lang, "秒", "seconds"),
    ]
    rows = [
        (r["file"], r["rows_in"], r["rows_loaded"], r["rows_rejected"], r["rows_duplicate"], r["seconds"])
        for r in d["imports"]
    ]
    console.print(table(say(lang, "导入结果", "imports"), cols, rows))
    secs = d["seconds"]
    console.print(
        say(
            lang,
            f"生成 {fmt(secs['generate'])} 秒，导入 {fmt(secs['import'])} 秒；"
            f"数据仓库 {d['db']}，导出文件在 {d['out_dir']}",
            f"generated in {fmt(secs['generate'])} s, imported in {fmt(secs['import'])} s; warehouse {d['db']}, "
            f"exports in {d['out_dir']}",
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
        f"疑似重复 suspected duplicates: {fmt(dd['duplicates'])} ({fmt(dd['clusters'])} clusters, "
        f"threshold {dd['threshold']}; `winback dedupe --apply` merges them)",
        highlight=False,
    )
    render_overview(analysis["overview"], "both")
    secs = d["seconds"]
    console.print(
        f"dedupe {fmt(secs.get('dedupe'))} s, refresh {fmt(secs.get('refresh'))} s. "
        "Next: `winback scenarios`, `winback campaign create --scenario …` (see README).",
        highlight=False,
    )


_ANALYSIS_STEPS = {"dedupe": "looking for duplicate members", "refresh": "building the member snapshot"}


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
        task = bar.add_task("generating members", total=kwargs["members"])

        def on_progress(stage: str, done: int, total: int | None) -> None:
            if stage == "generate":
                bar.update(task, description="generating members", completed=done, total=total)
            elif stage in _ANALYSIS_STEPS:
                bar.update(task, description=_ANALYSIS_STEPS[stage], completed=0, total=None)
            else:
                _, name, step = ([*stage.split(":"), "", ""])[:3]
                bar.update(task, description=f"importing {name} ({step})", completed=done, total=total)

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
        state = (
            say(lang, "窗口已全部模拟", "the whole window simulated")
            if r.window_complete
            else say(lang, "之后再次运行可继续", "run again later to continue")
        )
        console.print(
            say(
                lang,
                f"{r.campaign_id}：{r.orders:,} 笔订单，核销 {r.redeemed:,} 张券，触达 {r.reached:,} 位会员"
                f"（种子 {r.seed}），模拟至 {r.simulated_until:%Y-%m-%d %H:%M}；{state}",
                f"{r.campaign_id}: {r.orders:,} orders, {r.redeemed:,} coupons redeemed, "
                f"{r.reached:,} members reached (seed {r.seed}), simulated up to {r.simulated_until:%Y-%m-%d %H:%M}; "
                f"{state}",
            ),
            highlight=False,
        )
        rows = [[a, t["members"], t["incremental_responders"], t["incremental_revenue"]] for a, t in r.truth.items()]
        cols = [
            say(lang, "组", "arm"),
            say(lang, "会员", "members"),
            say(lang, "增量购买人数", "incr. responders"),
            say(lang, "增量销售额", "incr. revenue"),
        ]
        console.print(table(say(lang, "真实效果（期望值）", "true effect (expected)"), cols, rows))

    emit(result, json_output, render)
