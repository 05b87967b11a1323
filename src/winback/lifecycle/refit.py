"""When a refresh refits the purchase and value models, and when it reuses the last fit (pure).

A daily refresh changes a few percent of the members at most; the model parameters describe the whole brand and
barely move from one day to the next, while a fit on 10M members costs seconds. So the refresh refits on a
schedule: when there is no earlier fit to reuse, when `--full` asks for it, when the last fit is a week old (or
was made for a later date, or for the other purchase model), or when the members whose facts changed since the
last fit exceed a share of all members (the `refit_change` setting, WINBACK_REFIT_CHANGE, default 5 %). Between
refits an incremental refresh carries what belongs to the fit from the previous snapshot (refresh._plan): the
cohort priors (recomputed only when a new tier × store appears) and the predictions per (x, T), shifted by the
days between (an unchanged member's T grows by exactly that), computing only the histories of the members whose
facts changed. Each snapshot says which fit it used (snapshot_runs.settings["fit"], `refresh --json`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from winback.lifecycle.modelling import ModelFit

REFIT_DAYS = 7  # a fit older than this is renewed
DEFAULT_REFIT_CHANGE = 0.05


@dataclass(frozen=True)
class FitPlan:
    refit: bool
    reason: str  # a fixed word: first | full | stale | model | future | changed | failed | reuse
    fit_as_of: dt.date | None  # the date of the fit to reuse (None: refit)
    purchase: ModelFit | None = None
    purchase_days_params: dict[str, float] | None = None
    value: ModelFit | None = None
    changed_since: int = 0  # members whose facts changed since that fit (before this refresh's changes)


def _fit(d: dict[str, Any] | None) -> ModelFit | None:
    if not d:
        return None
    return ModelFit(
        name=d["name"],
        params=dict(d["params"]),
        time_unit=d.get("time_unit"),
        loglik=d.get("loglik"),
        converged=d.get("converged"),
        n=int(d.get("n") or 0),
    )


def plan(
    previous: dict[str, Any] | None,
    as_of: dt.date,
    *,
    model: str,
    changed: int | None,
    members: int,
    full: bool,
    threshold: float = DEFAULT_REFIT_CHANGE,
) -> FitPlan:
    """Refit or reuse `previous` (the last snapshot's settings["fit"]); `changed`: members whose facts this
    refresh changed (None: unknown, a full rebuild); `members`: members in the new snapshot."""
    if full:
        return FitPlan(True, "full", None)
    if not previous or not previous.get("as_of"):
        return FitPlan(True, "first", None)
    fit_as_of = dt.date.fromisoformat(previous["as_of"])
    purchase = _fit(previous.get("purchase"))
    days_params = previous.get("purchase_days_params")
    since = int(previous.get("changed_since") or 0) + int(changed or 0)
    if previous.get("model") != model:
        return FitPlan(True, "model", None)
    if purchase is None or not days_params:
        return FitPlan(True, "failed", None)
    if fit_as_of > as_of:
        return FitPlan(True, "future", None)
    if (as_of - fit_as_of).days >= REFIT_DAYS:
        return FitPlan(True, "stale", None)
    if changed is None or since > threshold * max(members, 1):
        return FitPlan(True, "changed", None)
    return FitPlan(False, "reuse", fit_as_of, purchase, dict(days_params), _fit(previous.get("value")), since)


def record(
    plan_used: FitPlan,
    as_of: dt.date,
    *,
    model: str,
    purchase: ModelFit | None,
    purchase_days_params: dict[str, float] | None,
    value: ModelFit | None,
) -> dict[str, Any]:
    """settings["fit"] of the new snapshot: which fit it used and what the next refresh needs to reuse it."""
    fit_as_of = as_of if plan_used.refit else plan_used.fit_as_of
    return {
        "as_of": fit_as_of.isoformat() if fit_as_of else None,
        "refit": plan_used.refit,
        "reason": plan_used.reason,
        "model": model,
        "purchase": purchase.to_dict() if purchase else None,
        "purchase_days_params": purchase_days_params,
        "value": value.to_dict() if value else None,
        "changed_since": 0 if plan_used.refit else plan_used.changed_since,
    }
