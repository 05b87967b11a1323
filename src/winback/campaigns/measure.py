"""Measuring any experiment from one row per member: arm label + numeric outcomes → lift per arm vs control.

Pure: works on columns already read (see table_file.open_table for files). `Measurement` takes the rows in
batches and keeps only, per outcome and arm, the count, mean and sum of squared deviations (merged batch by batch,
Chan et al.), so a file of any length is measured in the memory of one batch; `measure_columns` is the same over
whole columns.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from winback.campaigns.stats import Summary, holm, incremental_roi, two_proportions, welch
from winback.errors import InputError
from winback.i18n import _

_NUMBER_JUNK = re.compile(r"[,\s¥￥$]")
_JUNK_RE2 = r"[,\s¥￥$]"
#: what float() reads the same as Arrow's cast: plain decimals with an optional exponent
_PLAIN_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
#: distinct arm labels kept (a wrong --arm column, e.g. the member id, is refused instead of growing without end)
MAX_ARMS = 1_000


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


def _not_numeric(name: str, row: int, header_rows: int, value: object) -> InputError:
    shown = _("an empty cell") if value is None else repr(value)
    return InputError(
        _("outcome column {name!r} is not numeric: row {row} (file line {line}) has {shown}", name=name, row=row,
          line=row + header_rows, shown=shown),
        hint=_("Outcomes must be numbers (revenue, 0/1 purchased …). Fill empty cells with 0 or drop the row."),
    )  # fmt: skip


def _python_numbers(name: str, values: Sequence[object], offset: int, header_rows: int) -> np.ndarray:
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values):
        x = parse_number(v)
        if x is None:
            raise _not_numeric(name, offset + i + 1, header_rows, v)
        out[i] = x
    return out


def _string_numbers(name: str, arr: pa.Array, offset: int, header_rows: int) -> np.ndarray:
    """parse_number over a string array, vectorised: plain decimals and 是/否/true/false in Arrow; any other cell
    goes through parse_number itself, so the two paths cannot disagree."""
    clean = pc.replace_substring_regex(arr, _JUNK_RE2, "")
    low = pc.utf8_lower(clean)
    plain = pc.fill_null(pc.match_substring_regex(clean, _PLAIN_NUMBER), False)
    nums = pc.cast(pc.if_else(plain, clean, pa.scalar(None, pa.string())), pa.float64())
    yes = pc.fill_null(pc.is_in(low, pa.array(["true", "是"])), False)
    no = pc.fill_null(pc.is_in(low, pa.array(["false", "否"])), False)
    out = pc.if_else(yes, 1.0, pc.if_else(no, 0.0, nums)).to_numpy(zero_copy_only=False).astype(float)
    bad = ~np.isfinite(out)  # None (not plain) or an overflow like 1e999: decided by parse_number
    if bad.any():
        raw = arr.to_pylist()
        for i in np.flatnonzero(bad):
            x = parse_number(raw[i])
            if x is None:
                raise _not_numeric(name, offset + int(i) + 1, header_rows, raw[i])
            out[i] = x
    return out


def numbers(name: str, values: Sequence[object] | pa.Array, offset: int = 0, header_rows: int = 1) -> np.ndarray:
    """The cells of an outcome column as floats (parse_number), or an InputError naming the first cell that is not
    a number (`offset`: rows before this batch)."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else _arrow_or_none(values)
    if arr is None:
        return _python_numbers(name, values, offset, header_rows)  # type: ignore[arg-type]
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _string_numbers(name, arr, offset, header_rows)
    if (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)) and arr.null_count == 0:
        out = arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if np.isfinite(out).all():
            return out
    return _python_numbers(name, arr.to_pylist(), offset, header_rows)


