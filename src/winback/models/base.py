"""What every fitted model shares: fitted attributes, the not-fitted guard, and storage as a plain dict."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Self

import numpy as np

from winback.errors import ModelError
from winback.i18n import _
from winback.models.optimise import Optimum


class ModelConvergenceWarning(UserWarning):
    """A fit finished without converging; its parameters must not be trusted."""


class WeakFitWarning(UserWarning):
    """A fit converged, but the data determine some parameters only loosely (large standard errors)."""


class Fitter:
    """Base of the fitters. Subclasses set `model_name` and `param_names`."""

    model_name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, time_unit: str = "weeks", *, max_iter: int = 1000) -> None:
        self.time_unit = time_unit
        self.max_iter = max_iter
        self.params_: dict[str, float] = {}
        self.loglik_: float = float("nan")
        self.converged_: bool = False
        self.warning_: str | None = None
        self.n_: float = 0.0
        self.n_unique_: int = 0
        self.n_iter_: int = 0

    def _store(self, opt: Optimum, n: float, n_unique: int) -> None:
        self.params_ = {name: float(v) for name, v in zip(self.param_names, np.exp(opt.theta), strict=True)}
        self.loglik_ = opt.loglik
        self.converged_ = opt.converged
        self.warning_ = opt.warning
        self.n_ = n
        self.n_unique_ = n_unique
        self.n_iter_ = opt.n_iter
        if opt.warning:
            category = WeakFitWarning if opt.converged else ModelConvergenceWarning
            warnings.warn(f"{self.model_name}: {opt.warning}", category, stacklevel=3)

    def _params(self) -> tuple[float, ...]:
        if not self.params_:
            raise ModelError(
                _("the {model_name} model has no parameters yet.", model_name=self.model_name),
                hint=_("Call fit(...) first, or load stored parameters with from_dict(...)."),
            )
        return tuple(self.params_[name] for name in self.param_names)

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to store the fit and rebuild it with `from_dict` (JSON-serialisable)."""
        return {
            "model": self.model_name,
            "params": dict(self.params_),
            "loglik": self.loglik_,
            "converged": self.converged_,
            "warning": self.warning_,
            "n": self.n_,
            "n_unique": self.n_unique_,
            "n_iter": self.n_iter_,
            "time_unit": self.time_unit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Rebuild a fitted model from `to_dict` output (predictions work; `standard_errors` needs a refit)."""
        if data.get("model") != cls.model_name:
            raise ModelError(
                _("stored model is {model!r}, not {model_name!r}.", model=data.get("model"), model_name=cls.model_name),
                hint=_("Load it with the fitter for {model!r}.", model=data.get("model")),
            )
        params = data.get("params", {})
        missing = [p for p in cls.param_names if p not in params]
        if missing:
            raise ModelError(
                _(
                    "stored {model_name} parameters lack {missing}; got {params}.",
                    model_name=cls.model_name,
                    missing=missing,
                    params=sorted(params),
                )
            )
        model = cls(str(data.get("time_unit", "weeks")))
        model.params_ = {p: float(params[p]) for p in cls.param_names}
        model.loglik_ = float(data.get("loglik", float("nan")))
        model.converged_ = bool(data.get("converged", False))
        model.warning_ = data.get("warning")
        model.n_ = float(data.get("n", 0.0))
        model.n_unique_ = int(data.get("n_unique", 0))
        model.n_iter_ = int(data.get("n_iter", 0))
        return model

    def __repr__(self) -> str:
        if not self.params_:
            return f"{type(self).__name__}(not fitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({shown}, n={self.n_:g}, converged={self.converged_})"
