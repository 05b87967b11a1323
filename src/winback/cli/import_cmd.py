"""`winback import KIND FILE`: load an export (members, orders, order-items, stores, staff, events)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table
from winback.i18n import N_, _

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.ingest.types import ImportResult

_STAGES = {"read": N_("reading"), "validate": N_("validating"), "write": N_("writing"), "commit": N_("committing"),
           "done": N_("done")}  # fmt: skip


def _render(r: ImportResult) -> None:
    what = dict(kind=r.kind, file=r.file, format=r.file_format, encoding=r.encoding or _("binary"))
    if r.dry_run:
        head = _("dry run of {kind} from {file} ({format}, {encoding})", **what)
    else:
        head = _("import {id}: {kind} from {file} ({format}, {encoding})", id=r.import_id, **what)
    console.print(head, highlight=False)
    rows = [
        (_("in"), r.rows_in),
        (_("loaded"), r.rows_loaded),
        ("  " + _("of which updated"), r.rows_updated),
        (_("rejected"), r.rows_rejected),
        (_("duplicate"), r.rows_duplicate),
    ]
    console.print(table(None, [_("rows"), _("count")], rows))
    console.print(
        _("dates read as: {format}   ({rate:,} rows/s)", format=r.date_format, rate=round(r.rows_per_second)),
        highlight=False,
    )
    console.print(_("columns: {mapping}", mapping=", ".join(f"{s}→{t}" for s, t in r.mapping.items())), highlight=False)
    if r.kept:
        console.print(_("kept in extra: {columns}", columns=", ".join(r.kept)), highlight=False)
    for field, n in r.blanked.items():
        console.print(
            Text(_("{n:,} unreadable {field} values left empty (kept in extra)", n=n, field=field), style="yellow")
        )
    for note in r.notes:
        console.print(Text(_("note: {note}", note=note), style="yellow"), highlight=False)
    for c in r.conflicts_shown:
        shown = "; ".join(
            f"{field}: " + " / ".join(_("{value} (row {row})", value=v, row=n) for v, n in zip(d["values"], d["rows"],
                                                                                                strict=True))
            for field, d in c["fields"].items()
        )  # fmt: skip
        console.print(f"  {c['key']}: {shown}", highlight=False, markup=False)
    if r.conflicts and r.import_id is not None:
        console.print(f"winback rejects --conflicts --import {r.import_id}", highlight=False)
    if r.rows_rejected and r.import_id is not None:
        console.print(_("see them with: winback rejects --import {id}", id=r.import_id), highlight=False)


@app.command("import")
@handle_errors()
def import_cmd(
    kind: str = typer.Argument(..., help="members | orders | order-items | stores | staff | events"),
    file: Path = typer.Argument(..., help="The export: .csv, .tsv, .xlsx or .parquet."),
    map_: list[str] = typer.Option(None, "--map", help="SRC=DST: read column SRC as field DST (SRC=- keeps it)."),
    encoding: str = typer.Option("auto", "--encoding", help="auto | utf-8 | gbk | gb18030"),
    sheet: str = typer.Option(None, "--sheet", help="XLSX sheet name (default: the first)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate and report; write nothing."),
    source: str = typer.Option(None, "--source", help="members: where they come from (erp, guide_wechat, pos …)."),
    date_order: str = typer.Option(
        None,
        "--date-order",
        help="dmy | mdy | ymd: read dates as day/month/year, month/day/year or year/month/day (default: the data "
        "decides).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import an export file: map its columns, validate every row, load it or send it to rejects."""
    wb = current()
    options = dict(
        mapping=map_ or None, encoding=encoding, sheet=sheet, dry_run=dry_run, source=source, date_order=date_order
    )
    if json_output or not console.is_terminal:
        result = wb.ingest.import_file(kind, file, **options)  # type: ignore[arg-type]
    else:
        result = _with_progress(wb, kind, file, options)
    emit(result, json_output, _render)


def _with_progress(wb: Winback, kind: str, file: Path, options: dict[str, object]) -> ImportResult:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(_("rows")),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console) as bar:
        task = bar.add_task(_("reading"), total=None, rate="")

        def on_progress(stage: str, done: int, total: int | None) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = _("{rate:,.0f} rows/s", rate=done / elapsed) if elapsed > 0 and done else ""
            stage_name = _(_STAGES[stage]) if stage in _STAGES else stage
            bar.update(task, description=stage_name, completed=done, total=total, rate=rate)

        return wb.ingest.import_file(kind, file, progress=on_progress, **options)  # type: ignore[arg-type]
