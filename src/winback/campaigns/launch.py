"""Launching a draft: freeze the audience, assign arms, issue coupons, create guide tasks, queue touches.

All in one transaction: a failed launch leaves the draft as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any

import duckdb
import pyarrow as pa
from scipy import stats as sps

from winback.campaigns.assign import CONTROL, ArmSpec, assign
from winback.campaigns.audience import select_audience
from winback.campaigns.coupons import display, new_codes
from winback.campaigns.scenarios import Playbook
from winback.campaigns.service import get_campaign, variant_offers
from winback.clock import brand_now
from winback.errors import InputError
from winback.outreach.ledger import create_tasks, queue_touches, touch_key
from winback.outreach.scripts import render
from winback.warehouse.registered import registered
from winback.warehouse.transaction import transaction


def balance_table(members: list[dict[str, Any]], arms: list[str], key: str) -> dict[str, Any]:
    """Members per arm by `key` (e.g. segment) and the chi-square test of independence of arm and key."""
    label = {m["member_id"]: "—" if m[key] is None else str(m[key]) for m in members}
    groups = sorted(set(label.values()))
    counts = Counter((label[m["member_id"]], m["arm"]) for m in members)
    rows = [{key: g, **{a: counts[(g, a)] for a in arms}} for g in groups]
    matrix = [[counts[(g, a)] for a in arms] for g in groups]
    p = None
    if (
        len(groups) > 1
        and len(arms) > 1
        and all(sum(r) for r in matrix)
        and all(sum(c) for c in zip(*matrix, strict=True))
    ):
        p = float(sps.chi2_contingency(matrix).pvalue)
    return {"by": key, "rows": rows, "chi2_p_value": p}


def _issue_coupons(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert coupons, drawing new codes for any that collide with codes already issued."""
    pending = rows
    while pending:
        for r, code in zip(pending, new_codes(len(pending)), strict=True):
            r["code"] = code
        with registered(con, "_new_coupons", pa.Table.from_pylist(pending)):
            clash = {
                c
                for (c,) in con.execute(
                    "SELECT n.code FROM _new_coupons n JOIN coupons c ON c.code = n.code"
                ).fetchall()
            }
            con.execute(
                "INSERT INTO coupons (code, campaign_id, member_id, variant_key, offer_kind, offer_value, "
                " offer_threshold, issued_at, expires_at) "
                "SELECT code, campaign_id, member_id, variant_key, offer_kind, offer_value, offer_threshold, "
                " issued_at, expires_at FROM _new_coupons n WHERE n.code NOT IN (SELECT code FROM coupons)"
            )
        pending = [r for r in pending if r["code"] in clash]


