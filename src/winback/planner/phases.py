"""The phase strategy table of a big promotion (pure): warm-up / burst / steady / ending × target group, with the
strategy text from the planner file, the playbook's scenario per phase, and resources and targets computed from
the chosen measures (each option is spread over the phases whose rows draw from its stage, by phase share)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from winback.errors import InputError
from winback.i18n import _
from winback.planner.types import Option, Period


def promotion_in(
    promotions: Sequence[Mapping[str, Any]],
    period: Period,
    wanted: str | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> dict[str, Any] | None:
    """The promotion a plan carries: `wanted` (an id of the planner file, its dates in the period's years, or the
    given dates), else the first promotion of the file that falls inside the period; None when none does."""
    for p in promotions:
        if wanted is not None and p["id"] != wanted:
            continue
        for year in range(period.start.year, period.end.year + 1):
            s = start or dt.date.fromisoformat(f"{year}-{p['start']}")
            e = end or dt.date.fromisoformat(f"{year}-{p['end']}")
            if period.start <= s and e < period.end:
                return {
                    "id": p["id"],
                    "zh": p.get("zh", p["id"]),
                    "en": p.get("en", p["id"]),
                    "start": s.isoformat(),
                    "end": e.isoformat(),
                }
    if wanted is not None:
        known = ", ".join(str(p["id"]) for p in promotions)
        raise InputError(
            _("the promotion {wanted!r} is not in the planner file or not inside the period", wanted=wanted),
            hint=_("Promotions of the planner file: {known}.", known=known),
        )
    return None


def _dates(promo: Mapping[str, Any], phases: Sequence[Mapping[str, Any]]) -> list[tuple[dt.date, dt.date]]:
    start, end = dt.date.fromisoformat(promo["start"]), dt.date.fromisoformat(promo["end"])
    days = (end - start).days + 1
    total = sum(float(p.get("share", 0)) for p in phases) or 1.0
    out, at, used = [], start, 0.0
    for i, p in enumerate(phases):
        used += float(p.get("share", 0)) / total
        last = end if i == len(phases) - 1 else start + dt.timedelta(days=max(round(days * used) - 1, 0))
        last = max(last, at)
        out.append((at, last))
        at = min(last + dt.timedelta(days=1), end)
    return out


def phase_table(
    phases: Sequence[Mapping[str, Any]],
    playbook_phases: Sequence[Mapping[str, Any]],
    promo: Mapping[str, Any] | None,
    chosen: Sequence[Option],
    lang: str,
) -> list[dict[str, Any]]:
    """One row per phase × target group."""
    scen = {str(p.get("id")): p.get("scenario") for p in playbook_phases}
    shares = [float(p.get("share", 0)) for p in phases]
    where: dict[str, list[int]] = {}
    for i, p in enumerate(phases):
        for row in p.get("rows", []):
            for s in row.get("stages", []):
                where.setdefault(s, [])
                if i not in where[s]:
                    where[s].append(i)
    dates = _dates(promo, phases) if promo else [(None, None)] * len(phases)
    out = []
    for i, p in enumerate(phases):
        for row in p.get("rows", []):
            res = {
                "gain": 0.0,
                "repurchasers": 0.0,
                "messages": 0.0,
                "guide_hours": 0.0,
                "coupons": 0.0,
                "cost": 0.0,
                "measures": [],
            }
            for o in chosen:
                if o.stage not in row.get("stages", []) or i not in where.get(o.stage, []):
                    continue
                rows_here = sum(1 for r in p.get("rows", []) if o.stage in r.get("stages", []))
                w = shares[i] / sum(shares[j] for j in where[o.stage]) / rows_here
                res["gain"] += w * o.gain
                res["repurchasers"] += w * o.audience * o.runs * max(o.effect.rate or 0.0, 0.0)
                for k in ("messages", "guide_hours", "coupons", "cost"):
                    res[k] += w * float(getattr(o, k))
                if o.measure not in res["measures"]:
                    res["measures"].append(o.measure)
            d0, d1 = dates[i]
            out.append({
                "phase": p["id"], "phase_name": p.get("en" if lang == "en" else "zh", p["id"]),
                "start": d0.isoformat() if d0 else None, "end": d1.isoformat() if d1 else None,
                "scenario": scen.get(str(p["id"])), "group": row.get("group"),
                **{k: row.get(f"{k}_{'en' if lang == 'en' else 'zh'}", "") for k in
                   ("group", "strategy", "play", "details", "channel")},
                "group_id": row.get("group"), "stages": list(row.get("stages", [])),
                "target_incremental_revenue": round(res["gain"], 2),
                "target_incremental_repurchasers": round(res["repurchasers"], 1),
                "messages": round(res["messages"]), "guide_hours": round(res["guide_hours"], 1),
                "coupons": round(res["coupons"], 1), "cost": round(res["cost"], 2), "measures": res["measures"],
            })  # fmt: skip
    return out


def relabel(rows: Sequence[Mapping[str, Any]], phases: Sequence[Mapping[str, Any]], lang: str) -> list[dict[str, Any]]:
    """A kept phase table's texts (phase name, group, strategy, play, details, channel) in `lang`, from the
    planner file it was made with; figures untouched. Rows the file no longer has keep their texts."""
    key = "en" if lang == "en" else "zh"
    by_id = {str(p["id"]): p for p in phases}
    out = []
    for r in rows:
        p = by_id.get(str(r.get("phase")))
        row = next((x for x in (p or {}).get("rows", []) if x.get("group") == r.get("group_id")), None)
        if p is None or row is None:
            out.append(dict(r))
            continue
        texts = {k: row.get(f"{k}_{key}", "") for k in ("group", "strategy", "play", "details", "channel")}
        out.append({**r, "phase_name": p.get(key, p["id"]), **texts})
    return out
