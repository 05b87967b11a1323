"""The staff leaderboard's statistics: each guide's incremental reactivations against the guide's own control
members, and an empirical-Bayes shrunk score to rank by. Pure (math only).

Per guide and campaign, the guide's treated members (n_t, x_t of them bought in the response window) are compared
with the guide's own control members of the same campaign (n_c, x_c): incremental = n_t (x_t/n_t − x_c/n_c),
variance n_t² (p̃_t(1−p̃_t)/n_t + p̃_c(1−p̃_c)/n_c) with p̃ = (x+1)/(n+2) (so a campaign where nobody bought still
has a variance). Campaigns where the guide has no control member (or no treated one) add to tasks and
purchases but not to the incremental estimate. Summed over campaigns, the guide's 95 % interval is
incremental ± 1.96 √variance.

Ranking rule (RULE below). A guide's uplift per treated member δ = incremental / n_t (standard error s) is shrunk
towards the brand's pooled uplift μ: δ̂ = μ + (1 − B)(δ − μ), B = s² / (s² + τ²), where τ² is the between-guide
variance of the true uplifts (DerSimonian–Laird moment estimate, ≥ 0). A guide with 3 lucky tasks has a large s,
so B ≈ 1 and δ̂ ≈ μ; a guide with 300 tasks keeps most of her own figure. Guides are ranked by δ̂ (ties: by the
incremental reactivations, then by tasks); a guide without any control member gets δ̂ = μ (B = 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from winback.errors import InputError
from winback.i18n import N_, _

Z95 = 1.959963984540054

RULE = N_(
    "ranked by shrunk incremental reactivations per treated member: a guide's incremental = (her treated members' "
    "purchase rate − her own control members' rate) × her treated members; the per-member figure is shrunk "
    "towards the brand's pooled uplift by empirical Bayes, B = s²/(s²+τ²) (s = the guide's standard error, "
    "τ² = between-guide variance, DerSimonian–Laird). A guide with few tasks gets about the average, one with many "
    "keeps her own figure; a guide without control members gets the average. Ties: incremental reactivations, "
    "then tasks."
)


@dataclass(frozen=True)
class Cell:
    """One guide in one campaign."""

    guide_id: str | None
    n_treated: int
    x_treated: int
    n_control: int
    x_control: int


@dataclass(frozen=True)
class Estimate:
    guide_id: str | None
    n_evaluated: int  # treated members in campaigns where the guide also has control members
    incremental: float | None
    variance: float | None

    @property
    def uplift(self) -> float | None:
        return None if self.incremental is None or not self.n_evaluated else self.incremental / self.n_evaluated

    @property
    def se(self) -> float | None:
        if self.variance is None or not self.n_evaluated:
            return None
        return math.sqrt(self.variance) / self.n_evaluated

    def interval(self) -> tuple[float | None, float | None]:
        if self.incremental is None or self.variance is None:
            return None, None
        h = Z95 * math.sqrt(self.variance)
        return self.incremental - h, self.incremental + h


@dataclass(frozen=True)
class Prior:
    mean: float  # μ: pooled uplift per treated member
    tau2: float  # τ²: between-guide variance of the true uplift
    guides: int  # guides with an estimate
    mean_var: float = 0.0  # the variance of μ itself


@dataclass(frozen=True)
class Shrunk:
    score: float
    low: float
    high: float
    weight: float  # 1 − B


def _var_rate(x: int, n: int) -> float:
    p = (x + 1) / (n + 2)
    return p * (1 - p) / n


def estimate(guide_id: str | None, cells: Iterable[Cell]) -> Estimate:
    """The guide's incremental reactivations and variance, summed over the campaigns with both arms."""
    inc = var = 0.0
    n_eval = 0
    for c in cells:
        if c.n_treated <= 0 or c.n_control <= 0:
            continue
        inc += c.n_treated * (c.x_treated / c.n_treated - c.x_control / c.n_control)
        var += c.n_treated**2 * (_var_rate(c.x_treated, c.n_treated) + _var_rate(c.x_control, c.n_control))
        n_eval += c.n_treated
    if not n_eval:
        return Estimate(guide_id, 0, None, None)
    return Estimate(guide_id, n_eval, inc, var)


