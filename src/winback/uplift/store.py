"""The SQL of the uplift room: training sets from finished campaigns, features of an audience, stored models.

A member's features are frozen at the moment that matters: for a campaign's training row, the lifecycle snapshot
the campaign was built on (its `as_of`), category affinity from order_items before that snapshot, and the
campaigns whose windows had ended before its launch; for a new audience, the latest snapshot and now. Consents
are the member's current record (the warehouse keeps no consent history). Outcomes count as the campaign report
counts them (campaigns/outcomes.py): paid orders and their revenue (paid + refunded amounts) in whole local days
[launch day, launch day + window_days).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.lifecycle.waking import value_at_stake_sql
from winback.uplift.types import NUMERIC_FEATURES, TEXT_FEATURES

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

#: `_frame` (key, member_id, as_of, moment) -> one row of features per frame row
_FEATURES_SQL = """
    WITH f AS (SELECT key, member_id, as_of, moment FROM _frame),
    cat AS (
        SELECT f.key, f.member_id, oi.category, sum(oi.amount)::DOUBLE AS amt
        FROM f JOIN orders o ON o.member_id = f.member_id AND o.status = 'paid'
                            AND o.ordered_at < CAST(f.as_of AS TIMESTAMP)
        JOIN order_items oi ON oi.order_id = o.order_id
        WHERE oi.category IS NOT NULL
        GROUP BY ALL
    ),
    aff AS (
        SELECT key, member_id, arg_max(category, amt) AS top_category,
               max(amt) / nullif(sum(amt), 0) AS top_category_share
        FROM cat GROUP BY key, member_id
    ),
    past_c AS (
        SELECT f.key, f.member_id, pm.arm, CAST(CAST(pc.launched_at AS DATE) AS TIMESTAMP) AS ws,
               CAST(CAST(pc.launched_at AS DATE) AS TIMESTAMP) + to_days(pc.window_days) AS we
        FROM f JOIN campaign_members pm ON pm.member_id = f.member_id
        JOIN campaigns pc ON pc.campaign_id = pm.campaign_id
        WHERE pc.launched_at IS NOT NULL
          AND CAST(CAST(pc.launched_at AS DATE) AS TIMESTAMP) + to_days(pc.window_days) <= f.moment
    ),
    past_r AS (
        SELECT p.key, p.member_id, p.arm, p.ws, count(o.order_id) > 0 AS bought
        FROM past_c p LEFT JOIN orders o ON o.member_id = p.member_id AND o.status = 'paid'
                                        AND o.ordered_at >= p.ws AND o.ordered_at < p.we
        GROUP BY ALL
    ),
    past AS (
        SELECT key, member_id, count(*) FILTER (WHERE arm <> 'control') AS past_touches,
               count(*) FILTER (WHERE arm <> 'control' AND bought) AS past_responses
        FROM past_r GROUP BY key, member_id
    )
    SELECT f.key, f.member_id,
           s.recency_days, s.cycle_days, s.overdue_ratio, s.frequency, s.orders, s.monetary::DOUBLE AS monetary,
           s.aov, s.p_alive, s.expected_purchases_90d, s.expected_revenue_90d, s.clv,
           {stake} AS value_at_stake, s.tenure_days, s.r_score, s.f_score, s.m_score,
           m.consent_sms::INTEGER AS consent_sms, m.consent_wechat::INTEGER AS consent_wechat,
           m.consent_email::INTEGER AS consent_email, m.consent_call::INTEGER AS consent_call,
           aff.top_category_share, coalesce(past.past_touches, 0) AS past_touches,
           coalesce(past.past_responses, 0) AS past_responses,
           coalesce(seg.segment, 'unknown') AS segment, s.tier, s.store_id, s.guide_id, s.register_channel,
           aff.top_category
    FROM f
    LEFT JOIN member_snapshot s ON s.member_id = f.member_id AND s.as_of = f.as_of
    LEFT JOIN member_segments seg ON seg.as_of = f.as_of AND seg.member_id = f.member_id AND seg.scheme = 'seed_cn'
    LEFT JOIN members m ON m.member_id = f.member_id
    LEFT JOIN aff ON aff.key = f.key AND aff.member_id = f.member_id
    LEFT JOIN past ON past.key = f.key AND past.member_id = f.member_id
    ORDER BY f.key, f.member_id
