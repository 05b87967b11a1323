"""`winback init` and `winback info`: create the warehouse and show what is in it."""

from __future__ import annotations

import typer

from winback.cli.app import app, settings
from winback.cli.output import console, emit, handle_errors, table
from winback.warehouse import connect, current_version
from winback.warehouse.info import warehouse_info


@app.command("init")
@handle_errors()
def init_cmd(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Create the warehouse file (or bring its schema up to date)."""
    s = settings(json_output)
    con = connect(s.db_path)
    try:
        version = current_version(con)
    finally:
        con.close()
    emit(
        {"db": str(s.db_path), "schema_version": version},
        json_output,
        lambda d: console.print(f"warehouse {d['db']} ready (schema version {d['schema_version']})"),
    )


@app.command("info")
@handle_errors()
def info_cmd(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Row counts of every table, the views, and the last imports."""
    s = settings(json_output)
    con = connect(s.db_path, read_only=True)
    try:
        data = warehouse_info(con)
    finally:
        con.close()
    data["db"] = str(s.db_path)

    def render(d: dict) -> None:
        console.print(f"warehouse {d['db']} (schema version {d['schema_version']})")
        console.print(table(None, ["table", "rows"], sorted(d["tables"].items())))
        if d.get("views"):
            console.print(f"views (computed when read, not stored): {', '.join(d['views'])}")
        if d["last_imports"]:
            cols = ["import_id", "kind", "file", "rows_in", "rows_loaded", "rows_rejected", "rows_duplicate"]
            rows = [[i[c] for c in cols] for i in d["last_imports"]]
            console.print(table("last imports", ["id", "kind", "file", "in", "loaded", "rejected", "duplicate"], rows))

    emit(data, json_output, render)
