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
    contacts = d.get("contacts") or {}
    if contacts.get("count"):
        console.print(
            say(
                lang,
                f"另有导购微信联系人 {contacts['count']:,} 个（有效手机 {contacts['reachable']:,}）："
                "未匹配到 ERP 会员，不计入以上会员数与占比",
                f"plus {contacts['count']:,} guide-WeChat contacts ({contacts['reachable']:,} with a valid mobile): "
                "they match no ERP member and are not in the member figures above",
            )
        )
    _render_worth_waking(d, lang)


def _render_worth_waking(d: Mapping[str, Any], lang: str) -> None:
    """Value at stake per dormancy layer, and the rule in words."""
    ww = d["worth_waking"]
    names = {s["segment"]: say(lang, s["zh"], s["en"]) for s in d["segments"].get("seed_cn") or []}

    # money in whole 万元 (zh) or thousand yuan (en, and the demo's bilingual summary): numbers that fit the column
    unit, per = ("万元", 1e4) if lang == "zh" else ("千元", 1e3)

    def wan(v: float) -> str:
        return f"{v / per:,.0f}"

    console.print(
        table(
            say(lang, "值得唤醒：沉睡会员中的风险价值", "worth waking: value at stake among dormant members"),
            [
                say(lang, "分层", "segment"),
                say(lang, "会员", "members"),
                say(lang, "值得唤醒", "worth waking"),
                say(lang, "可触达", "reachable"),
                say(lang, f"风险价值 {unit}/年", "at stake k¥/yr"),
                say(lang, "仍活跃(模型)", "likely alive"),
                say(lang, f"不做活动365天 {unit}", "365d k¥, no campaign"),
            ],
            [
                (
                    names.get(r["segment"], r["segment"]),
                    r["members"],
                    r["worth_waking"],
                    r["reachable"],
                    wan(r["value_at_stake"]),
                    r["likely_alive"],
                    wan(r["expected_revenue_365d"]),
                )
                for r in ww["rows"]
            ],
        )
    )
    rule = {"zh": ww.get("rule_zh"), "en": ww.get("rule_en")}
    console.print(say(lang, rule["zh"] or ww["rule"], rule["en"] or ww["rule"]), highlight=False)


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
