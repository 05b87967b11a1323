"""Fitting and validating an uplift model on a training set (from the warehouse or a file). Pure.

The rows are split once (stratified by arm, seeded): the learner is fitted on the training part and judged on the
held-out part only (Qini, uplift@k, deciles: models/uplift_metrics.py), so the figures a user sees are honest
about members the model never saw. The held-out predictions are kept with the model: targeting reads the
observed lift of the top of that ranking to put an interval on what a targeted campaign should bring.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from winback.errors import InputError
from winback.i18n import _
from winback.models.uplift import (
    BoostingParams,
    UpliftLearner,
    encode_features,
    fit_uplift,
    learn_features,
    split_rows,
)
from winback.models.uplift_metrics import evaluate, uplift_at
from winback.uplift.types import TrainingSet


@dataclass
class FittedModel:
    """What is pickled into uplift_models.model: the learner and its held-out rows' predictions."""

    learner: UpliftLearner
    valid: dict[str, dict[str, np.ndarray]]  # arm -> score, treated, y (held-out rows of that arm and control)
    control_mean: float  # the control arm's mean outcome (all rows)

    def dumps(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @staticmethod
    def loads(blob: bytes) -> FittedModel:
        obj = pickle.loads(blob)
        if not isinstance(obj, FittedModel):
            raise InputError(_("the stored model is not an uplift model"), hint=_("Fit it again: winback uplift fit."))
        return obj

    def observed_lift(self, arm: str, fraction: float) -> dict[str, Any]:
        """The held-out observed lift per member among the top `fraction` of the ranking (with its interval)."""
        v = self.valid[arm]
        return uplift_at(v["score"], v["treated"], v["y"], min(max(fraction, 1e-9), 1.0))


def fit_training_set(
    ts: TrainingSet, *, learner: str, validation: float, seed: int, params: BoostingParams | None = None
) -> tuple[FittedModel, dict[str, Any]]:
    """The fitted model and its stored description (uplift_models' columns but the id and time)."""
    if not 0.05 <= validation <= 0.5:
        raise InputError(
            _("--validation must be between 0.05 and 0.5, got {v}", v=validation),
            hint=_("Use e.g. 0.3 (30 % of every arm is held out to judge the model)."),
        )
    started = time.perf_counter()
    spec = learn_features(ts.columns)
    x = encode_features(spec, ts.columns)
    arms = np.asarray(ts.arms).astype(str)
    y = np.asarray(ts.outcome, dtype=np.float64)
    held = split_rows(arms, validation, seed)
    params = params or BoostingParams(seed=seed)
    model = fit_uplift(x[~held], arms[~held], y[~held], features=spec, control=ts.control, learner=learner,
                       outcome_kind=ts.outcome_kind, params=params)  # fmt: skip
    scores = model.predict(x[held])
    valid, validation_out = {}, {}
    for arm, score in scores.items():
        keep = np.isin(arms[held], [arm, ts.control])
        v = {"score": score[keep], "treated": arms[held][keep] == arm, "y": y[held][keep]}
        valid[arm] = v
        validation_out[arm] = evaluate(v["score"], v["treated"], v["y"])
    fitted = FittedModel(model, valid, float(y[arms == ts.control].mean()))
    info = {
        "learner": learner,
        "outcome": ts.outcome_name,
        "outcome_kind": ts.outcome_kind,
        "control": ts.control,
        "arms": sorted(scores),
        "features": spec.to_dict(),
        "source": ts.source,
        "rows_train": int((~held).sum()),
        "rows_valid": int(held.sum()),
        "validation": validation_out,
        "fit_seconds": round(time.perf_counter() - started, 3),
    }
    return fitted, info


def outcome_kind_of(values: np.ndarray) -> str:
    """binary when every value is 0 or 1, else continuous."""
    return "binary" if bool(np.all((values == 0) | (values == 1))) else "continuous"


def score_columns(fitted: FittedModel, columns: dict[str, Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(arm -> predicted uplift, predicted outcome without a touch) for rows given as named columns."""
    x = encode_features(fitted.learner.features, columns)
    return fitted.learner.predict(x), fitted.learner.baseline(x)
