"""`member_snapshot` as a view: every snapshot date rebuilt from the member facts valid at it (pure SQL text).

Since migration 015 a refresh stores no per-member snapshot rows. It stores the facts that changed
(`member_facts`, facts_sql.py) and three small things per date: the cohort priors (`snapshot_priors`, one row per
tier × store), the purchase model's predictions per unique history (`snapshot_predictions`, one row per distinct
(x, t_x, T)) and, in its snapshot_runs settings, the breakpoints, the value model's parameters and the CLV flag.
The view has one branch per such date: the refresh's own snapshot SELECT (snapshot_sql.snapshot_sql) over the
facts valid at that date, so a past snapshot reads exactly as it was built. Snapshots built before 015 keep their
rows (`member_snapshot_stored`) and are one more branch. Readers keep the member_snapshot columns; a filter on
as_of selects the branch (DuckDB prunes the others).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from winback.lifecycle import facts_sql as f
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.modelling import expected_value_sql
from winback.lifecycle.rules import Scheme

VIEW = "member_snapshot"
STORED = "member_snapshot_stored"  # the rows of snapshots built before migration 015
PREDICTIONS = "snapshot_predictions"  # per (x, t_x, T) and date: snapshots built between migrations 015 and 018
PREDICTIONS_XT = "snapshot_predictions_xt"  # per (x, T) and date, P(alive) in SQL (migration 018)
STORAGE_FACTS = "facts"  # snapshot_runs.settings["storage"] of a snapshot rebuilt from member_facts

# the member_snapshot columns in table order (migrations 002, 006, 011) with their types
COLUMN_TYPES: tuple[tuple[str, str], ...] = (
    ("as_of", "DATE"),
    ("member_id", "VARCHAR"),
    ("store_id", "VARCHAR"),
    ("guide_id", "VARCHAR"),
    ("tier", "VARCHAR"),
    ("register_date", "DATE"),
    ("register_channel", "VARCHAR"),
    ("first_purchase", "DATE"),
    ("last_purchase", "DATE"),
    ("orders", "INTEGER"),
    ("purchase_days", "INTEGER"),
    ("frequency", "INTEGER"),
    ("monetary", "DECIMAL(18, 2)"),
    ("aov", "DOUBLE"),
    ("tenure_days", "INTEGER"),
    ("recency_days", "INTEGER"),
    ("first_purchase_days", "INTEGER"),
    ("span_days", "INTEGER"),
    ("cycle_days", "DOUBLE"),
    ("cycle_prior_days", "DOUBLE"),
    ("cycle_prior_source", "VARCHAR"),
    ("cycle_weight", "DOUBLE"),
    ("overdue_ratio", "DOUBLE"),
    ("p_alive", "DOUBLE"),
    ("expected_purchases_90d", "DOUBLE"),
    ("expected_value", "DOUBLE"),
    ("clv", "DOUBLE"),
    ("r_score", "INTEGER"),
    ("f_score", "INTEGER"),
    ("m_score", "INTEGER"),
    ("rfm_code", "VARCHAR"),
    ("value_layer", "VARCHAR"),
    ("lifecycle_stage", "VARCHAR"),
    ("expected_revenue_90d", "DOUBLE"),
    ("clv_flag", "VARCHAR"),
)
COLUMNS = tuple(c for c, _ in COLUMN_TYPES)


def view_params(
    *,
    cycle: CycleSettings,
    breaks: dict[str, list[float]],
    with_predictions: bool,
    value_params: dict[str, float] | None,
    clv_flag: str | None,
    alive: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a date's branch needs besides its small tables, as stored in snapshot_runs.settings["snapshot"].
    `alive` (modelling.alive_params): the predictions are kept per (x, T) (PREDICTIONS_XT, migration 018) and
    P(alive) is computed in SQL; without it (snapshots built before 018) per (x, t_x, T) (PREDICTIONS)."""
    out = {
        "cycle": cycle.to_dict(),
        "breakpoints": breaks,
        "with_predictions": with_predictions,
        "value_params": value_params,
        "clv_flag": clv_flag,
    }
    if alive is not None:
        out["alive"] = alive
    return out


