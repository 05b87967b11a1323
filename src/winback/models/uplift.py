"""Uplift learners on gradient boosting: whom a touch changes, learned from a randomized experiment. Pure.

Two meta-learners over scikit-learn's histogram gradient boosting (`HistGradientBoosting*`: binned features,
native NaN and categorical handling, multi-threaded, a few hundred MB at millions of rows):

- **T-learner**: one outcome model for the control arm (m0) and one per treated arm (m1); the uplift is
  m1(x) - m0(x).
- **X-learner** (Kuenzel et al. 2019): the T-learner's models impute each member's own effect (treated:
  y - m0(x); control: m1(x) - y); two effect models learn those imputed effects on each side, and the uplift is
  their mix weighted by the treatment share (in a randomized experiment the propensity is a constant).

Outcomes are binary (responded: classifiers, effects on the probability) or continuous (revenue, margin:
regressors). Multi-arm experiments are one learner per arm against the shared control. Features come in as
named columns; `encode_features` turns text columns into category codes learned at fit time (kept in the
model so scoring encodes identically; an unseen or rare value is missing).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from winback.errors import ModelError
from winback.i18n import _

# OpenMP threads that wait for work sleep instead of spinning: on a busy 2-core machine (several processes at
# once) spinning threads made a 200k-row fit 10x slower (105.8 s against 9.6 s, benchmarks/uplift_bench.py). It
# only takes effect when set before the OpenMP runtime loads (scikit-learn is imported below, on first fit).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

LEARNERS: tuple[str, ...] = ("t", "x")
OUTCOME_KINDS: tuple[str, ...] = ("binary", "continuous")
MAX_CATEGORIES = 250  # HistGradientBoosting's categorical limit is max_bins (255); the rest count as missing
MIN_PER_ARM = 30


@dataclass(frozen=True)
class BoostingParams:
    """The gradient boosting settings every model of a learner uses (fixed: no early stopping, so a fit's time
    depends on the data size only and a seed gives the same model)."""

    max_iter: int = 100
    learning_rate: float = 0.1
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    max_bins: int = 255
    seed: int = 0
    #: at most this many members of each arm are fitted on (a seeded sample beyond it): boosting's accuracy has
    #: long flattened out there, and the fit's time and memory stop growing with the experiment
    max_rows_per_arm: int = 300_000

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FeatureSpec:
    """The columns a model was fitted on: numeric ones as they are, text ones as codes of `categories`."""

    names: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def categorical_mask(self) -> np.ndarray:
        return np.array([n in self.categories for n in self.names], dtype=bool)

    def to_dict(self) -> dict[str, Any]:
        return {"names": list(self.names), "categories": {k: list(v) for k, v in self.categories.items()}}


def _is_text(values: Sequence[Any] | np.ndarray) -> bool:
    """A column is text when some value is a string that is not a number (a CSV's '12.5' is a number)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return False
    return any(isinstance(v, str) and v.strip() != "" and not _is_number(v) for v in arr.tolist())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def learn_features(columns: Mapping[str, Sequence[Any] | np.ndarray]) -> FeatureSpec:
    """Which columns are text (their most frequent values become categories) and which numeric; a column with
    no value at all is left out."""
    cats: dict[str, tuple[str, ...]] = {}
    names = []
    for name, values in columns.items():
        if _is_text(values):
            texts = [str(v) for v in np.asarray(values, dtype=object).tolist() if v is not None and v != ""]
            uniq, counts = np.unique(np.asarray(texts, dtype=object).astype(str), return_counts=True)
            order = np.argsort(-counts, kind="stable")[:MAX_CATEGORIES]
            cats[name] = tuple(sorted(str(u) for u in uniq[order]))
            names.append(name)
        elif np.isfinite(_numeric(name, values)).any():  # a column missing everywhere says nothing: left out
            names.append(name)
    return FeatureSpec(tuple(names), cats)


def encode_features(spec: FeatureSpec, columns: Mapping[str, Sequence[Any] | np.ndarray]) -> np.ndarray:
    """The float32 matrix of `columns` in the spec's order (NaN = missing; categories as their codes)."""
    missing = [n for n in spec.names if n not in columns]
    if missing:
        raise ModelError(
            _("the data has no column {names} the model was fitted on", names=", ".join(missing)),
            hint=_("Give a file with every feature column of the model: {names}.", names=", ".join(spec.names)),
        )
    n = len(next(iter(columns.values()))) if columns else 0
    out = np.empty((n, len(spec.names)), dtype=np.float32)
    for j, name in enumerate(spec.names):
        values = columns[name]
        if name in spec.categories:
            code = {c: i for i, c in enumerate(spec.categories[name])}
            out[:, j] = [code.get(str(v), np.nan) if v is not None else np.nan
                         for v in np.asarray(values, dtype=object).tolist()]  # fmt: skip
        else:
            out[:, j] = _numeric(name, values)
    return out


def _numeric(name: str, values: Sequence[Any] | np.ndarray) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float32)
    try:
        return np.array([np.nan if v is None or v == "" else float(v) for v in arr.tolist()], dtype=np.float32)
    except (TypeError, ValueError):
        raise ModelError(
            _("feature column {name} mixes numbers and text", name=name),
            hint=_("Make every value of {name} a number, or all of them text.", name=name),
        ) from None


