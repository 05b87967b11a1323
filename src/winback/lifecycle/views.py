"""Reading stored snapshots: segment counts, transitions between two dates, member lists, explanations.

Warehouse reads only (the snapshot is already computed): each function takes the warehouse `db`, reads through
`store.py` and shapes the rows (pure helpers below) into the typed results of `results.py`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from winback.common.phones import display_phone, mask_phone
from winback.common.tiers import tier_order, tier_rank
from winback.errors import InputError, NotFoundError
from winback.i18n import _, get_lang
from winback.i18n import t as i18n_t
from winback.lifecycle import store, waking
from winback.lifecycle.asof import pick_snapshot
from winback.lifecycle.cycle import shrunk_cycle
from winback.lifecycle.names import resolve_scheme, resolve_segments
from winback.lifecycle.results import (
    CycleExplanation,
    Explanation,
    MemberList,
    Move,
    SchemeMatch,
    SegmentRow,
    SegmentSummary,
    Transitions,
)

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

BY_COLUMNS = {"store": "store_id", "tier": "tier", "channel": "register_channel", "guide": "guide_id"}


def resolve_as_of(
    db: DuckDBEngine, as_of: dt.date | None, *, today: dt.date | None = None, lang: str = "zh"
) -> dt.date:
    """The given snapshot date (which must exist), or the default: the newest refresh dated at or before tomorrow
    (`today` None: the newest refresh of any date; see lifecycle/asof.py)."""
    return pick_snapshot(store.snapshot_runs(db), as_of, today, lang)


def run_rules(db: DuckDBEngine, as_of: dt.date) -> dict[str, Any]:
    """The schemes (rules with labels) the refresh at `as_of` used."""
    return store.run_rules(db, as_of)


def _check_scheme(rules: dict[str, Any], scheme: str, as_of: dt.date) -> dict[str, Any]:
    if scheme not in rules:
        raise InputError(
            _("unknown scheme {scheme!r} in the snapshot at {as_of}", scheme=scheme, as_of=as_of.isoformat()),
            hint=_(
                "Schemes: {schemes}. Add your own with `winback refresh --rules FILE`.",
                schemes=", ".join(f"{k} ({v.get('en' if get_lang() == 'en' else 'zh', '')})" for k, v in rules.items()),
            ),
        )
    return rules[scheme]  # type: ignore[no-any-return]


def _label(scheme: dict[str, Any], segment: str | None, lang: str) -> str:
    for r in scheme.get("rules", []):
        if r["segment"] == segment:
            return str(r["en"] if lang == "en" else r["zh"])
    return segment or "—"


# -- segments ------------------------------------------------------------------------------------------------------
def segment_summary(
    db: DuckDBEngine,
    *,
    scheme: str = "seed_cn",
    as_of: dt.date | None = None,
    by: str | None = None,
    lang: str = "zh",
    today: dt.date | None = None,
) -> SegmentSummary:
    """Members per segment (in rule order) with share, mean recency and monetary; optionally per store/tier/…"""
    as_of = resolve_as_of(db, as_of, today=today, lang=lang)
    rules = run_rules(db, as_of)
    scheme = resolve_scheme(rules, scheme)
    sch = _check_scheme(rules, scheme, as_of)
    if by is not None and by not in BY_COLUMNS:
        raise InputError(
            _("cannot group by {by!r}", by=by),
            hint=_("Use --by one of: {by_columns}.", by_columns=", ".join(BY_COLUMNS)),
        )
    rows = store.segment_stats(db, as_of, scheme, BY_COLUMNS[by] if by else None)
    total, segments = summary_rows(sch, rows, by=by, lang=lang)
    return SegmentSummary(as_of, scheme, by, total, segments)


def summary_rows(
    sch: dict[str, Any], rows: Sequence[tuple[Any, ...]], *, by: str | None, lang: str
) -> tuple[int, list[SegmentRow]]:
    """The member total and one row per (group, segment) in rule order; without `by` every segment of the scheme is
    listed, empty ones included (pure)."""
    order = {r["segment"]: i for i, r in enumerate(sch["rules"])}
    total = sum(r[2] for r in rows) or 1
    out = [
        SegmentRow(
            segment=segment,
            label=_label(sch, segment, lang),
            members=int(members),
            share=members / total,
            avg_recency_days=None if rec is None else float(rec),
            monetary=float(mon or 0),
            avg_p_alive=None if p_alive is None else float(p_alive),
            by=by,
            group=grp,
        )
        for grp, segment, members, rec, mon, p_alive in sorted(rows, key=_group_key(rows, by, order))
    ]
    if not by:  # list empty segments too, in rule order
        present = {r.segment for r in out}
        for r in sch["rules"]:
            if r["segment"] not in present:
                out.append(SegmentRow(r["segment"], _label(sch, r["segment"], lang), 0, 0.0, None, 0.0, None))
        out.sort(key=lambda r: order.get(r.segment, 99))
    return total, out


def _group_key(rows: Sequence[tuple[Any, ...]], by: str | None, order: dict[str, int]) -> Any:
    """Sort key of (group, segment, …) rows: groups by name, tiers in the brand's rank order; segments in rule
    order within a group."""
    if by != "tier":
        return lambda r: (str(r[0]), order.get(r[1], 99))
    members: dict[Any, int] = {}
    spent: dict[Any, float] = {}
    for grp, _seg, n, _rec, mon, _p in rows:
        members[grp] = members.get(grp, 0) + int(n)
        spent[grp] = spent.get(grp, 0.0) + float(mon or 0)
    rank = tier_rank(tier_order(members, {g: spent[g] / members[g] for g in members if g and members[g]}))
    return lambda r: (rank(r[0]), order.get(r[1], 99))


# -- transitions ---------------------------------------------------------------------------------------------------
def transitions(
    db: DuckDBEngine, *, date_from: dt.date, date_to: dt.date, scheme: str = "seed_cn", lang: str = "zh"
) -> Transitions:
    """Who moved between segments from one snapshot to another.

    `moves` counts (from, to) pairs; `(none)` marks members absent from one snapshot (registered later, merged).
    `slid` = moved to a later rule, `woke_up` = moved to an earlier rule, both among members who had purchased at
    `date_from` (the order of the shipped recency schemes runs from active to lost).
    """
    d1, d2 = resolve_as_of(db, date_from), resolve_as_of(db, date_to)
    if d1 >= d2:
        raise InputError(
            _(
                "--from {date_from} must be before --to {date_to}",
                date_from=d1.isoformat(),
                date_to=d2.isoformat(),
            ),
            hint=_("Swap the two dates."),
        )
    r1, r2 = run_rules(db, d1), run_rules(db, d2)
    scheme = resolve_scheme(r2, scheme)
    sch = _check_scheme(r2, scheme, d2)
    _check_scheme(r1, scheme, d1)
    rows = store.transition_counts(db, d1, d2, scheme)
    return tally_moves(sch, rows, scheme=scheme, date_from=d1, date_to=d2, lang=lang)


def tally_moves(
    sch: dict[str, Any],
    rows: Sequence[tuple[str | None, str | None, int]],
    *,
    scheme: str,
    date_from: dt.date,
    date_to: dt.date,
    lang: str,
) -> Transitions:
    """The moves in rule order and who stayed, slid or woke up (pure)."""
    order = {r["segment"]: i for i, r in enumerate(sch["rules"])}
    first = sch["rules"][0]["segment"]
    never = first if first in {"never_purchased", "potential"} else None
    moves, slid, woke, stayed = [], 0, 0, 0
    for f, t, n in sorted(rows, key=lambda r: (order.get(r[0], -1), order.get(r[1], -1))):
        moves.append(
            Move(
                f or "(none)",
                t or "(none)",
                _label(sch, f, lang) if f else i18n_t("(none)", lang),
                _label(sch, t, lang) if t else i18n_t("(none)", lang),
                int(n),
            )
        )
        if f is None or t is None or f == never:
            continue
        if f == t:
            stayed += int(n)
        elif order.get(t, 0) > order.get(f, 0):
            slid += int(n)
        elif t != never:
            woke += int(n)
    return Transitions(scheme, date_from, date_to, stayed, slid, woke, moves)


# -- member lists --------------------------------------------------------------------------------------------------
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
    db: DuckDBEngine,
    *,
    scheme: str = "seed_cn",
    segments: list[str] | None = None,
    stores: list[str] | None = None,
    as_of: dt.date | None = None,
    limit: int | None = None,
    show_phones: bool = False,
    today: dt.date | None = None,
) -> MemberList:
    """Members of the given segments (of `scheme`) and stores, most valuable first; phones masked unless
    `show_phones` (then as people dial them: 13812345678)."""
    as_of, scheme, segments = _resolve_list(db, scheme, segments, as_of, today)
    table = store.member_list(db, as_of=as_of, scheme=scheme, segments=segments, stores=stores, limit=limit)
    return MemberList(as_of, scheme, shown_phones(table, show_phones), "full" if show_phones else "masked")


def _resolve_list(
    db: DuckDBEngine, scheme: str, segments: list[str] | None, as_of: dt.date | None, today: dt.date | None
) -> tuple[dt.date, str, list[str] | None]:
    as_of = resolve_as_of(db, as_of, today=today)
    rules = run_rules(db, as_of)
    scheme = resolve_scheme(rules, scheme)
    _check_scheme(rules, scheme, as_of)
    return as_of, scheme, resolve_segments(rules, scheme, segments) if segments else segments


def export_members(
    db: DuckDBEngine,
    path: Path,
    *,
    lang: str,
    scheme: str = "seed_cn",
    segments: list[str] | None = None,
    stores: list[str] | None = None,
    as_of: dt.date | None = None,
    limit: int | None = None,
    show_phones: bool = False,
    today: dt.date | None = None,
) -> MemberList:
    """`list_members` written to `path` (.csv or .parquet) by the database itself (COPY), with every rule of
    `export.export_table` as SQL: the same file, without the list passing through Python."""
    from winback.common.export import write_via
    from winback.lifecycle.export import copy_plan, export_format

    fmt = export_format(path, lang)
    as_of, scheme, segments = _resolve_list(db, scheme, segments, as_of, today)
    plan = copy_plan(store.member_list_schema(db), fmt, lang=lang, full_phones=show_phones)
    where = dict(as_of=as_of, scheme=scheme, segments=segments, stores=stores, limit=limit)
    sql, params = store.member_list_sql(**where, select=plan.select)  # type: ignore[arg-type]
    n = write_via(path, lambda out: store.copy_to(db, sql, params, out, plan.options), prefix=plan.prefix)
    empty = store.member_list_schema(db).empty_table()
    return MemberList(as_of, scheme, empty, "full" if show_phones else "masked", path, fmt, exported=n)


def list_contacts(
    db: DuckDBEngine,
    *,
    today: dt.date,
    stores: list[str] | None = None,
    limit: int | None = None,
    show_phones: bool = False,
) -> MemberList:
    """The guide-WeChat contacts (not members: in no snapshot), by store and guide, phones masked unless
    `show_phones`; the result's scheme is "contacts" and its as_of today."""
    table = store.contact_list(db, stores=stores, limit=limit)
    return MemberList(today, "contacts", shown_phones(table, show_phones), "full" if show_phones else "masked")