def snapshot_select(
    as_of: dt.date, params: dict[str, Any], stored_schemes: Sequence[Scheme], base: str, joined: bool = True
) -> str:
    """The snapshot SELECT at `as_of` over the per-member `base` (snapshot_sql.BASE's columns), with the stored
    priors and predictions of that date; the member_snapshot columns in table order. Not `joined`: P(alive)
    without the join to the predictions, the expectations NULL (counts_branch_sql)."""
    a = q.date_lit(as_of)
    value = params.get("value_params")
    select = q.snapshot_sql(
        as_of,
        stored_schemes,
        CycleSettings(**params["cycle"]),
        breaks=params["breakpoints"],
        with_predictions=bool(params["with_predictions"]),
        expected_value_expr=expected_value_sql(value, "i.purchase_days", "i.value_per_day") if value else None,
        clv_flag=params.get("clv_flag"),
        base=base,
        prior=f"(SELECT tier_key, store_key, prior_days, prior_source FROM snapshot_priors WHERE as_of = {a})",
        pred=(
            f'(SELECT x, "T", if_90, if_365 FROM {PREDICTIONS_XT} WHERE as_of = {a})'
            if params.get("alive")
            else f'(SELECT x, t_x, "T", p_alive, exp_90, exp_365 FROM {PREDICTIONS} WHERE as_of = {a})'
        ),
        alive=params.get("alive"),
        joined=joined,
    )
    names = {s.name for s in stored_schemes}
    cols = []
    for name, typ in COLUMN_TYPES:
        expr = name
        if name == "value_layer":
            expr = "seg_value" if "value" in names else "NULL"
        elif name == "lifecycle_stage":
            expr = "seg_lifecycle" if "lifecycle" in names else "NULL"
        cols.append(f"CAST({expr} AS {typ}) AS {name}")
    return f"SELECT {', '.join(cols)} FROM ({select}) AS snap"


def branch_sql(as_of: dt.date, params: dict[str, Any], stored_schemes: Sequence[Scheme]) -> str:
    """One date of the view: the snapshot SELECT over the facts valid at `as_of`."""
    base = f"({f.derive_sql(f.facts_at_sql(as_of), as_of)})"
    return snapshot_select(as_of, params, stored_schemes, base)


# the member_snapshot columns read from the predictions per (x, T) (P(alive) is computed without them)
EXPECTATION_COLUMNS = frozenset({"expected_purchases_90d", "expected_revenue_90d", "clv"})
# the columns that are the same for every member who never bought (purchase_days 0: no paid order, so orders 0 and
# no purchase day) in the unjoined branch of snapshot_sql: NULL (recency, cycle, P(alive), scores, …) or constant
NON_BUYER_CONSTANT = frozenset(
    {
        "first_purchase", "last_purchase", "orders", "purchase_days", "frequency", "aov", "recency_days",
        "first_purchase_days", "span_days", "cycle_days", "cycle_weight", "overdue_ratio", "p_alive", "r_score",
        "f_score", "m_score", "rfm_code",
    }
)  # fmt: skip


def counts_branch_sql(
    as_of: dt.date,
    params: dict[str, Any],
    stored_schemes: Sequence[Scheme],
    schemes: Sequence[Scheme],
    members: int | None = None,
) -> tuple[str, str] | tuple[str, str, int]:
    """The date's branch as the refresh counts its segments with `schemes` (counts_sql, own), in two parts: the
    members who bought and the others. Each is branch_sql over its members' facts, but when no predicate reads an
    expectation, without the join of every member to the predictions per (x, T) (a sixth of the counting's CPU at
    10M members), P(alive) from the member's own (x, T). Only the columns `predicate_columns(schemes,
    stored=False)` of these SELECTs are right: the expectations are NULL. `members` (the date's member count, when
    the caller has it): when the predicates read only columns that are the same for every member who never bought
    (NON_BUYER_CONSTANT), the others are one of them counted members - buyers times (a third element), instead of
    a pass over their facts (43 % of them at 10M)."""
    read = set(predicate_columns(schemes, stored=False))
    joined = bool(EXPECTATION_COLUMNS & read) or not params.get("alive")
    parts = []
    for cond in ("COALESCE(t.purchase_days >= 1, FALSE)", "NOT COALESCE(t.purchase_days >= 1, FALSE)"):
        facts = f"(SELECT * FROM {f.facts_at_sql(as_of)} t WHERE {cond})"
        parts.append(snapshot_select(as_of, params, stored_schemes, f"({f.derive_sql(facts, as_of)})", joined=joined))
    if members is not None and not joined and read <= NON_BUYER_CONSTANT:
        return parts[0], parts[1], int(members)
    return parts[0], parts[1]


def predicate_columns(schemes: Sequence[Scheme], stored: bool = True) -> list[str]:
    """The member_snapshot columns the schemes' predicates read (and, with `stored`, the stored segment columns of
    value / lifecycle), in table order: what the segment counts need of each member."""
    import sqlglot
    from sqlglot import exp

    from winback.lifecycle.segments_view import STORED_COLUMNS

    used = {STORED_COLUMNS[s.name] for s in schemes if stored and s.name in STORED_COLUMNS}
    for s in schemes:
        for r in s.rules:
            for tree in sqlglot.parse(r.when, read="duckdb"):
                used |= {c.name for c in tree.find_all(exp.Column)} if tree is not None else set()
    return [c for c in COLUMNS if c in used]


