"""Campaign services: create (draft + preview), list, show, close. Launch is in launch.py, results in report.py."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import duckdb

from winback.campaigns.audience import EXCLUSION_REASONS, select_audience
from winback.campaigns.outcomes import past_response_rates
from winback.campaigns.preview import audience_breakdown, expected_outcome, holdout_sizing
from winback.campaigns.rows import dict_rows
from winback.campaigns.scenarios import OFFER_KINDS, Offer, Playbook
from winback.clock import brand_now
from winback.errors import InputError, NotFoundError
from winback.warehouse.transaction import transaction

_WINDOW = re.compile(r"^\s*(\d+)\s*([dw]?)\s*$", re.IGNORECASE)
_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")


@dataclass(frozen=True)
class Variant:
    key: str
    offer: Offer


def parse_window(text: str | int) -> int:
    """'14d', '2w', '14' → days."""
    m = _WINDOW.match(str(text))
    if not m or int(m.group(1)) <= 0:
        raise InputError(f"cannot read the window {text!r}", hint="Give days or weeks, e.g. --window 14d or 2w.")
    return int(m.group(1)) * (7 if m.group(2).lower() == "w" else 1)


def parse_variant(text: str, default: Offer) -> Variant:
    """KEY, KEY:KIND, KEY:KIND:VALUE or KEY:KIND:VALUE:THRESHOLD, e.g. A:voucher:30:150 or B:discount:15."""
    parts = [p.strip() for p in text.split(":")]
    key = parts[0]
    if not _KEY.match(key) or key == "control":
        raise InputError(
            f"variant key {key!r} in {text!r} is not allowed",
            hint="Use a short key of letters/digits (A, B, v30 …); 'control' is reserved for the holdout.",
        )
    if len(parts) == 1:
        return Variant(key, default)
    kind = parts[1]
    if kind not in OFFER_KINDS:
        raise InputError(f"offer kind {kind!r} in {text!r} is unknown", hint=f"Use one of {', '.join(OFFER_KINDS)}.")
    try:
        value = float(parts[2]) if len(parts) > 2 else default.value
        threshold = float(parts[3]) if len(parts) > 3 else default.threshold
    except ValueError:
        raise InputError(f"offer value/threshold in {text!r} must be numbers", hint="e.g. A:voucher:30:150") from None
    if len(parts) > 4 or value < 0 or threshold < 0:
        raise InputError(
            f"cannot read variant {text!r}", hint="Format KEY:KIND:VALUE:THRESHOLD, e.g. A:voucher:30:150."
        )
    return Variant(key, Offer(kind, value, threshold))


def _next_id(con: duckdb.DuckDBPyConnection) -> str:
    row = con.execute(
        "SELECT coalesce(max(TRY_CAST(substr(campaign_id, 2) AS INTEGER)), 0) FROM campaigns "
        "WHERE campaign_id LIKE 'C%'"
    ).fetchone()
    return f"C{(int(row[0]) if row else 0) + 1:04d}"


def response_rates(
    con: duckdb.DuckDBPyConnection, playbook: Playbook, now: dt.datetime
) -> tuple[dict[str, tuple[float, float, str]], tuple[float, float, str]]:
    """The brand's measured rates per segment where it has them, else the playbook's seed defaults."""
    rates = {seg: (t, b, "seed default") for seg, (t, b) in playbook.response_defaults.items()}
    for seg, r in past_response_rates(con, now).items():
        rates[seg] = (r["treated"], r["baseline"], "history " + ",".join(r["campaigns"]))
    return rates, (0.05, 0.025, "seed default")


def create_campaign(
    con: duckdb.DuckDBPyConnection,
    playbook: Playbook,
    scenario_id: str,
    *,
    stores: list[str] | None = None,
    name: str | None = None,
    holdout: float | None = None,
    variants: list[str] | None = None,
    window: str | int | None = None,
    cost_per_contact: float | None = None,
    margin: float | None = None,
    lang: str = "zh",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Make a draft campaign and preview its audience from the latest snapshot."""
    now = now or brand_now()
    sc = playbook.get(scenario_id)
    d = playbook.defaults
    holdout = float(d.get("holdout", 0.1) if holdout is None else holdout)
    if not 0.0 < holdout < 1.0:
        raise InputError(
            f"holdout must be between 0 and 1 (exclusive), got {holdout}",
            hint="Without a control group nothing can be proven; use e.g. --holdout 0.1.",
        )
    window_days = parse_window(window if window is not None else d.get("window_days", 14))
    cost = float(d.get("cost_per_contact", 1.0) if cost_per_contact is None else cost_per_contact)
    margin = float(d.get("margin", 0.6) if margin is None else margin)
    if cost < 0 or not 0 < margin <= 1:
        raise InputError(f"cost per contact must be >= 0 and margin in (0, 1]; got {cost} and {margin}")
    vs = [parse_variant(v, sc.offer) for v in (variants or ["A"])]
    if len({v.key for v in vs}) != len(vs):
        raise InputError(f"variant keys repeat: {[v.key for v in vs]}", hint="Give each variant its own key.")
    campaign_id = _next_id(con)
    cap = int(d.get("frequency_cap_days", 7))
    aud = select_audience(con, sc, stores=stores, frequency_cap_days=cap, now=now, campaign_id=campaign_id)
    if stores:
        known = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT store_id FROM member_snapshot WHERE as_of = ?", [aud.as_of]
            ).fetchall()
        }
        unknown = [s for s in stores if s not in known]
        if unknown:
            shown = ", ".join(sorted(str(k) for k in known if k)[:30])
            raise InputError(f"unknown store(s): {', '.join(unknown)}", hint=f"Stores in the snapshot: {shown}.")
    rates, fallback = response_rates(con, playbook, now)
    expected = expected_outcome(
        aud.members, holdout=holdout, cost_per_contact=cost, margin=margin, rates=rates, fallback=fallback
    )
    base = (
        sum(r["baseline_rate"] * r["members"] for r in expected["by_segment"]) / len(aud.members)
        if aud.members
        else 0.0
    )
    preview = {
        "as_of": aud.as_of.isoformat(),
        "matched": aud.matched,
        "excluded": [
            {"reason": k, "members": v, "explain": EXCLUSION_REASONS[k][0 if lang == "zh" else 1]}
            for k, v in aud.excluded.items()
        ],
        "frequency_cap_days": cap,
        "consent_unknown": aud.consent_unknown,
        "audience": audience_breakdown(aud.members),
        "expected": expected,
        "holdout_sizing": holdout_sizing(len(aud.members), base, holdout),
    }
    name = name or f"{sc.name(lang)} {now:%Y-%m-%d}"
    with transaction(con):
        con.execute(
            "INSERT INTO campaigns (campaign_id, name, scenario, status, as_of, stores, holdout, window_days, "
            " cost_per_contact, margin, channel, coupon_valid_days, preview, created_at) "
            "VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                campaign_id,
                name,
                sc.id,
                aud.as_of,
                json.dumps(stores) if stores else None,
                holdout,
                window_days,
                cost,
                margin,
                sc.channel,
                int(d.get("coupon_valid_days", 30)),
                json.dumps(preview, ensure_ascii=False),
                now,
            ],
        )
        for v in vs:
            con.execute(
                "INSERT INTO campaign_variants VALUES (?, ?, ?, ?, ?, ?)",
                [campaign_id, v.key, v.offer.kind, v.offer.value, v.offer.threshold, (1 - holdout) / len(vs)],
            )
    return {"campaign": get_campaign(con, campaign_id), "preview": preview}


