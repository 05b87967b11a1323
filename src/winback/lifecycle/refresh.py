"""`refresh`: build the member snapshot and segments at an as-of date (the service behind `winback refresh`).

Heavy SQL runs on the engine (DuckDB or Spark); only compact statistics come back to Python for the model fits
and quintile breakpoints; the final snapshot is written into the DuckDB warehouse (in place on DuckDB).
A refresh replaces the rows of its own as-of date in member_snapshot, model_fits and snapshot_runs and recreates the
member_segments view (segments are computed from the snapshot and the rules, never stored) inside one transaction:
a failed refresh changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from winback.errors import ConfigError, InputError
from winback.lifecycle import queries, store
from winback.lifecycle import snapshot_sql as q
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.modelling import (
    DEFAULT_PURCHASE_MODEL,
    ModelFit,
    clv_flag,
    expected_value_sql,
    fit_gamma_gamma,
    fit_purchase_model,
)
from winback.lifecycle.quintiles import breakpoints
from winback.lifecycle.rules import Scheme, load_schemes

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine

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
    #: `refresh --history`: the as-of dates built, oldest first (this result is the last of them)
    history: list[dt.date] | None = None

    def to_dict(self) -> dict[str, Any]:
        model: dict[str, Any] = (
            self.model.to_dict()
            if self.model
            else {"name": None, "params": {}, "time_unit": None, "loglik": None, "converged": None, "n": 0}
        )
        out = {
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
        if self.history is not None:
            out["history"] = [d.isoformat() for d in self.history]
        return out


@dataclass
class _Computed:
    """What the engine's passes produced before the write: fits, breakpoints and the snapshot SELECT."""

    fit: ModelFit | None
    value_fit: ModelFit | None
    breaks: dict[str, list[float]]
    insert_sql: str


def default_as_of(engine: Engine) -> dt.date:
    """The day after the last paid or refunded order."""
    last = queries.last_order_day(engine)
    if last is None:
        raise InputError(
            "there are no orders to build a snapshot from",
            hint="Import orders first (winback import orders FILE), or give --as-of DATE.",
        )
    return last + dt.timedelta(days=1)


def _breakpoints(engine: Engine) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for key, expr in (("r", q.RECENCY_VALUE), ("f", q.FREQUENCY_VALUE), ("m", q.MONETARY_VALUE)):
        t = queries.value_counts(engine, expr)
        out[key] = breakpoints(
            np.asarray(t["v"].to_pylist(), dtype=float), np.asarray(t["n"].to_pylist(), dtype=np.int64)
        )
    return out


def _bitmap_origin(engine: Engine, as_of: dt.date) -> dt.date | None:
    """Backends with purchase-day bitmaps (DuckDB) count purchase days from the first paid day in one GROUP BY
    member; the others use the portable per-member-per-day pre-aggregate (None)."""
    if not engine.dialect.purchase_day_bitmaps:
        return None
    return queries.first_paid_day(engine, as_of)


def _check_warehouse(db: object) -> None:
    dialect = getattr(db, "dialect", None)
    if not getattr(dialect, "in_warehouse", False):
        raise TypeError(
            f"refresh(engine, db, as_of): db is the warehouse (a DuckDBEngine) the snapshot is written into, "
            f"not {type(db).__name__}"
        )


def _scheme_list(schemes: Sequence[Scheme] | None, rules_files: Iterable[Path | str]) -> list[Scheme]:
    scheme_list = list(schemes) if schemes is not None else list(load_schemes(rules_files).values())
    if not scheme_list:
        raise ConfigError("no segmentation scheme to apply", hint="Use the shipped rules or pass --rules FILE.")
    return scheme_list


