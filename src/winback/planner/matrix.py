"""The history matrix (pure): periods, the stage × tier order, totals and the change year over year."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence

from winback.common.tiers import tier_order as ranked_tiers
from winback.errors import InputError
from winback.i18n import _
from winback.planner.types import CellFacts, HistoryPeriod, Period

_YEAR = re.compile(r"^\d{4}$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2}):(\d{4}-\d{2}-\d{2})$")


def add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def parse_period(text: str) -> Period:
    """`2027` (the calendar year) or `YYYY-MM-DD:YYYY-MM-DD` (both days included)."""
    text = (text or "").strip()
    if _YEAR.match(text):
        y = int(text)
        return Period(dt.date(y, 1, 1), dt.date(y + 1, 1, 1))
    m = _RANGE.match(text)
    if m:
        try:
            start, last = dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))
        except ValueError:
            start = last = None  # type: ignore[assignment]
        if start is not None and last is not None and last >= start:
            return Period(start, last + dt.timedelta(days=1))
    raise InputError(
        _("the period {text!r} is neither a year nor a date range", text=text),
        hint=_(
            "Give a year (--period 2027) or two dates, first and last day included (--period 2027-01-01:2027-12-31)."
        ),
    )


def past_periods(start: dt.date, days: int, count: int) -> list[Period]:
    """`count` periods of the same length ending where the next one starts, the most recent last. A year-long
    period steps back by calendar years, so each past period starts on the same day of the year."""
    out = []
    for k in range(count, 0, -1):
        if 365 <= days <= 366:
            s, e = add_years(start, -k), add_years(start, -k + 1)
        else:
            s, e = start - dt.timedelta(days=days * k), start - dt.timedelta(days=days * (k - 1))
        out.append(Period(s, e))
    return out


def backtest_spans(as_of: dt.date, days: int) -> list[tuple[dt.date, int]]:
    """(as-of, length in days) of the back-tests a plan at `as_of` for a period of `days` may pick its estimator
    by, in order of preference: the whole period before `as_of` (a year back by the calendar), then the half period
    before it (half the days, rounded down), for a brand too young for the first."""
    whole = add_years(as_of, -1) if 365 <= days <= 366 else as_of - dt.timedelta(days=days)
    half = days // 2
    return [(whole, days), (as_of - dt.timedelta(days=half), half)] if half >= 1 else [(whole, days)]


def stage_order(scheme_segments: Sequence[str], preferred: Sequence[str]) -> list[str]:
    """The planner file's order first (stages it lists that the scheme has), then the scheme's others."""
    known = [s for s in preferred if s in scheme_segments]
    return known + [s for s in scheme_segments if s not in known]


def tier_order(seen: Iterable[str], preferred: Sequence[str], spend: Mapping[str, float]) -> list[str]:
    """Tiers lowest first: no tier, then the brand's listed ranks, then unlisted ones by their members' mean
    lifetime spend."""
    return [t or "" for t in ranked_tiers(seen, spend, preferred)]


def total(cells: Iterable[CellFacts], stage: str = "*", tier: str = "*") -> CellFacts:
    cells = list(cells)
    return CellFacts(
        stage,
        tier,
        sum(c.members for c in cells),
        sum(c.repurchasers for c in cells),
        sum(c.revenue for c in cells),
        sum(c.revenue_sq for c in cells),
    )


def order_cells(cells: Iterable[CellFacts], stages: Sequence[str], tiers: Sequence[str]) -> list[CellFacts]:
    rank_s = {s: i for i, s in enumerate(stages)}
    rank_t = {t: i for i, t in enumerate(tiers)}
    return sorted(cells, key=lambda c: (rank_s.get(c.stage, len(rank_s)), rank_t.get(c.tier, len(rank_t)), c.tier))


def group(cells: Iterable[CellFacts], by: Sequence[str]) -> list[CellFacts]:
    """Cells summed to the `by` dimensions (stage, tier, both or none)."""
    out: dict[tuple[str, str], list[CellFacts]] = {}
    for c in cells:
        key = (c.stage if "stage" in by else "*", c.tier if "tier" in by else "*")
        out.setdefault(key, []).append(c)
    return [total(v, *k) for k, v in out.items()]


def _ratio(new: float | None, old: float | None) -> float | None:
    if new is None or old is None or old == 0:
        return None
    return round(new / old - 1.0, 4)


def change(cur: CellFacts, prev: CellFacts | None) -> dict[str, float | None]:
    """Relative change against the period before (0.1 = +10 %); None where the old value is 0 or missing."""
    if prev is None:
        return {"members": None, "repurchasers": None, "rate": None, "aov": None, "contribution": None}
    return {
        "members": _ratio(cur.members, prev.members),
        "repurchasers": _ratio(cur.repurchasers, prev.repurchasers),
        "rate": _ratio(cur.rate, prev.rate),
        "aov": _ratio(cur.aov, prev.aov),
        "contribution": _ratio(cur.revenue, prev.revenue),
    }


def history(
    periods: Sequence[tuple[Period, list[CellFacts]]], stages: Sequence[str], tiers: Sequence[str], by: Sequence[str]
) -> list[HistoryPeriod]:
    """The matrix of every period (oldest first), grouped by `by`, with the change against the period before."""
    out: list[HistoryPeriod] = []
    prev: dict[tuple[str, str], CellFacts] = {}
    prev_total: CellFacts | None = None
    for period, cells in periods:
        grouped = order_cells(group(cells, by), stages, tiers)
        tot = total(cells)
        changes = {f"{c.stage}/{c.tier}": change(c, prev.get((c.stage, c.tier))) for c in grouped}
        changes["*/*"] = change(tot, prev_total)
        out.append(HistoryPeriod(period, grouped, tot, changes))
        prev = {(c.stage, c.tier): c for c in grouped}
        prev_total = tot
    return out
