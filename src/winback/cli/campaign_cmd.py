"""`winback scenarios` and `winback campaign create|launch|list|show|close|report`."""

from __future__ import annotations

from typing import Any

import typer

from winback.campaigns.launch import launch_campaign
from winback.campaigns.report import campaign_report
from winback.campaigns.scenarios import Offer, load_playbook
from winback.campaigns.service import close_campaign, create_campaign, list_campaigns, show_campaign
from winback.cli.app import app, settings
from winback.cli.demo_cmd import demo_app
from winback.cli.output import console, emit, fmt, handle_errors, pct, table
from winback.demo.respond import parse_uplift, respond
from winback.warehouse import open_warehouse

campaign_app = typer.Typer(help="Campaigns with control groups: create, launch, report.", no_args_is_help=True)
app.add_typer(campaign_app, name="campaign")

JSON = typer.Option(False, "--json", help="Print one JSON object.")


@app.command("scenarios")
@handle_errors()
def scenarios_cmd(json_output: bool = JSON) -> None:
    """The scenario playbooks: target segments, exclusions, offer, channel, script and KPIs."""
    s = settings(json_output)
    pb = load_playbook()

    def render(d: dict[str, Any]) -> None:
        zh = s.lang == "zh"
        rows = []
        for x in d["scenarios"]:
            t = x["target"]
            target = "+".join(t["segments"]) + (f" | {t['orders_eq']} order" if t["orders_eq"] else "")
            if t["recency_min"] is not None:
                target += f" ({t['recency_min']}–{t['recency_max']}d)"
            if x["exclude_active"]:
                target += " −active"
            offer = Offer(**x["offer"]).label(s.lang)
            rows.append([x["id"], x["name_zh"] if zh else x["name_en"], target, offer, x["channel"]])
        console.print(table("scenarios", ["id", "name", "target", "offer", "channel"], rows))
        ph = [
            [p["id"], p["name_zh"] if zh else p["name_en"], p["scenario"], ", ".join(p["audiences"])]
            for p in d["big_promo_phases"]
        ]
        console.print(table("big promotion phases", ["phase", "name", "scenario", "audiences"], ph))
        console.print(
            "KPIs, scripts and notes: winback scenarios --json"
            if not zh
            else "KPI、话术与说明：winback scenarios --json"
        )

    emit(pb.to_dict(), json_output, render)


def _render_preview(d: dict[str, Any]) -> None:
    c, p = d["campaign"], d["preview"]
    console.print(f"[bold]{c['campaign_id']}[/] {c['name']} — {c['scenario']} ({c['status']}), snapshot {p['as_of']}")
    console.print(
        f"matched {p['matched']:,}, audience {p['audience']['members']:,} "
        f"(channel consent unrecorded: {p['consent_unknown']:,}; frequency cap {p['frequency_cap_days']} days)"
    )
    console.print(
        table(
            "excluded", ["reason", "members", "why"], [[e["reason"], e["members"], e["explain"]] for e in p["excluded"]]
        )
    )
    e = p["expected"]
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
    console.print(
        f"cost {fmt(e['cost'])}, expected incremental revenue {fmt(e['expected_incremental_revenue'])}, "
        f"incremental ROI {fmt(e['expected_incremental_roi'])}"
    )
    h = p["holdout_sizing"]
    console.print(
        table(
            f"holdout sizing (baseline {pct(h['baseline_rate'])}, power {h['power']:.0%})",
            ["holdout", "control", "min. detectable lift"],
            [[f"{a['holdout']:.0%}", a["control_members"], pct(a["mde_rate"])] for a in h["alternatives"]],
        )
    )
    console.print(
        table("by store", ["store", "members"], [[r["store_id"], r["members"]] for r in p["audience"]["by_store"][:15]])
    )


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
    json_output: bool = JSON,
) -> None:
    """Make a draft campaign and preview its audience, expectations and holdout sizing."""
    s = settings(json_output)
    store_list = [x.strip() for v in (stores or []) for x in v.split(",") if x.strip()] or None
    with open_warehouse(s.db_path) as con:
        data = create_campaign(
            con,
            load_playbook(),
            scenario,
            stores=store_list,
            name=name,
            holdout=holdout,
            variants=variant or None,
            window=window,
            cost_per_contact=cost_per_contact,
            margin=margin,
            lang=s.lang,
        )
    emit(data, json_output, _render_preview)


@campaign_app.command("launch")
@handle_errors()
def launch_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    """Freeze the audience, assign arms, issue coupons, create guide tasks and queue touches."""
    s = settings(json_output)
    with open_warehouse(s.db_path) as con:
        data = launch_campaign(con, load_playbook(), campaign_id, lang=s.lang)

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"launched {campaign_id}: {d['members']:,} members, arms {d['arms']}, coupons {d['coupons']:,}, "
            f"tasks {d['tasks']:,}, touches {d['touches']:,}"
        )
        for b in d["balance"]:
            arms = list(d["arms"])
            console.print(
                table(
                    f"balance by {b['by']} (chi² p = {fmt(b['chi2_p_value'])})",
                    [b["by"], *arms],
                    [[r[b["by"]], *[r[a] for a in arms]] for r in b["rows"]],
                )
            )

    emit(data, json_output, render)


