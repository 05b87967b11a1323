"""`winback init` and `winback info`: create the warehouse and show what is in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer

from winback.cli.app import app, current
from winback.cli.output import console, emit, handle_errors, table
from winback.i18n import _


@dataclass(frozen=True)
class Ready:
    """What `winback init` prints."""

    db: str
    schema_version: int

    def to_dict(self) -> dict[str, Any]:
        return {"db": self.db, "schema_version": self.schema_version}


@dataclass(frozen=True)
class Shown:
    """What `winback info` prints: the warehouse's info and which file it is."""

    info: Any  # winback.warehouse.info.WarehouseInfo (the CLI reaches the warehouse through the app only)
    db: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.info.to_dict(), "db": self.db}


@app.command("init")
@handle_errors()
def init_cmd(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Create the warehouse file (or bring its schema up to date)."""
    wb = current()
    wb.db()  # read-write: creates the file and applies pending migrations
    ready = Ready(db=str(wb.settings.db_path), schema_version=wb.info().schema_version)
    emit(ready, json_output, _render_ready)


def _render_ready(r: Ready) -> None:
    console.print(_("warehouse {db} ready (schema version {version})", db=r.db, version=r.schema_version),
                  highlight=False)  # fmt: skip


@app.command("info")
@handle_errors()
def info_cmd(json_output: bool = typer.Option(False, "--json", help="Print one JSON object.")) -> None:
    """Row counts of every table, the views, and the last imports."""
    wb = current()
    emit(Shown(info=wb.info(), db=str(wb.settings.db_path)), json_output, _render)


def _render(shown: Shown) -> None:
    d = shown.info
    console.print(_("warehouse {db} (schema version {version})", db=shown.db, version=d.schema_version),
                  highlight=False)  # fmt: skip
    console.print(table(None, [_("table"), _("rows")], sorted(d.tables.items())))
    if d.views:
        console.print(_("views (computed when read, not stored): {views}", views=", ".join(d.views)), highlight=False)
    if d.last_imports:
        cols = ["import_id", "kind", "file", "rows_in", "rows_loaded", "rows_rejected", "rows_duplicate"]
        rows = [[i[c] for c in cols] for i in d.last_imports]
        heads = [_("id"), _("kind"), _("file"), _("in"), _("loaded"), _("rejected"), _("duplicate")]
        console.print(table(_("last imports"), heads, rows))
