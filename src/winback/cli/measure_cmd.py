"""`winback measure FILE`: lift of every arm vs control from any file with one row per member.

A thin shell over `wb.campaigns.measure` (no warehouse needed), imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, fmt, handle_errors, table
from winback.i18n import _

if TYPE_CHECKING:
    from winback.campaigns.types import MeasureResult


@app.command("measure")
@handle_errors()
def measure_cmd(
    file: Path = typer.Argument(..., help="CSV/TSV/XLSX/Parquet, one row per member (UTF-8 or GBK)."),
    arm: str = typer.Option(..., "--arm", help="Column holding the arm label (control, A, B …)."),
    control: str = typer.Option(..., "--control", help="The control arm's label, exactly as in the file."),
    outcome: list[str] = typer.Option(..., "--outcome", help="Numeric outcome column; repeat for several."),
    cost_per_contact: float = typer.Option(None, "--cost-per-contact", help="Cost of touching one member."),
    margin: float = typer.Option(1.0, "--margin", help="Gross margin applied to revenue for ROI (0–1)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Test level; intervals are 1 − alpha."),
    encoding: str = typer.Option("auto", "--encoding", help="auto (UTF-8, else GBK) or a codec name."),
    sheet: str = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first)."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Difference in means (Welch's t, CI) of each outcome for every arm against the control."""
    result = current().campaigns.measure(
        file,
        arm=arm,
        control=control,
        outcomes=outcome,
        cost_per_contact=cost_per_contact,
        margin=margin,
        alpha=alpha,
        encoding=encoding,
        sheet=sheet,
    )
    emit(result, json_output, _render)


def _render(r: MeasureResult) -> None:
    level = f"{100 * (1 - r.alpha):.0f}%"
    for name, o in r.outcomes.items():
        control = _("{label} (control)", label=r.control_label)
        rows = [[control, o["control"]["n"], o["control"]["mean"], None, None, None, None]]
        for label, a in o["arms"].items():
            ci = None if a["ci_low"] is None else f"[{fmt(a['ci_low'])}, {fmt(a['ci_high'])}]"
            rows.append([label, a["n"], a["mean"], a["diff"], ci, a["p_value"], a["p_holm"]])
        heads = [_("arm"), "n", _("mean"), _("diff vs control"), _("{level} CI", level=level), "p", _("p (Holm)")]
        console.print(table(name, heads, rows))
