"""The status quo's estimators at an as-of, from the warehouse (planner/store.py) and the pure estimators
(planner/estimate.py): every combination of a repurchasers and an AOV estimator, per cell (docs/planner.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from winback.errors import NotFoundError
from winback.i18n import _
from winback.planner import estimate as est
from winback.planner import matrix, planning, store
from winback.planner.types import CellEstimate

if TYPE_CHECKING:
    from winback.engine.duckdb_engine import DuckDBEngine


def missing(dates: Sequence[dt.date]) -> NotFoundError:
    shown = ", ".join(d.isoformat() for d in dates)
    cmds = "; ".join(f"winback refresh --as-of {d.isoformat()}" for d in dates)
    return NotFoundError(
        _(
            "the planner needs the lifecycle snapshot at {dates} (members and stages at each period's start)",
            dates=shown,
        ),
        hint=_(
            "Build them with: {commands}; then run `winback refresh` once more so the newest snapshot stays "
            "everybody's default.",
            commands=cmds,
        ),
    )


def candidates_at(
    db: DuckDBEngine, as_of: dt.date, days: int, dates: set[dt.date]
) -> dict[tuple[str, str], list[CellEstimate]]:
    """Every estimator combination's cells at `as_of` for a period of `days`."""
    if as_of not in dates:
        raise missing([as_of])
    targets = {(c.stage, c.tier): c.members for c in store.cell_facts(db, as_of, as_of, as_of)}
    first = store.first_order_day(db)
    past = [p for p in matrix.past_periods(as_of, days, 2) if first is None or p.start >= first]
    have = [p for p in past if p.start in dates]
    if not have or have[-1] != past[-1]:
        raise missing([p.start for p in past if p.start not in dates][-1:] or [past[-1].start])
    facts = [(p, store.cell_facts(db, p.start, p.start, p.end)) for p in have]
    facts = [(p, f) for p, f in facts if f]  # a snapshot without members (at the first order) says nothing
    if not facts or facts[-1][0] != past[-1]:
        raise NotFoundError(
            _("there were no members at {date}, the start of the period before {as_of}: nothing to estimate "
              "from", date=past[-1].start.isoformat(), as_of=as_of.isoformat()),
            hint=_("Plan from a later as-of (--as-of), one period after the brand's first members."),
        )  # fmt: skip
    history = [f for _p, f in facts]
    last = past[-1]
    emp = est.never_bought(est.empirical(history, targets), store.never_bought(db, last.start, last.start,
                           last.end), store.never_bought(db, as_of, as_of, as_of), targets)  # fmt: skip
    mod = _model(db, as_of, days, targets, emp)
    return planning.candidates(emp, mod, _calibrated(db, as_of, days, mod, dates))


def _calibrated(
    db: DuckDBEngine, as_of: dt.date, days: int, mod: dict[tuple[str, str], est.Parts], dates: set[dt.date]
) -> dict[tuple[str, str], est.Parts] | None:
    """The model corrected by its error over the same season a year earlier: the model of the snapshot a year
    before `as_of` against what its members did in the `days` that followed (for a year-long period, the last past
    period). None without that snapshot, its model, or its days all before `as_of`."""
    start = matrix.add_years(as_of, -1)
    end = start + dt.timedelta(days=days)
    if start not in dates or end > as_of:
        return None
    name, params, inputs = store.model_inputs(db, start)
    if not (name and params) or len(inputs.get("x", ())) == 0:
        return None
    old = {(c.stage, c.tier): c.members for c in store.cell_facts(db, start, start, start)}
    none = {k: est.Parts(n, 0.0, 0.0, 0.0, 0.0, 0.0) for k, n in old.items()}
    predicted = est.model_parts(est.purchase_model(name, params), days, inputs, old, none)
    return est.calibrate(mod, predicted, store.cell_facts(db, start, start, end))


def _model(
    db: DuckDBEngine,
    as_of: dt.date,
    days: int,
    targets: dict[tuple[str, str], int],
    fallback: dict[tuple[str, str], est.Parts],
) -> dict[tuple[str, str], est.Parts]:
    name, params, inputs = store.model_inputs(db, as_of)
    model = est.purchase_model(name, params) if name and params else None
    return est.model_parts(model, days, inputs, targets, fallback)
