"""`brand_overview`: the few numbers an HQ CRM operator asks first, from the stored snapshot and quality report.

- valid members: not merged away, and a phone that is a valid mobile or landline;
- contactable: the quality report's definition (valid mobile, SMS or call consent, not opted out);
- the dormancy layers (seed 000) and lifecycle stages (seed 004), zh and en;
- worth waking: members who stopped buying (silent … lost) but whose P(alive) is still ≥ 0.5 — the model thinks
  they have not left the brand — with the revenue the model expects from them in the next 365 days (CLV) if
  nothing is done; those are the members a campaign should reach first.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

from winback.lifecycle.views import resolve_as_of, run_rules
from winback.quality.service import headline, quality_report

DORMANT = ("silent", "near_dormant", "hibernating", "lost")
WORTH_WAKING_P_ALIVE = 0.5
SCHEMES = ("seed_cn", "lifecycle")


def _labels(rules: dict[str, Any], scheme: str) -> dict[str, tuple[str, str]]:
    """segment -> (zh, en), in rule order."""
    return {r["segment"]: (str(r["zh"]), str(r["en"])) for r in (rules.get(scheme) or {}).get("rules", [])}


def segment_table(con: duckdb.DuckDBPyConnection, as_of: dt.date, scheme: str) -> list[dict[str, Any]]:
    """Members per segment of a scheme, in rule order, with zh and en labels (empty segments included)."""
    rules = run_rules(con, as_of)
    labels = _labels(rules, scheme)
    counts = dict(
        con.execute(
            "SELECT segment, count(*) FROM member_segments WHERE as_of = ? AND scheme = ? GROUP BY segment",
            [as_of, scheme],
        ).fetchall()
    )
    total = sum(counts.values()) or 1
    segs = list(labels) + sorted(set(counts) - set(labels))  # rule order, then anything the rules no longer name
    return [
        {
            "segment": s,
            "zh": labels.get(s, (s, s))[0],
            "en": labels.get(s, (s, s))[1],
            "members": int(counts.get(s, 0)),
            "share": counts.get(s, 0) / total,
        }
        for s in segs
    ]


def worth_waking(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> list[dict[str, Any]]:
    """Per dormancy layer: members, how many are still likely alive and contactable, and their expected revenue."""
    rows = con.execute(
        f"""
        SELECT g.segment,
               count(*) AS members,
               count(*) FILTER (WHERE s.p_alive >= {WORTH_WAKING_P_ALIVE}) AS likely_alive,
               count(*) FILTER (WHERE s.p_alive >= {WORTH_WAKING_P_ALIVE} AND m.phone_status = 'mobile'
                                AND m.opted_out_at IS NULL) AS reachable,
               avg(s.p_alive) AS avg_p_alive,
               coalesce(sum(s.clv) FILTER (WHERE s.p_alive >= {WORTH_WAKING_P_ALIVE}), 0) AS expected_revenue_365d,
               coalesce(sum(s.monetary) FILTER (WHERE s.p_alive >= {WORTH_WAKING_P_ALIVE}), 0) AS past_monetary
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        JOIN members m ON m.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = 'seed_cn' AND g.segment IN ({", ".join("?" for _ in DORMANT)})
        GROUP BY g.segment
        """,
        [as_of, *DORMANT],
    ).fetchall()
    by_seg = {r[0]: r for r in rows}
    out = []
    for seg in DORMANT:
        r = by_seg.get(seg)
        out.append(
            {
                "segment": seg,
                "members": int(r[1]) if r else 0,
                "likely_alive": int(r[2]) if r else 0,
                "reachable": int(r[3]) if r else 0,
                "avg_p_alive": None if not r or r[4] is None else float(r[4]),
                "expected_revenue_365d": float(r[5]) if r else 0.0,
                "past_monetary": float(r[6]) if r else 0.0,
            }
        )
    return out


def brand_overview(con: duckdb.DuckDBPyConnection, as_of: dt.date | None = None) -> dict[str, Any]:
    """Everything `winback overview` and the demo summary show, as one dict (stable keys for --json)."""
    as_of = resolve_as_of(con, as_of)
    q = headline(quality_report(con))
    valid = con.execute(
        "SELECT count(*) FROM members WHERE merged_into IS NULL AND phone_status IN ('mobile', 'landline')"
    ).fetchone()
    live = con.execute("SELECT count(*) FROM members WHERE merged_into IS NULL").fetchone()
    q["members_not_merged"] = int(live[0]) if live else 0
    q["valid_phone"] = {"count": int(valid[0]) if valid else 0}
    q["valid_phone"]["share"] = q["valid_phone"]["count"] / q["members_not_merged"] if q["members_not_merged"] else 0.0
    return {
        "as_of": as_of.isoformat(),
        "quality": q,
        "segments": {scheme: segment_table(con, as_of, scheme) for scheme in SCHEMES},
        "worth_waking": {
            "rule": f"seed_cn segment in {list(DORMANT)} and p_alive >= {WORTH_WAKING_P_ALIVE}",
            "rows": worth_waking(con, as_of),
        },
    }