def get_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> dict[str, Any]:
    found = dict_rows(con, "SELECT * EXCLUDE (preview) FROM campaigns WHERE campaign_id = ?", [campaign_id])
    if not found:
        ids = [r[0] for r in con.execute("SELECT campaign_id FROM campaigns ORDER BY 1 DESC LIMIT 10").fetchall()]
        raise NotFoundError(
            f"no campaign {campaign_id!r}",
            hint=f"Recent campaigns: {', '.join(ids)}." if ids else "Create one with `winback campaign create`.",
        )
    c = found[0]
    c["stores"] = json.loads(c["stores"]) if c["stores"] else None
    c["variants"] = dict_rows(
        con,
        "SELECT variant_key, offer_kind, offer_value, offer_threshold, share FROM campaign_variants "
        "WHERE campaign_id = ? ORDER BY variant_key",
        [campaign_id],
    )
    return c


def variant_offers(campaign: dict[str, Any]) -> dict[str, Offer]:
    return {
        v["variant_key"]: Offer(v["offer_kind"], v["offer_value"], v["offer_threshold"]) for v in campaign["variants"]
    }


def list_campaigns(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = dict_rows(
        con,
        "SELECT c.campaign_id, c.name, c.scenario, c.status, c.created_at, c.launched_at, c.closed_at, "
        " (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.campaign_id) AS members "
        "FROM campaigns c ORDER BY c.campaign_id",
    )
    return {"campaigns": rows}


def show_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str) -> dict[str, Any]:
    c = get_campaign(con, campaign_id)
    row = con.execute("SELECT preview FROM campaigns WHERE campaign_id = ?", [campaign_id]).fetchone()
    arms = con.execute(
        "SELECT arm, count(*) AS members FROM campaign_members WHERE campaign_id = ? GROUP BY arm ORDER BY arm",
        [campaign_id],
    ).fetchall()
    counts = con.execute(
        "SELECT (SELECT count(*) FROM coupons WHERE campaign_id = $1), "
        " (SELECT count(*) FROM coupons WHERE campaign_id = $1 AND redeemed_at IS NOT NULL), "
        " (SELECT count(*) FROM tasks WHERE campaign_id = $1), "
        " (SELECT count(*) FROM touches WHERE campaign_id = $1)",
        [campaign_id],
    ).fetchone()
    assert counts is not None
    return {
        "campaign": c,
        "preview": json.loads(row[0]) if row and row[0] else None,
        "arms": {a: n for a, n in arms},
        "coupons": counts[0],
        "redeemed": counts[1],
        "tasks": counts[2],
        "touches": counts[3],
    }


def close_campaign(con: duckdb.DuckDBPyConnection, campaign_id: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """Close a running campaign (or discard a draft): its control group is released, open tasks are skipped."""
    c = get_campaign(con, campaign_id)
    if c["status"] == "closed":
        raise InputError(f"campaign {campaign_id} is already closed (at {c['closed_at']})")
    now = now or brand_now()
    with transaction(con):
        con.execute("UPDATE campaigns SET status = 'closed', closed_at = ? WHERE campaign_id = ?", [now, campaign_id])
        con.execute("UPDATE tasks SET status = 'skipped' WHERE campaign_id = ? AND status = 'open'", [campaign_id])
        con.execute(
            "UPDATE touches SET status = 'suppressed' WHERE campaign_id = ? AND status = 'queued'", [campaign_id]
        )
    return {"campaign": get_campaign(con, campaign_id)}
