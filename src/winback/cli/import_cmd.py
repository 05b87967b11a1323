"""`winback import KIND FILE`: load an export (members, orders, order-items, stores, staff, events)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from winback.cli.app import app, settings
from winback.cli.output import console, emit, handle_errors, table
from winback.ingest.service import ImportResult, import_file
from winback.warehouse import connect

_STAGES = {"read": "reading", "validate": "validating", "write": "writing", "commit": "committing", "done": "done"}


def _render(d: dict) -> None:
    head = "dry run of" if d["dry_run"] else f"import {d['import_id']}:"
    console.print(f"{head} {d['kind']} from {d['file']} ({d['file_format']}, {d['encoding'] or 'binary'})")
    console.print(
        table(
            None,
            ["rows", "count"],
            [
                ("in", d["rows_in"]),
                ("loaded", d["rows_loaded"]),
                ("  of which updated", d["rows_updated"]),
                ("rejected", d["rows_rejected"]),
                ("duplicate", d["rows_duplicate"]),
            ],
        )
    )
    console.print(f"dates read as: {d['date_format']}   ({d['rows_per_second']:,} rows/s)")
    console.print("columns: " + ", ".join(f"{s}→{t}" for s, t in d["mapping"].items()), highlight=False)
    if d["kept"]:
        console.print("kept in extra: " + ", ".join(d["kept"]), highlight=False)
    for field, n in d["blanked"].items():
        console.print(f"[yellow]{n:,} unreadable {field} values left empty (kept in extra)[/]")
    for note in d["notes"]:
        console.print(f"[yellow]note:[/] {note}", highlight=False)
    if d["rows_rejected"] and d["import_id"] is not None:
        console.print(f"see them with: winback rejects --import {d['import_id']}")


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
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import an export file: map its columns, validate every row, load it or send it to rejects."""
    s = settings(json_output)
    con = connect(":memory:") if dry_run and not s.db_path.exists() else connect(s.db_path, read_only=dry_run)
    try:
        if json_output or not console.is_terminal:
            result: ImportResult = import_file(
                con, kind, file, mapping=map_ or None, encoding=encoding, sheet=sheet, dry_run=dry_run, source=source
            )
        else:
            result = _with_progress(con, kind, file, map_, encoding, sheet, dry_run, source)
    finally:
        con.close()
    data = result.to_dict()
    data["db"] = str(s.db_path)
    emit(data, json_output, _render)


def _with_progress(
    con: object,
    kind: str,
    file: Path,
    map_: list[str] | None,
    encoding: str,
    sheet: str | None,
    dry_run: bool,
    source: str | None,
) -> ImportResult:
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

        return import_file(
            con,  # type: ignore[arg-type]
            kind,
            file,
            mapping=map_ or None,
            encoding=encoding,
            sheet=sheet,
            dry_run=dry_run,
            source=source,
            progress=on_progress,
        )
