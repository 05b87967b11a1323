"""`refresh`: build the member snapshot and segments at an as-of date (the service behind `winback refresh`).

Heavy SQL runs on the engine (DuckDB or Spark); only compact statistics come back to Python for the model fits
and quintile breakpoints; the final snapshot is written into the DuckDB warehouse (in place on DuckDB).
A refresh replaces the rows of its own as-of date in member_snapshot, model_fits and snapshot_runs and recreates the
member_segments view (segments are computed from the snapshot and the rules, never stored) inside one transaction:
a failed refresh changes nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pyarrow as pa

from winback.errors import ConfigError, InputError
from winback.i18n import _
from winback.lifecycle import queries, queries_facts, refit, snapshot_view, store, store_facts
from winback.lifecycle.cycle import CycleSettings
from winback.lifecycle.facts_update import FactsUpdate, update_facts
from winback.lifecycle.modelling import (
    DEFAULT_PURCHASE_MODEL,
    ModelFit,
    Predictions,
    alive_params,
    clv_flag,
    complete_with_fit,
    fit_gamma_gamma,
    fit_purchase_model,
    predict_with_fit,
)
from winback.lifecycle.quintiles import breakpoints
from winback.lifecycle.rules import Scheme, load_schemes

if TYPE_CHECKING:
    from winback.engine.base import Engine
    from winback.engine.duckdb_engine import DuckDBEngine

Progress = Callable[[str], None]


class StatsSource(Protocol):
    """Makes the temp BASE (snapshot_sql.BASE's columns) and PRIOR at a date another way (_compute's `stats`)."""

    def create_base(self, db: DuckDBEngine, as_of: dt.date) -> None: ...

    def create_prior(self, db: DuckDBEngine, cycle: CycleSettings) -> None: ...


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
    #: which model fit the snapshot used: {as_of, refit, reason} (refit.py)
    fit: dict[str, Any] | None = None
    #: how the member facts were brought to as_of: {mode, reason, changed_members} (facts_update.py)
    facts: dict[str, Any] | None = None
    #: what was summed for the console's pages after it (LifecycleService.prepare's Prepared), None when not asked
    pages: dict[str, Any] | None = None

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
            "pages": self.pages,
        }
        if self.fit is not None:
            out["fit"] = self.fit
        if self.facts is not None:
            out["facts"] = self.facts
        if self.history is not None:
            out["history"] = [d.isoformat() for d in self.history]
        return out


@dataclass
class _Computed:
    """What the passes over the facts produced before the write: fits, breakpoints, predictions per unique
    history, the member_snapshot view's parameters for this date and the record of the fit used."""

    fit: ModelFit | None
    value_fit: ModelFit | None
    breaks: dict[str, list[float]]
    preds: Predictions
    view: dict[str, Any]
    fit_record: dict[str, Any]
    notes: list[str]
    members: int  # in the snapshot at as_of


def default_as_of(engine: Engine) -> dt.date:
    """The day after the last paid or refunded order."""
    last = queries.last_order_day(engine)
    if last is None:
        raise InputError(
            _("there are no orders to build a snapshot from"),
            hint=_("Import orders first (winback import orders FILE), or give --as-of DATE."),
        )
    return last + dt.timedelta(days=1)


def _value_counts(db: DuckDBEngine, as_of: dt.date, based: bool, since: dt.date | None) -> pa.Table:
    """(k, v, n) for k in r / f / m, the distributions the quintile breakpoints are taken from: from the per-member
    BASE (`based`), else carried from the counts kept at `since` (the incremental path's previous snapshot:
    store_facts.carried_value_counts), else in one pass over the stored facts at as_of. Kept for the next refresh."""
    if based:  # one pass over BASE
        counts = queries.value_counts_base(db)
    else:
        carried = store_facts.carried_value_counts(db, since, as_of) if since is not None else None
        counts = carried if carried is not None else queries.value_counts_at(db, as_of)
    store_facts.write_value_counts(db, as_of, counts)
    return counts


def _breakpoints(counts: pa.Table) -> dict[str, list[float]]:
    """The quintile breakpoints of r, f and m from their value counts (k, v, n)."""
    k = np.asarray(counts["k"].to_numpy(zero_copy_only=False))
    v = np.asarray(counts["v"].to_numpy(zero_copy_only=False), dtype=float)
    n = np.asarray(counts["n"].to_numpy(zero_copy_only=False), dtype=np.int64)
    return {key: breakpoints(v[k == key], n[k == key]) for key in "rfm"}


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
        raise ConfigError(_("no segmentation scheme to apply"), hint=_("Use the shipped rules or pass --rules FILE."))
    return scheme_list


