"""After the period (pure): estimate vs target vs actual per cell, and the total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from winback.planner.types import CellFacts


def _rel(a: float | None, b: float | None) -> float | None:
    return round(a / b - 1.0, 4) if a is not None and b else None


def review_cells(
    plan_cells: Sequence[Mapping[str, Any]], actual: Sequence[CellFacts], increments: Mapping[tuple[str, str], float]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per plan cell: the status-quo estimate, the target (the cell's share of the existing-member target, and the
    estimate plus the chosen measures' gain), what happened, and actual vs each."""
    act = {(c.stage, c.tier): c for c in actual}
    rows = []
    for c in plan_cells:
        key = (c["stage"], c["tier"])
        a = act.get(key)
        est = float(c["revenue"] or 0.0)
        planned = est + increments.get(key, 0.0)
        actual_rev = a.revenue if a else 0.0
        rows.append({
            "stage": c["stage"], "tier": c["tier"], "members": c["members"],
            "estimate_repurchasers": c["repurchasers"], "actual_repurchasers": a.repurchasers if a else 0,
            "estimate_revenue": round(est, 2), "planned_revenue": round(planned, 2),
            "target_revenue": c.get("target_revenue"), "actual_revenue": round(actual_rev, 2),
            "actual_vs_estimate": _rel(actual_rev, est), "actual_vs_plan": _rel(actual_rev, planned),
            "actual_vs_target": _rel(actual_rev, c.get("target_revenue")),
        })  # fmt: skip
    tot = {
        k: round(sum(float(r[k] or 0) for r in rows), 2)
        for k in (
            "estimate_repurchasers",
            "actual_repurchasers",
            "estimate_revenue",
            "planned_revenue",
            "target_revenue",
            "actual_revenue",
        )
    }
    tot["actual_vs_estimate"] = _rel(tot["actual_revenue"], tot["estimate_revenue"])
    tot["actual_vs_plan"] = _rel(tot["actual_revenue"], tot["planned_revenue"])
    tot["actual_vs_target"] = _rel(tot["actual_revenue"], tot["target_revenue"])
    return rows, tot
