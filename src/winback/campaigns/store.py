"""The campaigns' SQL: drafts, audiences, launches, listing and closing. Every function takes the warehouse first.

Writes happen inside `db.transaction()` exactly where a campaign changes state (create, launch, close), so a failed
step leaves the warehouse as it was.
Coupons and redemptions are in store_coupons.py, launches in store_launch.py, outcomes in store_report.py.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from winback.campaigns import store_coupons
from winback.campaigns.audience import Audience, audience_sql, split_audience
from winback.campaigns.scenarios import Scenario
from winback.campaigns.types import (
    CAMPAIGN_COLUMNS,
    Campaign,
    CampaignPreview,
    CampaignSummary,
    DraftSpec,
    VariantRow,
)
from winback.errors import EngineError, InputError, NotFoundError, outdated_schema
from winback.i18n import _
from winback.outreach import store as outreach_store

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def dicts(db: DuckDBEngine, sql: str, params: list[object] | None = None) -> list[dict[str, Any]]:
    """`db.dicts`, with a missing table or column (a warehouse older than this code) explained to the user."""
    try:
        return db.dicts(sql, params)
    except EngineError as exc:
        raise outdated_schema(exc, "this command needs") from exc


# -- audiences ----------------------------------------------------------------------------------------------


def latest_as_of(db: DuckDBEngine, today: dt.date | None = None) -> dt.date:
    """The snapshot a campaign is built on when none is named: the newest refresh at or before tomorrow (a snapshot
    built with --allow-future is never picked up by default)."""
    from winback.lifecycle.store import default_snapshot

    as_of = default_snapshot(db, today)
    if as_of is None:
        raise InputError(
            _("there is no member snapshot yet"),
            hint=_("Run `winback refresh` after importing members and orders (or `winback demo`), then try again."),
        )
    return as_of  # type: ignore[no-any-return]


def select_audience(
    db: DuckDBEngine,
    scenario: Scenario,
    *,
    stores: list[str] | None,
    frequency_cap_days: int,
    now: dt.datetime,
    as_of: dt.date | None = None,
    campaign_id: str = "",
) -> Audience:
    """The scenario's audience in the snapshot of `as_of` (default: the latest), exclusions counted."""
    as_of = as_of or latest_as_of(db, now.date())
    sql, params = audience_sql(
        scenario, as_of=as_of, stores=stores, frequency_cap_days=frequency_cap_days, now=now, campaign_id=campaign_id
    )
    return split_audience(dicts(db, sql, params), as_of)


def snapshot_stores(db: DuckDBEngine, as_of: dt.date) -> set[str | None]:
    return {r[0] for r in db.fetchall("SELECT DISTINCT store_id FROM member_snapshot WHERE as_of = ?", [as_of])}


# -- campaigns ----------------------------------------------------------------------------------------------


def next_campaign_id(db: DuckDBEngine) -> str:
    last = db.scalar(
        "SELECT coalesce(max(TRY_CAST(substr(campaign_id, 2) AS INTEGER)), 0) FROM campaigns "
        "WHERE campaign_id LIKE 'C%'"
    )
    return f"C{(int(last) if last is not None else 0) + 1:04d}"


def insert_draft(
    db: DuckDBEngine,
    *,
    campaign_id: str,
    name: str,
    spec: DraftSpec,
    as_of: dt.date,
    preview: CampaignPreview,
    now: dt.datetime,
) -> None:
    """The draft and its variants, in one transaction."""
    stores = spec.stores
    with db.transaction():
        db.execute(
            "INSERT INTO campaigns (campaign_id, name, scenario, status, as_of, stores, holdout, window_days, "
            " cost_per_contact, margin, channel, coupon_valid_days, preview, created_at) "
            "VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                campaign_id,
                name,
                spec.scenario.id,
                as_of,
                json.dumps(stores) if stores else None,
                spec.holdout,
                spec.window_days,
                spec.cost_per_contact,
                spec.margin,
                spec.scenario.channel,
                spec.coupon_valid_days,
                json.dumps(preview.to_dict(), ensure_ascii=False),
                now,
            ],
        )
        share = (1 - spec.holdout) / len(spec.variants)
        for v in spec.variants:
            db.execute(
                "INSERT INTO campaign_variants VALUES (?, ?, ?, ?, ?, ?)",
                [campaign_id, v.key, v.offer.kind, v.offer.value, v.offer.threshold, share],
            )


