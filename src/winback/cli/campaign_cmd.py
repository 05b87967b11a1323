"""`winback scenarios` and `winback campaign create|launch|list|show|close|report`.

A thin shell over `wb.campaigns` (campaigns.service.CampaignService): the service is imported when a command runs,
so `winback --help` loads none of the campaign machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, pct, say, table

if TYPE_CHECKING:
    from winback.campaigns.scenarios import Playbook
    from winback.campaigns.types import (
        Campaign,
        CampaignDetail,
        CampaignList,
        CampaignPreview,
        CampaignReport,
        LaunchResult,
    )

campaign_app = typer.Typer(help="Campaigns with control groups: create, launch, report.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")

JSON = typer.Option(False, "--json", help="Print one JSON object.")


@app.command("scenarios")
@handle_errors()
def scenarios_cmd(json_output: bool = JSON) -> None:
    """The scenario playbooks: target segments, exclusions, offer, channel, script and KPIs."""
    wb = current()
    lang = wb.settings.lang
    emit(wb.campaigns.playbook(), json_output, lambda pb: _render_playbook(pb, lang))


def _render_playbook(pb: Playbook, lang: str) -> None:
    zh = lang == "zh"
    rows = []
    for sc in pb.scenarios.values():
        t = sc.target
        target = "+".join(t.segments) + (f" | {t.orders_eq} order" if t.orders_eq else "")
        if t.recency_min is not None:
            target += f" ({t.recency_min}–{t.recency_max}d)"
        if sc.exclude_active:
            target += " −active"
        rows.append([sc.id, sc.name(lang), target, sc.offer.label(lang), sc.channel])
    console.print(table("scenarios", ["id", "name", "target", "offer", "channel"], rows))
    ph = [[p["id"], p["name_zh"] if zh else p["name_en"], p["scenario"], ", ".join(p["audiences"])] for p in pb.phases]
    console.print(table("big promotion phases", ["phase", "name", "scenario", "audiences"], ph))
    more = say(lang, "KPI、话术与说明：winback scenarios --json", "KPIs, scripts and notes: winback scenarios --json")
    console.print(more)


class _Previewed(Protocol):
    @property
    def campaign(self) -> Campaign: ...

    @property
    def preview(self) -> CampaignPreview | None: ...


def _render_preview(d: _Previewed, lang: str = "zh") -> None:
    c, p = d.campaign, d.preview
    assert p is not None
    console.print(f"[bold]{c.campaign_id}[/] {c.name} — {c.scenario} ({c.status}), snapshot {p.as_of}")
    console.print(
        f"matched {p.matched:,}, audience {p.audience['members']:,} "
        f"(channel consent unrecorded: {p.consent_unknown:,}; frequency cap {p.frequency_cap_days} days)"
    )
    console.print(
        table("excluded", ["reason", "members", "why"], [[e["reason"], e["members"], e["explain"]] for e in p.excluded])
    )
    e = p.expected
    console.print(
        table(
            "expected (rates: " + "; ".join(e["rate_sources"]) + ")",
            ["segment", "members", "rate", "baseline", "responders", "incr. revenue"],
            [
                [
                    r["segment"],
                    r["members"],
                    pct(r["response_rate"]),
                    pct(r["baseline_rate"]),
                    r["expected_responders"],
                    r["expected_incremental_revenue"],
                ]
                for r in e["by_segment"]
            ],
        )
    )
    _render_cost(e, lang)
    h = p.holdout_sizing
    console.print(
        table(
            f"holdout sizing (baseline {pct(h['baseline_rate'])}, power {h['power']:.0%})",
            ["holdout", "control", "min. detectable lift"],
            [[f"{a['holdout']:.0%}", a["control_members"], pct(a["mde_rate"])] for a in h["alternatives"]],
        )
    )
    console.print(
        table("by store", ["store", "members"], [[r["store_id"], r["members"]] for r in p.audience["by_store"][:15]])
    )


#: the preview's cost lines (zh, en)
COST_LABELS = {
    "title": ("各组预计成本（核销率 {rate}：{source}）", "expected cost by arm (redemption rate {rate}: {source})"),
    "columns": (
        ["组", "券", "会员", "预计购买", "预计核销", "每次核销优惠", "优惠合计", "成本"],
        ["arm", "offer", "members", "buyers", "redemptions", "discount/redemption", "discounts", "cost"],
    ),
    "line": (
        "成本 {cost}（触达 {contacts} + 预计券优惠 {discounts}，与活动报告同一算法），"
        "预计增量销售额 {inc}，增量 ROI {roi}",
        "cost {cost} (contacts {contacts} + expected coupon discounts {discounts}, counted as the report counts it), "
        "expected incremental revenue {inc}, incremental ROI {roi}",
    ),
    "source": ("种子默认值", "seed default"),
    "history": ("历史活动 ", "history "),
}


def _label(key: str, lang: str) -> Any:
    zh, en = COST_LABELS[key]
    return zh if lang == "zh" else en


def _source(text: str, lang: str) -> str:
    """'seed default' / 'history C0001,…' in the user's language."""
    if text == "seed default":
        return str(_label("source", lang))
    return text.replace("history ", str(_label("history", lang)), 1)


