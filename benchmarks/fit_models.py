"""Benchmark: compress and fit BG/NBD on a simulated population of members (default 10 million).

Times are in whole days, as the lifecycle engine produces them, so histories compress to unique (x, t_x, T) triples.
Prints the figures; the target is a BG/NBD fit of at most 2 s on 10M members.

    .venv/bin/python benchmarks/fit_models.py [--members 10000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from winback.models import BetaGeoFitter, GammaGammaFitter, ModifiedBetaGeoFitter, compress
from winback.models.simulate import simulate_beta_geo, simulate_gamma_gamma

# a retail brand measured in days: ~3.6 purchases a year while alive, members first bought 1 day .. 3 years ago
TRUE = {"r": 0.6, "alpha": 60.0, "a": 0.8, "b": 3.0}
SPEND = {"p": 6.0, "q": 4.0, "v": 150.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--members", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n = args.members

    t0 = time.perf_counter()
    T = rng.integers(1, 3 * 365 + 1, size=n).astype(np.float64)
    sim = simulate_beta_geo(n, **TRUE, T=T, rng=rng)
    x, t_x = sim.x, np.round(sim.t_x)  # whole days (t_x <= T still holds as T is whole)
    t_sim = time.perf_counter() - t0
    print(f"members                 {n:>12,}")
    print(f"simulate                {t_sim:>12.2f} s")

    t0 = time.perf_counter()
    ux, ut, uT, counts = compress(x, t_x, T)
    t_compress = time.perf_counter() - t0
    print(f"compress                {t_compress:>12.2f} s   -> {len(ux):,} unique (x, t_x, T) triples")

    for cls in (BetaGeoFitter, ModifiedBetaGeoFitter):
        t0 = time.perf_counter()
        model = cls("days").fit(ux, ut, uT, weights=counts)
        t_fit = time.perf_counter() - t0
        shown = " ".join(f"{k}={v:.4g}" for k, v in model.params_.items())
        print(f"fit {cls.model_name:<19} {t_fit:>12.2f} s   {shown}  converged={model.converged_} iter={model.n_iter_}")
    print(f"true BG/NBD parameters  {' ' * 16}{' '.join(f'{k}={v:g}' for k, v in TRUE.items())}")

    t0 = time.perf_counter()
    bg = BetaGeoFitter("days").fit(ux, ut, uT, weights=counts)
    pa = bg.p_alive(x, t_x, T)
    t_pa = time.perf_counter() - t0 - 0.0
    t1 = time.perf_counter()
    ey = bg.conditional_expected_purchases(90.0, ux, ut, uT)
    t_ey = time.perf_counter() - t1
    print(f"fit + p_alive all       {t_pa:>12.2f} s   mean P(alive)={pa.mean():.4f} (true share alive {sim.alive.mean():.4f})")
    print(f"E[Y(90)] on triples     {t_ey:>12.2f} s   mean over members={float(counts @ ey) / n:.4f}")

    rep = x > 0
    t0 = time.perf_counter()
    mean_value, _ = simulate_gamma_gamma(x[rep], **SPEND, rng=rng)
    gg = GammaGammaFitter("days").fit(x[rep], np.round(mean_value, 2))
    t_gg = time.perf_counter() - t0
    shown = " ".join(f"{k}={v:.4g}" for k, v in gg.params_.items())
    print(f"simulate + fit gamma-gamma {t_gg:>9.2f} s   {int(rep.sum()):,} repeat buyers, {gg.n_unique_:,} unique; {shown}")


if __name__ == "__main__":
    main()
