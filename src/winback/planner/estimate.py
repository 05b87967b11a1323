"""Status-quo estimators for the coming period, per stage × tier cell, with standard deviations (pure).

Two estimators, each giving the repurchasers and the AOV (revenue per repurchaser) of a cell:

- `empirical`: the cell's rate and AOV in the last past period, shrunk toward its stage (all tiers) when the cell
  is small (rate toward its stage over all tiers, 20 pseudo-members; AOV toward its tier over all stages, 10
  pseudo-repurchasers), times a damped trend (the square root of the
  change between the last two periods, within ×2/3 … ×3/2) when two past periods have the cell.
- `blend` (repurchasers only): the mean of the two, its variance widened by their disagreement.
- `model`: the member-level purchase model of the snapshot at the as-of date (MBG/NBD or BG/NBD): per member
  P(at least one purchase in the period) and the expected purchase days, times the Gamma-Gamma value per purchase
  day, summed to cells. Members who never bought have no model: their cells take the empirical figures.

Variances: repurchasers are a sum of Bernoulli draws (Σ p(1−p)) plus, for the empirical rate, the uncertainty of
the rate itself (n² p(1−p)/(N+20)); revenue = repurchasers × AOV adds the spread of spend per repurchaser
(R·σ²) and the uncertainty of the AOV (R²·σ²/(R_hist+10)). Cells are treated as independent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from winback.planner.types import CellEstimate, CellFacts

RATE_PSEUDO = 20.0
AOV_PSEUDO = 10.0
TREND_MIN_MEMBERS = 30
TREND_BOUNDS = (2 / 3, 3 / 2)
ESTIMATORS = ("empirical", "model")
#: repurchasers may also come from the mean of the two (an ensemble), when the back-test says it is better
RATE_ESTIMATORS = (*ESTIMATORS, "blend", "calibrated")
#: the AOV may also come from the calibrated model (its AOV corrected by its own error a period earlier)
AOV_ESTIMATORS = (*ESTIMATORS, "calibrated")


@dataclass(frozen=True)
class Parts:
    """One estimator's view of one cell: repurchasers (mean, variance) and AOV (mean, its variance, the variance
    of spend per repurchaser)."""

    members: int
    reps: float
    reps_var: float
    aov: float
    aov_var: float
    spend_var: float


Key = tuple[str, str]


def _pools(cells: Sequence[CellFacts]) -> tuple[dict[str, CellFacts], dict[str, CellFacts], CellFacts]:
    """(per stage over all tiers, per tier over all stages, overall)."""
    by_stage: dict[str, list[CellFacts]] = {}
    by_tier: dict[str, list[CellFacts]] = {}
    for c in cells:
        by_stage.setdefault(c.stage, []).append(c)
        by_tier.setdefault(c.tier, []).append(c)

    def tot(cs: Sequence[CellFacts], stage: str, tier: str) -> CellFacts:
        return CellFacts(
            stage,
            tier,
            sum(c.members for c in cs),
            sum(c.repurchasers for c in cs),
            sum(c.revenue for c in cs),
            sum(c.revenue_sq for c in cs),
        )

    return (
        {s: tot(cs, s, "*") for s, cs in by_stage.items()},
        {t: tot(cs, "*", t) for t, cs in by_tier.items()},
        tot(cells, "*", "*"),
    )


def _spend_var(c: CellFacts) -> float | None:
    if c.repurchasers < 2:
        return None
    mean = c.revenue / c.repurchasers
    return max(c.revenue_sq / c.repurchasers - mean * mean, 0.0)


def _shrunk(
    cell: CellFacts | None, stage: CellFacts | None, tier: CellFacts | None, overall: CellFacts
) -> tuple[float, float, float, float]:
    """(rate, effective members, aov, effective repurchasers) of a cell: its rate shrunk toward its stage's (rates
    follow the stage), its AOV toward its tier's (spend follows the tier); overall where those are empty."""
    rp = stage if stage is not None and stage.members else overall
    ap = tier if tier is not None and tier.repurchasers else overall
    p0 = rp.repurchasers / rp.members if rp.members else 0.0
    a0 = ap.revenue / ap.repurchasers if ap.repurchasers else 0.0
    n, r, rev = (cell.members, cell.repurchasers, cell.revenue) if cell else (0, 0, 0.0)
    rate = (r + RATE_PSEUDO * p0) / (n + RATE_PSEUDO)
    aov = (rev + AOV_PSEUDO * a0) / (r + AOV_PSEUDO)
    return rate, n + RATE_PSEUDO, aov, r + AOV_PSEUDO


