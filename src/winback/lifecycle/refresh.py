"""`refresh`: build the member snapshot and segments at an as-of date (the service behind `winback refresh`).

Heavy SQL runs on the engine (DuckDB or Spark); only compact statistics come back to Python for the model fits
and quintile breakpoints; the final snapshot is written into the DuckDB warehouse (in place on DuckDB).
A refresh replaces the rows of its own as-of date in member_snapshot, model_fits and snapshot_runs and recreates the
member_segments view (segments are computed from the snapshot and the rules, never stored) inside one transaction:
a failed refresh changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from winback.engine.base import Engine
from winback.errors import ConfigError, EngineError, InputError
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.modelling import ModelFit, expected_value_sql, fit_gamma_gamma, fit_purchase_model
from winback.lifecycle.quintiles import breakpoints
from winback.lifecycle.rules import Scheme, load_schemes
from winback.lifecycle.segments_view import record_run
from winback.warehouse.transaction import transaction

Progress = Callable[[str], None]


@dataclass
class RefreshResult:
    as_of: dt.date
    engine: str
    members: int
    model: ModelFit | None
    value_model: ModelFit | None
    segments: dict[str, dict[str, int]]
    breakpoints: dict[str, list[float]]
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        model: dict[str, Any] = (
            self.model.to_dict()
            if self.model
            else {"name": None, "params": {}, "time_unit": None, "loglik": None, "converged": None, "n": 0}
        )
        return {
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "members": self.members,
            "model": model,
            "value_model": self.value_model.to_dict() if self.value_model else None,
            "segments": self.segments,
            "breakpoints": self.breakpoints,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def warehouse_of(engine: Engine, warehouse: duckdb.DuckDBPyConnection | None) -> duckdb.DuckDBPyConnection:
    if warehouse is not None:
        return warehouse
    con = getattr(engine, "con", None)
    if isinstance(con, duckdb.DuckDBPyConnection):
        return con
    raise EngineError(
        f"the {engine.name} engine needs the warehouse connection to write the snapshot into",
        hint="Pass warehouse=<DuckDB connection> to refresh().",
    )


def default_as_of(engine: Engine) -> dt.date:
    """The day after the last paid or refunded order."""
    row = engine.query(q.last_order_sql()).to_pylist()
    last = row[0]["last_day"] if row else None
    if last is None:
        raise InputError(
            "there are no orders to build a snapshot from",
            hint="Import orders first (winback import orders FILE), or give --as-of DATE.",
        )
    if isinstance(last, dt.datetime):
        last = last.date()
    return last + dt.timedelta(days=1)


def _col(table: Any, name: str) -> list[Any]:
    return table[name].to_pylist()


def _breakpoints(engine: Engine) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for key, expr in (("r", q.RECENCY_VALUE), ("f", q.FREQUENCY_VALUE), ("m", q.MONETARY_VALUE)):
        t = engine.query(q.value_counts_sql(expr))
        out[key] = breakpoints(np.asarray(_col(t, "v"), dtype=float), np.asarray(_col(t, "n"), dtype=np.int64))
    return out


def _bitmap_origin(engine: Engine, as_of: dt.date) -> dt.date | None:
    """DuckDB counts purchase days with per-member bitmaps from the first paid day (one GROUP BY member); other
    engines use the portable per-member-per-day pre-aggregate (None)."""
    if engine.name != "duckdb":
        return None
    rows = engine.query(q.first_paid_day_sql(as_of)).to_pylist()
    first = rows[0]["first_day"] if rows else None
    if isinstance(first, dt.datetime):
        first = first.date()
    return first if isinstance(first, dt.date) else None


def _unordered_inserts(con: duckdb.DuckDBPyConnection) -> Callable[[], None]:
    """Let DuckDB write the refresh's tables without keeping row order (parallel, less memory: every reader sorts
    or groups anyway); returns the function that restores the connection's setting."""
    row = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    before = bool(row[0]) if row else True
    con.execute("SET preserve_insertion_order = false")
    return lambda: con.execute(f"SET preserve_insertion_order = {'true' if before else 'false'}") and None


def _drop_temps(engine: Engine) -> None:
    for name in q.TEMP_TABLES:
        with contextlib.suppress(EngineError):
            engine.execute(f"DROP TABLE IF EXISTS {name}")
    with contextlib.suppress(Exception):  # a view that was never registered
        engine.unregister(q.PRED)