def _render_cost(e: dict[str, Any], lang: str) -> None:
    if e.get("by_arm"):
        keys = ("members", "expected_responders", "expected_redemptions", "discount_per_redemption")
        rows = [[a["arm"], a["offer"], *(a[k] for k in keys), a["expected_discounts"], a["cost"]] for a in e["by_arm"]]
        title = _label("title", lang).format(
            rate=pct(e["redemption_rate"]), source=_source(e["redemption_rate_source"], lang)
        )
        console.print(table(title, _label("columns", lang), rows))
    line = _label("line", lang).format(
        cost=fmt(e["cost"]),
        contacts=fmt(e.get("contact_cost", e["cost"])),
        discounts=fmt(e.get("expected_discounts", 0.0)),
        inc=fmt(e["expected_incremental_revenue"]),
        roi=fmt(e["expected_incremental_roi"]),
    )
    console.print(line, highlight=False)


@campaign_app.command("create")
@handle_errors()
def create_cmd(
    scenario: str = typer.Option(..., "--scenario", help="Scenario id (see `winback scenarios`)."),
    stores: list[str] = typer.Option(None, "--stores", help="Only these stores (repeat or comma-separate)."),
    name: str = typer.Option(None, "--name"),
    holdout: float = typer.Option(None, "--holdout", help="Control share, default 0.1."),
    variant: list[str] = typer.Option(None, "--variant", help="KEY[:KIND[:VALUE[:THRESHOLD]]], e.g. A:voucher:30:150."),
    window: str = typer.Option(None, "--window", help="Response window, e.g. 14d or 2w."),
    cost_per_contact: float = typer.Option(None, "--cost-per-contact"),
    margin: float = typer.Option(None, "--margin", help="Gross margin (0–1) for ROI."),
    channel: str = typer.Option(None, "--channel", help="Send through this channel instead of the scenario's."),
    target: str = typer.Option(None, "--target", help="uplift[:MODEL]: keep only the members a touch moves."),
    budget: str = typer.Option(None, "--budget", help="With --target: a share of the audience (30%) or money."),
    top: int = typer.Option(None, "--top", help="With --target: at most this many members."),
    json_output: bool = JSON,
) -> None:
    """Make a draft campaign and preview its audience, expectations and holdout sizing."""
    from winback.campaigns.request import split_stores
    from winback.campaigns.types import CampaignRequest

    request = CampaignRequest(
        scenario=scenario,
        stores=split_stores(stores),
        name=name,
        holdout=holdout,
        variants=variant or None,
        window=window,
        cost_per_contact=cost_per_contact,
        margin=margin,
        channel=channel,
        target=target,
        budget=budget,
        top=top,
    )
    wb = current()
    from winback.cli.uplift_cmd import render_targeting

    emit(wb.campaigns.create(request), json_output,
         lambda d: (_render_preview(d, wb.settings.lang), render_targeting(d.targeting, wb.settings.lang)))  # fmt: skip


def _arms(arms: dict[str, int]) -> str:
    return ", ".join(f"{a} {n:,}" for a, n in arms.items())


@campaign_app.command("launch")
@handle_errors()
def launch_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    """Freeze the audience, assign arms, issue coupons, create guide tasks and queue touches."""
    emit(current().campaigns.launch(campaign_id), json_output, _render_launch)


def _render_launch(r: LaunchResult) -> None:
    console.print(
        f"launched {r.campaign.campaign_id}: {r.members:,} members, arms {_arms(r.arms)}, coupons {r.coupons:,}, "
        f"tasks {r.tasks:,}, touches {r.touches:,}"
    )
    arms = list(r.arms)
    for b in r.balance:
        console.print(
            table(
                f"balance by {b['by']} (chi² p = {fmt(b['chi2_p_value'])})",
                [b["by"], *arms],
                [[row[b["by"]], *[row[a] for a in arms]] for row in b["rows"]],
            )
        )


@campaign_app.command("list")
@handle_errors()
def list_cmd(json_output: bool = JSON) -> None:
    emit(current().campaigns.list(), json_output, _render_list)


def _render_list(r: CampaignList) -> None:
    rows = [[c.campaign_id, c.name, c.scenario, c.status, c.members, c.launched_at] for c in r.campaigns]
    console.print(table("campaigns", ["id", "name", "scenario", "status", "members", "launched"], rows))


