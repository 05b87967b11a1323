"""Reading stored snapshots: segment counts, transitions between two dates, member lists, explanations.

Warehouse reads only (the snapshot is already computed); each function returns plain data for the CLI/web.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any

import duckdb
import pyarrow as pa

from winback.common.phones import display_phone, mask_phone
from winback.errors import InputError, NotFoundError
from winback.lifecycle.cycle import shrunk_cycle

BY_COLUMNS = {"store": "store_id", "tier": "tier", "channel": "register_channel", "guide": "guide_id"}


def snapshot_dates(con: duckdb.DuckDBPyConnection) -> list[dt.date]:
    return [r[0] for r in con.execute("SELECT as_of FROM snapshot_runs ORDER BY as_of").fetchall()]


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date:
    """The given snapshot date (which must exist), or the latest one."""
    dates = snapshot_dates(con)
    if not dates:
        raise NotFoundError("no snapshot has been built yet", hint="Run `winback refresh` first.")
    if as_of is None:
        return dates[-1]
    if as_of not in dates:
        shown = ", ".join(d.isoformat() for d in dates[-6:])
        raise NotFoundError(
            f"there is no snapshot at {as_of.isoformat()}",
            hint=f"Snapshots exist at: {shown}. Run `winback refresh --as-of {as_of.isoformat()}` to build one.",
        )
    return as_of


def run_rules(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[str, Any]:
    """The schemes (rules with labels) the refresh at `as_of` used."""
    row = con.execute("SELECT rules FROM snapshot_runs WHERE as_of = ?", [as_of]).fetchone()
    return json.loads(row[0]) if row else {}


def _check_scheme(rules: dict[str, Any], scheme: str, as_of: dt.date) -> dict[str, Any]:
    if scheme not in rules:
        raise InputError(
            f"unknown scheme {scheme!r} in the snapshot at {as_of.isoformat()}",
            hint=f"Schemes: {', '.join(rules)}. Add your own with `winback refresh --rules FILE`.",
        )
    return rules[scheme]  # type: ignore[no-any-return]


def _label(scheme: dict[str, Any], segment: str | None, lang: str) -> str:
    for r in scheme.get("rules", []):
        if r["segment"] == segment:
            return str(r["en"] if lang == "en" else r["zh"])
    return segment or "—"


def segment_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    scheme: str = "seed_cn",
    as_of: dt.date | None = None,
    by: str | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """Members per segment (in rule order) with share, mean recency and monetary; optionally per store/tier/…"""
    as_of = resolve_as_of(con, as_of)
    rules = run_rules(con, as_of)
    sch = _check_scheme(rules, scheme, as_of)
    if by is not None and by not in BY_COLUMNS:
        raise InputError(f"cannot group by {by!r}", hint=f"Use --by one of: {', '.join(BY_COLUMNS)}.")
    group = f"s.{BY_COLUMNS[by]}" if by else "NULL"
    rows = con.execute(
        f"""
        SELECT {group} AS grp, g.segment, COUNT(*) AS members,
               AVG(s.recency_days) AS avg_recency_days, SUM(s.monetary) AS monetary, AVG(s.p_alive) AS avg_p_alive
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = ?
        GROUP BY ALL
        """,
        [as_of, scheme],
    ).fetchall()
    order = {r["segment"]: i for i, r in enumerate(sch["rules"])}
    total = sum(r[2] for r in rows) or 1
    out_rows = []
    for grp, segment, members, rec, mon, pa_ in sorted(rows, key=lambda r: (str(r[0]), order.get(r[1], 99))):
        item: dict[str, Any] = {
            "segment": segment,
            "label": _label(sch, segment, lang),
            "members": int(members),
            "share": members / total,
            "avg_recency_days": None if rec is None else float(rec),
            "monetary": float(mon or 0),
            "avg_p_alive": None if pa_ is None else float(pa_),
        }
        if by:
            item = {by: grp, **item}
        out_rows.append(item)
    if not by:  # list empty segments too, in rule order
        present = {r["segment"] for r in out_rows}
        for r in sch["rules"]:
            if r["segment"] not in present:
                out_rows.append(
                    {
                        "segment": r["segment"],
                        "label": _label(sch, r["segment"], lang),
                        "members": 0,
                        "share": 0.0,
                        "avg_recency_days": None,
                        "monetary": 0.0,
                        "avg_p_alive": None,
                    }
                )
        out_rows.sort(key=lambda r: order.get(r["segment"], 99))
    return {"as_of": as_of.isoformat(), "scheme": scheme, "by": by, "members": total, "segments": out_rows}


def transitions(
    con: duckdb.DuckDBPyConnection, *, date_from: dt.date, date_to: dt.date, scheme: str = "seed_cn", lang: str = "zh"
) -> dict[str, Any]:
    """Who moved between segments from one snapshot to another.

    `moves` counts (from, to) pairs; `(none)` marks members absent from one snapshot (registered later, merged).
    `slid` = moved to a later rule, `woke_up` = moved to an earlier rule, both among members who had purchased at
    `date_from` (the order of the shipped recency schemes runs from active to lost).
    """
    d1, d2 = resolve_as_of(con, date_from), resolve_as_of(con, date_to)
    if d1 >= d2:
        raise InputError(f"--from {d1.isoformat()} must be before --to {d2.isoformat()}", hint="Swap the two dates.")
    r1, r2 = run_rules(con, d1), run_rules(con, d2)
    sch = _check_scheme(r2, scheme, d2)
    _check_scheme(r1, scheme, d1)
    rows = con.execute(
        """
        WITH a AS (SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = ?),
             b AS (SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = ?)
        SELECT a.segment AS from_segment, b.segment AS to_segment, COUNT(*) AS members
        FROM a FULL OUTER JOIN b ON a.member_id = b.member_id
        GROUP BY ALL
        """,
        [d1, scheme, d2, scheme],
    ).fetchall()
    order = {r["segment"]: i for i, r in enumerate(sch["rules"])}
    first = sch["rules"][0]["segment"]
    never = first if first in {"never_purchased", "potential"} else None
    moves, slid, woke, stayed = [], 0, 0, 0
    for f, t, n in sorted(rows, key=lambda r: (order.get(r[0], -1), order.get(r[1], -1))):
        moves.append(
            {
                "from": f or "(none)",
                "to": t or "(none)",
                "from_label": _label(sch, f, lang) if f else "(none)",
                "to_label": _label(sch, t, lang) if t else "(none)",
                "members": int(n),
            }
        )
        if f is None or t is None or f == never:
            continue
        if f == t:
            stayed += int(n)
        elif order.get(t, 0) > order.get(f, 0):
            slid += int(n)
        elif t != never:
            woke += int(n)
    return {
        "scheme": scheme,
        "from": d1.isoformat(),
        "to": d2.isoformat(),
        "stayed": stayed,
        "slid": slid,
        "woke_up": woke,
        "moves": moves,
    }


MEMBER_COLUMNS = (
    "member_id",
    "name",
    "phone",
    "store_id",
    "guide_id",
    "tier",
    "segment",
    "recency_days",
    "orders",
    "monetary",
    "cycle_days",
    "overdue_ratio",
    "p_alive",
    "clv",
    "rfm_code",
    "value_layer",
    "lifecycle_stage",
    "last_purchase",
)


def list_members(
    con: duckdb.DuckDBPyConnection,
    *,
    scheme: str = "seed_cn",
    segments: list[str] | None = None,
    stores: list[str] | None = None,
    as_of: dt.date | None = None,
    limit: int | None = None,
    show_phones: bool = False,
) -> tuple[dt.date, pa.Table]:
    """Members of the given segments (of `scheme`) and stores, most valuable first; phones masked unless
    `show_phones` (then as people dial them: 13812345678)."""
    as_of = resolve_as_of(con, as_of)
    sch = _check_scheme(run_rules(con, as_of), scheme, as_of)
    known = [r["segment"] for r in sch["rules"]]
    unknown = [s for s in segments or [] if s not in known]
    if unknown:
        raise InputError(
            f"unknown segment(s) {', '.join(unknown)} in scheme {scheme!r}",
            hint=f"Segments of {scheme}: {', '.join(known)} (choose another scheme with --scheme).",
        )
    where, params = ["g.as_of = ?", "g.scheme = ?"], [as_of, scheme]
    if segments:
        where.append(f"g.segment IN ({', '.join('?' for _ in segments)})")
        params.extend(segments)
    if stores:
        where.append(f"s.store_id IN ({', '.join('?' for _ in stores)})")
        params.extend(stores)
    lim = f"LIMIT {int(limit)}" if limit else ""
    result = con.execute(
        f"""
        SELECT s.member_id, m.name, m.phone, s.store_id, s.guide_id, s.tier, g.segment, s.recency_days, s.orders,
               s.monetary, s.cycle_days, s.overdue_ratio, s.p_alive, s.clv, s.rfm_code, s.value_layer,
               s.lifecycle_stage, s.last_purchase
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        LEFT JOIN members m ON m.member_id = s.member_id
        WHERE {" AND ".join(where)}
        ORDER BY s.monetary DESC, s.member_id
        {lim}
        """,
        params,
    )
    with warnings.catch_warnings():  # DuckDB notes the extra copy of a DB-API result; the list is small
        warnings.simplefilter("ignore", UserWarning)
        table = result.to_arrow_table()
    shown = display_phone if show_phones else mask_phone
    phones = pa.array([shown(p) if p else None for p in table["phone"].to_pylist()], type=pa.string())
    return as_of, table.set_column(table.schema.get_field_index("phone"), "phone", phones)


def explain_member(
    con: duckdb.DuckDBPyConnection, member_id: str, *, as_of: dt.date | None = None, lang: str = "zh"
) -> dict[str, Any]:
    """Every number behind a member's segments: snapshot values, the rule matched per scheme, cycle derivation,
    quintile breakpoints and model parameters, at one as-of date."""
    as_of = resolve_as_of(con, as_of)
    cur = con.execute("SELECT * FROM member_snapshot WHERE as_of = ? AND member_id = ?", [as_of, member_id])
    row = cur.fetchone()
    if row is None:
        merged = con.execute("SELECT merged_into FROM members WHERE member_id = ?", [member_id]).fetchone()
        if merged and merged[0]:
            raise NotFoundError(
                f"member {member_id} was merged into {merged[0]}", hint=f"Run `winback explain {merged[0]}`."
            )
        raise NotFoundError(
            f"member {member_id} is not in the snapshot at {as_of.isoformat()}",
            hint="Check the id (winback members lists them); members registered after the as-of date are not in it.",
        )
    snap = {d[0]: v for d, v in zip(cur.description, row, strict=True)}
    run = con.execute("SELECT rules, settings, engine FROM snapshot_runs WHERE as_of = ?", [as_of]).fetchone()
    rules = json.loads(run[0]) if run else {}
    settings = json.loads(run[1]) if run else {}
    segs = dict(
        con.execute(
            "SELECT scheme, segment FROM member_segments WHERE as_of = ? AND member_id = ?", [as_of, member_id]
        ).fetchall()
    )
    schemes = {}
    for name, sch in rules.items():
        seg = segs.get(name)
        rule = next((r for r in sch["rules"] if r["segment"] == seg), None)
        schemes[name] = {
            "segment": seg,
            "label": _label(sch, seg, lang),
            "rule": rule["when"] if rule else None,
            "rule_position": (sch["rules"].index(rule) + 1) if rule else None,
            "earlier_rules_not_matched": [r["when"] for r in sch["rules"][: sch["rules"].index(rule)]] if rule else [],
        }
    k = float(settings.get("cycle", {}).get("k", 2.0))
    cycle = None
    if snap["purchase_days"]:
        n = snap["purchase_days"] - 1
        value = shrunk_cycle(snap["purchase_days"], snap["span_days"], snap["cycle_prior_days"], k)
        cycle = {
            "formula": "(span_days + k * prior) / (n + k), n = purchase_days - 1",
            "span_days": snap["span_days"],
            "n_intervals": n,
            "k": k,
            "prior_days": snap["cycle_prior_days"],
            "prior_source": snap["cycle_prior_source"],
            "value": value,
            "overdue_ratio": f"{snap['recency_days']} / {value:.2f} = {snap['overdue_ratio']:.3f}" if value else None,
        }
    fits = {
        r[0]: {"params": json.loads(r[1]), "time_unit": r[2], "loglik": r[3], "converged": r[4], "n": r[5]}
        for r in con.execute(
            "SELECT model, params, time_unit, loglik, converged, n FROM model_fits WHERE as_of = ?", [as_of]
        ).fetchall()
    }
    return {
        "member_id": member_id,
        "as_of": as_of.isoformat(),
        "engine": run[2] if run else None,
        "snapshot": snap,
        "schemes": schemes,
        "cycle": cycle,
        "breakpoints": settings.get("breakpoints", {}),
        "models": fits,
    }
