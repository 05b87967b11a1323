"""The lifecycle room's warehouse SQL: writing a snapshot (one transaction), the member_segments view, and the
reads behind `segments`, `transitions`, `members` and `explain`.

Every function takes the warehouse `db` (a DuckDBEngine) first and returns plain rows or values; the analytic SQL
of the refresh (which may run on Spark) is in `queries.py`, the SQL text of the snapshot in `snapshot_sql.py`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.errors import EngineError
from winback.i18n import _
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.segments_view import VIEW, grouped_runs, segments_view_sql

if TYPE_CHECKING:
    import pyarrow as pa

    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.lifecycle.modelling import ModelFit
    from winback.lifecycle.rules import Scheme

SNAPSHOT_TABLES = ("model_fits", "snapshot_runs")  # the rows a refresh replaces per as-of date (and store_facts's)
SchemeCount = tuple[str, str, int]


def _one(db: DuckDBEngine, sql: str, params: Sequence[object] | None = None) -> tuple[Any, ...] | None:
    """The first row of a one-row query. fetchall, not fetchone: DuckDB keeps a half-read result open, and the
    next `db.query()` on the connection then fails (ResourceInUseException)."""
    rows = db.fetchall(sql, params)
    return rows[0] if rows else None


# -- writing a snapshot ----------------------------------------------------------------------------------------
@contextmanager
def unordered_inserts(db: DuckDBEngine) -> Iterator[None]:
    """Let DuckDB write the refresh's tables without keeping row order (parallel, less memory: every reader sorts
    or groups anyway); the connection's setting is restored afterwards."""
    row = _one(db, "SELECT current_setting('preserve_insertion_order')")
    before = bool(row[0]) if row else True
    db.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        db.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}")


@contextmanager
def refresh_transaction(db: DuckDBEngine) -> Iterator[None]:
    """The refresh's writes (member facts, small tables, runs, views) in one transaction, unordered inserts."""
    with unordered_inserts(db), db.transaction():
        yield


def replace_snapshot(
    db: DuckDBEngine,
    *,
    engine_name: str,
    as_of: dt.date,
    predictions: pa.Table | None,
    fits: Sequence[ModelFit],
    schemes: Sequence[Scheme],
    settings: dict[str, Any],
    progress: Callable[[str], None],
    views: bool = True,
    members: int | None = None,
) -> tuple[int, list[SchemeCount], list[str]]:
    """Replace the snapshot at `as_of` (call inside the refresh's transaction, after member_facts holds the facts
    at as_of): its small tables (priors from the refresh's temp PRIOR, `predictions`), model_fits and
    snapshot_runs rows, and the member_snapshot / member_segments views. Returns the member count, the (scheme,
    segment, members) counts and the views' messages (snapshot dates they had to leave out). `views=False`
    (`refresh --history`, many dates in one transaction): the views are rebuilt and counted later, by the caller.
    `members`: the member count at as_of when the caller has it (counted otherwise)."""
    from winback.lifecycle import store_facts

    for table in SNAPSHOT_TABLES:
        db.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
    store_facts.write_small_tables(db, as_of, predictions)
    members = store_facts.facts_count(db, as_of) if members is None else members
    for fit in fits:
        db.execute(
            "INSERT INTO model_fits VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
            [as_of, fit.name, json.dumps(fit.params), fit.time_unit, fit.loglik, fit.converged, fit.n],
        )
    # member_snapshot and member_segments: views over the facts, the small tables and the rules; nothing to write
    problems = record_run(db, as_of, schemes, engine=engine_name, members=members, settings=settings, views=views)
    if not views:
        return members, [], problems
    progress(_("counting the segments"))
    from winback.lifecycle.snapshot_view import counts_branch_sql

    own = [s for s in schemes if s.name in q.STORED_SCHEMES]  # what the view's branch of as_of was built with
    branch = counts_branch_sql(as_of, settings["snapshot"], own, schemes, members=members)
    counts = segment_counts(db, as_of, schemes, branch, own=True)
    return members, counts, problems