def _trend(now: float, before: float | None) -> float:
    if before is None or before <= 0 or now <= 0:
        return 1.0
    lo, hi = TREND_BOUNDS
    return min(max(math.sqrt(now / before), lo), hi)


def empirical(history: Sequence[Sequence[CellFacts]], targets: Mapping[Key, int]) -> dict[Key, Parts]:
    """Per target cell (key -> members at the as-of), from the past periods' cells (oldest first)."""
    last = list(history[-1]) if history else []
    prev = list(history[-2]) if len(history) >= 2 else []
    stages, tiers, overall = _pools(last)
    pstages, ptiers, poverall = _pools(prev) if prev else ({}, {}, None)
    cells = {(c.stage, c.tier): c for c in last}
    pcells = {(c.stage, c.tier): c for c in prev}
    out: dict[Key, Parts] = {}
    for key, n in targets.items():
        cell = cells.get(key)
        rate, n_eff, aov, r_eff = _shrunk(cell, stages.get(key[0]), tiers.get(key[1]), overall)
        before = pcells.get(key)
        if poverall is not None and before is not None and before.members >= TREND_MIN_MEMBERS and cell is not None:
            prate, _, paov, _ = _shrunk(before, pstages.get(key[0]), ptiers.get(key[1]), poverall)
            rate, aov = min(rate * _trend(rate, prate), 1.0), aov * _trend(aov, paov)
        spend = next(
            (v for v in (_spend_var(c) for c in (cell, tiers.get(key[1]), overall) if c) if v is not None), aov * aov
        )
        reps = n * rate
        reps_var = n * rate * (1 - rate) + n * n * rate * (1 - rate) / n_eff
        out[key] = Parts(n, reps, reps_var, aov, spend / r_eff, spend)
    return out


def purchase_model(name: str, params: Mapping[str, float]) -> object:
    from winback.models import BetaGeoFitter, ModifiedBetaGeoFitter

    fitter = ModifiedBetaGeoFitter if name == "mbg_nbd" else BetaGeoFitter
    return fitter.from_dict({"model": fitter.model_name, "params": dict(params), "time_unit": "weeks"})