def refresh(
    engine: Engine,
    as_of: dt.date | None = None,
    *,
    warehouse: duckdb.DuckDBPyConnection | None = None,
    schemes: Sequence[Scheme] | None = None,
    rules_files: Iterable[Path | str] = (),
    cycle: CycleSettings | None = None,
    progress: Progress | None = None,
) -> RefreshResult:
    """Build and store the snapshot at `as_of` (default: the day after the last order)."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    con = warehouse_of(engine, warehouse)
    cycle = cycle or CycleSettings()
    scheme_list = list(schemes) if schemes is not None else list(load_schemes(rules_files).values())
    names = [s.name for s in scheme_list]
    if not names:
        raise ConfigError("no segmentation scheme to apply", hint="Use the shipped rules or pass --rules FILE.")
    as_of = as_of or default_as_of(engine)
    notes: list[str] = []
    restore_order = _unordered_inserts(con)
    try:
        say(f"aggregating orders before {as_of}")
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {q.BASE} AS {q.base_sql(as_of, _bitmap_origin(engine, as_of))}")
        say("cohort priors")
        engine.execute(f"CREATE OR REPLACE TEMP TABLE {q.PRIOR} AS {q.prior_sql(cycle)}")

        say("fitting MBG/NBD on unique (x, t_x, T)")
        preds = fit_purchase_model(engine.query(q.triples_sql()))
        notes.extend(preds.notes)
        if preds.table is not None:
            engine.register(q.PRED, preds.table)
        say("fitting Gamma-Gamma on unique (x, AOV)")
        value_fit, gg_notes = fit_gamma_gamma(engine.query(q.gamma_pairs_sql()))
        notes.extend(gg_notes)
        ev_sql = expected_value_sql(value_fit.params, "i.frequency", "i.aov") if value_fit else None

        say("quintile breakpoints")
        breaks = _breakpoints(engine)
        stored = [s for s in scheme_list if s.name in q.STORED_SCHEMES]
        select = q.snapshot_sql(
            as_of,
            stored,
            cycle,
            breaks=breaks,
            with_predictions=preds.table is not None,
            expected_value_expr=ev_sql,
        )
        say("writing the snapshot")
        members, counts = _store(
            engine, con, as_of, scheme_list, select, preds.fit, value_fit, cycle, breaks, notes=notes, say=say
        )
    finally:
        _drop_temps(engine)
        restore_order()
    seconds = time.perf_counter() - started
    con.execute("UPDATE snapshot_runs SET seconds = ? WHERE as_of = ?", [seconds, as_of])
    return RefreshResult(as_of, engine.name, members, preds.fit, value_fit, counts, breaks, seconds, notes)


def _store(
    engine: Engine,
    con: duckdb.DuckDBPyConnection,
    as_of: dt.date,
    schemes: Sequence[Scheme],
    snapshot_select: str,
    fit: ModelFit | None,
    value_fit: ModelFit | None,
    cycle: CycleSettings,
    breaks: dict[str, list[float]],
    *,
    notes: list[str],
    say: Progress,
) -> tuple[int, dict[str, dict[str, int]]]:
    """Replace the snapshot at `as_of` in one transaction; returns the member count and segment counts."""
    names = [s.name for s in schemes]
    stored = [n for n in names if n in q.STORED_SCHEMES]
    with transaction(con):
        for table in ("member_snapshot", "model_fits", "snapshot_runs"):
            con.execute(f"DELETE FROM {table} WHERE as_of = ?", [as_of])
        members = engine.insert_into_warehouse(
            con, "member_snapshot", q.STORED_SNAPSHOT_COLUMNS, q.insert_snapshot_sql(snapshot_select, stored)
        )
        for f in (fit, value_fit):
            if f is not None:
                con.execute(
                    "INSERT INTO model_fits VALUES (?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
                    [as_of, f.name, json.dumps(f.params), f.time_unit, f.loglik, f.converged, f.n],
                )
        settings = {"cycle": cycle.to_dict(), "breakpoints": breaks, "time_unit": "weeks", "notes": notes}
        say("counting the segments")
        # member_segments: a view over the snapshots and their rules, rebuilt here; nothing to write
        notes.extend(record_run(con, as_of, schemes, engine=engine.name, members=members, settings=settings))
        try:
            rows = con.execute(q.segment_counts_sql(as_of)).fetchall()
        except duckdb.Error as exc:
            raise EngineError(
                f"applying the schemes failed: {exc}",
                hint="A rule's predicate cannot be evaluated on these values (e.g. a CAST); fix it in the rules file.",
            ) from exc
        found: dict[str, dict[str, int]] = {name: {} for name in names}
        for scheme, segment, n in rows:
            found[scheme][segment] = int(n)
        # every segment listed, in rule order, zeros included
        counts = {s.name: {seg: found[s.name].get(seg, 0) for seg in s.segments} for s in schemes}
    return members, counts


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


def first_order_day(engine: Engine) -> dt.date | None:
    rows = engine.query(
        "SELECT CAST(MIN(ordered_at) AS DATE) AS d FROM orders WHERE status IN ('paid', 'refunded')"
    ).to_pylist()
    d = rows[0]["d"] if rows else None
    return d.date() if isinstance(d, dt.datetime) else d


def refresh_history(
    engine: Engine,
    as_of: dt.date | None = None,
    *,
    every: str = "monthly",
    **kwargs: Any,
) -> list[RefreshResult]:
    """Backfill: a snapshot on the first day of every month since the first order, then one at `as_of`."""
    if every != "monthly":
        raise InputError(f"unknown history period {every!r}", hint="Use --history monthly.")
    as_of = as_of or default_as_of(engine)
    first = first_order_day(engine)
    dates = [d for d in month_starts(first, as_of) if d < as_of] if first else []
    return [refresh(engine, d, **kwargs) for d in [*dates, as_of]]
