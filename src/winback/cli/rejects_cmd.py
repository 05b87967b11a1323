"""`winback rejects`: the rows an import could not load, with their row numbers and reasons."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table

if TYPE_CHECKING:
    from winback.ingest.types import RejectList, RejectsExport


def _render_export(r: RejectsExport) -> None:
    console.print(f"{r.exported:,} rejects written to {r.file}")


def _render(r: RejectList) -> None:
    if not r.total:
        console.print("no rejected rows")
        return
    console.print(
        table(None, ["import", "row", "reason"], [(x["import_id"], x["row_number"], x["message"]) for x in r.rows])
    )
    if r.total > len(r.rows):
        console.print(f"{len(r.rows)} of {r.total:,} shown; --export FILE writes them all")


@app.command("rejects")
@handle_errors()
def rejects_cmd(
    import_id: int = typer.Option(None, "--import", help="Only this import's rejects."),
    export: Path = typer.Option(None, "--export", help="Write them all to FILE (.csv, .parquet or .jsonl)."),
    limit: int = typer.Option(50, "--limit", help="How many to show."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show (or export) the rows that imports rejected, and why."""
    ingest = current().ingest
    if export is not None:
        emit(ingest.export_rejects(export, import_id=import_id), json_output, _render_export)
        return
    emit(ingest.rejects(import_id=import_id, limit=limit), json_output, _render)