def member_predictions(
    model: object, days: int, x: np.ndarray, t_x: np.ndarray, big_t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(P(at least one purchase in the next `days`), expected purchase days) per member; inputs in days."""
    weeks = days / 7.0
    p_none = model.p_no_purchase(weeks, x, t_x / 7.0, big_t / 7.0)  # type: ignore[attr-defined]
    expected = model.conditional_expected_purchases(weeks, x, t_x / 7.0, big_t / 7.0)  # type: ignore[attr-defined]
    return np.clip(1.0 - np.asarray(p_none), 0.0, 1.0), np.asarray(expected)


def encode(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(names, codes) of a label array (the store passes them dictionary-encoded already)."""
    names, codes = np.unique(np.asarray(values).astype(str), return_inverse=True)
    return names, codes


def _cell_sums(
    inputs: Mapping[str, np.ndarray], p_buy: np.ndarray, value: np.ndarray
) -> dict[Key, tuple[float, float, float, float]]:
    """Per (stage, tier): members, Σp, Σp(1−p), Σ value — by integer codes and bincount (millions of members)."""
    s_names, s_idx = (
        (inputs["stage_names"], inputs["stage_codes"]) if "stage_codes" in inputs else encode(inputs["stage"])
    )
    t_names, t_idx = (inputs["tier_names"], inputs["tier_codes"]) if "tier_codes" in inputs else encode(inputs["tier"])
    code = np.asarray(s_idx, dtype=np.int64) * len(t_names) + np.asarray(t_idx, dtype=np.int64)
    size = len(s_names) * len(t_names)
    counts = np.bincount(code, minlength=size)
    sums = [np.bincount(code, weights=w, minlength=size) for w in (p_buy, p_buy * (1 - p_buy), value)]
    return {
        (str(s_names[c // len(t_names)]), str(t_names[c % len(t_names)])): (
            float(counts[c]),
            float(sums[0][c]),
            float(sums[1][c]),
            float(sums[2][c]),
        )
        for c in np.flatnonzero(counts)
    }


def model_parts(
    model: object | None,
    days: int,
    inputs: Mapping[str, np.ndarray],
    targets: Mapping[Key, int],
    fallback: Mapping[Key, Parts],
) -> dict[Key, Parts]:
    """The purchase model summed to cells; a cell without buyers in the snapshot (or no model) falls back."""
    if model is None or len(inputs.get("x", ())) == 0:
        return dict(fallback)
    p_buy, e_days = member_predictions(model, days, inputs["x"], inputs["t_x"], inputs["big_t"])
    value = np.asarray(inputs["value"], dtype=float) * e_days
    sums = _cell_sums(inputs, p_buy, value)
    out: dict[Key, Parts] = {}
    for key, n in targets.items():
        s = sums.get(key)
        fb = fallback[key]
        if s is None or s[1] <= 0:
            out[key] = fb
            continue
        rest = max(n - int(s[0]), 0)  # members of the cell the model does not cover (never bought): empirical
        rest_rate = fb.reps / fb.members if fb.members else 0.0
        reps = s[1] + rest * rest_rate
        reps_var = s[2] + rest * rest_rate * (1 - rest_rate)
        aov = (s[3] + rest * rest_rate * fb.aov) / max(reps, 1e-9)
        out[key] = Parts(n, reps, reps_var, aov, fb.spend_var / max(reps, 1.0), fb.spend_var)
    return out


def blend(a: Mapping[Key, Parts], b: Mapping[Key, Parts]) -> dict[Key, Parts]:
    """The mean of two estimators' repurchasers; their disagreement adds to the variance ((a − b)/2)²."""
    out = {}
    for key, pa in a.items():
        pb = b[key]
        reps = (pa.reps + pb.reps) / 2
        var = (pa.reps_var + pb.reps_var) / 2 + ((pa.reps - pb.reps) / 2) ** 2
        out[key] = Parts(pa.members, reps, var, pa.aov, pa.aov_var, pa.spend_var)
    return out


def combine(rate_parts: Mapping[Key, Parts], aov_parts: Mapping[Key, Parts]) -> list[CellEstimate]:
    """Cells from the repurchasers of one estimator and the AOV of another (or the same)."""
    out = []
    for key, rp in rate_parts.items():
        ap = aov_parts[key]
        reps, aov = rp.reps, ap.aov
        var = aov * aov * rp.reps_var + reps * ap.spend_var + reps * reps * ap.aov_var
        out.append(
            CellEstimate(key[0], key[1], rp.members, reps, math.sqrt(rp.reps_var), reps * aov, math.sqrt(max(var, 0.0)))
        )
    return out


def totals(cells: Sequence[CellEstimate]) -> tuple[float, float, float, float]:
    """(repurchasers, their sd, revenue, its sd) of the sum of independent cells."""
    reps = sum(c.repurchasers for c in cells)
    rev = sum(c.revenue for c in cells)
    return (
        reps,
        math.sqrt(sum(c.repurchasers_sd**2 for c in cells)),
        rev,
        math.sqrt(sum(c.revenue_sd**2 for c in cells)),
    )


def errors(estimate: Sequence[CellEstimate], actual: Sequence[CellFacts], min_members: int = 500) -> dict[str, object]:
    """Relative errors of an estimate against what happened: total repurchasers and revenue, and per cell with at
    least `min_members` members (estimate / actual − 1)."""
    act = {(c.stage, c.tier): c for c in actual}
    reps, _, rev, _ = totals(estimate)
    a_reps = sum(c.repurchasers for c in actual)
    a_rev = sum(c.revenue for c in actual)
    cells = []
    for e in estimate:
        a = act.get((e.stage, e.tier))
        if a is None or e.members < min_members:
            continue
        cells.append({
            "stage": e.stage, "tier": e.tier, "members": e.members,
            "repurchasers": round(e.repurchasers / a.repurchasers - 1, 4) if a.repurchasers else None,
            "revenue": round(e.revenue / a.revenue - 1, 4) if a.revenue else None,
            "actual_repurchasers": a.repurchasers, "actual_revenue": round(a.revenue, 2),
        })  # fmt: skip
    return {
        "repurchasers": round(reps / a_reps - 1, 4) if a_reps else None,
        "revenue": round(rev / a_rev - 1, 4) if a_rev else None,
        "cells": cells,
    }


def score(err: Mapping[str, object], which: str) -> float:
    """How wrong an estimator was for `which` (repurchasers or revenue): |total error| + mean |cell error|."""
    total = err.get(which)
    cells = [abs(c[which]) for c in err.get("cells", []) if c.get(which) is not None]  # type: ignore[union-attr]
    return abs(float(total)) + (sum(cells) / len(cells) if cells else 0.0) if total is not None else math.inf


#: the order in which estimators are preferred where a back-test cannot tell them apart: the calibrated model uses
#: the most (the model and its own measured error), then the model, the mean of the two, the past rates
RATE_PREFERENCE = ("calibrated", "model", "blend", "empirical")
AOV_PREFERENCE = ("calibrated", "model", "empirical")
#: a challenger replaces the preferred estimator only when its score is better by more than this many standard
#: errors of the score difference (`margin`)
CLEARLY = 2.0


def margin(better: Mapping[str, object], worse: Mapping[str, object], which: str) -> tuple[float, float]:
    """(score(worse) − score(better), the standard error of that difference): how much better `better` did and
    how noisy that is. The cells' paired differences |error of worse| − |error of better| scatter from cell to
    cell (each cell's actuals carry their own chance); the standard error of their mean is sd / √n. The total's
    term has one value and adds no spread. Cells without a value in both (no actuals) are left out."""
    diff = score(worse, which) - score(better, which)
    a = {(c["stage"], c["tier"]): c.get(which) for c in better.get("cells", [])}  # type: ignore[union-attr]
    pairs = [abs(float(c[which])) - abs(float(a[(c["stage"], c["tier"])]))  # type: ignore[arg-type]
             for c in worse.get("cells", [])  # type: ignore[union-attr]
             if c.get(which) is not None and a.get((c["stage"], c["tier"])) is not None]  # fmt: skip
    if len(pairs) < 2:
        return diff, 0.0
    mean = sum(pairs) / len(pairs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in pairs) / (len(pairs) - 1))
    return diff, sd / math.sqrt(len(pairs))


def prefer(errs: Mapping[str, Mapping[str, object]], order: Sequence[str], which: str) -> tuple[str, str | None]:
    """(the estimator to use, the best-scoring one it was kept against or None): the first of `order` that `errs`
    has, unless the back-test's best beats it clearly (by more than CLEARLY standard errors of the difference). A
    back-test is one draw of one season: a small win is as likely chance as skill, so the estimator that uses more
    information stays unless the evidence against it is clear."""
    names = [n for n in order if n in errs]
    first = names[0]
    best = min(names, key=lambda n: (score(errs[n], which), names.index(n)))
    if best == first:
        return first, None
    diff, se = margin(errs[best], errs[first], which)
    return (best, None) if diff > CLEARLY * se else (first, best)


Band = tuple[str, str, bool, int, int, float]  # stage, tier, registered recently, members, buyers, revenue


def never_bought(
    parts: Mapping[Key, Parts], last: Sequence[Band], now: Sequence[Band], targets: Mapping[Key, int]
) -> dict[Key, Parts]:
    """The cells whose members all never bought (seed 004's potential members), their first purchases by how
    recently the members registered: last period's rate of the recent and of the older registrants (over all
    tiers, shrunk toward the cell's own rate with 20 pseudo-members) times this period's counts of each. Other
    cells, and all cells when the last period had no such members, are left as they are."""
    seen = {recent: (sum(b[4] for b in last if b[2] is recent), sum(b[3] for b in last if b[2] is recent))
            for recent in (True, False)}  # fmt: skip
    if not any(n for _r, n in seen.values()):
        return dict(parts)
    counts: dict[Key, dict[bool, int]] = {}
    for stage, tier, recent, n, _r, _rev in now:
        counts.setdefault((stage, tier), {})[recent] = n
    out = dict(parts)
    for key, by_band in counts.items():
        if key not in parts or sum(by_band.values()) != targets.get(key):
            continue  # the cell has buyers too: its own rate stands
        old = parts[key]
        p0 = old.reps / old.members if old.members else 0.0
        reps = var = 0.0
        for recent, n in by_band.items():
            r_last, n_last = seen[recent]
            p = (r_last + RATE_PSEUDO * p0) / (n_last + RATE_PSEUDO)
            reps += n * p
            var += n * p * (1 - p) + n * n * p * (1 - p) / (n_last + RATE_PSEUDO)
        out[key] = Parts(old.members, reps, var, old.aov, old.aov_var, old.spend_var)
    return out


#: pseudo-repurchasers with which a cell's calibration ratios are shrunk toward 1 (the model as it is)
CAL_PSEUDO = 50.0


def calibrate(
    parts: Mapping[Key, Parts], predicted: Mapping[Key, Parts], actual: Sequence[CellFacts]
) -> dict[Key, Parts]:
    """The purchase model corrected per cell by its own error in the last past period: `predicted` is what the
    model of that period's start said for the cell, `actual` what happened. Repurchasers × (actual + 50) /
    (predicted + 50); AOV × (actual revenue + 50 × predicted AOV) / ((actual repurchasers + 50) × predicted AOV):
    each ratio shrunk toward 1 with 50 repurchasers. Toward 1, not toward the stage's ratio: the model already
    tells the tiers of a stage apart, and a stage's ratio is its biggest tier's (the demo brand's churned/普通
    under-predicted ×1.5 would push its churned/高级, which the model got right, to +50 %). Cells the old model did
    not cover (members who never bought) are left as they are."""
    act = {(c.stage, c.tier): c for c in actual}
    out = dict(parts)
    for key, part in parts.items():
        p, a = predicted.get(key), act.get(key)
        if p is None or a is None or p.reps <= 0:
            continue
        ratio = (a.repurchasers + CAL_PSEUDO) / (p.reps + CAL_PSEUDO)
        count = a.repurchasers + CAL_PSEUDO
        ra = (a.revenue + CAL_PSEUDO * p.aov) / (count * p.aov) if p.aov > 0 else 1.0
        reps = min(part.reps * ratio, float(part.members))
        out[key] = Parts(part.members, reps, part.reps_var * ratio * ratio + reps * reps / count, part.aov * ra,
                         part.aov_var * ra * ra + part.spend_var / count, part.spend_var)  # fmt: skip
    return out