def shown_phones(table: pa.Table, full: bool) -> pa.Table:
    """`table` with its phone column masked (138****5678), or as people dial them when `full` (pure)."""
    shown = display_phone if full else mask_phone
    phones = pa.array([shown(p) if p else None for p in table["phone"].to_pylist()], type=pa.string())
    return table.set_column(table.schema.get_field_index("phone"), "phone", phones)


# -- explain -------------------------------------------------------------------------------------------------------
def explain_member(
    db: DuckDBEngine, member_id: str, *, as_of: dt.date | None = None, lang: str = "zh", today: dt.date | None = None
) -> Explanation:
    """Every number behind a member's segments: snapshot values, the rule matched per scheme, cycle derivation,
    quintile breakpoints and model parameters, at one as-of date."""
    as_of = resolve_as_of(db, as_of, today=today, lang=lang)
    snap = store.snapshot_row(db, as_of, member_id)
    if snap is None:
        merged = store.merged_into(db, member_id)
        if merged:
            raise NotFoundError(
                _("member {member_id} was merged into {merged}", member_id=member_id, merged=merged),
                hint=_("Run `winback explain {merged}`.", merged=merged),
            )
        raise NotFoundError(
            _(
                "member {member_id} is not in the snapshot at {as_of}",
                member_id=member_id,
                as_of=as_of.isoformat(),
            ),
            hint=_("Check the id (winback members lists them); members registered after the as-of date are not in it."),
        )
    rules, settings, engine = store.run_record(db, as_of)
    segs = store.member_segments(db, as_of, member_id)
    return Explanation(
        member_id=member_id,
        as_of=as_of,
        engine=engine,
        snapshot=snap,
        schemes={name: scheme_match(sch, segs.get(name), lang) for name, sch in rules.items()},
        cycle=explain_cycle(snap, float(settings.get("cycle", {}).get("k", 2.0))),
        breakpoints=settings.get("breakpoints", {}),
        models=store.model_fits(db, as_of),
        worth_waking=waking.explain(snap, segs.get("seed_cn"), lang),
    )


