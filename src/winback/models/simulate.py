"""Simulate customers from the BG/NBD, MBG/NBD and Gamma-Gamma models (numpy Generator, reproducible by seed).

Used by tests (parameter recovery, Monte-Carlo checks of the closed forms) and by the demo data generator.

Purchase process per customer (time 0 = first purchase, repeat purchases counted):
  λ ~ Gamma(shape r, rate α), p ~ Beta(a, b), purchases while alive follow a Poisson process with rate λ.
  BG/NBD: after each repeat purchase the customer drops out with probability p, so they make J ~ Geometric(p)
  (J >= 1) purchases and die right after the J-th. MBG/NBD: the coin is also flipped after the first purchase,
  so the number of repeat purchases before drop-out is J - 1 (possibly 0).
Observed over (0, T]: x = min(N(T), J) with N(T) ~ Poisson(λT); given N(T) = n the purchase times are n sorted
uniforms on (0, T], so the time of the x-th is T · Beta(x, n - x + 1). Alive at T iff N(T) < J.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from winback.models.inputs import FloatArray

RngLike = np.random.Generator | int | None


def _rng(rng: RngLike) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


@dataclass(frozen=True)
class SimulatedCustomers:
    """Observed histories plus the hidden truth of each simulated customer."""

    x: FloatArray  # repeat purchases in (0, T]
    t_x: FloatArray  # time of the last repeat purchase (0 if none)
    T: FloatArray  # observation length
    lam: FloatArray  # true purchase rate while alive
    p: FloatArray  # true drop-out probability per purchase
    alive: NDArray[np.bool_]  # alive at T
    n_poisson: NDArray[np.int64]  # purchases the Poisson process would have made in (0, T] if never dropping out
    allowed: NDArray[np.int64]  # repeat purchases allowed before drop-out (J, or J - 1 for MBG/NBD)


def simulate_beta_geo(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    *,
    modified: bool = False,
    rng: RngLike = None,
) -> SimulatedCustomers:
    """Draw n customers from BG/NBD (or MBG/NBD if `modified`) observed for T (a scalar or one value each)."""
    g = _rng(rng)
    Ta = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = g.gamma(r, 1.0 / alpha, size=n)
    p = np.clip(g.beta(a, b, size=n), 1e-12, 1.0)
    allowed = g.geometric(p).astype(np.int64) - (1 if modified else 0)
    n_poisson = g.poisson(lam * Ta).astype(np.int64)
    x = np.minimum(n_poisson, allowed)
    t_x = np.zeros(n)
    has = x > 0
    t_x[has] = Ta[has] * g.beta(x[has], n_poisson[has] - x[has] + 1)
    return SimulatedCustomers(x.astype(np.float64), t_x, Ta, lam, p, n_poisson < allowed, n_poisson, allowed)


def purchase_times(sim: SimulatedCustomers, *, rng: RngLike = None) -> tuple[NDArray[np.int64], FloatArray]:
    """Times of every observed repeat purchase of simulated customers: (customer index, time), sorted.

    Consistent with `sim`: customer i has sim.x[i] purchases, the last exactly at sim.t_x[i]. Time 0 (the first
    purchase) is not included.
    """
    g = _rng(rng)
    x = sim.x.astype(np.int64)
    idx = np.repeat(np.arange(len(x)), x)
    # the first x-1 purchases are the first x-1 of n_poisson sorted uniforms on (0, T], conditioned on the x-th
    # being at t_x: i.e. x-1 sorted uniforms on (0, t_x)
    times = g.random(len(idx)) * sim.t_x[idx]
    last = np.cumsum(x) - 1
    times[last[x > 0]] = sim.t_x[x > 0]
    order = np.lexsort((times, idx))
    return idx[order], times[order]


def simulate_gamma_gamma(
    frequency: ArrayLike, p: float, q: float, v: float, *, rng: RngLike = None
) -> tuple[FloatArray, FloatArray]:
    """Mean transaction value of each customer with `frequency` transactions (>= 1): returns (mean_value, ν).

    ν ~ Gamma(q, rate v); each transaction ~ Gamma(p, rate ν); the mean of x of them ~ Gamma(px, rate νx).
    """
    g = _rng(rng)
    x = np.asarray(frequency, dtype=np.float64)
    nu = g.gamma(q, 1.0 / v, size=x.shape)
    mean_value = g.gamma(p * x, 1.0 / (nu * x))
    return mean_value, nu


def transaction_values(nu: ArrayLike, p: float, *, rng: RngLike = None) -> FloatArray:
    """One transaction value per entry of ν (spend rate of the buying customer): Gamma(p, rate ν)."""
    g = _rng(rng)
    nu_a = np.asarray(nu, dtype=np.float64)
    return np.asarray(g.gamma(p, 1.0 / nu_a), dtype=np.float64)