"""

_OUTCOMES_SQL = """
    SELECT cm.campaign_id AS key, cm.member_id, cm.arm,
           (count(o.order_id) FILTER (WHERE o.status = 'paid') > 0)::INTEGER AS responded,
           coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE AS revenue,
           coalesce(sum(o.amount) FILTER (WHERE o.status IN ('paid', 'refunded')), 0)::DOUBLE * c.margin AS margin
    FROM campaign_members cm JOIN campaigns c USING (campaign_id)
    LEFT JOIN orders o ON o.member_id = cm.member_id
         AND o.ordered_at >= CAST(CAST(c.launched_at AS DATE) AS TIMESTAMP)
         AND o.ordered_at < CAST(CAST(c.launched_at AS DATE) AS TIMESTAMP) + to_days(c.window_days)
    WHERE cm.campaign_id IN (SELECT key FROM _frame)
    GROUP BY cm.campaign_id, cm.member_id, cm.arm, c.margin
    ORDER BY cm.campaign_id, cm.member_id
"""


def campaign_windows(db: DuckDBEngine, campaign_ids: list[str]) -> list[dict[str, Any]]:
    """id, status, as_of, launched_at, window end, variants of each named campaign (missing ones left out)."""
    rows = db.fetchall(
        "SELECT campaign_id, status, as_of, launched_at, "
        " CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) AS window_end "
        "FROM campaigns WHERE campaign_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY campaign_id",
        [campaign_ids],
    )
    return [dict(zip(("campaign_id", "status", "as_of", "launched_at", "window_end"), r, strict=True)) for r in rows]


def finished_campaign_ids(db: DuckDBEngine, now: dt.datetime) -> list[str]:
    """Every launched campaign whose response window has ended by `now` (the brand's own experiments)."""
    return [r[0] for r in db.fetchall(
        "SELECT campaign_id FROM campaigns WHERE launched_at IS NOT NULL "
        "AND CAST(CAST(launched_at AS DATE) AS TIMESTAMP) + to_days(window_days) <= ? ORDER BY campaign_id", [now],
    )]  # fmt: skip


def _features(db: DuckDBEngine, frame: pa.Table) -> pa.Table:
    with db.registered("_frame", frame):
        return db.query(_FEATURES_SQL.format(stake=value_at_stake_sql("s.")))


def training_rows(db: DuckDBEngine, campaign_ids: list[str]) -> tuple[pa.Table, pa.Table]:
    """(features, outcomes) of every member of the campaigns, both ordered by (campaign, member)."""
    frame_sql = (
        "SELECT cm.campaign_id AS key, cm.member_id, c.as_of, c.launched_at AS moment FROM campaign_members cm "
        "JOIN campaigns c USING (campaign_id) WHERE cm.campaign_id IN (SELECT unnest(?::VARCHAR[]))"
    )
    frame = db.query(frame_sql, [campaign_ids])
    feats = _features(db, frame)
    with db.registered("_frame", frame):
        outcomes = db.query(_OUTCOMES_SQL)
    return feats, outcomes


def audience_features(db: DuckDBEngine, member_ids: list[str], as_of: dt.date, now: dt.datetime) -> pa.Table:
    """Features of the members at the snapshot `as_of` and the moment `now`, ordered by member id."""
    n = len(member_ids)
    frame = pa.table({"key": [""] * n, "member_id": member_ids, "as_of": pa.array([as_of] * n, pa.date32()),
                      "moment": pa.array([now] * n, pa.timestamp("us"))})  # fmt: skip
    return _features(db, frame)


# -- stored models --------------------------------------------------------------------------------------------

_MODEL_COLUMNS = ("model_id", "created_at", "learner", "outcome", "outcome_kind", "control", "arms", "features",
                  "source", "rows_train", "rows_valid", "validation", "fit_seconds")  # fmt: skip
_JSON = ("arms", "features", "source", "validation")


def next_model_id(db: DuckDBEngine) -> str:
    n = db.scalar("SELECT coalesce(max(CAST(substr(model_id, 2) AS INTEGER)), 0) FROM uplift_models")
    return f"U{int(n or 0) + 1:04d}"


def insert_model(db: DuckDBEngine, info: dict[str, Any], blob: bytes) -> None:
    with db.transaction():
        db.execute(
            f"INSERT INTO uplift_models ({', '.join(_MODEL_COLUMNS)}, model) "
            f"VALUES ({', '.join('?' for _ in _MODEL_COLUMNS)}, ?)",
            [json.dumps(info[c], default=str) if c in _JSON else info[c] for c in _MODEL_COLUMNS] + [blob],
        )


def _info(row: tuple[Any, ...]) -> dict[str, Any]:
    d = dict(zip(_MODEL_COLUMNS, row, strict=True))
    for c in _JSON:
        d[c] = json.loads(d[c])
    return d


def get_model(db: DuckDBEngine, model_id: str) -> tuple[dict[str, Any], bytes] | None:
    row = db.fetchone(f"SELECT {', '.join(_MODEL_COLUMNS)}, model FROM uplift_models WHERE model_id = ?", [model_id])
    return None if row is None else (_info(row[:-1]), bytes(row[-1]))


def latest_model_id(db: DuckDBEngine) -> str | None:
    v = db.scalar("SELECT model_id FROM uplift_models ORDER BY created_at DESC, model_id DESC LIMIT 1")
    return str(v) if v else None


def list_models(db: DuckDBEngine) -> list[dict[str, Any]]:
    return [_info(r) for r in db.fetchall(f"SELECT {', '.join(_MODEL_COLUMNS)} FROM uplift_models ORDER BY model_id")]


# -- targeted campaigns ---------------------------------------------------------------------------------------


def write_targeting(db: DuckDBEngine, summary: dict[str, Any], members: dict[str, list[Any]], now: dt.datetime) -> None:
    """The targeting of a draft (replacing an earlier one of the same campaign) and its members' decisions."""
    cid = summary["campaign_id"]
    with db.transaction():
        db.execute("DELETE FROM uplift_campaign_members WHERE campaign_id = ?", [cid])
        db.execute("DELETE FROM uplift_campaign_targets WHERE campaign_id = ?", [cid])
        db.execute(
            "INSERT INTO uplift_campaign_targets VALUES (?, ?, ?, ?, ?, ?, ?)",
            [cid, summary["model_id"], summary["method"], summary["budget"], summary["top"],
             json.dumps(summary, default=str), now],
        )  # fmt: skip
        if members["member_id"]:
            with db.registered("_decided", pa.table(members)):
                db.execute(
                    "INSERT INTO uplift_campaign_members SELECT ?, member_id, decision, predicted_uplift, "
                    "expected_increment FROM _decided",
                    [cid],
                )


def kept_members(db: DuckDBEngine, campaign_id: str) -> set[str] | None:
    """The members a targeted campaign keeps (target + explore), or None when it was not targeted."""
    if not db.scalar("SELECT count(*) FROM uplift_campaign_targets WHERE campaign_id = ?", [campaign_id]):
        return None
    rows = db.fetchall(
        "SELECT member_id FROM uplift_campaign_members WHERE campaign_id = ? AND decision IN ('target', 'explore')",
        [campaign_id],
    )
    return {r[0] for r in rows}


def feature_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    return NUMERIC_FEATURES, TEXT_FEATURES