@campaign_app.command("list")
@handle_errors()
def list_cmd(json_output: bool = JSON) -> None:
    s = settings(json_output)
    with open_warehouse(s.db_path, read_only=True) as con:
        data = list_campaigns(con)
    emit(
        data,
        json_output,
        lambda d: console.print(
            table(
                "campaigns",
                ["id", "name", "scenario", "status", "members", "launched"],
                [
                    [c["campaign_id"], c["name"], c["scenario"], c["status"], c["members"], c["launched_at"]]
                    for c in d["campaigns"]
                ],
            )
        ),
    )


@campaign_app.command("show")
@handle_errors()
def show_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    s = settings(json_output)
    with open_warehouse(s.db_path, read_only=True) as con:
        data = show_campaign(con, campaign_id)

    def render(d: dict[str, Any]) -> None:
        if d["preview"]:
            _render_preview(d)
        console.print(
            f"arms {d['arms']}; coupons {d['coupons']:,} ({d['redeemed']:,} redeemed); "
            f"tasks {d['tasks']:,}; touches {d['touches']:,}"
        )

    emit(data, json_output, render)


@campaign_app.command("close")
@handle_errors()
def close_cmd(campaign_id: str = typer.Argument(...), json_output: bool = JSON) -> None:
    """Close a campaign: its control group is released, open tasks skipped, queued touches suppressed."""
    s = settings(json_output)
    with open_warehouse(s.db_path) as con:
        data = close_campaign(con, campaign_id)
    emit(data, json_output, lambda d: console.print(f"closed {campaign_id}"))


@campaign_app.command("report")
@handle_errors()
def report_cmd(
    campaign_id: str = typer.Argument(...),
    by: str = typer.Option(None, "--by", help="store, guide or segment."),
    json_output: bool = JSON,
) -> None:
    """Per arm: responders, revenue, incremental vs control with 95% CIs, cost and incremental ROI."""
    s = settings(json_output)
    with open_warehouse(s.db_path, read_only=True) as con:
        data = campaign_report(con, campaign_id, by=by)
    emit(data, json_output, _render_report)


def _ci(v: list[float | None]) -> str:
    return "—" if v[0] is None else f"[{fmt(v[0])}, {fmt(v[1])}]"


def _render_report(d: dict[str, Any]) -> None:
    c = d["campaign"]
    done = "complete" if d["window_complete"] else "still open"
    console.print(f"[bold]{c['campaign_id']}[/] {c['name']} — window to {d['window_end']:%Y-%m-%d} ({done})")
    console.print(
        table(
            "arms",
            ["arm", "members", "contacted", "responders", "rate", "revenue/member", "redeemed"],
            [
                [
                    a,
                    x["members"],
                    x["contacted"],
                    x["responders"],
                    pct(x["response_rate"]),
                    x["revenue_per_member"],
                    x["redeemed"],
                ]
                for a, x in d["arms"].items()
            ],
        )
    )
    console.print(
        table(
            "vs control",
            ["arm", "incr. responders", "95% CI", "incr. revenue", "95% CI", "p (Holm)", "cost", "incr. ROI"],
            [
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
                for a, x in d["versus_control"].items()
            ],
        )
    )
    w = d["winner"]
    if w.get("pairs"):
        console.print(
            table(
                "variant vs variant (revenue per member)",
                ["pair", "diff", "95% CI", "p (Holm)"],
                [
                    [f"{p['a']} − {p['b']}", p["diff"], _ci([p["ci_low"], p["ci_high"]]), p["p_holm"]]
                    for p in w["pairs"]
                ],
            )
        )
    console.print(f"winner: {w['winner'] or 'none'} — {w['reason']} (rule: {w['rule']})")
    if "by" in d:
        rows = []
        for g in d["by"]["groups"]:
            t = g["all_treated_vs_control"]
            rows.append(
                [
                    g[d["by"]["column"]],
                    sum(a["members"] for a in g["arms"].values()),
                    None if t is None else t["incremental_revenue"],
                    "—" if t is None else _ci(t["incremental_revenue_ci"]),
                ]
            )
        console.print(table(f"by {d['by']['column']}", [d["by"]["column"], "members", "incr. revenue", "95% CI"], rows))


@demo_app.command("respond")
@handle_errors()
def demo_respond_cmd(
    campaign_id: str = typer.Argument(..., help="A launched campaign of the demo brand."),
    uplift: str = typer.Option(None, "--uplift", help="True uplift in purchase probability: 0.05 or silent=0.08,…"),
    seed: int = typer.Option(20261123, "--seed"),
    json_output: bool = JSON,
) -> None:
    """Simulate the members answering a launched campaign (orders, redemptions) with a known true uplift."""
    s = settings(json_output)
    with open_warehouse(s.db_path) as con:
        data = respond(con, campaign_id, uplift=parse_uplift(uplift), seed=seed)

    def render(d: dict[str, Any]) -> None:
        console.print(
            f"{campaign_id}: {d['orders']:,} orders, {d['redeemed']:,} coupons redeemed, "
            f"{d['reached']:,} members reached (seed {d['seed']})"
        )
        console.print(
            table(
                "true effect (expected)",
                ["arm", "members", "incr. responders", "incr. revenue"],
                [
                    [a, t["members"], t["incremental_responders"], t["incremental_revenue"]]
                    for a, t in d["truth"].items()
                ],
            )
        )

    emit(data, json_output, render)
