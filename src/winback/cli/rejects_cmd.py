"""`winback rejects`: the rows an import could not load, with their row numbers and reasons."""

from __future__ import annotations

from pathlib import Path

import typer

from winback.cli.app import app, settings
from winback.cli.output import console, emit, handle_errors, table
from winback.ingest.rejects import export_rejects, list_rejects
from winback.warehouse import connect


@app.command("rejects")
@handle_errors()
def rejects_cmd(
    import_id: int = typer.Option(None, "--import", help="Only this import's rejects."),
    export: Path = typer.Option(None, "--export", help="Write them all to FILE (.csv, .parquet or .jsonl)."),
    limit: int = typer.Option(50, "--limit", help="How many to show."),
    json_output: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Show (or export) the rows that imports rejected, and why."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        if export is not None:
            n = export_rejects(con, export, import_id)
            data = {"import_id": import_id, "exported": n, "file": str(export)}
            emit(data, json_output, lambda d: console.print(f"{d['exported']:,} rejects written to {d['file']}"))
            return
        listing = list_rejects(con, import_id, limit)
    finally:
        con.close()

    def render(d: dict) -> None:
        if not d["total"]:
            console.print("no rejected rows")
            return
        console.print(
            table(
                None,
                ["import", "row", "reason"],
                [(r["import_id"], r["row_number"], r["message"]) for r in d["rejects"]],
            )
        )
        if d["total"] > d["shown"]:
            console.print(f"{d['shown']} of {d['total']:,} shown; --export FILE writes them all")

    emit(listing.to_dict(), json_output, render)