def _compute(
    engine: Engine,
    as_of: dt.date,
    schemes: Sequence[Scheme],
    cycle: CycleSettings,
    say: Progress,
    notes: list[str],
    model: str = DEFAULT_PURCHASE_MODEL,
) -> _Computed:
    """The engine's passes: per-member table, cohort priors, model fits, breakpoints; the snapshot SELECT."""
    say(f"aggregating orders before {as_of}")
    queries.create_base(engine, as_of, _bitmap_origin(engine, as_of))
    say("cohort priors")
    queries.create_prior(engine, cycle)

    say(f"fitting {'BG/NBD' if model == 'bg_nbd' else 'MBG/NBD'} on unique (x, t_x, T) in exact days")
    preds = fit_purchase_model(queries.purchase_triples(engine), model)
    notes.extend(preds.notes)
    if preds.table is not None:
        queries.register_predictions(engine, preds.table)
    say("fitting Gamma-Gamma on unique (purchase days, value per purchase day)")
    value_fit, gg_notes = fit_gamma_gamma(queries.gamma_pairs(engine))
    notes.extend(gg_notes)
    ev_sql = expected_value_sql(value_fit.params, "i.purchase_days", "i.value_per_day") if value_fit else None

    say("quintile breakpoints")
    breaks = _breakpoints(engine)
    stored = [s for s in schemes if s.name in q.STORED_SCHEMES]
    select = q.snapshot_sql(
        as_of,
        stored,
        cycle,
        breaks=breaks,
        with_predictions=preds.table is not None,
        expected_value_expr=ev_sql,
        clv_flag=clv_flag(preds.fit, value_fit),
    )
    insert_sql = q.insert_snapshot_sql(select, [s.name for s in stored])
    return _Computed(preds.fit, value_fit, breaks, insert_sql)


def _counts(schemes: Sequence[Scheme], rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """Every segment of every scheme, in rule order, zeros included (pure)."""
    found: dict[str, dict[str, int]] = {s.name: {} for s in schemes}
    for scheme, segment, n in rows:
        found[scheme][segment] = int(n)
    return {s.name: {seg: found[s.name].get(seg, 0) for seg in s.segments} for s in schemes}


def refresh(
    engine: Engine,
    db: DuckDBEngine,
    as_of: dt.date | None = None,
    *,
    schemes: Sequence[Scheme] | None = None,
    rules_files: Iterable[Path | str] = (),
    cycle: CycleSettings | None = None,
    progress: Progress | None = None,
    model: str = DEFAULT_PURCHASE_MODEL,
) -> RefreshResult:
    """Build the snapshot at `as_of` (default: the day after the last order) on `engine` and store it in the
    warehouse `db` (for DuckDB, `engine` is `db` itself); `model` is the purchase model (mbg_nbd or bg_nbd).
    Which dates are allowed (not after tomorrow) is the caller's rule (LifecycleService, lifecycle/asof.py)."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    _check_warehouse(db)
    cycle = cycle or CycleSettings()
    scheme_list = _scheme_list(schemes, rules_files)
    as_of = as_of or default_as_of(engine)
    notes: list[str] = []
    with store.unordered_inserts(db):
        try:
            done = _compute(engine, as_of, scheme_list, cycle, say, notes, model)
            run_settings = {
                "cycle": cycle.to_dict(),
                "breakpoints": done.breaks,
                "time_unit": "weeks",
                "model_inputs": "exact days: t_x = last - first purchase day, T = (as_of - 1) - first purchase day",
                "value_unit": "per purchase day",
                "notes": notes,
            }
            say("writing the snapshot")
            members, rows, problems = store.replace_snapshot(
                db,
                engine,
                as_of=as_of,
                insert_sql=done.insert_sql,
                fits=[f for f in (done.fit, done.value_fit) if f is not None],
                schemes=scheme_list,
                settings=run_settings,
                progress=say,
            )
            notes.extend(problems)
        finally:
            queries.drop_temps(engine)
    seconds = time.perf_counter() - started
    store.set_run_seconds(db, as_of, seconds)
    counts = _counts(scheme_list, rows)
    return RefreshResult(as_of, engine.name, members, done.fit, done.value_fit, counts, done.breaks, seconds, notes)


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


def refresh_history(
    engine: Engine,
    db: DuckDBEngine,
    as_of: dt.date | None = None,
    *,
    every: str = "monthly",
    **kwargs: Any,
) -> list[RefreshResult]:
    """Backfill: a snapshot on the first day of every month since the first order, then one at `as_of`."""
    if every != "monthly":
        raise InputError(f"unknown history period {every!r}", hint="Use --history monthly.")
    as_of = as_of or default_as_of(engine)
    first = queries.first_order_day(engine)
    dates = [d for d in month_starts(first, as_of) if d < as_of] if first else []
    return [refresh(engine, db, d, **kwargs) for d in [*dates, as_of]]