def launch_campaign(
    con: duckdb.DuckDBPyConnection,
    playbook: Playbook,
    campaign_id: str,
    *,
    lang: str = "zh",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    now = now or brand_now()
    c = get_campaign(con, campaign_id)
    if c["status"] != "draft":
        raise InputError(
            f"campaign {campaign_id} is {c['status']}, only a draft can be launched",
            hint="Its arms are frozen; see `winback campaign show` / `report`. Create a new campaign to run again.",
        )
    sc = playbook.get(c["scenario"])
    aud = select_audience(
        con,
        sc,
        stores=c["stores"],
        frequency_cap_days=int(playbook.defaults.get("frequency_cap_days", 7)),
        now=now,
        as_of=c["as_of"],
        campaign_id=campaign_id,
    )
    if not aud.members:
        raise InputError(
            f"campaign {campaign_id} has no members left to launch to",
            hint="Every matched member was excluded; see the preview (`winback campaign show`).",
        )
    offers = variant_offers(c)
    specs = [ArmSpec(CONTROL, c["holdout"])] + [
        ArmSpec(k, v["share"]) for k, v in zip(offers, c["variants"], strict=True)
    ]
    arms = assign(campaign_id, [(m["member_id"], f"{m['store_id']}|{m['segment']}") for m in aud.members], specs)
    members = [{**m, "arm": arms[m["member_id"]], "stratum": f"{m['store_id']}|{m['segment']}"} for m in aud.members]
    audience_ids = pa.table({k: [m[k] for m in members] for k in ("member_id", "guide_id", "store_id")})
    with registered(con, "_audience_ids", audience_ids):
        # names for the scripts: the member's, and the guide and store the snapshot assigns them to
        names = {
            r[0]: r[1:]
            for r in con.execute(
                "SELECT a.member_id, m.name, s.name, st.name FROM _audience_ids a "
                "LEFT JOIN members m ON m.member_id = a.member_id "
                "LEFT JOIN staff s ON s.guide_id = a.guide_id "
                "LEFT JOIN stores st ON st.store_id = a.store_id"
            ).fetchall()
        }
    expires = now + dt.timedelta(days=int(c["coupon_valid_days"]))
    coupons = [
        {
            "campaign_id": campaign_id,
            "member_id": m["member_id"],
            "variant_key": m["arm"],
            "offer_kind": offers[m["arm"]].kind,
            "offer_value": offers[m["arm"]].value,
            "offer_threshold": offers[m["arm"]].threshold,
            "issued_at": now,
            "expires_at": expires,
        }
        for m in members
        if m["arm"] != CONTROL and offers[m["arm"]].kind != "none"
    ]
    with transaction(con):
        cm = pa.Table.from_pylist(
            [
                {
                    "campaign_id": campaign_id,
                    "member_id": m["member_id"],
                    "arm": m["arm"],
                    "store_id": m["store_id"],
                    "guide_id": m["guide_id"],
                    "segment": m["segment"],
                    "stratum": m["stratum"],
                    "monetary": m["monetary"],
                }
                for m in members
            ]
        )
        with registered(con, "_cm", cm):
            con.execute("INSERT INTO campaign_members SELECT * FROM _cm")
        _issue_coupons(con, coupons)
        code_of = {r["member_id"]: r["code"] for r in coupons}
        template = sc.script_zh if lang == "zh" else sc.script_en
        treated = sorted(
            (m for m in members if m["arm"] != CONTROL),
            key=lambda m: (str(m["guide_id"]), -(m.get(sc.order_by) or 0), m["member_id"]),
        )
        tasks, touches, rank = [], [], Counter[str]()
        for m in treated:
            mid = m["member_id"]
            member_name, guide_name, store_name = names.get(mid, (None, None, None))
            rank[str(m["guide_id"])] += 1
            code = code_of.get(mid)
            script = render(
                template,
                name=member_name or "",
                guide=guide_name or "",
                store=store_name or "",
                offer=offers[m["arm"]].label(lang),
                code=display(code) if code else "",
                expires=f"{expires:%Y-%m-%d}",
            )
            tasks.append(
                {
                    "task_id": f"{campaign_id}:{mid}",
                    "campaign_id": campaign_id,
                    "member_id": mid,
                    "guide_id": m["guide_id"],
                    "store_id": m["store_id"],
                    "kind": "call" if sc.channel == "guide_task" else "follow_up",
                    "script": script,
                    "coupon_code": code,
                    "priority": rank[str(m["guide_id"])],
                }
            )
            touches.append(
                {
                    "idempotency_key": touch_key(campaign_id, mid, sc.channel),
                    "campaign_id": campaign_id,
                    "member_id": mid,
                    "channel": sc.channel,
                    "payload": json.dumps({"text": script, "code": code}, ensure_ascii=False),
                }
            )
        n_tasks = create_tasks(con, tasks, now, due_days=min(7, int(c["window_days"])))
        n_touches = queue_touches(con, touches, now)
        con.execute(
            "UPDATE campaigns SET status = 'running', launched_at = ? WHERE campaign_id = ?", [now, campaign_id]
        )
    arm_keys = [CONTROL, *offers]
    return {
        "campaign": get_campaign(con, campaign_id),
        "members": len(members),
        "arms": {a: sum(1 for m in members if m["arm"] == a) for a in arm_keys},
        "balance": [balance_table(members, arm_keys, "segment"), balance_table(members, arm_keys, "store_id")],
        "coupons": len(coupons),
        "tasks": n_tasks,
        "touches": n_touches,
        "excluded": aud.excluded,
    }
