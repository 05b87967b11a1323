"""Benchmark: compress and fit the customer-base models on a simulated population (default 10 million members).

Times are rounded to whole days, as the lifecycle engine produces them, so histories compress to unique
(x, t_x, T) triples. Prints wall-clock and CPU seconds (CPU is the steadier figure on a shared machine).
Target: BG/NBD fit <= 2 s on 10M members.

    .venv/bin/python benchmarks/fit_models.py [--members 10000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from winback.models import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, compress
from winback.models.simulate import simulate_beta_geo, simulate_gamma_gamma

# a retail brand in days: ~3.6 purchases a year while alive; members first bought between 1 day and 3 years ago
TRUE = {"r": 0.6, "alpha": 60.0, "a": 0.8, "b": 3.0}
SPEND = {"p": 6.0, "q": 4.0, "v": 150.0}
R = TypeVar("R")


def timed(label: str, fn: Callable[[], R], note: Callable[[R], str] = lambda _: "") -> R:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<28} wall {wall:6.2f} s  cpu {cpu:6.2f} s   {note(out)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.members
    print(f"members {n:,}; true BG/NBD {TRUE}; Gamma-Gamma {SPEND}")

    def simulate() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        T = rng.integers(1, 3 * 365 + 1, size=n).astype(np.float64)
        sim = simulate_beta_geo(n, **TRUE, T=T, rng=rng)
        return sim.x, np.round(sim.t_x), T  # whole days; t_x <= T still holds as T is whole

    x, t_x, T = timed("simulate", simulate)
    ux, ut, uT, counts = timed("compress", lambda: compress(x, t_x, T), lambda c: f"{len(c[0]):,} unique triples")

    def show(m: BetaGeoFitter) -> str:
        params = " ".join(f"{k}={v:.4g}" for k, v in m.params_.items())
        return f"{params} converged={m.converged_}"

    bg = timed("fit BG/NBD (triples)", lambda: BetaGeoFitter("days").fit(ux, ut, uT, weights=counts), show)
    timed("fit MBG/NBD (triples)", lambda: ModifiedBetaGeoFitter("days").fit(ux, ut, uT, weights=counts), show)
    pa = timed("p_alive, all members", lambda: bg.p_alive(x, t_x, T), lambda p: f"mean {p.mean():.4f}")
    del pa
    timed(
        "E[Y(90 days)], triples",
        lambda: bg.conditional_expected_purchases(90.0, ux, ut, uT),
        lambda e: f"mean over members {float(counts @ e) / n:.4f}",
    )

    rep = x > 0
    mean_value, _ = simulate_gamma_gamma(x[rep], **SPEND, rng=rng)
    mean_value = np.round(mean_value, 2)
    gg = timed(
        "fit Gamma-Gamma",
        lambda: GammaGammaFitter("days").fit(x[rep], mean_value),
        lambda g: (
            f"{int(rep.sum()):,} repeat buyers, {g.n_unique_:,} unique; "
            + " ".join(f"{k}={v:.4g}" for k, v in g.params_.items())
        ),
    )
    del gg


if __name__ == "__main__":
    main()
