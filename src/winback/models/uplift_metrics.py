"""How good an uplift ranking is, on rows it was not fitted on. Pure (numpy).

Members are ranked by predicted uplift, highest first (ties keep the input order). With n_t(k), n_c(k) the treated
and control members among the top k and Y_t(k), Y_c(k) the sums of their outcomes:

- **Qini curve**: Q(k) = Y_t(k) - Y_c(k) * n_t(k) / n_c(k) (0 while the top k holds no control member): the
  incremental outcome of treating the top k, in the units of the treated group.
- **Qini coefficient**: the area between the Qini curve and the straight line from (0, 0) to (1, Q(n)) — the
  random ranking — over the population fraction k / n (trapezoids at every member), divided by |Q(n)| when that
  is not 0 (so 0 = no better than random, larger = better; the unnormalised area is reported too).
- **uplift@k**: mean outcome of the treated minus that of the control among the top fraction k.
- **Deciles**: ten groups of (nearly) equal size in rank order; for each the observed lift (treated mean - control
  mean) with a normal-approximation interval (Welch standard error) next to the mean predicted uplift.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as sps


def _ranked(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    return np.asarray(treated, dtype=bool)[order], np.asarray(y, dtype=np.float64)[order]


def qini_curve(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Q(k) for k = 0..n (n + 1 values, Q(0) = 0)."""
    t, yy = _ranked(score, treated, y)
    nt, nc = np.cumsum(t), np.cumsum(~t)
    yt, yc = np.cumsum(np.where(t, yy, 0.0)), np.cumsum(np.where(t, 0.0, yy))
    q = np.where(nc > 0, yt - yc * nt / np.maximum(nc, 1), 0.0)
    return np.concatenate([[0.0], q])


def qini_coefficient(score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(normalised coefficient, area between the curve and the random line)."""
    q = qini_curve(score, treated, y)
    n = len(q) - 1
    if n == 0:
        return 0.0, 0.0
    x = np.arange(n + 1) / n
    gain = q - x * q[-1]
    area = float(np.sum((gain[1:] + gain[:-1]) / 2.0) / n)
    return (area / abs(q[-1]) if q[-1] != 0 else 0.0), area


def _lift(t: np.ndarray, yy: np.ndarray, z: float) -> dict[str, Any]:
    a, b = yy[t], yy[~t]
    if len(a) == 0 or len(b) == 0:
        return {"treated": len(a), "control": len(b), "observed": None, "ci": [None, None]}
    diff = float(a.mean() - b.mean())
    va, vb = (a.var(ddof=1) if len(a) > 1 else 0.0), (b.var(ddof=1) if len(b) > 1 else 0.0)
    se = float(np.sqrt(va / len(a) + vb / len(b)))
    return {"treated": len(a), "control": len(b), "observed": diff, "ci": [diff - z * se, diff + z * se]}


def uplift_at(score: np.ndarray, treated: np.ndarray, y: np.ndarray, fraction: float) -> dict[str, Any]:
    """The observed lift among the top `fraction` of the ranking (with its 95 % interval)."""
    t, yy = _ranked(score, treated, y)
    k = max(1, round(len(t) * fraction))
    return {"fraction": fraction, "members": k, **_lift(t[:k], yy[:k], float(sps.norm.ppf(0.975)))}


def decile_table(
    score: np.ndarray, treated: np.ndarray, y: np.ndarray, *, groups: int = 10, alpha: float = 0.05
) -> list[dict[str, Any]]:
    """Per rank group (1 = highest predicted uplift): members, predicted mean uplift, observed lift and interval."""
    order = np.argsort(-np.asarray(score, dtype=np.float64), kind="stable")
    s = np.asarray(score, dtype=np.float64)[order]
    t, yy = np.asarray(treated, dtype=bool)[order], np.asarray(y, dtype=np.float64)[order]
    z = float(sps.norm.ppf(1 - alpha / 2))
    out = []
    for g, idx in enumerate(np.array_split(np.arange(len(s)), groups), start=1):
        if len(idx) == 0:
            continue
        out.append({"decile": g, "members": len(idx), "predicted": float(s[idx].mean()),
                    **_lift(t[idx], yy[idx], z)})  # fmt: skip
    return out


def evaluate(score: np.ndarray, treated: np.ndarray, y: np.ndarray, *, points: int = 20) -> dict[str, Any]:
    """Qini coefficient (and area), a thinned Qini curve, uplift at 10/20/30/50 % and the decile table."""
    q = qini_curve(score, treated, y)
    coef, area = qini_coefficient(score, treated, y)
    n = len(q) - 1
    at = np.unique(np.round(np.linspace(0, n, points + 1)).astype(int))
    return {
        "rows": int(n),
        "qini_coefficient": coef,
        "qini_area": area,
        "qini_curve": [[float(k / n) if n else 0.0, float(q[k])] for k in at],
        "uplift_at": [uplift_at(score, treated, y, f) for f in (0.1, 0.2, 0.3, 0.5)],
        "deciles": decile_table(score, treated, y),
    }