def segment_counts(
    db: DuckDBEngine,
    as_of: dt.date,
    schemes: Sequence[Scheme] | None = None,
    snapshot: str | tuple[str, str] | tuple[str, str, int] | None = None,
    own: bool = False,
) -> list[SchemeCount]:
    """(scheme, segment, members) at `as_of`, from the view (this is where the rules' predicates are evaluated);
    with `schemes` (the refresh's, the same the view was just built with), the view's branches over the snapshot
    evaluated once; `snapshot`: the view's branch of that date (snapshot_view.branch_sql, or the two parts of
    counts_branch_sql); `own`: the refresh counting the date it has just built with `schemes`
    (snapshot_view.counts_sql)."""
    from winback.lifecycle.snapshot_view import counts_sql

    try:
        rows = db.fetchall(counts_sql(as_of, schemes, snapshot, own) if schemes else q.segment_counts_sql(as_of))
    except EngineError as exc:
        raise EngineError(
            _("applying the schemes failed: {error}", error=str(exc.__cause__ or exc.message)),
            hint=_("A rule's predicate cannot be evaluated on these values (e.g. a CAST); fix it in the rules file."),
            sql=exc.sql,
            kind=exc.kind,
        ) from exc
    return [(scheme, segment, int(n)) for scheme, segment, n in rows]


def set_run_seconds(db: DuckDBEngine, as_of: dt.date, seconds: float) -> None:
    db.execute("UPDATE snapshot_runs SET seconds = ? WHERE as_of = ?", [seconds, as_of])


# -- the member_segments view ------------------------------------------------------------------------------------
def record_run(
    db: DuckDBEngine,
    as_of: dt.date,
    schemes: Sequence[Scheme],
    *,
    engine: str,
    members: int,
    settings: dict[str, Any],
    views: bool = True,
) -> list[str]:
    """Store the snapshot_runs row of the snapshot at `as_of` (the schemes it used, as the JSON the view reads back)
    and rebuild the view (unless not `views`); returns rebuild_segments_view's messages. Call inside the caller's
    transaction."""
    db.execute(
        "INSERT INTO snapshot_runs VALUES (?, ?, ?, ?, ?, NULL, current_timestamp::TIMESTAMP)",
        [
            as_of,
            engine,
            members,
            json.dumps({s.name: s.to_dict() for s in schemes}, ensure_ascii=False),
            json.dumps(settings, ensure_ascii=False),
        ],
    )
    return rebuild_segments_view(db) if views else []


def _stored_schemes(rules: dict[str, Any], as_of: dt.date) -> list[Scheme]:
    """The schemes whose segment is a member_snapshot column (value, lifecycle) of a run's stored rules."""
    from winback.errors import ConfigError
    from winback.lifecycle.segments_view import schemes_of_run

    try:
        return [s for s in schemes_of_run(rules, as_of) if s.name in q.STORED_SCHEMES]
    except ConfigError:
        return []  # the segments view reports the invalid rules; the columns stay empty here


def stored_schemes_once() -> Callable[[dict[str, Any], dt.date], list[Scheme]]:
    """`_stored_schemes` parsing each distinct rule set once (a history stores the same rules at every date, and
    validating a rule set's predicates costs ~35 ms)."""
    parsed: dict[str, list[Scheme]] = {}

    def stored(rules: dict[str, Any], as_of: dt.date) -> list[Scheme]:
        key = json.dumps(rules, sort_keys=True, ensure_ascii=False)
        if key not in parsed:
            parsed[key] = _stored_schemes(rules, as_of)
        return parsed[key]

    return stored


def rebuild_segments_view(db: DuckDBEngine) -> list[str]:
    """(Re)create the views from every snapshot in snapshot_runs (call inside the caller's transaction):
    member_snapshot (since migration 015, from the member facts: store_facts) and member_segments. Returns a
    message per snapshot date left out because its stored rules no longer validate. Migration 005's and 015's
    Python step."""
    from winback.lifecycle import store_facts

    if store_facts.has_facts(db):
        store_facts.rebuild_snapshot_view(db, stored_schemes_once())
    rows = db.fetchall("SELECT as_of, rules FROM snapshot_runs ORDER BY as_of")
    groups, problems = grouped_runs(rows)
    db.execute(f"CREATE OR REPLACE VIEW {VIEW} AS {segments_view_sql(groups)}")
    return problems


# -- reading snapshots ---------------------------------------------------------------------------------------------
def snapshot_dates(db: DuckDBEngine) -> list[dt.date]:
    return [r[0] for r in db.fetchall("SELECT as_of FROM snapshot_runs ORDER BY as_of")]


def snapshot_before(db: DuckDBEngine, as_of: dt.date) -> dt.date | None:
    """The newest snapshot date before `as_of` (the transitions' "from"), None when there is none."""
    row = db.fetchone("SELECT max(as_of) FROM snapshot_runs WHERE as_of < ?", [as_of])
    return row[0] if row else None