def _plan(
    as_of: dt.date, cycle: CycleSettings, model: str, facts: FactsUpdate, members: int, refit_change: float
) -> tuple[refit.FitPlan, dt.date | None]:
    """Refit or reuse the last fit (refit.py), and the previous snapshot's date when its cohort priors and
    predictions carry over (the fit is reused, the facts were brought incrementally from that snapshot, which kept
    its predictions per (x, T) with the same cycle settings): None otherwise."""
    previous = facts.previous or {}
    fit_plan = refit.plan(
        previous.get("fit"),
        as_of,
        model=model,
        changed=facts.changed,
        members=members,
        full=facts.reason == "asked",
        threshold=refit_change,
    )
    snap = previous.get("snapshot") or {}
    same = snap.get("alive") and snap.get("with_predictions") and snap.get("cycle") == cycle.to_dict()
    carry = facts.since if not fit_plan.refit and facts.mode == "incremental" and same else None
    return fit_plan, carry


def _fit_meanwhile(db: DuckDBEngine, model: str, as_of: dt.date | None = None) -> Future[Predictions]:
    """The purchase model fitted on the unique (x, t_x, T) in a thread, while the warehouse goes on with the
    statements that do not need it (the per-member statistics, cohort priors, value counts, Gamma-Gamma pairs):
    the fit is one Python thread (~1.8 s at 10M members) whose array loops release the GIL, as DuckDB does while
    it runs a statement, so on two cores the two overlap (wall only, CPU unchanged). Only the fit uses
    warnings.catch_warnings meanwhile (the value model is fitted after it), so the global warning filters are not
    raced. `as_of`: the triples straight from the stored facts (before BASE is made), else from BASE."""
    triples = queries.purchase_triples(db, as_of)
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="winback-fit")
    try:
        return pool.submit(fit_purchase_model, triples, model)
    finally:
        pool.shutdown(wait=False)  # the submitted fit still runs; its result is taken in _fit_models


def _fit_models(
    db: DuckDBEngine,
    as_of: dt.date,
    model: str,
    plan: tuple[refit.FitPlan, dt.date | None],
    share: float,
    say: Progress,
    fitting: Future[Predictions] | None = None,
) -> tuple[Predictions, ModelFit | None, list[str]]:
    """Refit the purchase and value models or reuse the last fit; predict per unique history (with `carry`, only
    the histories the previous snapshot had not predicted with that fit). `fitting`: the purchase model's refit
    already under way (_fit_meanwhile)."""
    label = "BG/NBD" if model == "bg_nbd" else "MBG/NBD"
    fit_plan, carry = plan
    notes: list[str] = []
    if fit_plan.refit:
        say(_("fitting {model} on unique (x, t_x, T) in exact days", model=label))
        fitting = fitting or _fit_meanwhile(db, model)
        pairs = queries.gamma_pairs(db)  # while the purchase model fits
        preds = fitting.result()
        say(_("fitting Gamma-Gamma on unique (purchase days, value per purchase day)"))
        value_fit, gg_notes = fit_gamma_gamma(pairs)
        notes.extend(gg_notes)
    else:
        assert fit_plan.purchase is not None and fit_plan.purchase_days_params is not None
        say(_("predicting per unique history with the fit of {date}", date=str(fit_plan.fit_as_of)))
        if carry is not None:
            pairs = store_facts.carried_predictions(db, carry, as_of)
            preds = complete_with_fit(pairs, fit_plan.purchase, fit_plan.purchase_days_params)
        else:
            preds = predict_with_fit(queries.purchase_triples(db), fit_plan.purchase, fit_plan.purchase_days_params)
        value_fit = fit_plan.value
        notes.append(
            _(
                "model fit of {date} reused ({n} members changed since; the models are refitted weekly or when "
                "more than {share} of the members changed, or with --full)",
                date=str(fit_plan.fit_as_of),
                n=f"{fit_plan.changed_since:,}",
                share=f"{share:.0%}",
            )
        )
    notes[:0] = preds.notes
    return preds, value_fit, notes


def _compute(
    db: DuckDBEngine,
    as_of: dt.date,
    cycle: CycleSettings,
    facts: FactsUpdate,
    say: Progress,
    model: str,
    refit_change: float,
    members: int | None = None,
    stats: StatsSource | None = None,
) -> _Computed:
    """On the warehouse, over the facts at as_of: per-member base, cohort priors (held with a reused fit), model
    fits or their reuse, breakpoints; what the member_snapshot view needs for this date. `members`: the count of
    the facts at as_of when the caller has it (`refresh --history` counts every date at once); `stats`: makes
    BASE and PRIOR instead of queries.create_base / create_prior (`refresh --history`: from its integer rows)."""
    since = facts.since if facts.mode == "incremental" else None
    members = store_facts.facts_count(db, as_of, since) if members is None else members
    fit_plan, carry = _plan(as_of, cycle, model, facts, members, refit_change)
    say(_("cohort priors"))
    based = carry is None or not store_facts.carry_priors(db, carry, as_of)
    fitting = None
    if based and stats is not None:  # BASE first (cheap there), the fit on its triples while PRIOR is made
        stats.create_base(db, as_of)
        fitting = _fit_meanwhile(db, model) if fit_plan.refit else None
        stats.create_prior(db, cycle)
    elif based:  # the per-member statistics: for the priors, the fits and the breakpoints (made while it fits)
        fitting = _fit_meanwhile(db, model, as_of) if fit_plan.refit else None
        queries.create_base(db, as_of)
        queries.create_prior(db, cycle)
    say(_("quintile breakpoints"))  # before the fits: with a refit, counted while the purchase model fits
    breaks = _breakpoints(_value_counts(db, as_of, based, since))
    preds, value_fit, notes = _fit_models(db, as_of, model, (fit_plan, carry), refit_change, say, fitting)
    fit_record = refit.record(
        fit_plan, as_of, model=model, purchase=preds.fit, purchase_days_params=preds.days_params, value=value_fit
    )
    params = snapshot_view.view_params(
        cycle=cycle,
        breaks=breaks,
        with_predictions=preds.table is not None,
        value_params=value_fit.params if value_fit else None,
        clv_flag=clv_flag(preds.fit, value_fit),
        alive=alive_params(preds),
    )
    return _Computed(preds.fit, value_fit, breaks, preds, params, fit_record, notes, members)


