"""`winback scenarios` and `winback campaign create|launch|list|show|close|report`.

A thin shell over `wb.campaigns` (campaigns.service.CampaignService): the service is imported when a command runs,
so `winback --help` loads none of the campaign machinery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import typer
from rich.markup import escape

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, pct, table
from winback.i18n import N_, t

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


#: campaign states as the service names them, translated where shown
STATUS = {"draft": N_("draft"), "running": N_("running"), "closed": N_("closed")}


def _status(status: str, lang: str) -> str:
    return t(STATUS[status], lang) if status in STATUS else status


def _render_playbook(pb: Playbook, lang: str) -> None:
    zh = lang == "zh"
    rows = []
    for sc in pb.scenarios.values():
        tg = sc.target
        target = "+".join(tg.segments) + (t(" | {n} order(s)", lang, n=tg.orders_eq) if tg.orders_eq else "")
        if tg.recency_min is not None:
            target += t(" ({low}–{high} days)", lang, low=tg.recency_min, high=tg.recency_max)
        if sc.exclude_active:
            target += t(" −active", lang)
        rows.append([sc.id, sc.name(lang), target, sc.offer.label(lang), sc.channel])
    heads = [t("id", lang), t("name", lang), t("target", lang), t("offer", lang), t("channel", lang)]
    console.print(table(t("scenarios", lang), heads, rows))
    ph = [[p["id"], p["name_zh"] if zh else p["name_en"], p["scenario"], ", ".join(p["audiences"])] for p in pb.phases]
    heads = [t("phase", lang), t("name", lang), t("scenario", lang), t("audiences", lang)]
    console.print(table(t("big promotion phases", lang), heads, ph))
    console.print(t("KPIs, scripts and notes: winback scenarios --json", lang), highlight=False)


EXPECTED_HEADS = (N_("segment"), N_("members"), N_("rate"), N_("baseline"), N_("expected responders"),
                  N_("incr. revenue"))  # fmt: skip
LIST_HEADS = (N_("id"), N_("name"), N_("scenario"), N_("status"), N_("members"), N_("launched at"))


class _Previewed(Protocol):
    @property
    def campaign(self) -> Campaign: ...

    @property
    def preview(self) -> CampaignPreview | None: ...


def _render_preview(d: _Previewed, lang: str = "zh") -> None:
    c, p = d.campaign, d.preview
    assert p is not None
    head = t("{name} — {scenario} ({status}), snapshot {as_of}", lang, name=c.name, scenario=c.scenario,
             status=_status(c.status, lang), as_of=p.as_of)  # fmt: skip
    console.print(f"[bold]{c.campaign_id}[/] " + escape(head), highlight=False)
    console.print(
        t(
            "matched {matched:,}, audience {audience:,} (channel consent unrecorded: {unknown:,}; "
            "frequency cap {days} days)",
            lang,
            matched=p.matched,
            audience=p.audience["members"],
            unknown=p.consent_unknown,
            days=p.frequency_cap_days,
        ),
        highlight=False,
    )
    heads = [t("reason", lang), t("members", lang), t("why", lang)]
    console.print(table(t("excluded", lang), heads, [[e["reason"], e["members"], _why(e, lang)] for e in p.excluded]))
    e = p.expected
    console.print(
        table(
            t("expected (rates: {sources})", lang, sources="; ".join(_source(s, lang) for s in e["rate_sources"])),
            [t(h, lang) for h in EXPECTED_HEADS],
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
            t("holdout sizing (baseline {baseline}, power {power})", lang, baseline=pct(h["baseline_rate"]),
              power=f"{h['power']:.0%}"),
            [t("holdout", lang), t("control", lang), t("min. detectable lift", lang)],
            [[f"{a['holdout']:.0%}", a["control_members"], pct(a["mde_rate"])] for a in h["alternatives"]],
        )
    )  # fmt: skip
    rows = [[r["store_id"], r["members"]] for r in p.audience["by_store"][:15]]
    console.print(table(t("by store", lang), [t("store", lang), t("members", lang)], rows))


def _why(excluded: dict[str, Any], lang: str) -> str:
    """Why members were excluded, in the reader's language (the stored preview has it in the creator's)."""
    from winback.campaigns.audience import EXCLUSION_REASONS

    msgid = EXCLUSION_REASONS.get(excluded["reason"])
    return t(msgid, lang) if isinstance(msgid, str) else str(excluded["explain"])


#: the preview's cost table columns
COST_COLUMNS = (N_("arm"), N_("offer"), N_("members"), N_("buyers"), N_("redemptions"), N_("discount/redemption"),
                N_("discounts"), N_("cost"))  # fmt: skip


def _source(text: str, lang: str) -> str:
    """'seed default' / 'history C0001,…' (the service's words for where a rate comes from) in the user's language."""
    if text == "seed default":
        return t("seed default", lang)
    if text.startswith("history "):
        return t("history {campaigns}", lang, campaigns=text[len("history ") :])
    return text


def _render_cost(e: dict[str, Any], lang: str) -> None:
    if e.get("by_arm"):
        keys = ("members", "expected_responders", "expected_redemptions", "discount_per_redemption")
        rows = [[a["arm"], a["offer"], *(a[k] for k in keys), a["expected_discounts"], a["cost"]] for a in e["by_arm"]]
        title = t("expected cost by arm (redemption rate {rate}: {source})", lang,
                  rate=pct(e["redemption_rate"]), source=_source(e["redemption_rate_source"], lang))  # fmt: skip
        console.print(table(title, [t(c, lang) for c in COST_COLUMNS], rows))
    line = t(
        "cost {cost} (contacts {contacts} + expected coupon discounts {discounts}, counted as the report counts "
        "it), expected incremental revenue {inc}, incremental ROI {roi}",
        lang,
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
    name: str = typer.Option(None, "--name", help="A name for the campaign."),
    holdout: float = typer.Option(None, "--holdout", help="Control share, default 0.1."),
    variant: list[str] = typer.Option(None, "--variant", help="KEY[:KIND[:VALUE[:THRESHOLD]]], e.g. A:voucher:30:150."),
    window: str = typer.Option(None, "--window", help="Response window, e.g. 14d or 2w."),
    cost_per_contact: float = typer.Option(None, "--cost-per-contact", help="Cost of touching one member."),
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


def arm_name(arm: str, lang: str) -> str:
    """An arm as people read it: the control group in words, variants by their key (A, B …)."""
    return t("control", lang) if arm == "control" else arm


def _arms(arms: dict[str, int], lang: str) -> str:
    return ", ".join(f"{arm_name(a, lang)} {n:,}" for a, n in arms.items())


CAMPAIGN_ID = typer.Argument(..., help="The campaign id (e.g. C0001).")


@campaign_app.command("launch")
@handle_errors()
def launch_cmd(campaign_id: str = CAMPAIGN_ID, json_output: bool = JSON) -> None:
    """Freeze the audience, assign arms, issue coupons, create guide tasks and queue touches."""
    wb = current()
    emit(wb.campaigns.launch(campaign_id), json_output, lambda r: _render_launch(r, wb.settings.lang))


def _render_launch(r: LaunchResult, lang: str = "zh") -> None:
    console.print(
        t(
            "launched {campaign}: {members:,} members, arms {arms}, coupons {coupons:,}, tasks {tasks:,}, "
            "touches {touches:,}",
            lang,
            campaign=r.campaign.campaign_id,
            members=r.members,
            arms=_arms(r.arms, lang),
            coupons=r.coupons,
            tasks=r.tasks,
            touches=r.touches,
        ),
        highlight=False,
    )
    arms = list(r.arms)
    for b in r.balance:
        by = t(BALANCE_BY[b["by"]], lang) if b["by"] in BALANCE_BY else b["by"]
        console.print(
            table(
                t("balance by {by} (chi² p = {p})", lang, by=by, p=fmt(b["chi2_p_value"])),
                [by, *(arm_name(a, lang) for a in arms)],
                [[row[b["by"]], *[row[a] for a in arms]] for row in b["rows"]],
            )
        )


#: the columns a launch checks the arms' balance on
BALANCE_BY = {"segment": N_("segment"), "store_id": N_("store"), "tier": N_("tier")}


@campaign_app.command("list")
@handle_errors()
def list_cmd(json_output: bool = JSON) -> None:
    """Every campaign: id, name, scenario, status, members, when launched."""
    wb = current()
    emit(wb.campaigns.list(), json_output, lambda r: _render_list(r, wb.settings.lang))


def _render_list(r: CampaignList, lang: str = "zh") -> None:
    rows = [[c.campaign_id, c.name, c.scenario, _status(c.status, lang), c.members, c.launched_at]
            for c in r.campaigns]  # fmt: skip
    heads = [t(h, lang) for h in LIST_HEADS]
    console.print(table(t("campaigns", lang), heads, rows))


@campaign_app.command("show")
@handle_errors()
def show_cmd(campaign_id: str = CAMPAIGN_ID, json_output: bool = JSON) -> None:
    """A campaign's preview, arms, coupons, tasks and touches."""
    wb = current()
    emit(wb.campaigns.show(campaign_id), json_output, lambda d: _render_show(d, wb.settings.lang))


def _render_show(d: CampaignDetail, lang: str = "zh") -> None:
    if d.preview:
        _render_preview(d, lang)
    console.print(
        t(
            "arms {arms}; coupons {coupons:,} ({redeemed:,} redeemed); tasks {tasks:,}; touches {touches:,}",
            lang,
            arms=_arms(d.arms, lang) or "—",
            coupons=d.coupons,
            redeemed=d.redeemed,
            tasks=d.tasks,
            touches=d.touches,
        ),
        highlight=False,
    )


@campaign_app.command("close")
@handle_errors()
def close_cmd(campaign_id: str = CAMPAIGN_ID, json_output: bool = JSON) -> None:
    """Close a campaign: its control group is released, open tasks skipped, queued touches suppressed, unredeemed
    coupons voided."""
    wb = current()
    result = wb.campaigns.close(campaign_id)
    lang = wb.settings.lang
    emit(
        result,
        json_output,
        lambda r: console.print(
            t(
                "closed {campaign}; {voided:,} unredeemed coupons voided",
                lang,
                campaign=r.campaign.campaign_id,
                voided=r.coupons_voided,
            ),
            highlight=False,
        ),
    )


@campaign_app.command("report")
@handle_errors()
def report_cmd(
    campaign_id: str = CAMPAIGN_ID,
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
        return t("closed ({when})", lang, when=when)
    if r.state == "complete":
        return t("window complete", lang)
    return t("window still open", lang)


REPORT_HEADS = (N_("arm"), N_("members"), N_("contacted"), N_("invited"), N_("visited"), N_("responders"), N_("rate"),
                N_("revenue/member"), N_("redeemed"))  # fmt: skip
VERSUS_HEADS = (N_("arm"), N_("incr. responders"), N_("95% CI"), N_("incr. revenue"), N_("95% CI"), N_("p (Holm)"),
                N_("cost"), N_("incr. ROI"))  # fmt: skip


def _render_report(r: CampaignReport, lang: str = "zh") -> None:
    c = r.campaign
    window = t("window to {day}", lang, day=f"{r.window_end:%Y-%m-%d}")
    head = f"{c.name} — {window} ({report_state_label(r, lang)})"
    console.print(f"[bold]{c.campaign_id}[/] {escape(head)}", highlight=False)
    cols = ["members", "contacted", "invited", "visited", "responders", "response_rate", "revenue_per_member",
            "redeemed"]  # fmt: skip
    arm_rows = [[arm_name(a, lang), *(pct(x[k]) if k == "response_rate" else x.get(k) for k in cols)]
                for a, x in r.arms.items()]  # fmt: skip
    console.print(table(t("arms", lang), [t(h, lang) for h in REPORT_HEADS], arm_rows))
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
    console.print(table(t("vs control", lang), [t(h, lang) for h in VERSUS_HEADS], versus))
    _render_winner(r.winner, lang)
    if r.by is not None:
        _render_breakdown(r.by, lang)


def _render_winner(w: dict[str, Any], lang: str = "zh") -> None:
    if w.get("pairs"):
        pairs = [[f"{p['a']} − {p['b']}", p["diff"], _ci([p["ci_low"], p["ci_high"]]), p["p_holm"]] for p in w["pairs"]]
        heads = [t("pair", lang), t("diff", lang), t("95% CI", lang), t("p (Holm)", lang)]
        console.print(table(t("variant vs variant (revenue per member)", lang), heads, pairs))
    console.print(
        t("winner: {winner} — {reason} (rule: {rule})", lang, winner=w["winner"] or t("none", lang),
          reason=w["reason"], rule=w["rule"]),
        highlight=False,
    )  # fmt: skip


def _render_breakdown(by: dict[str, Any], lang: str = "zh") -> None:
    col = by["column"]
    rows = []
    for g in by["groups"]:
        tc = g["all_treated_vs_control"]
        rows.append(
            [
                g[col],
                sum(a["members"] for a in g["arms"].values()),
                None if tc is None else tc["incremental_revenue"],
                "—" if tc is None else _ci(tc["incremental_revenue_ci"]),
            ]
        )
    name = t(BREAKDOWN.get(col, col), lang)
    heads = [name, t("members", lang), t("incr. revenue", lang), t("95% CI", lang)]
    console.print(table(t("by {column}", lang, column=name), heads, rows))


#: the columns a report can be broken down by (--by), as the service names them
BREAKDOWN = {"store_id": N_("store"), "guide_id": N_("guide"), "segment": N_("segment")}
