"""Bringing member_facts to a new as-of date: incrementally (only the members whose orders or record changed
since the newest snapshot) or in full (every member from all orders), inside the refresh's transaction.

The incremental path is taken when the newest facts-based snapshot is at or before the new as-of date and
nothing was written outside the imports and merges it can follow (rows without an import_id: hand edits, test
fixtures). Otherwise, or with `--full`, the facts are rebuilt from all orders and spliced in at the date, every
other snapshot date kept as it was. Both give the same facts (tests/lifecycle/test_incremental_refresh.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from winback.i18n import _
from winback.lifecycle import queries, queries_facts, store_facts

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine


@dataclass
class FactsUpdate:
    mode: str  # incremental | full
    reason: str  # a fixed word: asked | first | earlier | outside | changed
    changed: int | None  # members looked at by the incremental path (None: a full rebuild)
    previous: dict[str, Any] | None  # settings of the newest facts-based snapshot before this one
    watermark: dict[str, Any]
    since: dt.date | None = None  # incremental: the date of the previous snapshot the facts were brought from

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "reason": self.reason, "changed_members": self.changed}


def _bitmap_origin(engine: Engine, as_of: dt.date) -> dt.date | None:
    """Backends with purchase-day bitmaps (DuckDB) count purchase days from the first order's day in one GROUP BY
    member; the others use the portable per-member-per-day pre-aggregate (None)."""
    if not engine.dialect.purchase_day_bitmaps:
        return None
    return queries.bitmap_origin(engine, as_of)


def _choose(
    runs: list[tuple[dt.date, dict[str, Any], dict[str, Any]]], as_of: dt.date, full: bool, now: dict[str, Any]
) -> tuple[str, dt.date | None, dict[str, Any] | None]:
    """(reason, the previous date, its settings): reason 'changed' means incremental is possible."""
    if not runs:
        return "first", None, None
    before = [r for r in runs if r[0] <= as_of]
    previous = before[-1] if before else None
    if full:
        return "asked", None, previous[1] if previous else None
    if previous is None or previous[0] != runs[-1][0]:
        return "earlier", None, previous[1] if previous else None
    mark = previous[1].get("watermark") or {}
    if (
        not mark
        or mark.get("orders_without_import") != now["orders_without_import"]
        or mark.get("members_without_import") != now["members_without_import"]
    ):
        return "outside", None, previous[1]
    return "changed", previous[0], previous[1]


def update_facts(
    engine: Engine, db: DuckDBEngine, as_of: dt.date, *, full: bool, say: Callable[[str], None]
) -> FactsUpdate:
    """member_facts at `as_of`, incrementally when possible (see the module); returns what was done."""
    runs = store_facts.facts_runs(db)
    now = store_facts.watermark(db)
    reason, since, previous = _choose(runs, as_of, full, now)
    if since is not None and previous is not None:
        mark = previous["watermark"]
        say(_("finding the members whose orders or record changed since {date}", date=since.isoformat()))
        changed = queries_facts.changed_facts(
            engine,
            db,
            since=since,
            as_of=as_of,
            import_id=int(mark["import_id"]),
            merge_members=store_facts.merge_members_changed(db, mark.get("merges", [])),
            status_orders=store_facts.status_orders_since(db, int(mark["import_id"])),
        )
        say(_("updating the facts of {n} members", n=f"{changed:,}"))
        store_facts.apply_delta(db, as_of)
        return FactsUpdate("incremental", reason, changed, previous, now, since)
    say(_("aggregating orders before {date}", date=as_of.isoformat()))
    later = [d for d, _s, _r in runs if d > as_of]
    nxt = later[0] if later else None
    origin = _bitmap_origin(engine, as_of)
    if store_facts.covered(db, as_of):  # facts stored at this date: splice, other dates unchanged
        queries_facts.full_facts(engine, db, as_of, origin)
        store_facts.write_full(db, as_of, nxt)
    else:  # nothing stored covers as_of: the orders pass goes straight into member_facts
        queries_facts.insert_facts(engine, db, as_of, origin, nxt)
    return FactsUpdate("full", reason, None, previous, now)
