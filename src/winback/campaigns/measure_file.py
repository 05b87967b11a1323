"""Service behind `winback measure`: read a file with one row per member and measure every arm vs control."""

from __future__ import annotations

from pathlib import Path

from winback.campaigns.measure import measure_columns, numeric_column
from winback.campaigns.table_file import read_table
from winback.campaigns.types import MeasureResult
from winback.errors import InputError


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
) -> MeasureResult:
    if not outcomes:
        raise InputError("no outcome given", hint="Name at least one numeric column with --outcome COL.")
    if not 0.0 < alpha < 1.0:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}", hint="Use e.g. --alpha 0.05.")
    table = read_table(path, encoding=encoding, sheet=sheet)
    if table.rows == 0:
        raise InputError(f"{Path(path).name} has a header but no rows", hint="Give one row per member.")
    arms = table.column(arm)
    values = {o: numeric_column(o, table.column(o), table.header_rows) for o in outcomes}
    result = measure_columns(arm, arms, control, values, alpha=alpha, cost_per_contact=cost_per_contact, margin=margin)
    return MeasureResult(**result, file=str(path), rows=table.rows, encoding=table.encoding)
