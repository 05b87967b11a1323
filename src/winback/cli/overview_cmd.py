"""`winback overview`: the brand at a glance (valid members, dormancy layers, lifecycle stages, who to wake)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, pct, say, table
from winback.cli.when import parse_date

if TYPE_CHECKING:
    from winback.overview.service import Overview


def render_overview(overview: Overview | Mapping[str, Any], lang: str = "both") -> None:
    """Print the overview (the typed result, or its JSON form as the demo summary carries it); lang "both" labels
    everything in Chinese and English."""
    from winback.overview.service import WORTH_WAKING_P_ALIVE

    d = overview.to_dict() if hasattr(overview, "to_dict") else overview
    q = d["quality"]

    def share(m: dict[str, Any]) -> str:
        return pct(m.get("share")) if m.get("share") is not None else "—"

    dup = q.get("suspected_duplicate")
    rows = [
        (say(lang, "会员总数", "members"), fmt(q["members"]), ""),
        (say(lang, "有效电话（手机或座机）", "valid phone (mobile or landline)"), fmt(q["valid_phone"]["count"]),
         share(q["valid_phone"])),
        (say(lang, "可联系（有效手机+同意+未退订）", "contactable (mobile, consent, not opted out)"),
         fmt(q["contactable"]["count"]), share(q["contactable"])),
        (say(lang, "手机号无效", "invalid phone"), fmt(q["invalid_phone"]["count"]), share(q["invalid_phone"])),
        (say(lang, "缺少手机号", "missing phone"), fmt(q["missing_phone"]["count"]), share(q["missing_phone"])),
        (say(lang, "疑似重复", "suspected duplicates"), fmt(dup["count"]) if dup else "—", share(dup) if dup else ""),
    ]  # fmt: skip
    console.print(table(say(lang, "会员数据质量", "member data quality"), ["", "count", "share"], rows))
    for scheme, title in (
        ("seed_cn", say(lang, "沉睡分层（最近消费天数）", "dormancy layers (days since last purchase)")),
        ("lifecycle", say(lang, "生命周期阶段", "lifecycle stages")),
    ):
        segs = d["segments"].get(scheme) or []
        console.print(
            table(
                f"{title} — {d['as_of']}",
                ["segment", "中文", "English", "members", "share"],
                [(s["segment"], s["zh"], s["en"], s["members"], pct(s["share"])) for s in segs],
            )
        )
    ww = d["worth_waking"]["rows"]
    console.print(
        table(
            say(
                lang,
                f"值得唤醒：仍可能存活（P(alive) ≥ {WORTH_WAKING_P_ALIVE}）的沉睡会员",
                f"worth waking: dormant members still likely alive (P(alive) ≥ {WORTH_WAKING_P_ALIVE})",
            ),
            ["segment", "members", "likely alive", "reachable (mobile)", "expected 365-day revenue (RMB)"],
            [(r["segment"], r["members"], r["likely_alive"], r["reachable"], r["expected_revenue_365d"]) for r in ww],
        )
    )


@app.command("overview")
@handle_errors()
def overview_cmd(
    as_of: str = typer.Option(None, "--as-of", help="Snapshot date (default: the latest refresh)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """The brand at a glance: valid and contactable members, dormancy layers, lifecycle stages, who to wake."""
    wb = current()
    result = wb.overview.overview(parse_date(as_of, "--as-of") if as_of else None)
    emit(result, json_output, lambda ov: render_overview(ov, wb.settings.lang))
