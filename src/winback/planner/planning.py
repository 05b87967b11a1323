"""Putting a plan together (pure): the estimator choice by back-test, the target split, the cells with their gaps,
and the solution's figures."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from winback.i18n import _
from winback.planner import estimate as est
from winback.planner.solver import Choice, probability_at_least
from winback.planner.types import CellEstimate, CellFacts, EstimatorChoice, Option, interval_dict

#: without a back-test (too little history), the combination the demo brand's back-test favoured: the calibrated
#: model (repurchasers and AOV) where the model a year back exists, else the model as it is (docs/planner.md)
DEFAULT_CHOICE = ("calibrated", "calibrated")
FALLBACK_CHOICE = ("model", "model")


def candidates(
    emp: Mapping[est.Key, est.Parts], mod: Mapping[est.Key, est.Parts], cal: Mapping[est.Key, est.Parts] | None = None
) -> dict[tuple[str, str], list[CellEstimate]]:
    """Every combination of a repurchasers estimator (empirical, model, blend, and calibrated when the model of
    the last past period's start exists) with an AOV estimator (empirical, model)."""
    parts = {"empirical": emp, "model": mod, "blend": est.blend(emp, mod)} | ({"calibrated": cal} if cal else {})
    aovs = [*est.ESTIMATORS, *(["calibrated"] if cal else [])]
    return {(r, a): est.combine(parts[r], parts[a]) for r in parts for a in aovs}


def choose(
    backtest: Mapping[tuple[str, str], Sequence[CellEstimate]] | None,
    actual: Sequence[CellFacts] | None,
    backtest_as_of: str | None,
    span_days: int | None = None,
    needs: str | None = None,
    available: Collection[tuple[str, str]] = (),
) -> EstimatorChoice:
    """The repurchasers estimator with the smaller back-test error on repurchasers, then the AOV estimator with
    the smaller error on revenue given it; the default when there is nothing to back-test on (`needs`: the
    snapshots a back-test over the half period would take, said in the reason; `available`: the combinations the
    plan can use, for the default)."""
    if not backtest or not actual:
        r, a = DEFAULT_CHOICE if DEFAULT_CHOICE in available else FALLBACK_CHOICE
        reason = (
            _(
                "no back-test possible (it needs snapshots one and two periods before the as-of, with members); "
                "default: repurchasers and AOV from the purchase model calibrated on its own error a year earlier, "
                "as the demo brand's back-test chose"
            )
            if r == "calibrated"
            else _(
                "no back-test possible (it needs snapshots one and two periods before the as-of, with members); "
                "default: repurchasers and AOV from the purchase model (no model a year before the as-of to "
                "calibrate it on)"
            )
        )
        if needs:
            reason += _("; a back-test over the half period before the as-of needs the snapshots at {dates}",
                        dates=needs)  # fmt: skip
        return EstimatorChoice(r, a, reason)
    errs = {k: est.errors(v, actual) for k, v in backtest.items()}
    usable = {k for k in errs if not available or k in available}  # the as-of may lack one the back-test had
    rate, rate_kept = est.prefer({r: errs[(r, "empirical")] for r in est.RATE_ESTIMATORS if (r, "empirical") in usable},
                                 est.RATE_PREFERENCE, "repurchasers")  # fmt: skip
    aov, aov_kept = est.prefer({a: errs[(rate, a)] for a in est.AOV_ESTIMATORS if (rate, a) in usable},
                               est.AOV_PREFERENCE, "revenue")  # fmt: skip
    shown = {
        f"{r}+{a}": {"repurchasers": e["repurchasers"], "revenue": e["revenue"], "cells": e["cells"]}
        for (r, a), e in errs.items()
    }
    reason = _(
        "back-test at {as_of}: repurchasers error {r_emp:+.1%} (empirical) vs {r_mod:+.1%} (model) vs {r_mix:+.1%} "
        "(their mean); revenue error with {rate} repurchasers {a_emp:+.1%} (empirical AOV) vs {a_mod:+.1%} "
        "(model AOV)",
        as_of=backtest_as_of,
        r_emp=_f(errs[("empirical", "empirical")]["repurchasers"]),
        r_mod=_f(errs[("model", "model")]["repurchasers"]),
        r_mix=_f(errs[("blend", "empirical")]["repurchasers"]),
        rate=_name(rate),
        a_emp=_f(errs[(rate, "empirical")]["revenue"]),
        a_mod=_f(errs[(rate, "model")]["revenue"]),
    )
    if span_days is not None:
        reason += _(
            " (over the {days} days before the as-of: the brand's history is too short for a back-test over a "
            "whole period)",
            days=span_days,
        )
    if ("calibrated", "calibrated") in errs:
        reason += _(
            "; the model calibrated on its own error over the same days a year earlier: repurchasers {r_cal:+.1%}, "
            "revenue with its calibrated AOV {a_cal:+.1%}",
            r_cal=_f(errs[("calibrated", "calibrated")]["repurchasers"]),
            a_cal=_f(errs[("calibrated", "calibrated")]["revenue"]),
        )
    reason += _kept_note(errs, rate, rate_kept, "repurchasers", (rate, "empirical"), (rate_kept, "empirical"))
    reason += _kept_note(errs, aov, aov_kept, "revenue", (rate, aov), (rate, aov_kept))
    shown_bt = {"as_of": backtest_as_of, "errors": shown} | ({"days": span_days} if span_days is not None else {})
    return EstimatorChoice(rate, aov, reason, shown_bt)


def _name(estimator: str) -> str:
    """An estimator's name for the reason."""
    names = {"model": _("model"), "empirical": _("empirical"), "calibrated": _("calibrated model")}
    return names.get(estimator, _("their mean"))


def _kept_note(
    errs: Mapping[tuple[str, str], Mapping[str, object]],
    kept: str,
    against: str | None,
    which: str,
    kept_key: tuple[str, str],
    against_key: tuple[str, str],
) -> str:
    """Why the preferred estimator stayed although another scored better: by how much, against the noise."""
    if against is None:
        return ""
    diff, se = est.margin(errs[against_key], errs[kept_key], which)
    return _(
        "; {which}: {kept} kept although {other} scored {diff:.3f} better ({a:.3f} vs {b:.3f}): not clearly better, "
        "the difference is within {k:.0f} standard errors of the cells' paired differences ({se:.3f})",
        which=_("repurchasers") if which == "repurchasers" else _("revenue"),
        kept=_name(kept),
        other=_name(against),
        diff=diff,
        a=est.score(errs[against_key], which),
        b=est.score(errs[kept_key], which),
        k=est.CLEARLY,
        se=se,
    )


def _f(v: object) -> float:
    return float(v) if isinstance(v, (int, float)) else math.nan


def split_target(
    target: float, share: float | None, new_revenue: float | None, past_share: float | None
) -> tuple[float, float, str]:
    """(new members' part, existing members' part, how the split was made)."""
    if new_revenue is not None:
        return new_revenue, target - new_revenue, _("new members' part as given")
    if share is not None:
        return target * share, target * (1 - share), _("new members' share as given ({share:.0%})", share=share)
    s = past_share or 0.0
    return (
        target * s,
        target * (1 - s),
        _("new members' share of member revenue in the last past period ({share:.1%})", share=s),
    )


def plan_cells(cells: Sequence[CellEstimate], existing_target: float) -> list[dict[str, Any]]:
    """Each cell with its share of the existing members' target (by status-quo revenue) and its gap."""
    sq = sum(c.revenue for c in cells)
    out = []
    for c in cells:
        d = c.to_dict()
        target = existing_target * c.revenue / sq if sq > 0 else existing_target / max(len(cells), 1)
        d["target_revenue"] = round(target, 2)
        d["gap"] = round(target - c.revenue, 2)
        out.append(d)
    return out


def status_quo(cells: Sequence[CellEstimate]) -> dict[str, Any]:
    reps, reps_sd, rev, rev_sd = est.totals(cells)
    members = sum(c.members for c in cells)
    return {
        "members": members,
        "repurchasers": interval_dict(reps, reps_sd, 1),
        "revenue": interval_dict(rev, rev_sd),
        "rate": round(float(reps / members), 4) if members else None,
        "aov": round(float(rev / reps), 2) if reps else None,
        "repurchasers_sd": round(reps_sd, 2),
        "revenue_sd": round(rev_sd, 2),
    }


def solution_figures(
    sq: Mapping[str, Any], existing_target: float, opts: Sequence[Option], choice: Choice, margin: float
) -> dict[str, Any]:
    """Expected contribution (status quo + chosen gains) with its interval, cost, incremental ROI, and the
    probability that existing members reach their target."""
    chosen = [opts[i] for i in choice.chosen]
    gain = sum(o.gain for o in chosen)
    gain_sd = math.sqrt(sum(o.gain_sd**2 for o in chosen))
    mean = float(sq["revenue"]["value"]) + gain
    sd = math.sqrt(float(sq["revenue_sd"]) ** 2 + gain_sd**2)
    cost = sum(o.cost for o in chosen)
    roi = (gain * margin - cost) / cost if cost > 0 else None
    return {
        "chosen": chosen,
        "expected_contribution": interval_dict(mean, sd),
        "incremental": interval_dict(gain, gain_sd),
        "cost": round(cost, 2),
        "incremental_roi": round(roi, 3) if roi is not None else None,
        "probability_of_target": round(float(probability_at_least(existing_target, mean, sd) or 0.0), 4),
    }


def solve_notes(status: str, gap: float, chosen: Sequence[Option], hours: float | None, margin: float) -> list[str]:
    """What the solution means, in words: the status, where the effects come from, the resources."""
    notes = []
    if gap <= 0:
        notes.append(_("the status quo already reaches the existing members' target: no measure is needed for it"))
    elif status == "gap_not_closable":
        notes.append(
            _(
                "the measures at hand cannot close the gap of {gap:,.0f}: this is the most they can bring; add "
                "measures or audiences, or lower the target",
                gap=gap,
            )
        )
    defaults = sorted({o.measure for o in chosen if o.effect.source == "seed_default"})
    if defaults:
        notes.append(
            _(
                "effects of {measures} are seed defaults (no measured campaign of their scenario in those "
                "stages yet): measure them with a control group before relying on them",
                measures=", ".join(defaults),
            )
        )
    used = sum(o.guide_hours for o in chosen)
    if hours is not None:
        notes.append(_("guide hours: {used:,.0f} of {hours:,.0f} available", used=used, hours=hours))
    notes.append(_("incremental ROI = (incremental revenue × margin {margin:.0%} − cost) / cost", margin=margin))
    return notes