def prior(estimates: Sequence[Estimate]) -> Prior:
    """μ = pooled uplift (Σ incremental / Σ evaluated members); τ² by DerSimonian–Laird over the guides."""
    usable = [(e.uplift, e.se) for e in estimates if e.uplift is not None and e.se]
    total_n = sum(e.n_evaluated for e in estimates if e.incremental is not None)
    mu = sum(e.incremental or 0.0 for e in estimates if e.incremental is not None) / total_n if total_n else 0.0
    mu_var = sum(e.variance or 0.0 for e in estimates if e.incremental is not None) / total_n**2 if total_n else 0.0
    if len(usable) < 2:
        return Prior(mu, 0.0, len(usable), mu_var)
    w = [1 / s**2 for _, s in usable]  # type: ignore[operator]
    sw = sum(w)
    fixed = sum(wi * d for wi, (d, _) in zip(w, usable, strict=True)) / sw  # type: ignore[operator]
    q = sum(wi * (d - fixed) ** 2 for wi, (d, _) in zip(w, usable, strict=True))  # type: ignore[operator]
    denom = sw - sum(wi**2 for wi in w) / sw
    tau2 = max(0.0, (q - (len(usable) - 1)) / denom) if denom > 0 else 0.0
    return Prior(mu, tau2, len(usable), mu_var)


def shrink(e: Estimate, p: Prior) -> Shrunk:
    """δ̂ = μ + (1 − B)(δ − μ) with its 95 % interval: variance (1 − B) s² + B² var(μ) (τ² taken as known)."""
    d, s = e.uplift, e.se
    if d is None or s is None:
        sd = math.sqrt(p.tau2 + p.mean_var)
        return Shrunk(p.mean, p.mean - Z95 * sd, p.mean + Z95 * sd, 0.0)
    if s == 0.0:
        return Shrunk(d, d, d, 1.0)
    keep = p.tau2 / (p.tau2 + s**2)
    score = p.mean + keep * (d - p.mean)
    sd = math.sqrt(keep * s**2 + (1 - keep) ** 2 * p.mean_var)
    return Shrunk(score, score - Z95 * sd, score + Z95 * sd, keep)


def rank_key(shrunk: Shrunk, e: Estimate, tasks: int, name: str) -> tuple[float, float, int, str]:
    """Sort key: higher shrunk uplift first, then more incremental reactivations, then more tasks, then name."""
    return (-round(shrunk.score, 12), -(e.incremental or 0.0), -tasks, name)


def parse_period(text: str | None, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """[start, end) of the campaigns' launch days a leaderboard covers: `90d` (the last 90 days, today included;
    the default), `2026-11` (a month), `2026-10-01..2026-11-30` (both days included) or `all`."""
    s = (text or "90d").strip().lower()
    end = today + dt.timedelta(days=1)
    if s == "all":
        return dt.date(1900, 1, 1), end, s
    m = re.fullmatch(r"(\d+)\s*([dwm])", s)
    if m:
        n = int(m.group(1)) * {"d": 1, "w": 7, "m": 30}[m.group(2)]
        if n > 0:
            return end - dt.timedelta(days=n), end, s
    m = re.fullmatch(r"(\d{4})-(\d{2})", s)
    if m and 1 <= int(m.group(2)) <= 12:
        start = dt.date(int(m.group(1)), int(m.group(2)), 1)
        nxt = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
        return start, nxt, s
    a, sep, b = s.partition("..")
    if sep:
        try:
            start, last = dt.date.fromisoformat(a.strip()), dt.date.fromisoformat(b.strip())
        except ValueError:
            start = last = None  # type: ignore[assignment]
        if start is not None and last is not None and start <= last:
            return start, last + dt.timedelta(days=1), s
    raise InputError(
        _("cannot read the period {text!r}", text=text),
        hint=_("Write 90d (the last 90 days), 2026-11 (a month), 2026-10-01..2026-11-30, or all."),
    )
