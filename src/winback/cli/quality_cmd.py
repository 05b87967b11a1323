"""`winback quality`: how many members are usable, and what is wrong with the rest."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, pct, say, table

if TYPE_CHECKING:
    from winback.quality.types import Counted, QualityReport


@app.command("quality")
@handle_errors()
def quality_cmd(
    by: str = typer.Option(None, "--by", help="Also split by store, source or tier."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Data quality: contactable members, bad or missing phones, incomplete profiles, duplicates, orphans."""
    wb = current()
    emit(wb.quality.report(by=by), json_output, lambda d: _render(d, wb.settings.lang))


def _cell(c: Counted | None) -> str:
    if not c or c.count is None:
        return "—"
    return f"{c.count:,} ({pct(c.share)})"


def _render(d: QualityReport, lang: str = "zh") -> None:
    from winback.quality.metrics import MEMBER_MEASURES, PROFILE_FIELDS

    t = d.total
    console.print(f"[bold]{t.members:,}[/] members in {d.db}")
    if d.contacts is not None and d.contacts.members:
        n = d.contacts.members
        console.print(
            say(
                lang,
                f"另有 {n:,} 个导购微信联系人：未匹配到 ERP 会员，不计入会员总数",
                f"plus {n:,} guide-WeChat contacts: they match no ERP member and are not counted as members",
            )
        )
    rows = [(k, _cell(t.measures[k])) for k in MEMBER_MEASURES]
    rows.append(("orders without a known member", _cell(t.orders.without_member if t.orders else None)))
    console.print(table("quality (count, share)", ["measure", "total"], rows))
    console.print(
        table(
            "missing profile fields", ["field", "members"], [(f, _cell(t.incomplete_fields[f])) for f in PROFILE_FIELDS]
        )
    )
    if t.measures["suspected_duplicate"].count is None:
        console.print("suspected duplicates: not measured yet — run `winback dedupe`.")
    if d.groups:
        cols = [
            d.by,
            "members",
            "contactable",
            "invalid phone",
            "missing phone",
            "incomplete",
            "duplicates",
            "never bought",
        ]
        keys = [
            "contactable",
            "invalid_phone",
            "missing_phone",
            "incomplete_profile",
            "suspected_duplicate",
            "never_purchased",
        ]
        body = [
            [g.key if g.key is not None else "(none)", g.block.members, *(_cell(g.block.measures[k]) for k in keys)]
            for g in d.groups
        ]
        console.print(table(f"by {d.by}", cols, body))