def get_campaign(db: DuckDBEngine, campaign_id: str) -> Campaign:
    """The campaign and its variants, or NotFoundError naming the recent ones."""
    cols = ", ".join(CAMPAIGN_COLUMNS)
    found = dicts(db, f"SELECT {cols} FROM campaigns WHERE campaign_id = ?", [campaign_id])
    if not found:
        ids = [r[0] for r in db.fetchall("SELECT campaign_id FROM campaigns ORDER BY 1 DESC LIMIT 10")]
        raise NotFoundError(
            _("no campaign {campaign_id!r}", campaign_id=campaign_id),
            hint=_("Recent campaigns: {ids}.", ids=", ".join(ids))
            if ids
            else _("Create one with `winback campaign create`."),
        )
    row = found[0]
    variants = dicts(
        db,
        "SELECT variant_key, offer_kind, offer_value, offer_threshold, share FROM campaign_variants "
        "WHERE campaign_id = ? ORDER BY variant_key",
        [campaign_id],
    )
    row["stores"] = json.loads(row["stores"]) if row["stores"] else None
    return Campaign(**row, variants=[VariantRow(**v) for v in variants])


def list_campaigns(db: DuckDBEngine) -> list[CampaignSummary]:
    rows = dicts(
        db,
        "SELECT c.campaign_id, c.name, c.scenario, c.status, c.created_at, c.launched_at, c.closed_at, "
        " (SELECT count(*) FROM campaign_members m WHERE m.campaign_id = c.campaign_id) AS members "
        "FROM campaigns c ORDER BY c.campaign_id",
    )
    return [CampaignSummary(**r) for r in rows]


def stored_preview(db: DuckDBEngine, campaign_id: str) -> CampaignPreview | None:
    text = db.scalar("SELECT preview FROM campaigns WHERE campaign_id = ?", [campaign_id])
    return CampaignPreview.from_dict(json.loads(text)) if text else None


def arm_sizes(db: DuckDBEngine, campaign_id: str) -> dict[str, int]:
    rows = db.fetchall(
        "SELECT arm, count(*) AS members FROM campaign_members WHERE campaign_id = ? GROUP BY arm ORDER BY arm",
        [campaign_id],
    )
    return {a: n for a, n in rows}


def activity_counts(db: DuckDBEngine, campaign_id: str) -> tuple[int, int, int, int]:
    """(coupons, redeemed coupons, tasks, touches) of the campaign."""
    counts = db.fetchone(
        "SELECT (SELECT count(*) FROM coupons WHERE campaign_id = $1), "
        " (SELECT count(*) FROM coupons WHERE campaign_id = $1 AND redeemed_at IS NOT NULL), "
        " (SELECT count(*) FROM tasks WHERE campaign_id = $1), "
        " (SELECT count(*) FROM touches WHERE campaign_id = $1)",
        [campaign_id],
    )
    assert counts is not None
    return counts[0], counts[1], counts[2], counts[3]


def close_campaign(db: DuckDBEngine, campaign_id: str, now: dt.datetime) -> int:
    """Closed in one transaction: open tasks skipped, queued touches skipped (reason campaign_closed), unredeemed
    coupons voided.
    Returns the number of coupons voided."""
    with db.transaction():
        db.execute("UPDATE campaigns SET status = 'closed', closed_at = ? WHERE campaign_id = ?", [now, campaign_id])
        voided = store_coupons.void_campaign_coupons(
            db, campaign_id, at=now, by="campaign close", reason=f"campaign {campaign_id} closed"
        )
        db.execute("UPDATE tasks SET status = 'skipped' WHERE campaign_id = ? AND status = 'open'", [campaign_id])
        outreach_store.skip_campaign_touches(db, campaign_id, now)
    return voided