def scheme_match(sch: dict[str, Any], segment: str | None, lang: str) -> SchemeMatch:
    """The rule of `sch` that gave `segment`, its position, and the rules before it (pure)."""
    rule = next((r for r in sch["rules"] if r["segment"] == segment), None)
    if rule is None:
        return SchemeMatch(segment, _label(sch, segment, lang), None, None, [])
    position = sch["rules"].index(rule)
    return SchemeMatch(
        segment, _label(sch, segment, lang), rule["when"], position + 1, [r["when"] for r in sch["rules"][:position]]
    )


def explain_cycle(snap: dict[str, Any], k: float) -> CycleExplanation | None:
    """How the member's purchase cycle was derived from their history and the cohort prior (pure)."""
    if not snap["purchase_days"]:
        return None
    value = shrunk_cycle(snap["purchase_days"], snap["span_days"], snap["cycle_prior_days"], k)
    return CycleExplanation(
        formula="(span_days + k * prior) / (n + k), n = purchase_days - 1",
        span_days=snap["span_days"],
        n_intervals=snap["purchase_days"] - 1,
        k=k,
        prior_days=snap["cycle_prior_days"],
        prior_source=snap["cycle_prior_source"],
        value=value,
        overdue_ratio=f"{snap['recency_days']} / {value:.2f} = {snap['overdue_ratio']:.3f}" if value else None,
    )