def _booster(kind: str, params: BoostingParams, categorical: np.ndarray) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    cls = HistGradientBoostingClassifier if kind == "binary" else HistGradientBoostingRegressor
    return cls(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        max_bins=params.max_bins,
        categorical_features=categorical if categorical.any() else None,
        early_stopping=False,
        random_state=params.seed,
    )


def _fit_outcome(kind: str, x: np.ndarray, y: np.ndarray, params: BoostingParams, cat: np.ndarray) -> Any:
    if kind == "binary" and len(np.unique(y)) < 2:
        return float(y[0]) if len(y) else 0.0  # everyone (or no one) responded: a constant model
    return _booster(kind, params, cat).fit(x, y)


def _predict(model: Any, kind: str, x: np.ndarray) -> np.ndarray:
    if isinstance(model, float):
        return np.full(len(x), model)
    if kind == "binary":
        return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)
    return np.asarray(model.predict(x), dtype=np.float64)


@dataclass
class ArmModels:
    """The fitted models of one treated arm against the control (T: m1; X: m1, tau1, tau0 and the share)."""

    m1: Any
    tau1: Any = None
    tau0: Any = None
    share: float = 0.5


@dataclass
class UpliftLearner:
    """A fitted T- or X-learner: `predict(x)` gives each row's uplift per treated arm."""

    learner: str
    outcome_kind: str
    features: FeatureSpec
    params: BoostingParams
    m0: Any = None
    arms: dict[str, ArmModels] = field(default_factory=dict)

    def baseline(self, x: np.ndarray) -> np.ndarray:
        """The predicted outcome without a touch (the control model) for every row of `x`."""
        return _predict(self.m0, self.outcome_kind, x)

    def predict(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """arm -> predicted uplift (treated minus control) for every row of `x`."""
        out: dict[str, np.ndarray] = {}
        base = _predict(self.m0, self.outcome_kind, x) if self.learner == "t" else None
        for arm, m in self.arms.items():
            if self.learner == "t":
                assert base is not None
                out[arm] = _predict(m.m1, self.outcome_kind, x) - base
            else:
                t1, t0 = _predict(m.tau1, "continuous", x), _predict(m.tau0, "continuous", x)
                out[arm] = m.share * t0 + (1.0 - m.share) * t1
        return out


def check_experiment(arms: np.ndarray, control: str) -> list[str]:
    """The treated arm labels, after checking there is a control and every arm has enough members."""
    labels, counts = np.unique(arms.astype(str), return_counts=True)
    sizes = dict(zip(labels.tolist(), counts.tolist(), strict=True))
    if control not in sizes:
        raise ModelError(
            _("no member is in the control arm {control!r} (arms: {arms})", control=control, arms=", ".join(sizes)),
            hint=_("Name the control arm's label exactly as the data has it."),
        )
    small = {a: n for a, n in sizes.items() if n < MIN_PER_ARM}
    if small:
        raise ModelError(
            _("too few members to learn from in arm {arms} (at least {n} each)",
              arms=", ".join(f"{a}={n}" for a, n in small.items()), n=MIN_PER_ARM),
            hint=_("Learn from a larger experiment, or from several campaigns together."),
        )  # fmt: skip
    treated = [a for a in sizes if a != control]
    if not treated:
        raise ModelError(_("the data has a control arm but no treated arm"), hint=_("Give a randomized experiment."))
    return treated


def fit_uplift(
    x: np.ndarray,
    arms: np.ndarray,
    y: np.ndarray,
    *,
    features: FeatureSpec,
    control: str,
    learner: str = "t",
    outcome_kind: str = "binary",
    params: BoostingParams | None = None,
) -> UpliftLearner:
    """Fit a T- or X-learner on rows `x` (encode_features), arm labels and outcomes `y`."""
    if learner not in LEARNERS:
        raise ModelError(_("unknown learner {name!r}", name=learner), hint=_("Use t or x."))
    if outcome_kind not in OUTCOME_KINDS:
        raise ModelError(_("unknown outcome kind {name!r}", name=outcome_kind), hint=_("Use binary or continuous."))
    params = params or BoostingParams()
    arms = np.asarray(arms).astype(str)
    y = np.asarray(y, dtype=np.float64)
    treated = check_experiment(arms, control)
    x, arms, y = _cap_rows(x, arms, y, params.max_rows_per_arm, params.seed)
    cat = features.categorical_mask
    is_c = arms == control
    m0 = _fit_outcome(outcome_kind, x[is_c], y[is_c], params, cat)
    out = UpliftLearner(learner, outcome_kind, features, params, m0)
    for a in treated:
        is_a = arms == a
        m1 = _fit_outcome(outcome_kind, x[is_a], y[is_a], params, cat)
        if learner == "t":
            out.arms[a] = ArmModels(m1)
            continue
        d1 = y[is_a] - _predict(m0, outcome_kind, x[is_a])  # treated: own outcome minus its control forecast
        d0 = _predict(m1, outcome_kind, x[is_c]) - y[is_c]  # control: its treated forecast minus own outcome
        tau1 = _fit_outcome("continuous", x[is_a], d1, params, cat)
        tau0 = _fit_outcome("continuous", x[is_c], d0, params, cat)
        share = float(is_a.sum() / (is_a.sum() + is_c.sum()))
        out.arms[a] = ArmModels(m1, tau1, tau0, share)
    return out


def _cap_rows(x: np.ndarray, arms: np.ndarray, y: np.ndarray, cap: int, seed: int) -> tuple[np.ndarray, ...]:
    """At most `cap` rows of every arm (a seeded sample of the larger ones, in their original order)."""
    labels, counts = np.unique(arms, return_counts=True)
    if counts.max() <= cap:
        return x, arms, y
    rng = np.random.default_rng(seed)
    keep = np.zeros(len(arms), dtype=bool)
    for a, n in zip(labels, counts, strict=True):
        idx = np.flatnonzero(arms == a)
        keep[idx if n <= cap else rng.choice(idx, size=cap, replace=False)] = True
    return x[keep], arms[keep], y[keep]


def split_rows(arms: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A boolean mask of validation rows: `fraction` of every arm, drawn with `seed` (stratified by arm)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(arms), dtype=bool)
    for a in np.unique(arms):
        idx = np.flatnonzero(arms == a)
        take = round(len(idx) * fraction)
        mask[rng.choice(idx, size=take, replace=False)] = True
    return mask
