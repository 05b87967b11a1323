"""What the console's lifecycle pages read, summed once after a refresh (`build_pages`, called by
LifecycleService.prepare) and read back by store.segment_stats, transition_counts and member_list (migration 022):
segment statistics of every scheme overall and by store, tier, channel and guide; the transitions from the snapshot
before to this one; the head of every scheme's member list. A part is used while its snapshot (both snapshots, for
transitions) has not been written again since it was built; otherwise the reader computes it live, as before."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine

#: the member list's head kept per scheme (the console reads its pages in blocks of 1,000: web/console.BLOCK)
HEAD = 1000
#: the member_snapshot columns the segment statistics may be grouped by (views.BY_COLUMNS' values)
GROUP_COLUMNS = ("store_id", "tier", "register_channel", "guide_id")
HEAD_COLUMNS = ("member_id", "store_id", "guide_id", "tier", "segment", "recency_days", "orders", "monetary",
                "cycle_days", "overdue_ratio", "p_alive", "clv", "rfm_code", "value_layer", "lifecycle_stage",
                "last_purchase")  # fmt: skip
PARTS = ("segments", "transitions", "members")


def has_pages(db: DuckDBEngine) -> bool:
    """Whether the warehouse has migration 022's tables (one opened read-only before it does not)."""
    (n,), *_ = db.fetchall("SELECT count(*) FROM information_schema.tables WHERE table_name = 'page_built'")
    return bool(n)


def built(db: DuckDBEngine, part: str, *dates: dt.date) -> bool:
    """Whether `part` of the snapshot at the last of `dates` was built after every snapshot in `dates` was last
    written."""
    if not has_pages(db):
        return False
    rows = db.fetchall(
        "SELECT b.built_at >= (SELECT max(r.refreshed_at) FROM snapshot_runs r WHERE r.as_of IN "
        f"({', '.join('?' for _ in dates)})) FROM page_built b WHERE b.part = ? AND b.as_of = ?",
        [*dates, part, dates[-1]],
    )
    return bool(rows and rows[0][0])


def _branches(db: DuckDBEngine, as_of: dt.date, columns: str, source: str = "member_snapshot") -> str | None:
    """Every scheme's rows at `as_of` as the member_segments view has them, with the snapshot's `columns` beside the
    segment (segments_view.scheme_branch_sql): one pass over the snapshot per scheme, no join back to it. None when
    the date's stored rules no longer validate (the view has no segments for it either)."""
    from winback.lifecycle.segments_view import grouped_runs, scheme_branch_sql

    groups, _ = grouped_runs(db.fetchall("SELECT as_of, rules FROM snapshot_runs WHERE as_of = ?", [as_of]))
    branches = [scheme_branch_sql(sc, dates, columns, source) for dates, schemes in groups for sc in schemes]
    return " UNION ALL ".join(f"({b})" for b in branches) or None


def _segments_sql(branches: str) -> str:
    sets = ", ".join(f"(scheme, segment, {c})" for c in GROUP_COLUMNS)
    by = " ".join(f"WHEN grouping({c}) = 0 THEN '{c}'" for c in GROUP_COLUMNS)
    return f"""
        INSERT INTO page_segment_stats
        SELECT ?::DATE, scheme, CASE {by} ELSE '' END, coalesce({", ".join(GROUP_COLUMNS)}), segment, count(*),
               avg(recency_days), sum(monetary), avg(p_alive)
        FROM ({branches}) g
        GROUP BY GROUPING SETS ((scheme, segment), {sets})
        """


def _schemes(db: DuckDBEngine, as_of: dt.date) -> dict[str, str]:
    """scheme -> its segment expression over a member_snapshot row, for the rules stored at `as_of` (none when they
    no longer validate: the view has no segments for that date either)."""
    from winback.lifecycle.segments_view import grouped_runs, segment_sql

    groups, _ = grouped_runs(db.fetchall("SELECT as_of, rules FROM snapshot_runs WHERE as_of = ?", [as_of]))
    return {sc.name: segment_sql(sc) for _dates, schemes in groups for sc in schemes}


