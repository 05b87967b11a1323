"""Which measures to take (pure): a 0/1 mixed-integer programme solved with HiGHS (`scipy.optimize.milp`).

Variables: one per option (a measure on a cell), 1 = taken. Constraints: at most one option per cell and lever
(two measures raising the same cell's rate do not add up), the guide hours available, forced options (what-ifs)
taken. Objective:
- `close_gap`: the least cost whose expected gain reaches the gap; when no set reaches it, the largest gain
  (status `gap_not_closable`);
- `budget`: the largest expected gain whose cost is within the budget.
Ties are broken toward the cheaper (close_gap: the larger gain) set by a tiny secondary term.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from winback.i18n import N_
from winback.planner.types import Option

TIE = 1e-7
#: the statuses a solution can have, as shown to people
STATUSES = (N_("optimal"), N_("gap_not_closable"), N_("infeasible"))


@dataclass(frozen=True)
class Choice:
    status: str  # optimal | gap_not_closable | infeasible
    chosen: tuple[int, ...]
    gain: float
    cost: float


def groups(opts: Sequence[Option]) -> list[list[int]]:
    """Indices of options that exclude each other (same cell, same lever)."""
    found: dict[tuple[str, str, str], list[int]] = {}
    for i, o in enumerate(opts):
        found.setdefault((o.stage, o.tier, o.lever), []).append(i)
    return [g for g in found.values() if len(g) > 1]


def _milp(
    c: np.ndarray, rows: list[np.ndarray], lo: list[float], hi: list[float], lower: np.ndarray
) -> np.ndarray | None:
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(c)
    cons = [LinearConstraint(np.vstack(rows), np.array(lo), np.array(hi))] if rows else []
    res = milp(
        c, constraints=cons, integrality=np.ones(n), bounds=Bounds(lower, np.ones(n)), options={"mip_rel_gap": 0.0}
    )
    if res.x is None or res.status != 0:
        return None
    return np.round(res.x).astype(int)


def solve(
    opts: Sequence[Option], *, gap: float, budget: float | None = None, guide_hours: float | None = None
) -> Choice:
    """The optimal set of options (see the module docstring)."""
    n = len(opts)
    if n == 0:
        return Choice("optimal" if gap <= 0 or budget is not None else "gap_not_closable", (), 0.0, 0.0)
    gain = np.array([o.gain for o in opts], dtype=float)
    cost = np.array([o.cost for o in opts], dtype=float)
    hours = np.array([o.guide_hours for o in opts], dtype=float)
    lower = np.array([1.0 if o.forced else 0.0 for o in opts])
    rows: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []
    for g in groups(opts):
        row = np.zeros(n)
        row[g] = 1.0
        rows.append(row), lo.append(-math.inf), hi.append(1.0)
    if guide_hours is not None:
        rows.append(hours), lo.append(-math.inf), hi.append(float(guide_hours))
    scale_g, scale_c = max(float(np.abs(gain).sum()), 1.0), max(float(np.abs(cost).sum()), 1.0)
    if budget is not None:
        x = _milp(-gain / scale_g + TIE * cost / scale_c, [*rows, cost], [*lo, -math.inf], [*hi, float(budget)], lower)
        return _choice("optimal" if x is not None else "infeasible", x, gain, cost)
    if gap <= 0:
        x = _milp(cost / scale_c - TIE * gain / scale_g, rows, lo, hi, lower)
        return _choice("optimal" if x is not None else "infeasible", x, gain, cost)
    x = _milp(cost / scale_c - TIE * gain / scale_g, [*rows, gain], [*lo, float(gap)], [*hi, math.inf], lower)
    if x is not None:
        return _choice("optimal", x, gain, cost)
    x = _milp(-gain / scale_g + TIE * cost / scale_c, rows, lo, hi, lower)
    return _choice("gap_not_closable" if x is not None else "infeasible", x, gain, cost)


def _choice(status: str, x: np.ndarray | None, gain: np.ndarray, cost: np.ndarray) -> Choice:
    if x is None:
        return Choice(status, (), 0.0, 0.0)
    idx = tuple(int(i) for i in np.flatnonzero(x))
    return Choice(
        status, idx, float(gain[list(idx)].sum()) if idx else 0.0, float(cost[list(idx)].sum()) if idx else 0.0
    )


def probability_at_least(target: float, mean: float, sd: float) -> float | None:
    """P(X ≥ target) for X normal(mean, sd)."""
    if sd <= 0:
        return 1.0 if mean >= target else 0.0
    return 0.5 * math.erfc((target - mean) / (sd * math.sqrt(2.0)))