def snapshot_runs(db: DuckDBEngine) -> list[tuple[dt.date, dt.datetime]]:
    """(as_of, refreshed_at) of every stored snapshot, oldest refresh first."""
    return [
        (r[0], r[1]) for r in db.fetchall("SELECT as_of, refreshed_at FROM snapshot_runs ORDER BY refreshed_at, as_of")
    ]


def default_snapshot(db: DuckDBEngine, today: dt.date | None = None) -> dt.date | None:
    """The snapshot a reader gets when it names none: the newest refresh dated at or before tomorrow (a snapshot at
    tomorrow counts today's orders; `today` None: any date). None when there is no such snapshot. Other rooms that
    read "the current snapshot" should use this rather than max(as_of)."""
    from winback.lifecycle.asof import newest_refresh

    return newest_refresh(snapshot_runs(db), today)


def run_rules(db: DuckDBEngine, as_of: dt.date) -> dict[str, Any]:
    """The schemes (rules with labels) the refresh at `as_of` used."""
    row = _one(db, "SELECT rules FROM snapshot_runs WHERE as_of = ?", [as_of])
    return json.loads(row[0]) if row else {}


def run_record(db: DuckDBEngine, as_of: dt.date) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(rules, settings, engine) of the refresh at `as_of` ({}, {}, None when there is none)."""
    row = _one(db, "SELECT rules, settings, engine FROM snapshot_runs WHERE as_of = ?", [as_of])
    if row is None:
        return {}, {}, None
    return json.loads(row[0]), json.loads(row[1]), row[2]


def segment_stats(db: DuckDBEngine, as_of: dt.date, scheme: str, group_column: str | None) -> list[tuple[Any, ...]]:
    """(group, segment, members, avg recency, monetary, avg p_alive) per segment of `scheme`, per value of the
    member_snapshot column `group_column` (a fixed name from views.BY_COLUMNS) or overall (group None); as built
    after the refresh when it was (store_pages.py)."""
    from winback.lifecycle import store_pages

    if store_pages.built(db, "segments", as_of):
        return store_pages.segment_stats(db, as_of, scheme, group_column)
    group = f"s.{group_column}" if group_column else "NULL"
    return db.fetchall(
        f"""
        SELECT {group} AS grp, g.segment, COUNT(*) AS members,
               AVG(s.recency_days) AS avg_recency_days, SUM(s.monetary) AS monetary, AVG(s.p_alive) AS avg_p_alive
        FROM member_segments g
        JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
        WHERE g.as_of = ? AND g.scheme = ?
        GROUP BY ALL
        """,
        [as_of, scheme],
    )


def transition_counts(
    db: DuckDBEngine, date_from: dt.date, date_to: dt.date, scheme: str
) -> list[tuple[str | None, str | None, int]]:
    """(segment at date_from, segment at date_to, members); None where a member is absent from one snapshot. As
    built after the refresh of `date_to` when `date_from` is the snapshot before it (store_pages.py)."""
    from winback.lifecycle import store_pages

    if store_pages.built(db, "transitions", date_from, date_to):
        rows = store_pages.transition_counts(db, date_from, date_to, scheme)
        if rows is not None:
            return rows  # type: ignore[return-value]
    return db.fetchall(  # type: ignore[return-value]
        """
        WITH a AS (SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = ?),
             b AS (SELECT member_id, segment FROM member_segments WHERE as_of = ? AND scheme = ?)
        SELECT a.segment AS from_segment, b.segment AS to_segment, COUNT(*) AS members
        FROM a FULL OUTER JOIN b ON a.member_id = b.member_id
        GROUP BY ALL
        """,
        [date_from, scheme, date_to, scheme],
    )


def member_list_sql(
    *,
    as_of: dt.date,
    scheme: str,
    segments: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    limit: int | None = None,
    select: str = "m.*",
) -> tuple[str, list[object]]:
    """The query of `member_list` and its parameters; `select` is the select list over `m` (the members with
    phones as stored), the order stays that of the stored values."""
    where, params = ["g.as_of = ?", "g.scheme = ?"], [as_of, scheme]
    if segments:
        where.append(f"g.segment IN ({', '.join('?' for _ in segments)})")
        params.extend(segments)
    if stores:
        where.append(f"s.store_id IN ({', '.join('?' for _ in stores)})")
        params.extend(stores)
    lim = f"LIMIT {int(limit)}" if limit else ""
    sql = f"""
        WITH m AS (
            SELECT s.member_id, m.name, m.phone, s.store_id, s.guide_id, s.tier, g.segment, s.recency_days,
                   s.orders, s.monetary, s.cycle_days, s.overdue_ratio, s.p_alive, s.clv, s.rfm_code, s.value_layer,
                   s.lifecycle_stage, s.last_purchase
            FROM member_segments g
            JOIN member_snapshot s ON s.as_of = g.as_of AND s.member_id = g.member_id
            LEFT JOIN members m ON m.member_id = s.member_id
            WHERE {" AND ".join(where)}
        )
        SELECT {select} FROM m
        ORDER BY m.monetary DESC, m.member_id
        {lim}
        """
    return sql, params


def member_list(
    db: DuckDBEngine,
    *,
    as_of: dt.date,
    scheme: str,
    segments: Sequence[str] | None = None,
    stores: Sequence[str] | None = None,
    limit: int | None = None,
) -> pa.Table:
    """Members of `segments` (of `scheme`) and `stores` at `as_of`, most valuable first, phones as stored (the head
    of a whole scheme's list as built after the refresh, when it was: store_pages.py)."""
    from winback.lifecycle import store_pages

    if not segments and not stores and limit and limit <= store_pages.HEAD and store_pages.built(db, "members", as_of):
        return db.query(store_pages.head_sql(limit), [as_of, scheme])
    sql, params = member_list_sql(as_of=as_of, scheme=scheme, segments=segments, stores=stores, limit=limit)
    return db.query(sql, params)


def member_list_schema(db: DuckDBEngine) -> pa.Schema:
    """The columns (and types) of `member_list`, read without reading a member."""
    sql, params = member_list_sql(as_of=dt.date(1970, 1, 1), scheme="", limit=0)
    return db.query(f"SELECT * FROM ({sql}) LIMIT 0", params).schema


def copy_to(db: DuckDBEngine, sql: str, params: Sequence[object], target: Path, options: str) -> int:
    """`COPY (sql) TO target (options)`: the database writes the file itself; returns the rows written."""
    literal = "'" + str(target).replace("'", "''") + "'"
    rows = db.fetchall(f"COPY ({sql}) TO {literal} ({options})", list(params))
    return int(rows[0][0]) if rows else 0


def contact_list(db: DuckDBEngine, *, stores: Sequence[str] | None = None, limit: int | None = None) -> pa.Table:
    """Contacts (guide-WeChat records matching no ERP member, `snapshot_sql.CONTACT_SOURCES`), by store and guide,
    phones as stored. They are not in any snapshot: this is the list a guide works from."""
    sources = ", ".join(f"'{s}'" for s in q.CONTACT_SOURCES)
    where, params = [f"merged_into IS NULL AND coalesce(source, '') IN ({sources})"], []
    if stores:
        where.append(f"coalesce(store_id, register_store) IN ({', '.join('?' for _ in stores)})")
        params.extend(stores)
    lim = f"LIMIT {int(limit)}" if limit else ""
    return db.query(
        f"""
        SELECT member_id, name, phone, wechat_id, coalesce(store_id, register_store) AS store_id, guide_id, source,
               phone_status, opted_out_at
        FROM members
        WHERE {" AND ".join(where)}
        ORDER BY store_id NULLS LAST, guide_id NULLS LAST, member_id
        {lim}
        """,
        params or None,
    )


def snapshot_row(db: DuckDBEngine, as_of: dt.date, member_id: str) -> dict[str, Any] | None:
    """Every member_snapshot column of one member at `as_of` (in table order), or None."""
    rows = db.dicts("SELECT * FROM member_snapshot WHERE as_of = ? AND member_id = ?", [as_of, member_id])
    return rows[0] if rows else None


def merged_into(db: DuckDBEngine, member_id: str) -> str | None:
    """The member `member_id` was merged into (None when not merged, or unknown)."""
    row = _one(db, "SELECT merged_into FROM members WHERE member_id = ?", [member_id])
    return row[0] if row and row[0] else None


def member_segments(db: DuckDBEngine, as_of: dt.date, member_id: str) -> dict[str, str]:
    """scheme -> segment of one member at `as_of`."""
    rows = db.fetchall(
        "SELECT scheme, segment FROM member_segments WHERE as_of = ? AND member_id = ?", [as_of, member_id]
    )
    return dict(rows)


def model_fits(db: DuckDBEngine, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """model -> {params, time_unit, loglik, converged, n} of the refresh at `as_of`."""
    rows = db.fetchall("SELECT model, params, time_unit, loglik, converged, n FROM model_fits WHERE as_of = ?", [as_of])
    return {
        r[0]: {"params": json.loads(r[1]), "time_unit": r[2], "loglik": r[3], "converged": r[4], "n": r[5]}
        for r in rows
    }
