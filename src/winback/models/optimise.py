"""Maximum likelihood in log-parameter space with an analytic gradient (scipy L-BFGS-B), with honest convergence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from winback.models.inputs import FloatArray

LOG_BOUND = 20.0  # parameters are kept within e^±20 (about 2e-9 .. 5e8)
GRAD_TOL = 1e-5  # largest allowed |∂ mean log-likelihood / ∂ ln θ| at the optimum

Objective = Callable[[FloatArray], tuple[float, FloatArray]]


@dataclass(frozen=True)
class Optimum:
    theta: FloatArray
    loglik: float
    converged: bool
    n_iter: int
    warning: str | None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread while L-BFGS-B runs. Its linear algebra is on matrices of a few dozen rows: OpenBLAS's
    threads only wait on each other there, and on a busy machine that wait was most of a fit (200k members, 37
    fits: 16.5 s wall for 9 s CPU, against 1.8 s on one thread). One thread also makes the optimum the same
    number whatever the machine's core count (a threaded BLAS sums in another order). threadpoolctl comes with
    scikit-learn; without it the BLAS keeps its threads."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency of scikit-learn
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def maximise(
    objective: Objective, theta0: FloatArray, n_customers: float, names: tuple[str, ...], max_iter: int
) -> Optimum:
    """Maximise a total log-likelihood; the optimiser works on the mean per customer for good scaling.

    Converged means: the gradient of the mean log-likelihood is below GRAD_TOL and no parameter sits on a bound.
    scipy.optimize is imported here, not with the module: it takes ~0.25 s to import, and a refresh that reuses
    the last fit (refit.py) predicts with the models without fitting one.
    """
    from scipy.optimize import minimize

    scale = 1.0 / max(n_customers, 1.0)

    def negative(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = objective(theta)
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(theta)
        return -ll * scale, -grad * scale

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(theta0)
    with one_blas_thread():
        res = minimize(
            negative,
            np.asarray(theta0, dtype=np.float64),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20},
        )
    return _judge(objective, np.asarray(res.x, dtype=np.float64), n_customers, names, int(res.nit), str(res.message))


def refine(
    objective: Objective,
    theta0: FloatArray,
    hess_per_customer: FloatArray,
    n_customers: float,
    names: tuple[str, ...],
    max_steps: int = 8,
) -> Optimum | None:
    """Newton steps with a fixed Hessian (per customer, e.g. from a subsample fit) from a point near the optimum.

    Each step costs one gradient evaluation on the full data. Returns None if a step fails to improve the
    likelihood or the steps do not reach the gradient tolerance; the caller then falls back to `maximise`.
    """
    try:
        chol = np.linalg.cholesky(-hess_per_customer)
    except np.linalg.LinAlgError:
        return None
    scale = 1.0 / max(n_customers, 1.0)
    theta = np.asarray(theta0, dtype=np.float64)
    ll, grad = objective(theta)
    for step in range(max_steps):
        if not np.isfinite(ll) or not np.all(np.isfinite(grad)):
            return None
        if float(np.max(np.abs(grad * scale))) <= GRAD_TOL:
            return _judge(objective, theta, n_customers, names, step, "Newton refinement", (ll, grad))
        delta = np.linalg.solve(chol.T, np.linalg.solve(chol, grad * scale))
        candidate = np.clip(theta + delta, -LOG_BOUND, LOG_BOUND)
        ll_new, grad_new = objective(candidate)
        if not np.isfinite(ll_new) or ll_new < ll - 1e-9 * abs(ll):
            return None
        theta, ll, grad = candidate, ll_new, grad_new
    return None


def _judge(
    objective: Objective,
    theta: FloatArray,
    n_customers: float,
    names: tuple[str, ...],
    n_iter: int,
    message: str,
    value: tuple[float, FloatArray] | None = None,
) -> Optimum:
    """Decide honestly whether θ is a converged maximum and say why not if it is not."""
    scale = 1.0 / max(n_customers, 1.0)
    ll, grad = value if value is not None else objective(theta)
    worst = float(np.max(np.abs(grad * scale))) if np.all(np.isfinite(grad)) else float("inf")
    at_bound = [names[i] for i in range(len(theta)) if abs(theta[i]) >= LOG_BOUND - 1e-6]
    problems: list[str] = []
    if not np.isfinite(ll):
        problems.append("the log-likelihood is not finite at the result")
    if worst > GRAD_TOL:
        problems.append(f"the gradient is still {worst:.2g} after {n_iter} iterations ({message})")
    if at_bound:
        problems.append(
            f"parameter(s) {', '.join(at_bound)} ran to the edge of the allowed range (e^±{LOG_BOUND:g}); "
            "the data do not pin them down"
        )
    warning = None
    if problems:
        warning = "fit did not converge: " + "; ".join(problems) + ". Do not use these parameters for decisions."
    return Optimum(theta, float(ll), not problems, n_iter, warning)


LOG_SE_WEAK = 1.0  # standard error of ln θ above this: the data only weakly determine θ (a warning)
LOG_SE_NONE = 5.0  # above this (a factor e^5 ≈ 150 either way): θ is not determined at all (not converged)


def check_identified(
    opt: Optimum, hess_per_customer: FloatArray, n_customers: float, names: tuple[str, ...]
) -> Optimum:
    """Judge the optimum by the curvature of the likelihood there.

    `hess_per_customer` is the Hessian of the mean log-likelihood in θ = ln(params); the standard error of ln θ_i is
    sqrt(diag((-H n)^-1)). No strict maximum (the Hessian is not negative definite) or a standard error above
    LOG_SE_NONE means the fit did not converge to a usable optimum; above LOG_SE_WEAK the fit stands with a warning.
    """
    if not opt.converged:
        return opt
    try:
        np.linalg.cholesky(-hess_per_customer)
        log_se = np.sqrt(np.diag(np.linalg.inv(-hess_per_customer * n_customers)))
    except np.linalg.LinAlgError:
        log_se = np.full(len(names), np.inf)
    unknown = [names[i] for i in range(len(names)) if not log_se[i] <= LOG_SE_NONE]
    if unknown:
        warning = (
            f"fit did not converge to a determined optimum: the likelihood is flat in {', '.join(unknown)} "
            "(no strict maximum, or a standard error of the log parameter above "
            f"{LOG_SE_NONE:g}). Do not use these parameters for decisions; "
            "use more customers or a longer calibration period."
        )
        return Optimum(opt.theta, opt.loglik, False, opt.n_iter, warning)
    weak = [f"{names[i]} (±{log_se[i]:.1f} in ln)" for i in range(len(names)) if log_se[i] > LOG_SE_WEAK]
    if weak:
        warning = (
            f"the data only weakly determine {', '.join(weak)}; predictions are rough. "
            "More customers or a longer calibration period would sharpen them."
        )
        return Optimum(opt.theta, opt.loglik, True, opt.n_iter, warning)
    return opt


def numeric_hessian(objective: Objective, theta: FloatArray, step: float = 1e-5) -> FloatArray:
    """Hessian of the log-likelihood in θ by central differences of the analytic gradient (symmetrised)."""
    k = len(theta)
    hess = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = step
        hess[i] = (objective(theta + e)[1] - objective(theta - e)[1]) / (2 * step)
    return np.asarray(0.5 * (hess + hess.T), dtype=np.float64)


def standard_errors(objective: Objective, theta: FloatArray, names: tuple[str, ...]) -> dict[str, float]:
    """Asymptotic standard errors of the natural parameters exp(θ) from the observed information (delta method)."""
    hess = numeric_hessian(objective, theta)
    try:
        cov = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        return dict.fromkeys(names, float("nan"))
    var = np.diag(cov)
    se = np.exp(theta) * np.sqrt(np.where(var > 0, var, np.nan))
    return {name: float(v) for name, v in zip(names, se, strict=True)}