def _transitions_sql(before: dict[str, str], after: dict[str, str]) -> str:
    """Every scheme's moves between two snapshots in one pass: each snapshot read once with every scheme's segment
    as a column, the two joined on the member (not a join per scheme row), then one row per (member, scheme) where
    the member is in that scheme at either date (as member_segments FULL OUTER JOIN member_segments has them)."""

    def side(alias: str, schemes: dict[str, str]) -> str:
        cols = "".join(f', {expr} AS "{name}"' for name, expr in schemes.items())
        return f"{alias} AS (SELECT member_id{cols} FROM member_snapshot WHERE as_of = ?)"

    names = list(dict.fromkeys([*before, *after]))
    f = ", ".join(f'a."{n}"' if n in before else "NULL" for n in names)
    t = ", ".join(f'b."{n}"' if n in after else "NULL" for n in names)
    sides = (("a.member_id IS NOT NULL", before), ("b.member_id IS NOT NULL", after))
    present = ", ".join(" OR ".join(c for c, schemes in sides if n in schemes) for n in names)
    listed = ", ".join(f"'{n}'" for n in names)
    return f"""
        INSERT INTO page_transitions
        WITH {side("a", before)}, {side("b", after)},
        moves AS (
            SELECT unnest([{listed}]) AS scheme, unnest([{f}]) AS from_segment, unnest([{t}]) AS to_segment,
                   unnest([{present}]) AS present
            FROM a FULL OUTER JOIN b ON a.member_id = b.member_id
        )
        SELECT ?::DATE, ?::DATE, scheme, from_segment, to_segment, count(*)
        FROM moves WHERE present
        GROUP BY ALL
        """


def _head_sql(branches: str) -> str:
    """The head of every scheme's list: each scheme lists every member of the snapshot (its branch has no filter),
    most valuable first, so each head is the snapshot's top members with that scheme's segment (`branches` over
    `top`, the snapshot's top HEAD rows: a top-N, not a sort of every scheme's rows)."""
    return f"""
        INSERT INTO page_member_head
        WITH top AS (SELECT * FROM member_snapshot WHERE as_of = ? ORDER BY monetary DESC, member_id LIMIT {HEAD})
        SELECT ?::DATE, scheme, row_number() OVER (PARTITION BY scheme ORDER BY monetary DESC, member_id)::INTEGER,
               {", ".join(HEAD_COLUMNS)}
        FROM ({branches}) g
        """


def build_pages(db: DuckDBEngine, as_of: dt.date, before: dt.date | None) -> None:
    """Write every part of the snapshot at `as_of` (the transitions from `before`, the snapshot before it, when
    there is one), each with its page_built row (the clock snapshot_runs.refreshed_at is written by), in one
    transaction."""
    with db.transaction():
        for table in ("page_segment_stats", "page_member_head"):
            db.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
        db.execute("DELETE FROM page_transitions WHERE as_of = ?", [as_of])
        db.execute("DELETE FROM page_built WHERE as_of = ?", [as_of])
        wide = _branches(db, as_of, ", ".join(("member_id", *GROUP_COLUMNS, "recency_days", "monetary", "p_alive")))
        top = _branches(db, as_of, ", ".join(c for c in HEAD_COLUMNS if c != "segment"), source="top")
        parts = ["segments", "members"]
        if wide is not None and top is not None:
            db.execute(_segments_sql(wide), [as_of])
            db.execute(_head_sql(top), [as_of, as_of])
        earlier, later = (_schemes(db, before), _schemes(db, as_of)) if before is not None else ({}, {})
        if before is not None and (earlier or later):
            db.execute(_transitions_sql(earlier, later), [before, as_of, before, as_of])
            parts.append("transitions")
        for part in parts:
            db.execute("INSERT INTO page_built VALUES (?, ?, current_timestamp::TIMESTAMP)", [part, as_of])


def segment_stats(db: DuckDBEngine, as_of: dt.date, scheme: str, group_column: str | None) -> list[tuple[Any, ...]]:
    """store.segment_stats' rows as built."""
    return db.fetchall(
        "SELECT CASE WHEN by_column = '' THEN NULL ELSE grp END, segment, members, avg_recency_days, monetary, "
        "avg_p_alive FROM page_segment_stats WHERE as_of = ? AND scheme = ? AND by_column = ?",
        [as_of, scheme, group_column or ""],
    )


def transition_counts(
    db: DuckDBEngine, date_from: dt.date, date_to: dt.date, scheme: str
) -> list[tuple[Any, ...]] | None:
    """store.transition_counts' rows as built; None when the transitions of `date_to` were built from another
    snapshot than `date_from`."""
    rows = db.fetchall(
        "SELECT scheme, from_segment, to_segment, members FROM page_transitions WHERE date_from = ? AND as_of = ?",
        [date_from, date_to],
    )
    return [r[1:] for r in rows if r[0] == scheme] if rows else None


def head_sql(limit: int, select: str = "m.*") -> str:
    """store.member_list_sql's query over the built head (parameters: as_of, scheme)."""
    cols = ", ".join(f"h.{c}" for c in HEAD_COLUMNS if c != "member_id")
    return f"""
        WITH h AS (SELECT * FROM page_member_head WHERE as_of = ? AND scheme = ? AND rank <= {int(limit)}),
        m AS (
            SELECT h.member_id, m.name, m.phone, {cols}
            FROM h LEFT JOIN members m ON m.member_id = h.member_id
        )
        SELECT {select} FROM m
        ORDER BY m.monetary DESC, m.member_id
        """