@campaign_app.command("show")
@handle_errors()
def show_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    wb = current()
    emit(wb.campaigns.show(campaign_id), json_output, lambda d: _render_show(d, wb.settings.lang))


def _render_show(d: CampaignDetail, lang: str = "zh") -> None:
    if d.preview:
        _render_preview(d, lang)
    console.print(
        f"arms {_arms(d.arms) or '—'}; coupons {d.coupons:,} ({d.redeemed:,} redeemed); "
        f"tasks {d.tasks:,}; touches {d.touches:,}"
    )


@campaign_app.command("close")
@handle_errors()
def close_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    """Close a campaign: its control group is released, open tasks skipped, queued touches suppressed, unredeemed
    coupons voided."""
    wb = current()
    result = wb.campaigns.close(campaign_id)
    lang = wb.settings.lang
    emit(
        result,
        json_output,
        lambda r: console.print(
            say(
                lang,
                f"已关闭 {r.campaign.campaign_id}，作废未核销券 {r.coupons_voided:,} 张",
                f"closed {r.campaign.campaign_id}; {r.coupons_voided:,} unredeemed coupons voided",
            )
        ),
    )


@campaign_app.command("report")
@handle_errors()
def report_cmd(
    campaign_id: str = typer.Argument(...),
    by: str = typer.Option(None, "--by", help="store, guide or segment."),
    json_output: bool = JSON,
) -> None:
    """Per arm: responders, revenue, incremental vs control with 95% CIs, cost and incremental ROI."""
    wb = current()
    emit(wb.campaigns.report(campaign_id, by=by), json_output, lambda r: _render_report(r, wb.settings.lang))


def _ci(v: list[float | None]) -> str:
    return "—" if v[0] is None else f"[{fmt(v[0])}, {fmt(v[1])}]"


def report_state_label(r: CampaignReport, lang: str) -> str:
    """The report's state in words: closed (with when), window complete, or window still open."""
    c = r.campaign
    if r.state == "closed":
        when = f"{c.closed_at:%Y-%m-%d %H:%M}" if c.closed_at else "—"
        return say(lang, f"活动已结束（{when} 关闭）", f"closed ({when})")
    if r.state == "complete":
        return say(lang, "响应窗口已结束", "window complete")
    return say(lang, "响应窗口仍在进行", "window still open")


def _render_report(r: CampaignReport, lang: str = "zh") -> None:
    c = r.campaign
    window = say(lang, f"窗口至 {r.window_end:%Y-%m-%d}", f"window to {r.window_end:%Y-%m-%d}")
    console.print(f"[bold]{c.campaign_id}[/] {c.name} — {window} ({report_state_label(r, lang)})", highlight=False)
    cols = ["members", "contacted", "invited", "visited", "responders", "response_rate", "revenue_per_member",
            "redeemed"]  # fmt: skip
    arm_rows = [[a, *(pct(x[k]) if k == "response_rate" else x.get(k) for k in cols)] for a, x in r.arms.items()]
    heads = ["arm", "members", "contacted", "invited", "visited", "responders", "rate", "revenue/member", "redeemed"]
    console.print(table("arms", heads, arm_rows))
    versus = [
        [
            a,
            x["incremental_responders"],
            _ci(x["incremental_responders_ci"]),
            x["incremental_revenue"],
            _ci(x["incremental_revenue_ci"]),
            x["revenue_p_holm"],
            x["cost"],
            x["incremental_roi"],
        ]
        for a, x in r.versus_control.items()
    ]
    cols = ["arm", "incr. responders", "95% CI", "incr. revenue", "95% CI", "p (Holm)", "cost", "incr. ROI"]
    console.print(table("vs control", cols, versus))
    _render_winner(r.winner)
    if r.by is not None:
        _render_breakdown(r.by)


def _render_winner(w: dict[str, Any]) -> None:
    if w.get("pairs"):
        pairs = [[f"{p['a']} − {p['b']}", p["diff"], _ci([p["ci_low"], p["ci_high"]]), p["p_holm"]] for p in w["pairs"]]
        console.print(table("variant vs variant (revenue per member)", ["pair", "diff", "95% CI", "p (Holm)"], pairs))
    console.print(f"winner: {w['winner'] or 'none'} — {w['reason']} (rule: {w['rule']})")


def _render_breakdown(by: dict[str, Any]) -> None:
    col = by["column"]
    rows = []
    for g in by["groups"]:
        t = g["all_treated_vs_control"]
        rows.append(
            [
                g[col],
                sum(a["members"] for a in g["arms"].values()),
                None if t is None else t["incremental_revenue"],
                "—" if t is None else _ci(t["incremental_revenue_ci"]),
            ]
        )
    console.print(table(f"by {col}", [col, "members", "incr. revenue", "95% CI"], rows))