def _coded_segment_sql(scheme: Scheme, stored: bool) -> str:
    """The segment of `scheme` as its rule's position (a small integer: cheap to group; named afterwards), or, with
    `stored`, its stored column's name for value / lifecycle (segments_view.segment_sql)."""
    from winback.lifecycle.segments_view import STORED_COLUMNS, segment_sql

    if stored and scheme.name in STORED_COLUMNS:
        return segment_sql(scheme)
    whens = " ".join(f"WHEN ({r.when}) THEN {i}" for i, r in enumerate(scheme.rules))
    return f"CAST(CASE {whens} END AS SMALLINT)"


def _named_segment_sql(scheme: Scheme, column: str, stored: bool) -> str:
    from winback.lifecycle.segments_view import STORED_COLUMNS

    if stored and scheme.name in STORED_COLUMNS:
        return column
    names = " ".join(f"WHEN {i} THEN '{r.segment}'" for i, r in enumerate(scheme.rules))
    return f"CASE {column} {names} END"


def counts_sql(
    as_of: dt.date,
    schemes: Sequence[Scheme],
    snapshot: str | tuple[str, str] | tuple[str, str, int] | None = None,
    own: bool = False,
) -> str:
    """(scheme, segment, n) at `as_of` for `schemes`, the segments of the member_segments view (segments_view): ONE
    pass over the snapshot at as_of that keeps only the columns the predicates read (materialised, so that a column
    such as p_alive or r_score is computed once per member rather than once per predicate that tests it), every
    scheme's segment as a rule number, grouped by the combination of segments (a few thousand rows at most), then
    summed and named per scheme. `snapshot`: that date's branch_sql, so the whole view (a branch per date) need not
    be planned for one date; or (the members who bought, the others) (counts_branch_sql): the others, whose
    predicate columns take few distinct values (no purchase: no recency, cycle, P(alive) or score), are grouped by
    those values first and their segments evaluated once per distinct row (a segment is a function of the predicate
    columns alone), or, with the member count (a third element), are all one row. `own`: the snapshot at as_of was
    built from the member facts with these very schemes (the refresh counting its own date), so its value_layer /
    lifecycle_stage columns are these schemes' segments and are not read (segments_view.segment_sql's COALESCE gives
    the same)."""
    stored = not own
    cols = ", ".join(predicate_columns(schemes, stored)) or "1 AS one"
    rest, members = None, None
    if isinstance(snapshot, tuple):
        snapshot, rest, *count = snapshot
        members = count[0] if count else None
    source = f"({snapshot})" if snapshot else f"{VIEW} WHERE as_of = {q.date_lit(as_of)}"
    coded = ", ".join(f"{_coded_segment_sql(s, stored)} AS s{i}" for i, s in enumerate(schemes))
    grouped = f"SELECT {coded}, COUNT(*) AS n FROM wb_lc_inputs GROUP BY ALL"
    ctes = [f"wb_lc_inputs AS MATERIALIZED (SELECT {cols} FROM {source})"]
    if rest is not None and members is not None:  # one member who never bought stands for all of them
        ctes.append(
            f"wb_lc_rest AS MATERIALIZED (SELECT {cols}, {int(members)} - (SELECT COUNT(*) FROM wb_lc_inputs) AS n "
            f"FROM (SELECT * FROM ({rest}) LIMIT 1))"
        )
    elif rest is not None:
        ctes.append(f"wb_lc_rest AS MATERIALIZED (SELECT {cols}, COUNT(*) AS n FROM ({rest}) GROUP BY ALL)")
    if rest is not None:
        grouped += f" UNION ALL SELECT {coded}, SUM(n) AS n FROM wb_lc_rest GROUP BY ALL"
    per_scheme = [
        f"SELECT '{s.name}' AS scheme, {_named_segment_sql(s, f's{i}', stored)} AS segment, "
        f"CAST(SUM(n) AS BIGINT) AS n FROM wb_lc_groups GROUP BY s{i}"
        for i, s in enumerate(schemes)
    ]
    ctes.append(f"wb_lc_groups AS MATERIALIZED ({grouped})")
    return f"WITH {', '.join(ctes)} {' UNION ALL '.join(per_scheme)}"


def view_sql(branches: Sequence[tuple[dt.date, dict[str, Any], Sequence[Scheme]]]) -> str:
    """The view: the stored rows of snapshots built before 015, then one branch per facts-based date."""
    parts = [f"SELECT {', '.join(COLUMNS)} FROM {STORED}"]
    parts += [branch_sql(d, params, schemes) for d, params, schemes in branches]
    return "\nUNION ALL\n".join(parts)
