"""Measuring any experiment from one row per member: arm label + numeric outcomes → lift per arm vs control.

Pure: works on columns already read (see table_file.read_table for files).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from winback.campaigns.stats import Summary, holm, incremental_roi, two_proportions, welch
from winback.errors import InputError

_NUMBER_JUNK = re.compile(r"[,\s¥￥$]")


def parse_number(value: object) -> float | None:
    """A number from a cell: ints, floats, '1,234.5', '¥88', 'TRUE'/'FALSE'; None when it is not one."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        text = _NUMBER_JUNK.sub("", value)
        if text.lower() in ("true", "是"):
            return 1.0
        if text.lower() in ("false", "否"):
            return 0.0
        try:
            v = float(text)
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


def numeric_column(name: str, values: Sequence[object], header_rows: int = 1) -> np.ndarray:
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values):
        x = parse_number(v)
        if x is None:
            shown = "an empty cell" if v is None else repr(v)
            raise InputError(
                f"outcome column {name!r} is not numeric: row {i + 1} (file line {i + 1 + header_rows}) has {shown}",
                hint="Outcomes must be numbers (revenue, 0/1 purchased …). Fill empty cells with 0 or drop the row.",
            )
        out[i] = x
    return out


def label(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() or None


def measure_columns(
    arm_name: str,
    arms: Sequence[object],
    control: str,
    outcomes: dict[str, np.ndarray],
    *,
    alpha: float = 0.05,
    cost_per_contact: float | None = None,
    margin: float = 1.0,
) -> dict[str, Any]:
    """Per outcome: control n/mean, and per other arm n, mean, diff (arm − control), Welch CI/t/p.

    Extra keys: Holm-adjusted p over the arms of one outcome; for 0/1 outcomes the two-proportion z test;
    with a cost per contact, cost, incremental total (diff × n) and incremental ROI per arm.
    """
    labels = [label(a) for a in arms]
    missing = [i for i, lab in enumerate(labels) if lab is None]
    if missing:
        raise InputError(
            f"arm column {arm_name!r} is empty in {len(missing)} row(s), first at row {missing[0] + 1}",
            hint="Every row needs an arm label (e.g. control / A / B); drop rows that were not in the test.",
        )
    present = sorted(set(labels), key=lambda s: (s != control, s))  # type: ignore[arg-type,return-value]
    if control not in present:
        shown = ", ".join(repr(p) for p in present[:20])
        raise InputError(
            f"control label {control!r} not found in column {arm_name!r}",
            hint=f"The column holds: {shown}. Give one of them with --control (exact spelling).",
        )
    lab = np.asarray(labels, dtype=object)
    masks = {a: lab == a for a in present}
    result: dict[str, Any] = {"outcomes": {}, "arm_column": arm_name, "control_label": control, "alpha": alpha}
    for name, values in outcomes.items():
        c = Summary.of(values[masks[control]])
        binary = bool(np.all((values == 0) | (values == 1)))
        arms_out: dict[str, Any] = {}
        for a in present:
            if a == control:
                continue
            t = Summary.of(values[masks[a]])
            d = welch(t, c, alpha)
            entry: dict[str, Any] = {
                "n": t.n,
                "mean": t.mean,
                "diff": d.diff,
                "ci_low": d.ci_low,
                "ci_high": d.ci_high,
                "statistic": d.statistic,
                "p_value": d.p_value,
                "df": d.df,
            }
            if binary:
                z = two_proportions(int(values[masks[a]].sum()), t.n, int(values[masks[control]].sum()), c.n, alpha)
                entry.update(z_statistic=z.statistic, z_p_value=z.p_value)
            if cost_per_contact is not None:
                cost = cost_per_contact * t.n
                total = None if d.diff is None else d.diff * t.n
                entry.update(cost=cost, incremental_total=total, incremental_roi=incremental_roi(total, margin, cost))
            arms_out[a] = entry
        adjusted = holm([e["p_value"] for e in arms_out.values()])
        for e, p in zip(arms_out.values(), adjusted, strict=True):
            e["p_holm"] = p
        result["outcomes"][name] = {"control": {"n": c.n, "mean": c.mean}, "arms": arms_out, "binary": binary}
    return result
