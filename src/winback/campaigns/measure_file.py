"""Service behind `winback measure`: read a file with one row per member and measure every arm vs control.

The file is streamed (table_file.open_table): batch by batch into `measure.Measurement`, which keeps only the
per-arm sufficient statistics, so memory does not grow with the file (benchmarks/measure_bench.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from winback.campaigns.measure import Measurement
from winback.campaigns.table_file import BATCH_ROWS, Batch, TableStream, read_columns
from winback.campaigns.types import MeasureResult
from winback.errors import InputError
from winback.i18n import _


def measure_file(
    path: Path | str,
    *,
    arm: str,
    control: str,
    outcomes: list[str],
    cost_per_contact: float | None = None,
    margin: float = 1.0,
    alpha: float = 0.05,
    encoding: str = "auto",
    sheet: str | None = None,
    batch_rows: int = BATCH_ROWS,
) -> MeasureResult:
    if not outcomes:
        raise InputError(_("no outcome given"), hint=_("Name at least one numeric column with --outcome COL."))
    if not 0.0 < alpha < 1.0:
        raise InputError(_("alpha must be between 0 and 1, got {alpha}", alpha=alpha), hint=_("Use e.g. --alpha 0.05."))
    outcomes = list(dict.fromkeys(outcomes))
    found: list[Measurement] = []

    def take(table: TableStream) -> Callable[[Batch], None]:
        found[:] = [Measurement(arm, outcomes, table.header_rows)]
        return lambda batch: found[0].add(batch[arm], {o: batch[o] for o in outcomes})

    table = read_columns(path, [arm, *outcomes], take, encoding=encoding, sheet=sheet, rows=batch_rows)
    m, encoding_used = found[0], table.encoding
    if m.rows == 0:
        raise InputError(_("{file} has a header but no rows", file=Path(path).name), hint=_("Give one row per member."))
    result = m.result(control, alpha=alpha, cost_per_contact=cost_per_contact, margin=margin)
    return MeasureResult(**result, file=str(path), rows=m.rows, encoding=encoding_used)