def _arrow_or_none(values: Sequence[object]) -> pa.Array | None:
    """A list of str/None as an Arrow string array (the CSV case); anything mixed stays Python (None)."""
    if all(v is None or type(v) is str for v in values[:64]):
        try:
            return pa.array(values, type=pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None
    return None


def numeric_column(name: str, values: Sequence[object], header_rows: int = 1) -> np.ndarray:
    return numbers(name, values, 0, header_rows)


def label(v: object) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() or None


class Measurement:
    """Per outcome and arm: count, mean and M2 (sum of squared deviations), merged one batch at a time."""

    def __init__(self, arm_name: str, outcomes: Sequence[str], header_rows: int = 1) -> None:
        self.arm_name, self.outcomes, self.header_rows = arm_name, list(outcomes), header_rows
        self.labels: dict[str, int] = {}
        self.rows = 0
        self.missing, self.first_missing = 0, 0
        self.n = {o: np.zeros(0, dtype=np.int64) for o in self.outcomes}
        self.mean = {o: np.zeros(0) for o in self.outcomes}
        self.m2 = {o: np.zeros(0) for o in self.outcomes}
        self.total = {o: np.zeros(0) for o in self.outcomes}
        self.binary = dict.fromkeys(self.outcomes, True)

    def _arm_ids(self, arms: Sequence[object] | pa.Array) -> np.ndarray:
        """Each row's arm as an index into self.labels (-1: no label), counting the rows without one."""
        arr = arms if isinstance(arms, pa.Array | pa.ChunkedArray) else _arrow_or_none(arms)  # type: ignore[arg-type]
        if arr is None:
            codes, uniques = _python_codes(arms)  # type: ignore[arg-type]
        else:
            enc = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).dictionary_encode()
            codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
            uniques = enc.dictionary.to_pylist()
        mapping = np.array([self._id(label(u)) for u in uniques] + [-1], dtype=np.int64)
        ids = mapping[codes]  # -1 (a null code) picks the trailing -1: no label
        empty = np.flatnonzero(ids < 0)
        if empty.size:
            self.first_missing = self.first_missing or self.rows + int(empty[0]) + 1
            self.missing += int(empty.size)
        return ids

    def _id(self, lab: str | None) -> int:
        if lab is None:
            return -1
        if lab not in self.labels:
            if len(self.labels) >= MAX_ARMS:
                raise InputError(
                    _("arm column {name!r} has more than {limit:,} different labels", name=self.arm_name,
                      limit=MAX_ARMS),
                    hint=_("Give the column that holds the arm (control / A / B …) with --arm, not an id column."),
                )  # fmt: skip
            self.labels[lab] = len(self.labels)
        return self.labels[lab]

    def add(self, arms: Sequence[object] | pa.Array, outcomes: dict[str, Sequence[object] | pa.Array]) -> None:
        """Take one batch: the arm labels and each outcome's cells, row for row."""
        ids = self._arm_ids(arms)
        values = {o: numbers(o, outcomes[o], self.rows, self.header_rows) for o in self.outcomes}
        self.rows += len(ids)
        keep = ids >= 0
        ids = ids[keep]
        k = len(self.labels)
        for o, x in values.items():
            self._merge(o, ids, x[keep], k)

    def _merge(self, o: str, ids: np.ndarray, x: np.ndarray, k: int) -> None:
        n_a, mean_a, m2_a, tot_a = (np.pad(a, (0, k - a.size)) for a in
                                    (self.n[o], self.mean[o], self.m2[o], self.total[o]))  # fmt: skip
        n_b = np.bincount(ids, minlength=k).astype(np.int64)
        s_b = np.bincount(ids, weights=x, minlength=k)
        mean_b = np.divide(s_b, n_b, out=np.zeros(k), where=n_b > 0)
        dev = x - mean_b[ids]
        m2_b = np.bincount(ids, weights=dev * dev, minlength=k)
        n = n_a + n_b
        delta = mean_b - mean_a
        frac = np.divide(n_b, n, out=np.zeros(k), where=n > 0)
        self.mean[o] = mean_a + delta * frac
        self.m2[o] = m2_a + m2_b + delta * delta * n_a * frac
        self.n[o], self.total[o] = n, tot_a + s_b
        if self.binary[o] and x.size:
            self.binary[o] = bool(np.all((x == 0) | (x == 1)))

    def summary(self, o: str, lab: str) -> Summary:
        i = self.labels[lab]
        n = int(self.n[o][i]) if i < self.n[o].size else 0
        if n == 0:
            return Summary(0, math.nan, 0.0)
        return Summary(n, float(self.mean[o][i]), float(self.m2[o][i] / (n - 1)) if n > 1 else 0.0)

    def successes(self, o: str, lab: str) -> int:
        i = self.labels[lab]
        return int(np.rint(self.total[o][i])) if i < self.total[o].size else 0

    def result(
        self, control: str, *, alpha: float = 0.05, cost_per_contact: float | None = None, margin: float = 1.0
    ) -> dict[str, Any]:
        """Per outcome: control n/mean, and per other arm n, mean, diff (arm − control), Welch CI/t/p (see
        measure_columns)."""
        if self.missing:
            raise InputError(
                _("arm column {name!r} is empty in {n} row(s), first at row {row}", name=self.arm_name, n=self.missing,
                  row=self.first_missing),
                hint=_("Every row needs an arm label (e.g. control / A / B); drop rows that were not in the test."),
            )  # fmt: skip
        present = sorted(self.labels, key=lambda s: (s != control, s))
        if control not in self.labels:
            shown = ", ".join(repr(p) for p in present[:20])
            raise InputError(
                _("control label {control!r} not found in column {name!r}", control=control, name=self.arm_name),
                hint=_("The column holds: {shown}. Give one of them with --control (exact spelling).", shown=shown),
            )
        result: dict[str, Any] = {"outcomes": {}, "arm_column": self.arm_name, "control_label": control,
                                  "alpha": alpha}  # fmt: skip
        for o in self.outcomes:
            result["outcomes"][o] = self._outcome(o, control, present, alpha, cost_per_contact, margin)
        return result

    def _outcome(
        self, o: str, control: str, present: list[str], alpha: float, cost: float | None, margin: float
    ) -> dict[str, Any]:
        c = self.summary(o, control)
        binary = self.binary[o]
        arms_out: dict[str, Any] = {}
        for a in present:
            if a == control:
                continue
            t = self.summary(o, a)
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
                z = two_proportions(self.successes(o, a), t.n, self.successes(o, control), c.n, alpha)
                entry.update(z_statistic=z.statistic, z_p_value=z.p_value)
            if cost is not None:
                spent = cost * t.n
                total = None if d.diff is None else d.diff * t.n
                entry.update(cost=spent, incremental_total=total, incremental_roi=incremental_roi(total, margin, spent))
            arms_out[a] = entry
        for e, p in zip(arms_out.values(), holm([e["p_value"] for e in arms_out.values()]), strict=True):
            e["p_holm"] = p
        return {"control": {"n": c.n, "mean": c.mean}, "arms": arms_out, "binary": binary}  # fmt: skip


def _python_codes(values: Sequence[object]) -> tuple[np.ndarray, list[object]]:
    """Dictionary codes of mixed Python values (an XLSX arm column of numbers and text); None is code -1."""
    seen: dict[object, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        codes[i] = -1 if v is None else seen.setdefault((type(v), v), len(seen))
    return codes, [v for _t, v in seen]


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
    m = Measurement(arm_name, list(outcomes))
    m.add(arms, {o: pa.array(np.asarray(v, dtype=float)) for o, v in outcomes.items()})
    return m.result(control, alpha=alpha, cost_per_contact=cost_per_contact, margin=margin)