def _counts(schemes: Sequence[Scheme], rows: Iterable[tuple[str, str, int]]) -> dict[str, dict[str, int]]:
    """Every segment of every scheme, in rule order, zeros included (pure)."""
    found: dict[str, dict[str, int]] = {s.name: {} for s in schemes}
    for scheme, segment, n in rows:
        found[scheme][segment] = int(n)
    return {s.name: {seg: found[s.name].get(seg, 0) for seg in s.segments} for s in schemes}


def _run_settings(cycle: CycleSettings, done: _Computed, facts: FactsUpdate) -> dict[str, Any]:
    """snapshot_runs.settings: what the refresh used, what the member_snapshot view needs for this date, which
    fit it used, how the facts were updated and the watermark the next incremental refresh starts from."""
    return {
        "cycle": cycle.to_dict(),
        "breakpoints": done.breaks,
        "time_unit": "weeks",
        "model_inputs": "exact days: t_x = last - first purchase day, T = (as_of - 1) - first purchase day",
        "value_unit": "per purchase day",
        "notes": done.notes,
        "storage": snapshot_view.STORAGE_FACTS,
        "snapshot": done.view,
        "fit": done.fit_record,
        "facts": facts.to_dict(),
        "watermark": facts.watermark,
    }


def _import_models_meanwhile() -> threading.Thread:
    """Import the models (winback.models: scipy.special, ~0.3 s of a single Python thread) in a thread while the
    refresh's first statements run: every refresh with purchases needs them (a refit fits; a reused fit predicts
    the day's new (x, T)), and DuckDB releases the GIL while it runs a statement, so the import's wall time hides
    behind the facts update instead of adding to it (its CPU is the same). Joined before the refresh returns."""

    def load() -> None:
        import contextlib

        with contextlib.suppress(ImportError):
            import winback.models  # noqa: F401

    thread = threading.Thread(target=load, name="winback-import-models", daemon=True)
    thread.start()
    return thread


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
    full: bool = False,
    refit_change: float = refit.DEFAULT_REFIT_CHANGE,
) -> RefreshResult:
    """Build the snapshot at `as_of` (default: the day after the last order) and store it in the warehouse `db`:
    the member facts on `engine` (for DuckDB, `engine` is `db` itself), incrementally when possible unless
    `full` (facts_update.py), everything after them on the warehouse; `model` is the purchase model (mbg_nbd or
    bg_nbd), refitted on a schedule (refit.py, `refit_change`). Which dates are allowed (not after tomorrow) is
    the caller's rule (LifecycleService, lifecycle/asof.py)."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    _check_warehouse(db)
    cycle = cycle or CycleSettings()
    scheme_list = _scheme_list(schemes, rules_files)
    as_of = as_of or default_as_of(engine)
    models = _import_models_meanwhile()
    try:
        with store.refresh_transaction(db):
            facts = update_facts(engine, db, as_of, full=full, say=say)
            done = _compute(db, as_of, cycle, facts, say, model, refit_change)
            say(_("writing the snapshot"))
            members, rows, problems = store.replace_snapshot(
                db,
                engine_name=engine.name,
                as_of=as_of,
                predictions=done.preds.table,
                fits=[f for f in (done.fit, done.value_fit) if f is not None],
                schemes=scheme_list,
                settings=_run_settings(cycle, done, facts),
                progress=say,
                members=done.members,
            )
    finally:
        queries_facts.drop(engine)
        queries.drop_temps(engine)
        if engine is not db:
            queries.drop_temps(db)
        models.join()
    seconds = time.perf_counter() - started
    store.set_run_seconds(db, as_of, seconds)
    counts = _counts(scheme_list, rows)
    notes = [*done.notes, *problems]
    result = RefreshResult(as_of, engine.name, members, done.fit, done.value_fit, counts, done.breaks, seconds, notes)
    result.fit = {k: done.fit_record[k] for k in ("as_of", "refit", "reason")}
    result.facts = facts.to_dict()
    return result
