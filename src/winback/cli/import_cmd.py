"""`winback import KIND FILE`: load an export (members, orders, order-items, stores, staff, events)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table

if TYPE_CHECKING:
    from winback.app import Winback
    from winback.ingest.types import ImportResult

_STAGES = {"read": "reading", "validate": "validating", "write": "writing", "commit": "committing", "done": "done"}


def _render(r: ImportResult) -> None:
    head = "dry run of" if r.dry_run else f"import {r.import_id}:"
    console.print(f"{head} {r.kind} from {r.file} ({r.file_format}, {r.encoding or 'binary'})")
    console.print(
        table(
            None,
            ["rows", "count"],
            [
                ("in", r.rows_in),
                ("loaded", r.rows_loaded),
                ("  of which updated", r.rows_updated),
                ("rejected", r.rows_rejected),
                ("duplicate", r.rows_duplicate),
            ],
        )
    )
    console.print(f"dates read as: {r.date_format}   ({round(r.rows_per_second):,} rows/s)")
    console.print("columns: " + ", ".join(f"{s}→{t}" for s, t in r.mapping.items()), highlight=False)
    if r.kept:
        console.print("kept in extra: " + ", ".join(r.kept), highlight=False)
    for field, n in r.blanked.items():
        console.print(f"[yellow]{n:,} unreadable {field} values left empty (kept in extra)[/]")
    for note in r.notes:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    row = "第 {n} 行" if current().settings.lang != "en" else "row {n}"
    for c in r.conflicts_shown:
        shown = "; ".join(
            f"{field}: " + " / ".join(f"{v} ({row.format(n=n)})" for v, n in zip(d["values"], d["rows"], strict=True))
            for field, d in c["fields"].items()
        )
        console.print(f"  {c['key']}: {shown}", highlight=False)
    if r.conflicts and r.import_id is not None:
        console.print(f"winback rejects --conflicts --import {r.import_id}")
    if r.rows_rejected and r.import_id is not None:
        console.print(f"see them with: winback rejects --import {r.import_id}")


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
        help="dmy | mdy | ymd: 日期按 日/月/年、月/日/年 或 年/月/日 读取 (default: the data decides).",
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
        TextColumn("rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=console) as bar:
        task = bar.add_task("reading", total=None, rate="")

        def on_progress(stage: str, done: int, total: int | None) -> None:
            elapsed = bar.tasks[0].elapsed or 0.0
            rate = f"{done / elapsed:,.0f} rows/s" if elapsed > 0 and done else ""
            bar.update(task, description=_STAGES.get(stage, stage), completed=done, total=total, rate=rate)

        return wb.ingest.import_file(kind, file, progress=on_progress, **options)  # type: ignore[arg-type]
