"""Uplift fit at scale: 2M members x 40 features (issue 13: <= 60 s and <= 4 GiB on this 2-core machine).

Each learner is fitted in its own child process (timed from the start of the child to its exit; its CPU time and
peak RSS from the kernel's rusage: on a busy machine the CPU time says what the fit costs, the wall time what it
took beside the others), so imports, data building and the fit all count, as a user's `winback uplift fit`
would pay them. The data: a randomized experiment (half treated), 40 float32 features of which 4 drive the
outcome, 2 text columns (store, tier) among them; a binary outcome whose treatment effect varies with features.

    .venv/bin/python benchmarks/uplift_bench.py [--rows 2000000] [--learners hgb-t,hgb-x,lgb-t,lgb-x]

`lgb-*` use LightGBM (installed for this measurement only; not a winback dependency) with the same settings and
no row cap. The fit's quality is judged on 200,000 fresh members after the fit (correlation of the predicted with
the true uplift, Qini coefficient); the child's total includes that. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as winback.models.uplift sets it, for every learner

import numpy as np

FEATURES = 40


def experiment(rows: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """x (rows x 40 float32; columns 0 and 1 are category codes), treated, y, the true uplift."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, FEATURES), dtype=np.float32)
    x[:, 0] = rng.integers(0, 40, rows)  # store
    x[:, 1] = rng.integers(0, 4, rows)  # tier
    treated = rng.random(rows) < 0.5
    base = 1.0 / (1.0 + np.exp(-(x[:, 2] - 2.5 + 0.3 * (x[:, 1] == 3))))
    tau = 0.08 * (x[:, 3] > 0.5) * (1 + (x[:, 4] > 0)) + 0.02 * (x[:, 0] < 10)
    y = (rng.random(rows) < np.minimum(base + treated * tau, 0.99)).astype(np.float64)
    return x, treated, y, tau


def _lgb_fit(x: np.ndarray, arms: np.ndarray, y: np.ndarray, learner: str) -> Callable[[np.ndarray], np.ndarray]:
    import lightgbm as lgb

    def model(kind: str, xs: np.ndarray, ys: np.ndarray) -> lgb.LGBMModel:
        cls = lgb.LGBMClassifier if kind == "binary" else lgb.LGBMRegressor
        m = cls(n_estimators=100, learning_rate=0.1, num_leaves=31, min_child_samples=40, reg_lambda=1.0,
                max_bin=255, n_jobs=os.cpu_count(), verbose=-1)  # fmt: skip
        return m.fit(xs, ys, categorical_feature=[0, 1])

    def pred(m: lgb.LGBMModel, xs: np.ndarray) -> np.ndarray:
        return m.predict_proba(xs)[:, 1] if isinstance(m, lgb.LGBMClassifier) else m.predict(xs)

    t, c = arms == "A", arms == "control"
    m0, m1 = model("binary", x[c], y[c]), model("binary", x[t], y[t])
    if learner == "t":
        return lambda xs: pred(m1, xs) - pred(m0, xs)
    tau1 = model("continuous", x[t], y[t] - pred(m0, x[t]))
    tau0 = model("continuous", x[c], pred(m1, x[c]) - y[c])
    share = t.mean()
    return lambda xs: share * pred(tau0, xs) + (1 - share) * pred(tau1, xs)


def child(name: str, rows: int, judge: bool = True) -> None:
    """Build the data and fit one learner (what `winback uplift fit` pays); then judge the fit on 200,000 fresh
    members (out of sample; not part of the fit time). Prints build, fit and total seconds and the quality."""
    from winback.models.uplift import FeatureSpec, fit_uplift
    from winback.models.uplift_metrics import qini_coefficient

    start = time.perf_counter()
    x, treated, y, _tau = experiment(rows)
    arms = np.where(treated, "A", "control")
    built = time.perf_counter()
    backend, learner = name.split("-")
    if backend == "hgb":
        spec = FeatureSpec(tuple(f"f{i}" for i in range(FEATURES)),
                           {"f0": tuple(str(i) for i in range(40)), "f1": tuple(str(i) for i in range(4))})  # fmt: skip
        model = fit_uplift(x, arms, y, features=spec, control="control", learner=learner)
        fitted = time.perf_counter()
        predict = lambda xs: model.predict(xs)["A"]  # noqa: E731
    else:
        predict = _lgb_fit(x, arms, y, learner)
        fitted = time.perf_counter()
    del x
    corr = coef = "-"
    if judge:
        fx, ft, fy, ftau = experiment(200_000, seed=1)
        score = predict(fx)
        corr = f"{float(np.corrcoef(score, ftau)[0, 1]):.3f}"
        coef = f"{qini_coefficient(score, ft, fy)[0]:.3f}"
    total = time.perf_counter() - start
    print(f"{name}\t{built - start:.1f}\t{fitted - built:.1f}\t{total:.1f}\t{corr}\t{coef}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--learners", default="hgb-t,hgb-x,lgb-t,lgb-x")
    ap.add_argument("--fit-only", action="store_true", help="skip judging the fit (the child only builds and fits)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.rows, judge=not args.fit_only)
        return
    print(f"uplift fit, {args.rows:,} members x {FEATURES} features, {os.cpu_count()} cores, load {os.getloadavg()}")
    print("learner\tbuild s\tfit s\tchild s\twall s\tCPU s\tpeak RSS MiB\tcorr(score, true uplift)\tqini coef")
    for name in args.learners.split(","):
        t0 = time.perf_counter()
        extra = ["--fit-only"] if args.fit_only else []
        proc = subprocess.Popen([sys.executable, __file__, "--rows", str(args.rows), "--child", name, *extra],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out = proc.stdout.read().strip() if proc.stdout else ""
        if status != 0 or not out:
            print(f"{name}\tfailed (status {status})")
            continue
        n, build, fit, total, corr, coef = out.split("\t")
        rss = usage.ru_maxrss / 1024  # KiB on Linux
        cpu = usage.ru_utime + usage.ru_stime  # the child's CPU time: what it costs whatever else the machine runs
        print(f"{n}\t{build}\t{fit}\t{total}\t{wall:.1f}\t{cpu:.1f}\t{rss:.0f}\t{corr}\t{coef}")


if __name__ == "__main__":
    main()
