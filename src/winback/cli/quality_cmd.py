"""`winback quality`: how many members are usable, and what is wrong with the rest."""

from __future__ import annotations

from typing import Any

import typer

from winback.cli.app import app, settings
from winback.cli.output import console, emit, handle_errors, pct, table
from winback.quality.metrics import MEMBER_MEASURES, PROFILE_FIELDS
from winback.quality.service import quality_report
from winback.warehouse import connect


@app.command("quality")
@handle_errors()
def quality_cmd(
    by: str = typer.Option(None, "--by", help="Also split by store, source or tier."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Data quality: contactable members, bad or missing phones, incomplete profiles, duplicates, orphans."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        report = quality_report(con, by=by)
    finally:
        con.close()
    report["db"] = str(s.db_path)
    emit(report, json_output, _render)


def _cell(c: dict[str, Any] | None) -> str:
    if not c or c["count"] is None:
        return "—"
    return f"{c['count']:,} ({pct(c['share'])})"


def _render(d: dict[str, Any]) -> None:
    t = d["total"]
    console.print(f"[bold]{t['members']:,}[/] members in {d['db']}")
    rows = [(k, _cell(t["measures"][k])) for k in MEMBER_MEASURES]
    rows.append(("orders without a known member", _cell(t["orders"]["without_member"])))
    console.print(table("quality (count, share)", ["measure", "total"], rows))
    console.print(
        table(
            "missing profile fields",
            ["field", "members"],
            [(f, _cell(t["incomplete_fields"][f])) for f in PROFILE_FIELDS],
        )
    )
    if t["measures"]["suspected_duplicate"]["count"] is None:
        console.print("suspected duplicates: not measured yet — run `winback dedupe`.")
    if d["groups"]:
        cols = [
            d["by"],
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
            [g["key"] if g["key"] is not None else "(none)", g["members"], *(_cell(g["measures"][k]) for k in keys)]
            for g in d["groups"]
        ]
        console.print(table(f"by {d['by']}", cols, body))
