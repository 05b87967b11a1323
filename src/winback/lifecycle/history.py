"""`refresh --history monthly`: a snapshot on the first day of every month since the first order, then one at the
as-of date, from ONE pass over the orders (history_sql.py) in one transaction.

The member facts of every date are written at once (only the rows that change: a member's row opens at a date
where their facts changed), then each date gets what a refresh at that date computes from the facts valid at it:
cohort priors, the purchase and value model fits, predictions per unique history, breakpoints, and its
snapshot_runs / model_fits rows; the views are rebuilt once at the end and the last date's segments counted
(what the command reports; every date reads its own from the member_segments view). Those per-date statistics are
read from the facts copied once as integers (queries_history.create_rows: day numbers and cohort ids), not from
member_facts' dates and strings at every date.

The models are refitted at every date: a monthly date is always past the refit schedule's week (refit.py), and
a fit of one date's members is what a full refresh at that date would make, so every past snapshot equals a
full refresh at its date (tests/lifecycle/test_history.py). The one pass applies when the warehouse holds no
facts-based snapshot at a date outside the history's own (the usual backfill); otherwise the dates are refreshed
one by one (each spliced in, every other date kept as it was).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.errors import InputError
from winback.i18n import _
from winback.lifecycle import queries, queries_facts, queries_history, refit, snapshot_view, store, store_facts
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.facts_update import FactsUpdate
from winback.lifecycle.modelling import DEFAULT_PURCHASE_MODEL
from winback.lifecycle.rules import Scheme

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine
    from winback.lifecycle.refresh import RefreshResult


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """First days of the months after `first` up to and including `last` (pure)."""
    out = []
    y, m = first.year, first.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = dt.date(y, m, 1)
        if d > last:
            return out
        out.append(d)


def history_dates(engine: Engine, as_of: dt.date, every: str) -> list[dt.date]:
    if every != "monthly":
        raise InputError(_("unknown history period {every!r}", every=every), hint=_("Use --history monthly."))
    first = queries.first_order_day(engine)
    return [*(d for d in month_starts(first, as_of) if d < as_of), as_of] if first else [as_of]


def refresh_history(
    engine: Engine,
    db: DuckDBEngine,
    as_of: dt.date | None = None,
    *,
    every: str = "monthly",
    **kwargs: Any,
) -> list[RefreshResult]:
    """Backfill: a snapshot on the first day of every month since the first order, then one at `as_of`; one
    pass over the orders when no other facts-based snapshot date would have to be kept (see the module)."""
    from winback.lifecycle.refresh import default_as_of, refresh

    as_of = as_of or default_as_of(engine)
    dates = history_dates(engine, as_of, every)
    others = {d for d, _s, _r in store_facts.facts_runs(db)} - set(dates)
    if others:
        return [refresh(engine, db, d, **kwargs) for d in dates]
    kwargs.pop("full", None)  # the one pass rebuilds every date's facts from all orders anyway
    return one_pass(engine, db, dates, **kwargs)


def one_pass(
    engine: Engine,
    db: DuckDBEngine,
    dates: Sequence[dt.date],
    *,
    schemes: Sequence[Scheme] | None = None,
    rules_files: Iterable[Path | str] = (),
    cycle: CycleSettings | None = None,
    progress: Callable[[str], None] | None = None,
    model: str = DEFAULT_PURCHASE_MODEL,
    refit_change: float = refit.DEFAULT_REFIT_CHANGE,
    count_all: bool = False,
) -> list[RefreshResult]:
    """The snapshots at every date of `dates` (sorted), their facts from one pass over the orders. The segments
    are counted at the last date (what `refresh --history` reports) or, with `count_all`, at every date (an
    earlier date's result otherwise has no counts, `segments` == {}: the member_segments view has them for readers)."""
    from winback.lifecycle import refresh as r

    say = progress or (lambda _msg: None)
    r._check_warehouse(db)
    cycle = cycle or CycleSettings()
    scheme_list = r._scheme_list(schemes, rules_files)
    out: list[tuple[dt.date, Any, int, float]] = []
    try:
        with store.refresh_transaction(db):
            say(_("aggregating orders once for {n} snapshot dates", n=len(dates)))
            queries_history.history_facts(engine, db, dates)
            now = store_facts.watermark(db)
            counts_at = queries_history.member_counts(db, dates)
            stats = queries_history.create_rows(db)
            previous: dict[str, Any] | None = None
            for d in dates:
                started = time.perf_counter()
                say(_("snapshot at {date}", date=d.isoformat()))
                facts = FactsUpdate("history", "history", None, previous, now)
                done = r._compute(db, d, cycle, facts, say, model, refit_change, counts_at[d], stats)
                members, _rows, _p = store.replace_snapshot(
                    db,
                    engine_name=engine.name,
                    as_of=d,
                    predictions=done.preds.table,
                    fits=[f for f in (done.fit, done.value_fit) if f is not None],
                    schemes=scheme_list,
                    settings=r._run_settings(cycle, done, facts),
                    progress=say,
                    views=False,
                    members=done.members,
                )
                queries.drop_temps(db)
                previous = {"fit": done.fit_record}
                out.append((d, done, members, time.perf_counter() - started))
            say(_("counting the segments"))
            problems = store.rebuild_segments_view(db)
            counted = out if count_all else out[-1:]
            wanted, schemes_of = {d for d, *_x in counted}, store.stored_schemes_once()
            stored = {d: schemes_of(rules, d) for d, _s, rules in store_facts.facts_runs(db) if d in wanted}
            counts = {
                d: store.segment_counts(
                    db, d, scheme_list, snapshot_view.counts_branch_sql(d, done.view, stored[d], scheme_list), own=True
                )
                for d, done, *_x in counted
            }
    finally:
        queries_facts.drop(engine)
        queries.drop_temps(engine)
        if engine is not db:
            queries.drop_temps(db)
        queries_history.drop_rows(db)
    results = []
    for d, done, members, seconds in out:
        store.set_run_seconds(db, d, seconds)
        segments = r._counts(scheme_list, counts[d]) if d in counts else {}
        res = r.RefreshResult(
            d, engine.name, members, done.fit, done.value_fit, segments, done.breaks,
            seconds, [*done.notes, *problems],
        )  # fmt: skip
        res.fit = {k: done.fit_record[k] for k in ("as_of", "refit", "reason")}
        res.facts = {"mode": "history", "reason": "history", "changed_members": None}
        results.append(res)
    return results
